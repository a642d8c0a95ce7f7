#include "sync/scheduler.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <fstream>

#include "common/time_util.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::sync {
namespace {

constexpr int64_t kMinute = int64_t{60} * 1000000;

model::TableSpec Table(const std::string& id, const std::string& schedule,
                         const std::string& mode = "local") {
  model::TableSpec t;
  t.id = t.name = id;
  t.source_type = "files";
  t.sync_schedule = schedule;
  t.query_mode = *model::ParseQueryMode(mode);
  return t;
}

TEST(SelectDueTables, OnlyScheduledDueNonRemoteTablesInOrder) {
  const int64_t now = int64_t{1773144000} * 1000000;  // 2026-03-10T12:00:00Z
  std::vector<model::TableSpec> tables = {
      Table("manual_only", ""),
      Table("always", "every 0m"),
      Table("remote", "every 0m", "remote"),
      Table("hourly_recent", "every 1h"),
      Table("hourly_old", "every 1h"),
      Table("never_synced", "daily 06:00"),
      Table("daily_done", "daily 06:00"),
      Table("daily_due", "daily 06:00"),
      Table("cron_due", "*/15 * * * *"),
      Table("broken", "whenever"),
  };
  std::map<std::string, int64_t> last = {
      {"manual_only", now - 1000 * kMinute},
      {"always", now},
      {"remote", now - 1000 * kMinute},
      {"hourly_recent", now - 30 * kMinute},
      {"hourly_old", now - 60 * kMinute},
      {"daily_done", now - 5 * 60 * kMinute},   // 07:00 today, after the 06:00 target
      {"daily_due", now - 7 * 60 * kMinute},    // 05:00 today, before the 06:00 target
      {"cron_due", now - 1 * kMinute},          // 11:59, before the 12:00 fire
      {"broken", now - 1000 * kMinute},
  };
  EXPECT_EQ(SelectDueTables(tables, last, now),
            std::vector<std::string>(
                {"always", "hourly_old", "never_synced", "daily_due", "cron_due"}));
  EXPECT_TRUE(SelectDueTables({}, last, now).empty());
}

/// A real state DB, registry, orchestrator and SyncService whose extraction child is a small
/// shell program standing in for `da extract`: it reports every requested table as extracted.
class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.data_dir = dir_.path() / "data";
    auto db = state::StateDb::Open(cfg_.SystemDbPath());
    ASSERT_OK(db);
    db_ = std::move(db).value();
    registry_ = std::make_unique<state::Registry>(
        *db_, [](const std::string& s) { return s == "files"; });
    orchestrator_ = std::make_unique<orchestrator::Orchestrator>(
        cfg_.ExtractsDir(), cfg_.AnalyticsDir() / "server.duckdb");
    const auto script = dir_.path() / "fake-extract.sh";
    {
      std::ofstream out(script);
      out << "#!/bin/sh\n"
             "cat > /dev/null\n"
             "printf '{\"tables\":['\n"
             "sep=''\n"
             "for id in $(echo \"$6\" | tr ',' ' '); do\n"
             "  printf '%s{\"table_id\":\"%s\",\"status\":\"ok\",\"rows\":3,\"size_bytes\":10,"
             "\"md5\":\"0123456789abcdef0123456789abcdef\"}' \"$sep\" \"$id\"\n"
             "  sep=','\n"
             "done\n"
             "printf ']}\\n'\n";
    }
    ::chmod(script.c_str(), 0755);
    sync_ = std::make_unique<SyncService>(cfg_, *db_, *registry_, *orchestrator_, script.string());
  }

  void Register(const std::string& id, const std::string& schedule) {
    model::TableSpec spec;
    spec.name = id;
    spec.source_type = "files";
    spec.source_table = "/nonexistent";
    spec.sync_schedule = schedule;
    auto r = registry_->Register(spec, "test");
    ASSERT_OK(r);
  }

  da::testing::TempDir dir_;
  InstanceConfig cfg_;
  std::unique_ptr<state::StateDb> db_;
  std::unique_ptr<state::Registry> registry_;
  std::unique_ptr<orchestrator::Orchestrator> orchestrator_;
  std::unique_ptr<SyncService> sync_;
};

