// Schedules, the scheduler, persistent sync runs, cancel and restart recovery, end to end.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "common/hash.h"
#include "support/datasets.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support

using Clock = std::chrono::steady_clock;

/// The JSON body; null (and a test failure) when the request failed or the body is not JSON.
nlohmann::json Body(const httplib::Result& r) {
  if (!r) {
    ADD_FAILURE() << "request failed: " << httplib::to_string(r.error());
    return nullptr;
  }
  auto j = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) ADD_FAILURE() << "not JSON: " << r->body.substr(0, 200);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

/// HTTP status, or -1 when the request failed.
int Code(const httplib::Result& r) { return r ? r->status : -1; }

/// MD5 of GET /api/data/<id>/download; "" (and a test failure) unless it answered 200.
std::string DownloadMd5(ServerProcess& s, const std::string& id) {
  auto dl = s.Get("/api/data/" + id + "/download");
  if (!dl || dl->status != 200) {
    ADD_FAILURE() << "download of " << id << " failed: " << (dl ? dl->body : "no response");
    return "";
  }
  return Md5Hex(dl->body);
}

void ExpectError(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  auto j = Body(r);
  ASSERT_TRUE(j.contains("error")) << r->body;
  EXPECT_EQ(j["error"]["code"], code) << r->body;
  EXPECT_FALSE(j["error"]["request_id"].get<std::string>().empty());
}

std::string TableBody(const std::string& name, const std::string& path,
                      const std::string& schedule = "") {
  nlohmann::json j = {{"name", name}, {"source_type", "files"}, {"source_table", path}};
  if (!schedule.empty()) j["sync_schedule"] = schedule;
  return j.dump();
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& cond, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

/// argv of a live process; empty when it is gone (or a zombie).
std::vector<std::string> Cmdline(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> args;
  std::string arg;
  for (char c : ss.str()) {
    if (c == '\0') {
      args.push_back(arg);
      arg.clear();
    } else {
      arg += c;
    }
  }
  return args;
}

/// Pids of `da <subcommand>` processes whose arguments mention `dir` (the test's temp dir).
std::vector<int> FindDa(const std::string& subcommand, const std::string& dir) {
  std::vector<int> pids;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto args = Cmdline(std::stoi(name));
    if (args.size() < 2 || args[1] != subcommand) continue;
    for (const auto& a : args) {
      if (a.find(dir) != std::string::npos) {
        pids.push_back(std::stoi(name));
        break;
      }
    }
  }
  return pids;
}

bool ProcessGroupGone(int pgid) { return ::kill(-pgid, 0) != 0 && errno == ESRCH; }

class Runs : public ::testing::Test {
 protected:
  /// A FIFO nobody writes to: extracting it blocks until the process is killed.
  std::filesystem::path MakeStuckSource() {
    auto src = tmp_.path() / "src";
    std::filesystem::create_directories(src);
    EXPECT_EQ(::mkfifo((src / "stuck.csv").c_str(), 0600), 0);
    return src / "stuck.csv";
  }
  /// Registers and syncs airports; returns the MD5 of its served Parquet.
  std::string SyncAirports(ServerProcess& s) {
    EXPECT_EQ(Code(s.Post("/api/admin/register-table", TableBody("airports", Dataset("airports.csv")))),
              201);
    auto run = s.SyncAndWait({"airports"});
    EXPECT_EQ(run["status"], "ok") << run.dump();
    return DownloadMd5(s, "airports");
  }
  /// Triggers a run of `stuck` and waits for its extraction process; returns {run_id, pid}.
  std::pair<std::string, int> StartStuckRun(ServerProcess& s) {
    auto trig = s.Post("/api/sync/trigger", R"(["stuck"])");
    EXPECT_EQ(Code(trig), 202) << (trig ? trig->body : "");
    auto body = Body(trig);
    if (!body.contains("run_id")) return {"", -1};
    std::string run_id = body["run_id"];
    std::vector<int> pids;
    EXPECT_TRUE(WaitFor(
        [&] {
          pids = FindDa("extract", tmp_.path().string());
          return !pids.empty();
        },
        std::chrono::seconds(30)))
        << "no extraction process appeared";
    return {run_id, pids.empty() ? -1 : pids.front()};
  }

  TempDir tmp_;
};

