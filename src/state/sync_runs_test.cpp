#include "state/sync_runs.h"

#include <gtest/gtest.h>

#include "common/time_util.h"
#include "state/sync_state.h"
#include "support/state_db_fixture.h"
#include "support/status_macros.h"

namespace da::state {
namespace {

class SyncRunsTest : public testing::StateDbFixture {
 protected:
  void SetUp() override {
    StateDbFixture::SetUp();
    repo_ = std::make_unique<SyncRunRepo>(*db_);
  }
  SyncRunRow MustGet(const std::string& id) {
    auto r = repo_->Get(id);
    EXPECT_OK(r);
    EXPECT_TRUE(r.ok() && r->has_value()) << id;
    return r.ok() && r->has_value() ? **r : SyncRunRow{};
  }
  std::unique_ptr<SyncRunRepo> repo_;
};

TEST_F(SyncRunsTest, CreateRecordFinishRoundTrip) {
  ASSERT_OK(repo_->Create("r1", "manual", "admin@localhost", {"a", "b", "c"}));
  auto run = MustGet("r1");
  EXPECT_EQ(run.status, "running");
  EXPECT_EQ(run.trigger, "manual");
  EXPECT_EQ(run.requested_by, "admin@localhost");
  EXPECT_EQ(run.tables_requested, std::vector<std::string>({"a", "b", "c"}));
  EXPECT_EQ(run.finished_at, "");
  EXPECT_EQ(run.started_at.size(), 20u);
  EXPECT_TRUE(run.tables.empty());

  SyncRunTableRow a{"r1", "a", "synced", "", 42, 1000, 15, IsoFromMicros(NowMicros()), ""};
  ASSERT_OK(repo_->RecordTable(a));
  ASSERT_OK(repo_->RecordTable({"r1", "b", "skipped", "remote", 0, 0, 0, "", ""}));
  ASSERT_OK(repo_->RecordTable({"r1", "c", "error", "boom", 0, 0, 7, "", ""}));
  ASSERT_OK(repo_->Finish("r1", "partial", ""));

  run = MustGet("r1");
  EXPECT_EQ(run.status, "partial");
  EXPECT_FALSE(run.finished_at.empty());
  EXPECT_GE(run.duration_ms, 0);
  ASSERT_EQ(run.tables.size(), 3u);
  EXPECT_EQ(run.tables[0].table_id, "a");
  EXPECT_EQ(run.tables[0].status, "synced");
  EXPECT_EQ(run.tables[0].rows, 42);
  EXPECT_EQ(run.tables[0].size_bytes, 1000);
  EXPECT_EQ(run.tables[0].duration_ms, 15);
  EXPECT_FALSE(run.tables[0].started_at.empty());
  EXPECT_FALSE(run.tables[0].finished_at.empty());
  EXPECT_EQ(run.tables[1].status, "skipped");
  EXPECT_EQ(run.tables[1].reason, "remote");
  EXPECT_EQ(run.tables[1].started_at, "");
  EXPECT_EQ(run.tables[2].status, "error");
  EXPECT_EQ(run.tables[2].reason, "boom");
}

TEST_F(SyncRunsTest, RejectsBadValuesAndUnknownRuns) {
  EXPECT_EQ(repo_->Create("", "manual", "x", {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->Create("r", "cron", "x", {}).code(), StatusCode::kInvalidArgument);
  ASSERT_OK(repo_->Create("r", "schedule", "scheduler", {}));
  EXPECT_EQ(repo_->Create("r", "manual", "x", {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->RecordTable({"r", "t", "ok", "", 0, 0, 0, "", ""}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->RecordTable({"nope", "t", "synced", "", 0, 0, 0, "", ""}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(repo_->Finish("r", "running", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->Finish("nope", "ok", "").code(), StatusCode::kNotFound);
  ASSERT_OK(repo_->Finish("r", "cancelled", "cancelled by admin"));
  auto again = repo_->Finish("r", "ok", "");
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("cancelled"), std::string::npos) << again.message();
  EXPECT_EQ(MustGet("r").message, "cancelled by admin");
  auto missing = repo_->Get("nope");
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(repo_->List(0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SyncRunsTest, RecordTableReplacesAnEarlierOutcome) {
  ASSERT_OK(repo_->Create("r", "manual", "x", {"t"}));
  ASSERT_OK(repo_->RecordTable({"r", "t", "error", "first", 0, 0, 0, "", ""}));
  ASSERT_OK(repo_->RecordTable({"r", "t", "synced", "", 5, 6, 7, "", ""}));
  auto run = MustGet("r");
  ASSERT_EQ(run.tables.size(), 1u);
  EXPECT_EQ(run.tables[0].status, "synced");
  EXPECT_EQ(run.tables[0].rows, 5);
}

TEST_F(SyncRunsTest, ListIsNewestFirstWithOutcomesAndLimit) {
  auto empty = repo_->Latest();
  ASSERT_OK(empty);
  EXPECT_FALSE(empty->has_value());
  for (const char* id : {"r1", "r2", "r3"}) {
    ASSERT_OK(repo_->Create(id, "manual", "x", {std::string("t_") + id}));
    ASSERT_OK(repo_->RecordTable({id, std::string("t_") + id, "synced", "", 1, 2, 3, "", ""}));
    ASSERT_OK(repo_->Finish(id, "ok", ""));
  }
  auto all = repo_->List(10);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "r3");
  EXPECT_EQ((*all)[1].id, "r2");
  EXPECT_EQ((*all)[2].id, "r1");
  for (const auto& run : *all) {
    ASSERT_EQ(run.tables.size(), 1u) << run.id;
    EXPECT_EQ(run.tables[0].table_id, "t_" + run.id);
  }
  auto two = repo_->List(2);
  ASSERT_OK(two);
  EXPECT_EQ(two->size(), 2u);
  auto latest = repo_->Latest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->id, "r3");
}

TEST_F(SyncRunsTest, RestartMarksRunningRunsInterruptedAndSurvivesReopen) {
  ASSERT_OK(repo_->Create("done", "manual", "x", {"a"}));
  ASSERT_OK(repo_->Finish("done", "ok", ""));
  ASSERT_OK(repo_->Create("live", "schedule", "scheduler", {"a", "b", "c"}));
  ASSERT_OK(repo_->RecordTable({"live", "a", "synced", "", 1, 1, 1, "", ""}));
  // Reopen the file as a restarted server would.
  repo_.reset();
  db_.reset();
  auto reopened = StateDb::Open(DbPath());
  ASSERT_OK(reopened);
  db_ = std::move(reopened).value();
  repo_ = std::make_unique<SyncRunRepo>(*db_);

  auto marked = repo_->MarkRunningInterrupted("interrupted: the server stopped during the run");
  ASSERT_OK(marked);
  EXPECT_EQ(*marked, std::vector<std::string>({"live"}));
  auto live = MustGet("live");
  EXPECT_EQ(live.status, "interrupted");
  EXPECT_FALSE(live.finished_at.empty());
  EXPECT_EQ(live.message, "interrupted: the server stopped during the run");
  ASSERT_EQ(live.tables.size(), 3u);
  EXPECT_EQ(live.tables[0].table_id, "a");
  EXPECT_EQ(live.tables[0].status, "synced");
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(live.tables[i].status, "error");
    EXPECT_EQ(live.tables[i].reason, "interrupted: the server stopped during the run");
  }
  EXPECT_EQ(MustGet("done").status, "ok");
  auto none = repo_->MarkRunningInterrupted("again");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(SyncRunsTest, LastSuccessfulSyncIgnoresNeverSyncedTables) {
  SyncStateRepo state(*db_);
  const int64_t before = NowMicros();
  ASSERT_OK(state.RecordSuccess("ok_table", 1, 2, std::string(32, 'a')));
  ASSERT_OK(state.RecordError("failed_first_time", "boom"));
  auto last = LastSuccessfulSyncMicros(*db_);
  ASSERT_OK(last);
  ASSERT_EQ(last->size(), 1u);
  ASSERT_TRUE(last->count("ok_table"));
  EXPECT_GE(last->at("ok_table"), before);
  EXPECT_LE(last->at("ok_table"), NowMicros());
}

}  // namespace
}  // namespace da::state