TEST_F(SchedulerTest, RunOnceStartsAScheduleRunOfExactlyTheDueTables) {
  // A daily target one hour ago: due once (never synced), then not again for ~23 hours.
  std::time_t hour_ago = std::time(nullptr) - 3600;
  std::tm tm{};
  gmtime_r(&hour_ago, &tm);
  char daily[32];
  std::snprintf(daily, sizeof(daily), "daily %02d:%02d", tm.tm_hour, tm.tm_min);
  Register("always", "every 0m");
  Register("once_a_day", daily);
  Register("manual_only", "");
  std::vector<std::string> hooked;
  sync_->on_tables_synced = [&](const std::vector<std::string>& ids) { hooked = ids; };

  Scheduler scheduler(*sync_, *registry_, *db_, 3600);
  auto first = scheduler.RunOnce(NowMicros());
  ASSERT_OK(first);
  EXPECT_EQ(*first, std::vector<std::string>({"always", "once_a_day"}));
  sync_->WaitIdle();
  auto run = sync_->LastRun();
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->trigger, "schedule");
  EXPECT_EQ(run->requested_by, "scheduler");
  EXPECT_EQ(run->status, "ok") << run->ToJson().dump();
  EXPECT_EQ(run->tables_requested, std::vector<std::string>({"always", "once_a_day"}));
  ASSERT_EQ(run->tables.size(), 2u);
  for (const auto& t : run->tables) {
    EXPECT_EQ(t.status, "synced") << t.table_id << ": " << t.reason;
    EXPECT_EQ(t.rows, 3);
  }
  EXPECT_EQ(hooked, std::vector<std::string>({"always", "once_a_day"}));

  auto second = scheduler.RunOnce(NowMicros());
  ASSERT_OK(second);
  EXPECT_EQ(*second, std::vector<std::string>({"always"}));
  sync_->WaitIdle();
  auto runs = sync_->ListRuns(10);
  ASSERT_OK(runs);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].tables_requested, std::vector<std::string>({"always"}));

  // A manual "all" runs every table, schedules or not.
  auto manual = sync_->Trigger(std::nullopt, "admin@localhost");
  ASSERT_OK(manual);
  EXPECT_EQ(manual->tables_requested,
            std::vector<std::string>({"always", "manual_only", "once_a_day"}));
  EXPECT_EQ(manual->trigger, "manual");
  sync_->WaitIdle();
}

TEST_F(SchedulerTest, NothingDueStartsNothing) {
  Register("manual_only", "");
  Scheduler scheduler(*sync_, *registry_, *db_, 3600);
  auto r = scheduler.RunOnce(NowMicros());
  ASSERT_OK(r);
  EXPECT_TRUE(r->empty());
  EXPECT_FALSE(sync_->LastRun().has_value());
}

TEST_F(SchedulerTest, StopsPromptlyAndZeroTickDisables) {
  Scheduler off(*sync_, *registry_, *db_, 0);
  off.Start();
  EXPECT_FALSE(off.IsStarted());

  Scheduler scheduler(*sync_, *registry_, *db_, 3600);
  scheduler.Start();
  EXPECT_TRUE(scheduler.IsStarted());
  auto start = std::chrono::steady_clock::now();
  scheduler.Stop();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_FALSE(scheduler.IsStarted());
  scheduler.Stop();  // idempotent
}

TEST_F(SchedulerTest, CancelOfUnknownOrFinishedRuns) {
  Register("t", "");
  EXPECT_EQ(sync_->Cancel("nope", "admin").status().code(), StatusCode::kNotFound);
  auto run = sync_->Trigger(std::vector<std::string>{"t"}, "admin");
  ASSERT_OK(run);
  sync_->WaitIdle();
  auto c = sync_->Cancel(run->run_id, "admin");
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("already finished with status ok"), std::string::npos)
      << c.status().message();
}

}  // namespace
}  // namespace da::sync
