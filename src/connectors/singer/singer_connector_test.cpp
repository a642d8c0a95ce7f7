#include "connectors/singer/singer_connector.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/fs_util.h"
#include "common/identifiers.h"
#include "db/duckdb.h"
#include "kit/parquet_sink.h"
#include "kit/runtime.h"
#include "support/singer_taps.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::connectors::singer {
namespace {
namespace fs = std::filesystem;
using testing::WriteTapManifest;

/// A fixture tap installed in a temp dir, with its stderr captured.
class TapFixture {
 public:
  TapFixture(const std::string& tap_file, const std::string& caps = "[discover, read]",
             const std::string& extra = "", const std::vector<std::string>& args = {}) {
    auto file = WriteTapManifest(dir_.path() / "connectors", "tap", tap_file, caps, extra, args);
    auto m = kit::LoadManifest(file);
    EXPECT_OK(m);
    if (!m.ok()) return;
    SingerOptions o;
    o.manifest = *m;
    o.state_dir = dir_.path() / "state";
    o.on_tap_stderr = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      stderr_ += std::string(line) + "\n";
    };
    connector_ = std::make_unique<SingerConnector>(o);
  }

  SingerConnector& connector() { return *connector_; }
  const fs::path& dir() const { return dir_.path(); }
  std::string tap_stderr() {
    std::lock_guard<std::mutex> lock(mu_);
    return stderr_;
  }

  /// Reads `stream` into `<dir>/<stream>.parquet`; returns Read's status.
  Status Read(const std::string& stream, const kit::ConnectorConfig& config = {},
              const std::string& strategy = "full_refresh") {
    auto db = db::Database::Open(":memory:");
    if (!db.ok()) return db.status();
    auto conn = db->Connect();
    if (!conn.ok()) return conn.status();
    fs::create_directories(dir_.path() / "scratch");
    output_ = dir_.path() / (stream + ".parquet");
    kit::ParquetSink sink(*conn, output_);
    kit::ReadOptions ro;
    ro.table.id = stream;
    ro.table.name = stream;
    ro.table.source_type = "tap";
    ro.table.source_table = stream;
    ro.table.sync_strategy = *model::ParseSyncStrategy(strategy);
    ro.config = config;
    ro.temp_dir = dir_.path() / "scratch";
    Status st = connector_->Read(ro, sink);
    if (st.ok() && !sink.finished()) return Internal("Read returned ok without writing");
    return st;
  }

  bool OutputExists() const { return fs::exists(output_); }

  /// Runs SQL over the written Parquet file (`t`) and returns rows joined by '|' and ','.
  std::string Query(const std::string& select_from_t) {
    auto db = db::Database::Open(":memory:");
    auto conn = db->Connect();
    auto lit = QuoteLiteral(output_.string());
    auto r = conn->Query("WITH t AS (SELECT * FROM read_parquet(" + *lit + ")) " + select_from_t);
    if (!r.ok()) return "ERROR: " + r.status().ToString();
    std::string out;
    for (size_t row = 0; row < r->RowCount(); ++row) {
      if (row) out += "|";
      for (size_t c = 0; c < r->ColumnCount(); ++c) {
        out += (c ? "," : "") + (r->IsNull(c, row) ? std::string("NULL") : r->GetString(c, row));
      }
    }
    return out;
  }

  /// The written file's columns as "name TYPE, ...".
  std::string Columns() {
    auto db = db::Database::Open(":memory:");
    auto conn = db->Connect();
    auto lit = QuoteLiteral(output_.string());
    auto r = conn->Query("DESCRIBE SELECT * FROM read_parquet(" + *lit + ")");
    if (!r.ok()) return "ERROR: " + r.status().ToString();
    std::string out;
    for (size_t i = 0; i < r->RowCount(); ++i) {
      out += (i ? ", " : "") + r->GetString(0, i) + " " + r->GetString(1, i);
    }
    return out;
  }

  /// Files left in the scratch dir (the connector must clean up its work dir).
  size_t ScratchEntries() const {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_.path() / "scratch", ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      ++n;
    }
    return n;
  }

 private:
  da::testing::TempDir dir_;
  std::unique_ptr<SingerConnector> connector_;
  std::mutex mu_;
  std::string stderr_;
  fs::path output_;
};

