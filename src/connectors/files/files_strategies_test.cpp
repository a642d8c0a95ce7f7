// Sync strategies, schema evolution and crash safety of the runtime, on real files read by the
// files connector (kit/strategies.h, kit/runtime.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <random>
#include <thread>

#include "common/fs_util.h"
#include "common/hash.h"
#include "common/identifiers.h"
#include "connectors/builtin.h"
#include "connectors/files/files_connector.h"
#include "kit/extract_state.h"
#include "kit/runtime.h"
#include "kit/storage.h"
#include "support/extract_reader.h"
#include "support/files.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

extern char** environ;

namespace da::connectors::files {
namespace {
namespace fs = std::filesystem;
using testing::Leftovers;
using testing::QueryInt;
using testing::WriteText;

const fs::path kVega = DA_DATASETS_DIR;

model::TableSpec Rec(std::string id, std::string source_table) {
  model::TableSpec t;
  t.name = id;
  t.id = std::move(id);
  t.source_type = "files";
  t.source_table = std::move(source_table);
  return t;
}

/// Runs SQL on a fresh in-memory DuckDB (fixture writing and ground truth).
class Duck {
 public:
  Duck()
      : db_(std::move(db::Database::Open(":memory:")).value()),
        conn_(std::move(db_.Connect()).value()) {}
  void Exec(const std::string& sql) {
    Status st = conn_.Execute(sql);
    ASSERT_OK(st) << st.ToString() << "\n" << sql;
  }
  int64_t Int(const std::string& sql) {
    auto r = conn_.Query(sql);
    EXPECT_OK(r) << r.status().ToString() << "\n" << sql;
    return r.ok() && r->RowCount() > 0 ? r->GetInt64(0, 0) : -1;
  }
  /// First column → second column of a two-column result.
  std::map<std::string, int64_t> Map(const std::string& sql) {
    std::map<std::string, int64_t> out;
    auto r = conn_.Query(sql);
    EXPECT_OK(r) << r.status().ToString() << "\n" << sql;
    if (!r.ok()) return out;
    for (size_t i = 0; i < r->RowCount(); ++i) out[r->GetString(0, i)] = r->GetInt64(1, i);
    return out;
  }

 private:
  db::Database db_;
  db::Connection conn_;
};

std::string Lit(const fs::path& p) { return *QuoteLiteral(p.string()); }

class FilesStrategyTest : public ::testing::Test {
 protected:
  FilesStrategyTest() {
    src_ = dir_.path() / "src";
    fs::create_directories(src_);
  }
  kit::RuntimeOptions Options() {
    kit::RuntimeOptions o;
    o.extracts_dir = dir_.path() / "extracts";
    o.memory_limit_bytes = 256LL << 20;
    o.source_config["files"]["base_dir"] = src_.string();
    o.source_config["files"]["roots"] = src_.string() + ":" + kVega.string();
    return o;
  }
  kit::ExtractStats Run(const model::TableSpec& t) {
    kit::ExtractRuntime rt(Options(), BuiltinConnectors());
    auto report = rt.Extract("files", {t}, {});
    EXPECT_OK(report);
    return report.ok() && !report->tables.empty() ? report->tables[0] : kit::ExtractStats{};
  }
  fs::path SourceDir() { return dir_.path() / "extracts" / "files"; }
  fs::path ExtractDb() { return SourceDir() / "extract.duckdb"; }
  int64_t Q(const std::string& sql) {
    auto v = QueryInt(ExtractDb(), sql);
    EXPECT_OK(v) << v.status().ToString() << " in " << sql;
    return v.ok() ? *v : -1;
  }