TEST_F(Runs, InvalidSchedulesAre422NamingTheAcceptedForms) {
  ServerProcess s(tmp_.path() / "data");
  const std::string forms =
      "sync_schedule must be 'every <N>m|h|d', 'daily HH:MM[,HH:MM...]' or a 5-field cron "
      "expression, got '";
  for (const char* bad_text : {"every 5x", "every 5", "daily 25:00", "daily 3:00", "0 3 * *",
                                "*/0 * * * *", "61 * * * *", "hourly", "every 5m; DROP TABLE x"}) {
    const std::string bad = bad_text;
    auto r = s.Post("/api/admin/register-table", TableBody("t_bad", (tmp_.path() / "x.csv").string(), bad));
    ExpectError(r, 422, "invalid_argument");
    EXPECT_NE(Body(r)["error"]["message"].get<std::string>().find(forms + bad + "'"),
              std::string::npos)
        << (r ? r->body : "");
  }
  EXPECT_TRUE(Body(s.Get("/api/admin/registry"))["tables"].empty());

  int i = 0;
  for (const char* good_text : {"every 0m", "every 2d", "daily 03:00,15:30", "0 3 1 * *",
                                 "*/15 9-17 * * mon-fri", "@hourly"}) {
    const std::string good = good_text;
    auto r = s.Post("/api/admin/register-table",
                    TableBody("t_good_" + std::to_string(i++), (tmp_.path() / "x.csv").string(), good));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201) << good << ": " << r->body;
    EXPECT_EQ(Body(r)["sync_schedule"], good);
  }
  // An update to a bad schedule is refused and changes nothing.
  ExpectError(s.Put("/api/admin/registry/t_good_0", R"({"sync_schedule": "every day"})"), 422,
              "invalid_argument");
  EXPECT_EQ(Body(s.Get("/api/admin/registry/t_good_0"))["sync_schedule"], "every 0m");
  // Clearing the schedule (manual only) is allowed.
  auto cleared = s.Put("/api/admin/registry/t_good_0", R"({"sync_schedule": ""})");
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->status, 200) << cleared->body;
}

TEST_F(Runs, SchedulerRunsAnEveryZeroTableEachTickAndADailyTableOnce) {
  // A daily target one hour ago: due now only because it was never synced.
  std::time_t hour_ago = std::time(nullptr) - 3600;
  std::tm tm{};
  gmtime_r(&hour_ago, &tm);
  char daily[32];
  std::snprintf(daily, sizeof(daily), "daily %02d:%02d", tm.tm_hour, tm.tm_min);

  ServerProcess s(tmp_.path() / "data", {"DA_SCHEDULER_TICK_SEC=1"});
  ASSERT_EQ(Code(s.Post("/api/admin/register-table",
                   TableBody("always", Dataset("airports.csv").string(), "every 0m"))),
            201);
  ASSERT_EQ(Code(s.Post("/api/admin/register-table",
                   TableBody("once_a_day", Dataset("seattle-weather.csv").string(), daily))),
            201);
  ASSERT_EQ(Code(s.Post("/api/admin/register-table",
                   TableBody("manual_only", Dataset("airports.csv").string()))),
            201);

  auto finished_schedule_runs = [&] {
    std::vector<nlohmann::json> out;
    auto list = Body(s.Get("/api/sync/runs?limit=500"));
    for (const auto& run : list["runs"]) {
      if (run["trigger"] == "schedule" && run["status"] != "running") out.push_back(run);
    }
    return out;
  };
  ASSERT_TRUE(WaitFor([&] { return finished_schedule_runs().size() >= 4; },
                      std::chrono::seconds(120)))
      << s.Output();
  int once_a_day_runs = 0;
  for (const auto& brief : finished_schedule_runs()) {
    auto run = Body(s.Get("/api/sync/runs/" + brief["run_id"].get<std::string>()));
    EXPECT_EQ(run["requested_by"], "scheduler");
    EXPECT_EQ(run["status"], "ok") << run.dump();
    std::set<std::string> ids(run["tables_requested"].begin(), run["tables_requested"].end());
    EXPECT_TRUE(ids.count("always")) << run.dump();
    EXPECT_FALSE(ids.count("manual_only")) << run.dump();
    if (ids.count("once_a_day")) ++once_a_day_runs;
    for (const auto& t : run["tables"]) {
      EXPECT_EQ(t["status"], "synced") << run.dump();
      EXPECT_GT(t["rows"].get<int64_t>(), 0);
    }
  }
  EXPECT_EQ(once_a_day_runs, 1);
  auto entry = Body(s.Get("/api/admin/registry/once_a_day"));
  EXPECT_FALSE(entry["sync_state"]["last_sync"].get<std::string>().empty()) << entry.dump();

  // An explicit trigger ignores schedules (retry while a scheduled run holds the lock).
  std::string manual_id;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = s.Post("/api/sync/trigger", R"({"tables": ["once_a_day", "manual_only"]})");
        if (!r || r->status != 202) return false;
        manual_id = Body(r)["run_id"];
        return true;
      },
      std::chrono::seconds(60)));
  ASSERT_TRUE(WaitFor(
      [&] { return Body(s.Get("/api/sync/runs/" + manual_id))["status"] != "running"; },
      std::chrono::seconds(60)));
  auto manual = Body(s.Get("/api/sync/runs/" + manual_id));
  EXPECT_EQ(manual["trigger"], "manual");
  EXPECT_EQ(manual["requested_by"], "admin@localhost");
  EXPECT_EQ(manual["status"], "ok") << manual.dump();
  EXPECT_EQ(manual["counts"]["synced"], 2) << manual.dump();
}