TEST(SingerConnector, DiscoverMapsTheCatalog) {
  TapFixture tap("tap_two_streams.js");
  auto tables = tap.connector().Discover({});
  ASSERT_OK(tables);
  ASSERT_EQ(tables->size(), 2u);
  const auto& users = (*tables)[0];
  EXPECT_EQ(users.name, "users");
  EXPECT_EQ(users.source_table, "users");
  EXPECT_EQ(users.primary_key, std::vector<std::string>{"id"});
  ASSERT_EQ(users.columns.size(), 8u);
  EXPECT_EQ(users.columns[0], (kit::ColumnInfo{"id", "BIGINT"}));
  EXPECT_EQ(users.columns[3], (kit::ColumnInfo{"signup_at", "TIMESTAMP WITH TIME ZONE"}));
  EXPECT_EQ(users.columns[6], (kit::ColumnInfo{"tags", "VARCHAR[]"}));
  EXPECT_EQ(users.columns[7], (kit::ColumnInfo{"profile", "JSON"}));
  EXPECT_EQ((*tables)[1].name, "orders");
  EXPECT_EQ((*tables)[1].primary_key, std::vector<std::string>{"order_id"});
}

TEST(SingerConnector, ReadsOneOfTwoInterleavedStreams) {
  TapFixture tap("tap_two_streams.js", "[discover, read]",
                 "config:\n  count: {type: integer, default: 4}\n");
  ASSERT_OK(tap.Read("users"));
  EXPECT_EQ(tap.Query("SELECT count(*), min(id), max(id), count(email) FROM t"), "4,1,4,2");
  EXPECT_EQ(tap.Columns(),
            "id BIGINT, name VARCHAR, email VARCHAR, signup_at TIMESTAMP WITH TIME ZONE, "
            "active BOOLEAN, score DOUBLE, tags VARCHAR[], profile JSON");
  EXPECT_EQ(tap.Query("SELECT name, epoch(signup_at)::BIGINT, active, score, tags[2], "
                      "profile->>'city' FROM t WHERE id = 3"),
            "user 3,1704362400,false,4.5,t3,Prague");
  // The config value reached the tap typed as the manifest says, and its stderr was kept.
  EXPECT_NE(tap.tap_stderr().find("starting with count=4 (number)"), std::string::npos)
      << tap.tap_stderr();

  ASSERT_OK(tap.Read("orders", {{"count", "3"}}));
  EXPECT_EQ(tap.Query("SELECT count(*), sum(amount), min(placed_on)::VARCHAR FROM t"),
            "6,92.25,2024-02-03");
  EXPECT_EQ(tap.ScratchEntries(), 0u) << "the connector left its work dir behind";
}

TEST(SingerConnector, KeepsColumnsAddedByASecondSchemaMessage) {
  TapFixture tap("tap_schema_change.js");
  ASSERT_OK(tap.Read("events"));
  EXPECT_EQ(tap.Columns(),
            "id BIGINT, kind VARCHAR, value DOUBLE, at TIMESTAMP WITH TIME ZONE, note VARCHAR");
  EXPECT_EQ(tap.Query("SELECT id, kind, value, \"at\" IS NULL, note FROM t ORDER BY id"),
            "1,old,1.0,true,NULL|2,old,2.0,true,NULL|3,old,3.0,true,NULL|"
            "4,new,4.5,false,n4|5,new,5.5,false,n5|6,new,6.5,false,n6");
}

TEST(SingerConnector, ReadsBatchFilesAndRecords) {
  TapFixture tap("tap_batch.js", "[discover, read]", "config:\n  batch_dir: {type: path, required: true}\n");
  ASSERT_OK(tap.Read("items", {{"batch_dir", (tap.dir() / "batches").string()}}));
  EXPECT_EQ(tap.Query("SELECT count(*), sum(id), count(*) FILTER (label LIKE 'batch%') FROM t"),
            "7,28,3");
}

TEST(SingerConnector, StreamsAMillionRecordsInConstantMemory) {
  TapFixture tap("tap_million.js");
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK(tap.Read("numbers"));
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  EXPECT_EQ(tap.Query("SELECT count(*), sum(id), count(*) FILTER (even) FROM t"),
            "1000000,500000500000,500000");
  EXPECT_EQ(tap.Query("SELECT \"at\"::VARCHAR FROM t WHERE id = 1000000"), "2024-01-12 13:46:40+00");
  // ru_maxrss is in KiB. The records pass through a file, never through C++ memory; DuckDB
  // streams them to Parquet. Buffering them in memory would cost far more than this bound.
  const long grown_mib = (after.ru_maxrss - before.ru_maxrss) / 1024;
  std::printf("1M records: %.2f s (%.0f rows/s), peak RSS grew by %ld MiB\n", secs, 1e6 / secs,
              grown_mib);
  EXPECT_LT(grown_mib, 400);
}