  testing::TempDir dir_;
  fs::path src_;
  Duck duck_;
};

const std::string kWeather = Lit(kVega / "seattle-weather.csv");

TEST_F(FilesStrategyTest, IncrementalSeattleWeatherInTwoHalves) {
  // The source first holds 2012-2013, then only 2014-2015 (an append-only export).
  duck_.Exec("COPY (SELECT * FROM read_csv(" + kWeather + ") WHERE date < DATE '2014-01-01') TO " +
             Lit(src_ / "weather.csv") + " (HEADER)");
  auto t = Rec("weather", "weather.csv");
  t.sync_strategy = model::SyncStrategy::kIncremental;
  t.incremental_column = "date";
  t.primary_key = {"date"};
  kit::ExtractStats first = Run(t);
  ASSERT_EQ(first.status, "ok") << first.error;
  EXPECT_EQ(first.rows, 731);
  EXPECT_EQ(first.watermark, "2013-12-31");

  duck_.Exec("COPY (SELECT * FROM read_csv(" + kWeather + ") WHERE date >= DATE '2014-01-01') TO " +
             Lit(src_ / "weather.csv") + " (HEADER)");
  kit::ExtractStats second = Run(t);
  ASSERT_EQ(second.status, "ok") << second.error;
  EXPECT_EQ(second.rows, 1461);
  EXPECT_EQ(second.watermark, "2015-12-31");
  EXPECT_EQ(second.md5, *Md5File(SourceDir() / "data" / "weather.parquet"));
  EXPECT_FALSE(second.schema_change.has_value());
  // The merged table is the whole source file, row for row.
  EXPECT_EQ(Q("SELECT count(*) FROM weather"), duck_.Int("SELECT count(*) FROM read_csv(" +
                                                         kWeather + ")"));
  EXPECT_EQ(Q("SELECT count(*) FROM (SELECT * FROM weather EXCEPT SELECT * FROM read_csv(" +
              kWeather + "))"),
            0);
  auto state = kit::LoadExtractState(SourceDir());
  ASSERT_OK(state);
  EXPECT_EQ(state->tables.at("weather").watermark, "2015-12-31");
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(FilesStrategyTest, FilesConnectorFiltersPastTheWatermark) {
  auto db = db::Database::Open(":memory:");
  ASSERT_OK(db);
  auto conn = db->Connect();
  ASSERT_OK(conn);
  kit::ParquetSink sink(*conn, dir_.path() / "out.parquet");
  kit::ReadOptions o;
  o.table = Rec("w", (kVega / "seattle-weather.csv").string());
  o.config = {{"roots", kVega.string()}};
  o.temp_dir = dir_.path();
  o.incremental_column = "date";
  o.watermark = "2015-06-30";
  FilesConnector c;
  ASSERT_OK(c.Read(o, sink));
  EXPECT_EQ(sink.rows_written(), 184);  // July to December 2015
  o.incremental_column = "date; DROP TABLE x";
  kit::ParquetSink sink2(*conn, dir_.path() / "out2.parquet");
  EXPECT_EQ(c.Read(o, sink2).code(), StatusCode::kInvalidArgument);
}

TEST_F(FilesStrategyTest, IncrementalCompositeKeyNewRowWins) {
  WriteText(src_ / "temps.csv",
            "station,day,temp,updated\nA,2024-01-01,1.0,1\nA,2024-01-02,2.0,2\nB,2024-01-01,3.0,3\n");
  auto t = Rec("temps", "temps.csv");
  t.sync_strategy = model::SyncStrategy::kIncremental;
  t.incremental_column = "updated";
  t.primary_key = {"station", "day"};
  ASSERT_EQ(Run(t).status, "ok");
  // A corrected reading for (A, 2024-01-02) and a new station.
  WriteText(src_ / "temps.csv",
            "station,day,temp,updated\nA,2024-01-02,2.5,4\nC,2024-01-01,9.0,5\n");
  kit::ExtractStats s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_EQ(s.rows, 4);
  EXPECT_EQ(Q("SELECT count(*) FROM temps WHERE station = 'A' AND day = DATE '2024-01-02' "
              "AND temp = 2.5"),
            1);
  EXPECT_EQ(Q("SELECT count(*) FROM temps WHERE temp = 2.0"), 0);
  EXPECT_EQ(s.watermark, "5");
}

TEST_F(FilesStrategyTest, PartitionedFlightsByMonthMatchGroupBy) {
  const std::string flights = Lit(kVega / "flights-3m.parquet");
  auto t = Rec("flights", (kVega / "flights-3m.parquet").string());
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "date";
  t.partition_granularity = model::PartitionGranularity::kMonth;
  kit::ExtractStats s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_EQ(s.rows, 3000000);
  EXPECT_TRUE(s.md5.empty());
  std::map<std::string, int64_t> got;
  for (const auto& f : s.files) {
    got[f.name] = f.rows;
    const fs::path file = SourceDir() / "data" / "flights" / f.name;
    EXPECT_EQ(f.md5, *Md5File(file)) << f.name;
    EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT count(*) FROM read_parquet(" + Lit(file) + ")"),
              f.rows);
  }
  EXPECT_EQ(got, duck_.Map("SELECT strftime(date, '%Y-%m') || '.parquet', count(*) FROM "
                           "read_parquet(" +
                           flights + ") GROUP BY 1"));
  EXPECT_EQ(got.size(), 7u);
  EXPECT_EQ(Q("SELECT count(*) FROM flights"), 3000000);
  EXPECT_EQ(Q("SELECT count(*) FROM flights WHERE origin = 'SEA'"),
            duck_.Int("SELECT count(*) FROM read_parquet(" + flights + ") WHERE origin = 'SEA'"));
  EXPECT_EQ(Q("SELECT rows FROM _meta WHERE table_name = 'flights'"), 3000000);
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(FilesStrategyTest, PartitionedByTextDatesOfJsonFlights) {
  // flights-20k.json has dates as text ("2001/01/14 21:55").
  const std::string json = Lit(kVega / "flights-20k.json");
  auto t = Rec("f20k", (kVega / "flights-20k.json").string());
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "date";
  t.partition_granularity = model::PartitionGranularity::kDay;
  kit::ExtractStats s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  std::map<std::string, int64_t> got;
  for (const auto& f : s.files) got[f.name] = f.rows;
  EXPECT_EQ(got, duck_.Map("SELECT strftime(strptime(date, '%Y/%m/%d %H:%M'), '%Y-%m-%d') || "
                           "'.parquet', count(*) FROM read_json_auto(" +
                           json + ") GROUP BY 1"));
  EXPECT_GT(got.size(), 30u);
}

TEST_F(FilesStrategyTest, UnparseablePartitionValueFailsTheTableKeepingItsData) {
  WriteText(src_ / "events.csv", "id,at\n1,2024-01-01\n2,2024-02-01\n");
  auto t = Rec("events", "events.csv");
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "at";
  ASSERT_EQ(Run(t).status, "ok");
  WriteText(src_ / "events.csv", "id,at\n1,2024-01-01\n2,2024-02-01\n3,tomorrow\n4,\n");
  kit::ExtractStats s = Run(t);
  EXPECT_EQ(s.status, "error");
  EXPECT_NE(s.error.find("2 row(s) of table 'events'"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("'tomorrow'"), std::string::npos) << s.error;
  EXPECT_EQ(Q("SELECT count(*) FROM events"), 2);
}

TEST_F(FilesStrategyTest, FreezeRefusesANewCsvColumn) {
  WriteText(src_ / "w.csv", "date,temp\n2024-01-01,1.5\n");
  auto t = Rec("w", "w.csv");
  t.schema_policy = model::SchemaPolicy::kFreeze;
  ASSERT_EQ(Run(t).status, "ok");
  const std::string md5 = *Md5File(SourceDir() / "data" / "w.parquet");
  WriteText(src_ / "w.csv", "date,temp,wind\n2024-01-01,1.5,3\n2024-01-02,2.5,4\n");
  kit::ExtractStats s = Run(t);
  EXPECT_EQ(s.status, "error");
  EXPECT_NE(s.error.find("added wind (BIGINT)"), std::string::npos) << s.error;
  EXPECT_EQ(*Md5File(SourceDir() / "data" / "w.parquet"), md5);
  EXPECT_EQ(Q("SELECT count(*) FROM w"), 1);
  t.schema_policy = model::SchemaPolicy::kEvolve;
  s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  ASSERT_TRUE(s.schema_change.has_value());
  EXPECT_EQ(s.schema_change->added, (std::vector<kit::ColumnInfo>{{"wind", "BIGINT"}}));
}

// ------------------------------------------------------------------ kill at any moment

/// Runs in a child process started by KilledRunLeavesPreviousFilesQueryable: one Extract of
/// the tables in $DA_EXTRACT_CHILD (a JSON file), exactly as `da extract` runs it.
TEST(ExtractChild, RunsFromEnvironment) {
  const char* config = std::getenv("DA_EXTRACT_CHILD");
  if (config == nullptr) GTEST_SKIP() << "only run as a child process";
  auto j = nlohmann::json::parse(*ReadFile(config));
  kit::RuntimeOptions o;
  o.extracts_dir = j["extracts_dir"].get<std::string>();
  o.memory_limit_bytes = 256LL << 20;
  o.source_config["files"]["base_dir"] = j["base_dir"].get<std::string>();
  o.source_config["files"]["roots"] = j["base_dir"].get<std::string>() + ":" + kVega.string();
  std::vector<model::TableSpec> tables;
  for (const auto& r : j["tables"]) tables.push_back(*model::TableSpecFromJson(r));
  kit::ExtractRuntime rt(o, BuiltinConnectors());
  auto report = rt.Extract("files", tables, {});
  ASSERT_OK(report);
  EXPECT_EQ(report->ErrorCount(), 0u);
}

pid_t SpawnExtractChild(const fs::path& config) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("DA_EXTRACT_CHILD=" + config.string());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=ExtractChild.RunsFromEnvironment";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

bool AnyTmpIn(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->path().filename().string().ends_with(".tmp")) return true;
  }
  return false;
}

TEST_F(FilesStrategyTest, KilledRunLeavesPreviousFilesQueryable) {
  // Version 1 of the sources: January 2001 of flights-3m and the first half of
  // seattle-weather; version 2: January to mid-March and all of it.
  const std::string flights = Lit(kVega / "flights-3m.parquet");
  const std::string v2_flights = "SELECT * FROM read_parquet(" + flights +
                                 ") WHERE date < TIMESTAMP '2001-03-15'";
  duck_.Exec("COPY (SELECT * FROM read_parquet(" + flights + ") WHERE date < TIMESTAMP "
             "'2001-02-01') TO " + Lit(src_ / "flights.parquet") + " (FORMAT parquet)");
  duck_.Exec("COPY (SELECT * FROM read_csv(" + kWeather + ") WHERE date < DATE '2014-01-01') TO " +
             Lit(src_ / "weather.csv") + " (HEADER)");
  auto full = Rec("flights", "flights.parquet");
  auto parts = Rec("flights_m", "flights.parquet");
  parts.sync_strategy = model::SyncStrategy::kPartitioned;
  parts.partition_by = "date";
  auto weather = Rec("weather", "weather.csv");  // incremental without key: appends
  weather.sync_strategy = model::SyncStrategy::kIncremental;
  weather.incremental_column = "date";
  const std::vector<model::TableSpec> tables = {full, parts, weather};
  {
    kit::ExtractRuntime rt(Options(), BuiltinConnectors());
    auto report = rt.Extract("files", tables, {});
    ASSERT_OK(report);
    ASSERT_EQ(report->ErrorCount(), 0u) << kit::ExtractReportToJson(*report).dump();
  }
  const std::map<std::string, int64_t> v1 = {
      {"flights", Q("SELECT count(*) FROM flights")},
      {"flights_m", Q("SELECT count(*) FROM flights_m")},
      {"weather", Q("SELECT count(*) FROM weather")}};
  const std::string v1_md5 = *Md5File(SourceDir() / "data" / "flights.parquet");

  // Version 2: every table changes.
  duck_.Exec("COPY (" + v2_flights + ") TO " + Lit(src_ / "flights.parquet") +
             " (FORMAT parquet)");
  duck_.Exec("COPY (SELECT * FROM read_csv(" + kWeather + ")) TO " + Lit(src_ / "weather.csv") +
             " (HEADER)");
  const int64_t v2_rows = duck_.Int("SELECT count(*) FROM (" + v2_flights + ")");
  const std::map<std::string, int64_t> v2 = {
      {"flights", v2_rows}, {"flights_m", v2_rows}, {"weather", 1461}};

  const fs::path config = dir_.path() / "child.json";
  nlohmann::json j = {{"extracts_dir", (dir_.path() / "extracts").string()},
                      {"base_dir", src_.string()},
                      {"tables", nlohmann::json::array()}};
  for (const auto& t : tables) j["tables"].push_back(model::TableSpecToJson(t));
  ASSERT_OK(WriteFileAtomic(config, j.dump()));

  const fs::path data = SourceDir() / "data";
  const fs::path tmp = SourceDir() / "tmp";
  // Moments to kill at: while the connector writes, while partitions are split and rewritten,
  // while the incremental merge writes, while extract.duckdb is rebuilt, at once, and at
  // random times.
  std::vector<std::pair<std::string, std::function<bool()>>> moments = {
      {"full_refresh write", [&] { return fs::exists(data / "flights.parquet.tmp"); }},
      {"partition split", [&] { return fs::exists(tmp / "parts-2"); }},
      {"partition rewrite", [&] { return AnyTmpIn(data / "flights_m"); }},
      {"incremental merge", [&] { return fs::exists(data / "weather.parquet.tmp"); }},
      {"extract.duckdb rebuild", [&] { return fs::exists(SourceDir() / "extract.duckdb.tmp"); }},
      {"at once", [] { return true; }},
  };
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 3; ++i) {
    auto deadline = std::make_shared<std::chrono::steady_clock::time_point>();
    moments.push_back({"random", [deadline, ms = std::uniform_int_distribution<int>(0, 3000)(rng)] {
                         if (*deadline == std::chrono::steady_clock::time_point()) {
                           *deadline = std::chrono::steady_clock::now() +
                                       std::chrono::milliseconds(ms);
                         }
                         return std::chrono::steady_clock::now() >= *deadline;
                       }});
  }

