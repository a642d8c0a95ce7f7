#include "state/profiles.h"

#include <gtest/gtest.h>

#include "common/time_util.h"
#include "support/state_db_fixture.h"
#include "support/status_macros.h"

namespace da::state {
namespace {

using nlohmann::json;

class ProfileRepoTest : public testing::StateDbFixture {
 protected:
  void SetUp() override {
    StateDbFixture::SetUp();
    repo_ = std::make_unique<ProfileRepo>(*db_);
  }
  std::unique_ptr<ProfileRepo> repo_;
};

TEST_F(ProfileRepoTest, MigrationCreatesTable) {
  EXPECT_EQ(Count("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'table_profiles'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM schema_version WHERE version = 3"), 1);
}

TEST_F(ProfileRepoTest, GetUnknownIsNullopt) {
  auto r = repo_->Get("flights");
  ASSERT_OK(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(ProfileRepoTest, PutThenGetRoundTrips) {
  json profile = {{"table_id", "flights"},
                  {"rows", 3000000},
                  {"columns", json::array({{{"name", "delay"}, {"type", "BIGINT"}, {"min", -1116}}})}};
  // 2024-05-06T07:08:09Z
  const int64_t at = 1714979289LL * 1000000LL + 123456;
  ASSERT_OK(repo_->Put("flights", profile, at));
  auto r = repo_->Get("flights");
  ASSERT_OK(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->table_id, "flights");
  EXPECT_EQ((*r)->profile, profile);
  EXPECT_EQ((*r)->profiled_at, "2024-05-06T07:08:09Z");
}

TEST_F(ProfileRepoTest, PutReplacesPreviousProfile) {
  ASSERT_OK(repo_->Put("t", json{{"rows", 1}}, NowMicros()));
  ASSERT_OK(repo_->Put("t", json{{"rows", 2}}, NowMicros()));
  EXPECT_EQ(Count("SELECT count(*) FROM table_profiles WHERE table_id = 't'"), 1);
  auto r = repo_->Get("t");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->profile["rows"], 2);
}

TEST_F(ProfileRepoTest, RejectsBadInput) {
  EXPECT_EQ(repo_->Put("", json::object(), 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->Put("t", json::array(), 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("SELECT count(*) FROM table_profiles"), 0);
}

TEST_F(ProfileRepoTest, InvalidUtf8IsStoredReplaced) {
  json profile = {{"top", std::string("bad \xff byte")}};
  ASSERT_OK(repo_->Put("t", profile, NowMicros()));
  auto r = repo_->Get("t");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->profile["top"], "bad \xEF\xBF\xBD byte");
}

TEST_F(ProfileRepoTest, CorruptRowIsInternal) {
  ASSERT_TRUE(db_->Write([](db::Connection& c) {
                  return c.Execute(
                      "INSERT INTO table_profiles VALUES ('t', 'not json', TIMESTAMP '2024-01-01')");
                }).ok());
  EXPECT_EQ(repo_->Get("t").status().code(), StatusCode::kInternal);
}

TEST_F(ProfileRepoTest, DeleteAndList) {
  ASSERT_OK(repo_->Put("b", json::object(), NowMicros()));
  ASSERT_OK(repo_->Put("a", json::object(), NowMicros()));
  auto ids = repo_->ListTableIds();
  ASSERT_OK(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b"}));
  ASSERT_OK(repo_->Delete("a"));
  ASSERT_OK(repo_->Delete("a"));  // idempotent
  ids = repo_->ListTableIds();
  ASSERT_OK(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"b"}));
}

}  // namespace
}  // namespace da::state