TEST(SingerConnector, GarbageOnStdoutFailsNamingTheLine) {
  TapFixture tap("tap_garbage.sh", "[read]");
  Status st = tap.Read("things");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("stdout line 4"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Traceback"), std::string::npos) << st.message();
  EXPECT_FALSE(tap.OutputExists()) << "a partial table was written";
}

TEST(SingerConnector, ANonZeroExitIsAnError) {
  TapFixture tap("tap_exit_nonzero.sh", "[read]");
  Status st = tap.Read("things");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("exited with code 3"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("API answered 500"), std::string::npos) << st.message();
  EXPECT_NE(tap.tap_stderr().find("API answered 500"), std::string::npos);
  EXPECT_FALSE(tap.OutputExists());
}

TEST(SingerConnector, AHangingTapIsKilledWithItsProcessGroup) {
  da::testing::TempDir pids;
  const fs::path pid_file = pids.path() / "child.pid";
  TapFixture tap("tap_hang.sh", "[read]", "timeout_seconds: 1\n", {pid_file.string()});
  const auto start = std::chrono::steady_clock::now();
  Status st = tap.Read("things");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(st.message().find("time limit of 1 s"), std::string::npos) << st.message();
  EXPECT_LT(took, std::chrono::seconds(10));
  std::ifstream in(pid_file);
  pid_t child = 0;
  in >> child;
  ASSERT_GT(child, 0);
  std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
  std::string line;
  std::getline(stat, line);
  EXPECT_TRUE(line.empty() || line.find(") Z") != std::string::npos)
      << "the tap's child is still running: " << line;
  EXPECT_FALSE(tap.OutputExists());
}

TEST(SingerConnector, AStateThatIsNotJsonFailsNamingTheLine) {
  TapFixture tap("tap_bad_state.sh", "[read]");
  Status st = tap.Read("things");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("stdout line 3: STATE message is not valid JSON"), std::string::npos)
      << st.message();
  EXPECT_FALSE(tap.OutputExists());
}

TEST(SingerConnector, AValueThatDoesNotFitItsTypeNamesTheLineAndKeepsTheOldState) {
  TapFixture tap("tap_bad_value.sh", "[read]");
  const fs::path state = tap.connector().StateFile("things");
  ASSERT_OK(EnsureDir(state.parent_path()));
  ASSERT_OK(WriteFileAtomic(state, "{\"bookmarks\":{\"things\":0}}\n"));
  Status st = tap.Read("things");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("stdout line 4: column 'at' value 'yesterday' does not fit"),
            std::string::npos)
      << st.message();
  auto kept = ReadFile(state);
  ASSERT_OK(kept);
  EXPECT_EQ(*kept, "{\"bookmarks\":{\"things\":0}}\n") << "STATE advanced for a failed table";
}

TEST(SingerConnector, PersistsStateAndPassesItToIncrementalReads) {
  TapFixture tap("tap_two_streams.js");
  ASSERT_OK(tap.Read("users", {{"count", "3"}}));
  auto state = ReadFile(tap.connector().StateFile("users"));
  ASSERT_OK(state);
  EXPECT_NE(state->find("\"users\":{\"id\":3}"), std::string::npos) << *state;

  // full_refresh ignores the state: the same rows again.
  ASSERT_OK(tap.Read("users", {{"count", "3"}}));
  EXPECT_EQ(tap.Query("SELECT min(id), max(id) FROM t"), "1,3");
  // incremental passes --state: only the rows after the bookmark, and the bookmark moves on.
  ASSERT_OK(tap.Read("users", {{"count", "3"}}, "incremental"));
  EXPECT_EQ(tap.Query("SELECT min(id), max(id) FROM t"), "4,6");
  state = ReadFile(tap.connector().StateFile("users"));
  EXPECT_NE(state->find("\"users\":{\"id\":6}"), std::string::npos) << *state;
}

TEST(SingerConnector, AnUnknownStreamIsNotFound) {
  TapFixture tap("tap_two_streams.js");
  Status st = tap.Read("invoices");
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("users, orders"), std::string::npos) << st.message();
  // Without discovery the connector only learns it from the output.
  TapFixture plain("tap_garbage.sh", "[read]");
  EXPECT_FALSE(plain.Read("other").ok());
}

