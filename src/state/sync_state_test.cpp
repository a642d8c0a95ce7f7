#include "state/sync_state.h"

#include <gtest/gtest.h>

#include "common/time_util.h"
#include "support/state_db_fixture.h"
#include "support/status_macros.h"

namespace da::state {
namespace {

class SyncStateTest : public testing::StateDbFixture {
 protected:
  void SetUp() override {
    StateDbFixture::SetUp();
    repo_ = std::make_unique<SyncStateRepo>(*db_);
  }
  std::unique_ptr<SyncStateRepo> repo_;
};

const std::string kMd5A = "0123456789abcdef0123456789abcdef";
const std::string kMd5B = "fedcba9876543210fedcba9876543210";

bool LooksIsoUtc(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SSZ
  return s.size() == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
         s[16] == ':' && s[19] == 'Z';
}

TEST_F(SyncStateTest, GetUnknownIsNullopt) {
  auto r = repo_->Get("nope");
  ASSERT_OK(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(SyncStateTest, RecordSuccessUpserts) {
  std::string before = IsoFromMicros(NowMicros());
  ASSERT_OK(repo_->RecordSuccess("flights", 3000000, 12345678, kMd5A));
  auto r = repo_->Get("flights");
  ASSERT_TRUE(r.ok() && r->has_value());
  const SyncStateRow& s = **r;
  EXPECT_EQ(s.table_id, "flights");
  EXPECT_EQ(s.rows, 3000000);
  EXPECT_EQ(s.size_bytes, 12345678);
  EXPECT_EQ(s.md5, kMd5A);
  EXPECT_EQ(s.status, "ok");
  EXPECT_EQ(s.error, "");
  EXPECT_TRUE(LooksIsoUtc(s.last_sync)) << s.last_sync;
  // Stored in UTC: within a second or two of our own clock (ISO strings sort by time).
  EXPECT_GE(s.last_sync, before);
  EXPECT_LE(s.last_sync, IsoFromMicros(NowMicros() + 2000000));

  ASSERT_OK(repo_->RecordSuccess("flights", 5, 6, kMd5B));
  auto again = repo_->Get("flights");
  EXPECT_EQ((*again)->rows, 5);
  EXPECT_EQ((*again)->size_bytes, 6);
  EXPECT_EQ((*again)->md5, kMd5B);
  EXPECT_EQ(Count("SELECT count(*) FROM sync_state"), 1);
}

TEST_F(SyncStateTest, RecordErrorKeepsLastGoodValues) {
  ASSERT_OK(repo_->RecordSuccess("flights", 10, 20, kMd5A));
  std::string last_sync = (*repo_->Get("flights"))->last_sync;
  ASSERT_OK(repo_->RecordError("flights", "source unreachable"));
  auto s = **repo_->Get("flights");
  EXPECT_EQ(s.status, "error");
  EXPECT_EQ(s.error, "source unreachable");
  EXPECT_EQ(s.rows, 10);
  EXPECT_EQ(s.size_bytes, 20);
  EXPECT_EQ(s.md5, kMd5A);
  EXPECT_EQ(s.last_sync, last_sync);

  // A later success clears the error.
  ASSERT_OK(repo_->RecordSuccess("flights", 11, 21, kMd5B));
  auto ok = **repo_->Get("flights");
  EXPECT_EQ(ok.status, "ok");
  EXPECT_EQ(ok.error, "");
  EXPECT_EQ(ok.rows, 11);
}

TEST_F(SyncStateTest, RecordErrorOnNeverSyncedTable) {
  ASSERT_OK(repo_->RecordError("weather", "boom"));
  auto s = **repo_->Get("weather");
  EXPECT_EQ(s.status, "error");
  EXPECT_EQ(s.error, "boom");
  EXPECT_EQ(s.last_sync, "");
  EXPECT_EQ(s.md5, "");
  EXPECT_EQ(s.rows, 0);
  EXPECT_EQ(s.size_bytes, 0);
}

TEST_F(SyncStateTest, ListAndDelete) {
  ASSERT_OK(repo_->RecordSuccess("b", 1, 1, kMd5A));
  ASSERT_OK(repo_->RecordSuccess("a", 2, 2, kMd5B));
  ASSERT_OK(repo_->RecordError("c", "x"));
  auto all = repo_->List();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].table_id, "a");
  EXPECT_EQ((*all)[1].table_id, "b");
  EXPECT_EQ((*all)[2].table_id, "c");
  ASSERT_OK(repo_->Delete("b"));
  EXPECT_FALSE(repo_->Get("b")->has_value());
  EXPECT_EQ(repo_->List()->size(), 2u);
  EXPECT_EQ(repo_->RecordSuccess("", 1, 1, kMd5A).code(), StatusCode::kInvalidArgument);
}

TEST_F(SyncStateTest, LastSchemaChangeIsTheNewestRecordedChange) {
  EXPECT_FALSE(repo_->LastSchemaChange("flights")->has_value());
  const std::string first = R"({"added":[{"name":"a","type":"BIGINT"}],"removed":[],"retyped":[]})";
  const std::string second = R"({"added":[],"removed":[{"name":"a","type":"BIGINT"}],"retyped":[]})";
  ASSERT_OK(repo_->AppendHistory({"r1", "flights", "2026-01-01T00:00:00Z", "ok", 1, 1, 1, "", first}));
  ASSERT_TRUE(repo_->AppendHistory({"r2", "flights", "2026-01-02T00:00:00Z", "error", 0, 0, 1,
                                    "frozen", second}).ok());
  ASSERT_OK(repo_->AppendHistory({"r3", "flights", "2026-01-03T00:00:00Z", "ok", 1, 1, 1, "", ""}));
  ASSERT_OK(repo_->AppendHistory({"r3", "weather", "2026-01-04T00:00:00Z", "ok", 1, 1, 1, "", first}));
  auto last = repo_->LastSchemaChange("flights");
  ASSERT_OK(last);
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->run_id, "r2");
  EXPECT_EQ((*last)->status, "error");
  EXPECT_EQ((*last)->schema_change, second);
  auto history = repo_->History("flights", 1);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].schema_change, "");
}