TEST_F(Runs, CancelKillsTheStuckExtractionGroupAndPreviousDataServes) {
  auto stuck = MakeStuckSource();
  ServerProcess s(tmp_.path() / "data");
  const std::string md5 = SyncAirports(s);
  ASSERT_EQ(Code(s.Post("/api/admin/register-table", TableBody("stuck", stuck.string()))), 201);

  const auto [run_id, stuck_pid] = StartStuckRun(s);
  const int pid = stuck_pid;
  ASSERT_GT(pid, 0);
  auto live = Body(s.Get("/api/sync/runs/" + run_id));
  EXPECT_EQ(live["status"], "running") << live.dump();
  EXPECT_EQ(live["tables_requested"], nlohmann::json({"stuck"}));
  EXPECT_EQ(live["counts"]["pending"], 1);

  auto cancel = s.Post("/api/sync/runs/" + run_id + "/cancel", "");
  ASSERT_TRUE(cancel);
  ASSERT_EQ(cancel->status, 200) << cancel->body;
  auto ended = Body(cancel);
  EXPECT_EQ(ended["status"], "cancelled") << ended.dump();
  EXPECT_EQ(ended["message"], "cancelled by admin@localhost");
  ASSERT_EQ(ended["tables"].size(), 1u);
  EXPECT_EQ(ended["tables"][0]["table_id"], "stuck");
  EXPECT_EQ(ended["tables"][0]["status"], "error");
  EXPECT_EQ(ended["tables"][0]["reason"], "cancelled");
  EXPECT_FALSE(ended["finished_at"].get<std::string>().empty());
  // The whole process group is gone and the lock released.
  EXPECT_TRUE(WaitFor([&] { return ProcessGroupGone(pid); }, std::chrono::seconds(10)));
  EXPECT_TRUE(FindDa("extract", tmp_.path().string()).empty());
  EXPECT_EQ(Body(s.Get("/api/sync/status"))["locked"], false);
  EXPECT_EQ(Body(s.Get("/api/sync/runs/latest"))["run_id"], run_id);

  // The previous data keeps serving; the stuck table was never published.
  EXPECT_EQ(DownloadMd5(s, "airports"), md5);
  for (const auto& t : Body(s.Get("/api/catalog/tables"))["tables"]) {
    if (t["id"] == "airports") EXPECT_TRUE(t["published"].get<bool>());
    if (t["id"] == "stuck") EXPECT_FALSE(t["published"].get<bool>());
  }

  // Cancelling a finished run → 409; unknown runs → 404; the list is newest first.
  ExpectError(s.Post("/api/sync/runs/" + run_id + "/cancel", ""), 409, "failed_precondition");
  ExpectError(s.Post("/api/sync/runs/nope/cancel", ""), 404, "not_found");
  ExpectError(s.Get("/api/sync/runs/nope"), 404, "not_found");
  ExpectError(s.Get("/api/sync/runs?limit=0"), 422, "invalid_argument");
  ExpectError(s.Get("/api/sync/runs?limit=abc"), 422, "invalid_argument");
  auto list = Body(s.Get("/api/sync/runs"));
  ASSERT_EQ(list["runs"].size(), 2u) << list.dump();
  EXPECT_EQ(list["runs"][0]["run_id"], run_id);
  EXPECT_EQ(list["runs"][0]["status"], "cancelled");
  EXPECT_EQ(list["runs"][1]["status"], "ok");
  EXPECT_FALSE(list["runs"][0].contains("tables"));
  EXPECT_EQ(Body(s.Get("/api/sync/runs?limit=1"))["runs"].size(), 1u);
  // Runs are admin-only.
  std::string none;
  ExpectError(s.Get("/api/sync/runs", &none), 401, "unauthenticated");
}