// Attack: a third-party tap reads its environment and ships the server's secrets (the Keboola
// token, the OIDC client secret, the SMTP password, the bootstrap password) to its author. It
// gets only the base variables and those its manifest declares.
TEST(SingerConnector, ATapGetsOnlyTheBaseAndItsDeclaredEnvironment) {
  const std::vector<std::pair<const char*, const char*>> secrets = {
      {"KEBOOLA_STORAGE_TOKEN", "kbc-secret-token"},
      {"DA_OIDC_CLIENT_SECRET", "oidc-client-secret"},
      {"DA_SMTP_URL", "smtp://mailer:smtp-password@127.0.0.1:25"},
      {"DA_BOOTSTRAP_ADMIN_PASSWORD", "bootstrap-password"},
      {"DA_TAP_UNDECLARED", "undeclared"}};
  for (const auto& [name, value] : secrets) ::setenv(name, value, 1);
  ::setenv("DA_TAP_DECLARED", "declared-value", 1);
  ::setenv("DA_TAP_CONFIG_ENV", "from-config-env", 1);
  TapFixture tap("tap_env.sh", "[read]",
                 "auth:\n  type: token\n  env_vars: [{name: DA_TAP_DECLARED, required: true}]\n"
                 "config:\n  region: {type: string, env: DA_TAP_CONFIG_ENV}\n");
  Status st = tap.Read("env");
  for (const auto& [name, value] : secrets) ::unsetenv(name);
  ::unsetenv("DA_TAP_DECLARED");
  ::unsetenv("DA_TAP_CONFIG_ENV");
  ASSERT_OK(st) << tap.tap_stderr();
  for (const auto& [name, value] : secrets) {
    EXPECT_EQ(tap.Query(std::string("SELECT count(*) FROM t WHERE name = '") + name + "'"), "0")
        << name;
  }
  EXPECT_EQ(tap.Query("SELECT value FROM t WHERE name = 'DA_TAP_DECLARED'"), "declared-value");
  EXPECT_EQ(tap.Query("SELECT value FROM t WHERE name = 'DA_TAP_CONFIG_ENV'"), "from-config-env");
  EXPECT_EQ(tap.Query("SELECT count(*) FROM t WHERE name = 'PATH'"), "1");
}

TEST(SingerConnector, RequiredEnvVarsAndConfigAreChecked) {
  ::unsetenv("DA_TEST_TAP_TOKEN");
  TapFixture tap("tap_two_streams.js", "[discover, read]",
                 "auth:\n  type: token\n  env_vars: [{name: DA_TEST_TAP_TOKEN, required: true, "
                 "config_key: token}]\nconfig:\n  count: {type: integer, required: true}\n");
  Status st = tap.Read("users", {{"count", "2"}});
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("DA_TEST_TAP_TOKEN"), std::string::npos) << st.message();
  ::setenv("DA_TEST_TAP_TOKEN", "tok-123456", 1);
  st = tap.Read("users", {});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("config.count: is required"), std::string::npos) << st.message();
  EXPECT_OK(tap.Read("users", {{"count", "2"}}));
  ::unsetenv("DA_TEST_TAP_TOKEN");
}

}  // namespace
}  // namespace da::connectors::singer

namespace da::connectors::singer {
namespace {

// Four streams of one tap read at once under a small extraction memory limit: each tap runs
// side by side, their conversions are admitted one at a time, and every table succeeds.
TEST(SingerConnector, FourTablesAtOnceUnderASmallMemoryLimitAllSucceed) {
  da::testing::TempDir dir;
  auto file = WriteTapManifest(dir.path() / "connectors", "tap", "tap_million.js", "[discover, read]",
                               "config:\n  rows: {type: integer}\n");
  auto manifest = kit::LoadManifest(file);
  ASSERT_OK(manifest);
  kit::ConnectorRegistry registry;
  const fs::path state_dir = dir.path() / "extracts" / "tap" / "singer_state";
  ASSERT_OK(registry.Register("tap", [m = *manifest, state_dir] {
    SingerOptions o;
    o.manifest = m;
    o.state_dir = state_dir;
    o.on_tap_stderr = [](std::string_view) {};
    return std::make_unique<SingerConnector>(o);
  }));
  kit::RuntimeOptions o;
  o.extracts_dir = dir.path() / "extracts";
  o.memory_limit_bytes = 128LL << 20;
  o.source_config["tap"]["rows"] = "250000";
  o.source_config["tap"]["table_concurrency"] = "4";
  std::vector<model::TableSpec> tables;
  for (int i = 0; i < 4; ++i) {
    model::TableSpec t;
    t.id = "numbers_" + std::to_string(i);
    t.name = t.id;
    t.source_type = "tap";
    t.source_table = "numbers";
    tables.push_back(t);
  }
  kit::ExtractRuntime runtime(o, registry);
  auto report = runtime.Extract("tap", tables, {});
  ASSERT_OK(report);
  ASSERT_EQ(report->tables.size(), 4u);
  for (const auto& s : report->tables) {
    EXPECT_EQ(s.status, "ok") << s.table_id << ": " << s.error;
    EXPECT_EQ(s.rows, 250000) << s.table_id;
  }
  db::DatabaseOptions read_only;
  read_only.read_only = true;
  auto db = db::Database::Open((dir.path() / "extracts" / "tap" / "extract.duckdb").string(), read_only);
  ASSERT_OK(db);
  auto conn = db->Connect();
  ASSERT_OK(conn);
  auto sum = conn->Query("SELECT sum(id) FROM numbers_2");
  ASSERT_OK(sum);
  EXPECT_EQ(sum->GetInt64(0, 0), 250000LL * 250001 / 2);
}

}  // namespace
}  // namespace da::connectors::singer