TEST_F(SyncStateTest, HistoryNewestFirstWithLimitAndFilter) {
  ASSERT_OK(repo_->AppendHistory({"r1", "flights", "2026-01-01T00:00:00Z", "ok", 1, 10, 100, "", ""}));
  ASSERT_TRUE(
      repo_->AppendHistory({"r2", "flights", "2026-01-02T00:00:00Z", "error", 0, 0, 50, "boom", ""})
          .ok());
  ASSERT_OK(repo_->AppendHistory({"r2", "weather", "2026-01-02T00:00:00.5Z", "ok", 7, 70, 9, "", ""}));
  // A NowIso()-style value (microseconds) is accepted.
  ASSERT_OK(repo_->AppendHistory({"r3", "flights", NowIso(), "ok", 3, 30, 1, "", ""}));

  auto all = repo_->History("", 10);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].run_id, "r3");
  EXPECT_EQ((*all)[1].table_id, "weather");
  EXPECT_EQ((*all)[1].synced_at, "2026-01-02T00:00:00Z");
  EXPECT_EQ((*all)[2].run_id, "r2");
  EXPECT_EQ((*all)[3].run_id, "r1");

  auto flights = repo_->History("flights", 2);
  ASSERT_OK(flights);
  ASSERT_EQ(flights->size(), 2u);
  EXPECT_EQ((*flights)[0].run_id, "r3");
  const SyncHistoryRow& h = (*flights)[1];
  EXPECT_EQ(h.run_id, "r2");
  EXPECT_EQ(h.table_id, "flights");
  EXPECT_EQ(h.synced_at, "2026-01-02T00:00:00Z");
  EXPECT_EQ(h.status, "error");
  EXPECT_EQ(h.rows, 0);
  EXPECT_EQ(h.duration_ms, 50);
  EXPECT_EQ(h.error, "boom");

  EXPECT_EQ(repo_->History("weather", 10)->size(), 1u);
  EXPECT_EQ((*repo_->History("weather", 10))[0].size_bytes, 70);
  EXPECT_EQ(repo_->History("none", 10)->size(), 0u);
  EXPECT_EQ(repo_->History("", 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SyncStateTest, HistoryDefaultsTimeAndRejectsBadInput) {
  ASSERT_OK(repo_->AppendHistory({"r", "t", "", "ok", 0, 0, 0, "", ""}));
  auto h = repo_->History("t", 1);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_TRUE(LooksIsoUtc((*h)[0].synced_at)) << (*h)[0].synced_at;
  EXPECT_EQ(repo_->AppendHistory({"r", "t", "yesterday", "ok", 0, 0, 0, "", ""}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->AppendHistory({"r", "t", "", "maybe", 0, 0, 0, "", ""}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("SELECT count(*) FROM sync_history"), 1);
}

}  // namespace
}  // namespace da::state