TEST_F(Runs, CrashedChildIsAnErrorOutcomeWithAMessage) {
  auto stuck = MakeStuckSource();
  ServerProcess s(tmp_.path() / "data");
  const std::string md5 = SyncAirports(s);
  ASSERT_EQ(Code(s.Post("/api/admin/register-table", TableBody("stuck", stuck.string()))), 201);
  const auto [run_id, pid] = StartStuckRun(s);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);  // the extraction process dies on its own
  s.WaitUnlocked();
  auto run = Body(s.Get("/api/sync/runs/" + run_id));
  EXPECT_EQ(run["status"], "error") << run.dump();
  ASSERT_EQ(run["tables"].size(), 1u);
  EXPECT_EQ(run["tables"][0]["status"], "error");
  const std::string reason = run["tables"][0]["reason"];
  EXPECT_NE(reason.find("extraction process failed"), std::string::npos) << reason;
  EXPECT_NE(reason.find("signal 9"), std::string::npos) << reason;
  auto entry = Body(s.Get("/api/admin/registry/stuck"));
  EXPECT_EQ(entry["sync_state"]["status"], "error") << entry.dump();
  EXPECT_EQ(DownloadMd5(s, "airports"), md5);
}

TEST_F(Runs, ServerKilledDuringARunRestartsWithTheRunInterrupted) {
  auto stuck = MakeStuckSource();
  const auto data = tmp_.path() / "data";
  std::string run_id;
  std::string md5;
  {
    ServerProcess s(data);
    md5 = SyncAirports(s);
    ASSERT_EQ(Code(s.Post("/api/admin/register-table", TableBody("stuck", stuck.string()))),
              201);
    const auto started = StartStuckRun(s);
    run_id = started.first;
    const int pid = started.second;
    ASSERT_GT(pid, 0);
    auto serve = FindDa("serve", tmp_.path().string());
    ASSERT_EQ(serve.size(), 1u);
    ASSERT_EQ(::kill(serve.front(), SIGKILL), 0);
    // The extraction dies with its server (no orphan keeps the FIFO open or publishes later).
    EXPECT_TRUE(WaitFor([&] { return ProcessGroupGone(pid); }, std::chrono::seconds(10)));
    s.Stop();  // reaps the killed server
  }
  EXPECT_TRUE(FindDa("extract", tmp_.path().string()).empty());

  ServerProcess s(data);
  ASSERT_GT(s.port(), 0);
  auto run = Body(s.Get("/api/sync/runs/" + run_id));
  EXPECT_EQ(run["status"], "interrupted") << run.dump();
  EXPECT_FALSE(run["finished_at"].get<std::string>().empty());
  EXPECT_NE(run["message"].get<std::string>().find("interrupted"), std::string::npos);
  ASSERT_EQ(run["tables"].size(), 1u);
  EXPECT_EQ(run["tables"][0]["status"], "error");
  EXPECT_NE(run["tables"][0]["reason"].get<std::string>().find("interrupted"), std::string::npos);
  EXPECT_EQ(Body(s.Get("/api/sync/runs/latest"))["status"], "interrupted");
  EXPECT_EQ(Body(s.Get("/api/sync/status"))["locked"], false);
  // Nothing half-written is published: airports serves the previous bytes, stuck nothing.
  EXPECT_EQ(DownloadMd5(s, "airports"), md5);
  for (const auto& t : Body(s.Get("/api/catalog/tables"))["tables"]) {
    if (t["id"] == "airports") EXPECT_TRUE(t["published"].get<bool>());
    if (t["id"] == "stuck") EXPECT_FALSE(t["published"].get<bool>());
  }
  // A restarted server runs new syncs normally.
  auto again = s.SyncAndWait({"airports"});
  EXPECT_EQ(again["status"], "ok") << again.dump();
  EXPECT_NE(again["run_id"], run_id);
}

}  // namespace
}  // namespace da::e2e