  int killed = 0;
  for (auto& [what, reached] : moments) {
    pid_t pid = SpawnExtractChild(config);
    ASSERT_GT(pid, 0);
    int status = 0;
    bool exited = false;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!reached()) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << what;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      killed += WIFSIGNALED(status) ? 1 : 0;
    }
    // Whatever the moment, every view is queryable and shows the old or the new data.
    for (const auto& [view, old_rows] : v1) {
      auto n = QueryInt(ExtractDb(), "SELECT count(*) FROM " + view);
      ASSERT_OK(n) << what << ": " << view << ": " << n.status().ToString();
      EXPECT_TRUE(*n == old_rows || *n == v2.at(view))
          << what << ": " << view << " has " << *n << " rows";
    }
    EXPECT_EQ(Q("SELECT count(*) - count(DISTINCT date) FROM weather"), 0) << what;
    const std::string md5 = *Md5File(data / "flights.parquet");
    auto after = QueryInt(ExtractDb(), "SELECT count(*) FROM flights");
    EXPECT_TRUE(md5 == v1_md5 || *after == v2_rows) << what;
    EXPECT_OK(kit::LoadExtractState(SourceDir())) << what;
  }
  EXPECT_GE(killed, 5);

  // The next complete run cleans up and converges on version 2.
  kit::ExtractRuntime rt(Options(), BuiltinConnectors());
  auto report = rt.Extract("files", tables, {});
  ASSERT_OK(report);
  ASSERT_EQ(report->ErrorCount(), 0u) << kit::ExtractReportToJson(*report).dump();
  for (const auto& [view, rows] : v2) EXPECT_EQ(Q("SELECT count(*) FROM " + view), rows) << view;
  EXPECT_EQ(Q("SELECT count(DISTINCT date) FROM weather"), 1461);
  EXPECT_EQ(Q("SELECT count(*) FROM (SELECT * FROM weather EXCEPT SELECT * FROM read_csv(" +
              kWeather + "))"),
            0);
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

}  // namespace
}  // namespace da::connectors::files
