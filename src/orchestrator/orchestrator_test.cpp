#include "orchestrator/orchestrator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "common/fs_util.h"
#include "common/hash.h"
#include "common/identifiers.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::orchestrator {
namespace {
namespace fs = std::filesystem;

const fs::path kDatasets = DA_DATASETS_DIR;

/// One local table of a test extract: its name and the SELECT whose result becomes its Parquet.
struct TableSpec {
  std::string name;
  std::string select_sql;
};

class OrchestratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path();
    extracts_ = root_ / "extracts";
    analytics_ = root_ / "analytics" / "server.duckdb";
    fs::create_directories(extracts_);
  }

  /// Writes extracts/<source>/extract.duckdb the way a connector does: Parquet per table under
  /// data/, `_meta` with one row per table plus `extra_meta_rows`, one view per table.
  void MakeExtract(const std::string& source, const std::vector<TableSpec>& tables,
                   const std::vector<std::string>& extra_meta_rows = {}) {
    fs::path dir = extracts_ / source;
    fs::create_directories(dir / "data");
    fs::remove(dir / "extract.duckdb");
    auto database = db::Database::Open((dir / "extract.duckdb").string());
    ASSERT_OK(database);
    auto conn = database->Connect();
    ASSERT_OK(conn);
    Exec(*conn,
         "CREATE TABLE _meta(table_name VARCHAR NOT NULL, description VARCHAR, rows BIGINT, "
         "size_bytes BIGINT, extracted_at TIMESTAMP, query_mode VARCHAR DEFAULT 'local', "
         "schema_json VARCHAR)");
    for (const auto& t : tables) {
      WriteParquet(source, t);
      auto path = QuoteLiteral(ParquetPath(source, t.name).string());
      ASSERT_OK(path);
      Exec(*conn,
           "CREATE VIEW " + QuoteIdent(t.name) + " AS SELECT * FROM read_parquet(" + *path + ")");
      Exec(*conn,
           "INSERT INTO _meta (table_name, rows, extracted_at) SELECT $1, count(*), now() FROM " +
               QuoteIdent(t.name),
           {t.name});
    }
    for (const auto& name : extra_meta_rows) {
      Exec(*conn, "INSERT INTO _meta (table_name) VALUES ($1)", {name});
    }
  }

  fs::path ParquetPath(const std::string& source, const std::string& table) {
    return extracts_ / source / "data" / (table + ".parquet");
  }

  /// (Re)writes one table's Parquet file with plain DuckDB.
  void WriteParquet(const std::string& source, const TableSpec& t) {
    auto database = db::Database::Open(":memory:");
    ASSERT_OK(database);
    auto conn = database->Connect();
    ASSERT_OK(conn);
    auto path = QuoteLiteral(ParquetPath(source, t.name).string());
    ASSERT_OK(path);
    Exec(*conn, "COPY (" + t.select_sql + ") TO " + *path + " (FORMAT parquet)");
  }

  static void Exec(db::Connection& conn, const std::string& sql,
                   const std::vector<db::Value>& params = {}) {
    Status st = params.empty() ? conn.Execute(sql) : conn.Execute(sql, params);
    ASSERT_OK(st) << sql << ": " << st.ToString();
  }

  static int64_t ScalarInt(AnalyticsReader& reader, const std::string& sql) {
    auto r = reader.conn().Query(sql);
    EXPECT_OK(r) << sql << ": " << r.status().ToString();
    if (!r.ok() || r->RowCount() != 1) return -1;
    return r->GetInt64(0, 0);
  }

  static const SourceReport* Find(const RebuildReport& report, const std::string& source) {
    for (const auto& s : report.sources) {
      if (s.source == source) return &s;
    }
    return nullptr;
  }

  static bool HasSkip(const SourceReport& s, const std::string& prefix) {
    for (const auto& k : s.skipped) {
      if (k.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  Orchestrator Make() { return Orchestrator(extracts_, analytics_, RemoteAttachPolicy{}); }

  testing::TempDir dir_{"orch_test_"};
  fs::path root_, extracts_;
  fs::path analytics_;
};

TEST_F(OrchestratorTest, PublishesViewsReadableThroughReader) {
  std::string weather = (kDatasets / "seattle-weather.csv").string();
  MakeExtract("alpha", {{"orders", "SELECT range AS id, range * 10 AS amount FROM range(100)"},
                        {"weather", "SELECT * FROM read_csv('" + weather + "')"}});
  MakeExtract("beta", {{"customers", "SELECT range AS id, 'c' || range AS name FROM range(7)"}});

  Orchestrator orch = Make();
  auto report = orch.Rebuild();
  ASSERT_OK(report);
  ASSERT_EQ(report->sources.size(), 2u);
  EXPECT_EQ(report->sources[0].source, "alpha");
  EXPECT_EQ(report->sources[0].views, (std::vector<std::string>{"orders", "weather"}));
  EXPECT_TRUE(report->sources[0].skipped.empty());
  EXPECT_EQ(report->sources[1].views, (std::vector<std::string>{"customers"}));
  EXPECT_TRUE(fs::exists(analytics_));
  EXPECT_FALSE(fs::exists(analytics_.string() + ".tmp"));

  auto json = report->ToJson();
  EXPECT_EQ(json["view_count"], 3);
  EXPECT_EQ(json["sources"][1]["source"], "beta");
  EXPECT_TRUE(json["sources"][1]["error"].is_null());

  EXPECT_EQ(orch.PublishedViews(),
            (std::map<std::string, std::string>{
                {"customers", "beta"}, {"orders", "alpha"}, {"weather", "alpha"}}));

  auto reader = orch.OpenReader();
  ASSERT_OK(reader);
  EXPECT_FALSE(reader->is_empty());
  EXPECT_EQ(reader->attached_sources(), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM orders"), 100);
  EXPECT_EQ(ScalarInt(*reader, "SELECT sum(amount) FROM orders"), 49500);
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM weather"), 1461);
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM weather WHERE weather = 'sun'"), 640);
  auto r = reader->conn().Query("SELECT name FROM customers WHERE id = 3");
  ASSERT_OK(r);
  ASSERT_EQ(r->RowCount(), 1u);
  EXPECT_EQ(r->GetString(0, 0), "c3");
  // Exactly the published views live in the analytics DB's main schema.
  EXPECT_EQ(ScalarInt(*reader,
                      "SELECT count(*) FROM duckdb_views() WHERE database_name = 'server' "
                      "AND schema_name = 'main' AND NOT internal"),
            3);
}

TEST_F(OrchestratorTest, FirstSourceAlphabeticallyKeepsACollidingName) {
  // Created in reverse order so directory order cannot be what decides.
  MakeExtract("zeta", {{"shared", "SELECT 2 AS v"}, {"zonly", "SELECT 1 AS v"}});
  MakeExtract("alpha", {{"shared", "SELECT 1 AS v FROM range(5)"}});
  MakeExtract("mid", {{"SHARED", "SELECT 3 AS v"}});  // DuckDB names are case-insensitive

  Orchestrator orch = Make();
  auto report = orch.Rebuild();
  ASSERT_OK(report);
  const SourceReport* alpha = Find(*report, "alpha");
  const SourceReport* mid = Find(*report, "mid");
  const SourceReport* zeta = Find(*report, "zeta");
  ASSERT_TRUE(alpha && mid && zeta);
  EXPECT_EQ(alpha->views, std::vector<std::string>{"shared"});
  EXPECT_TRUE(mid->views.empty());
  EXPECT_EQ(mid->skipped,
            std::vector<std::string>{"SHARED: view name already published by source 'alpha'"});
  EXPECT_EQ(zeta->views, std::vector<std::string>{"zonly"});
  EXPECT_EQ(zeta->skipped,
            std::vector<std::string>{"shared: view name already published by source 'alpha'"});
  EXPECT_EQ(orch.PublishedViews().at("shared"), "alpha");

  auto reader = orch.OpenReader();
  ASSERT_OK(reader);
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM shared"), 5);
  EXPECT_EQ(ScalarInt(*reader, "SELECT max(v) FROM shared"), 1);
  EXPECT_EQ(ScalarInt(*reader, "SELECT max(v) FROM zonly"), 1);
}

TEST_F(OrchestratorTest, BrokenSourcesAndRowsAreSkippedWithoutAffectingOthers) {
  MakeExtract("good", {{"t1", "SELECT range AS x FROM range(3)"}, {"y", "SELECT 42 AS answer"}},
              {"x; DROP TABLE y", "ghost"});
  MakeExtract("bad-name", {{"from_bad", "SELECT 1 AS v"}});
  MakeExtract("zz_after", {{"t2", "SELECT range AS x FROM range(4)"}});

  // Random bytes.
  fs::create_directories(extracts_ / "corrupt");
  {
    std::ofstream out(extracts_ / "corrupt" / "extract.duckdb", std::ios::binary);
    std::string bytes = RandomHex(8192);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  // 0 bytes.
  fs::create_directories(extracts_ / "empty");
  { std::ofstream out(extracts_ / "empty" / "extract.duckdb", std::ios::binary); }
  // A valid extract cut in half, as a crash mid-copy would leave it.
  MakeExtract("half", {{"half_t", "SELECT range AS x FROM range(1000)"}});
  {
    fs::path p = extracts_ / "half" / "extract.duckdb";
    auto size = fs::file_size(p);
    fs::resize_file(p, size / 2);
  }
  // A DuckDB file without _meta.
  fs::create_directories(extracts_ / "nometa");
  {
    auto database = db::Database::Open((extracts_ / "nometa" / "extract.duckdb").string());
    ASSERT_OK(database);
    auto conn = database->Connect();
    ASSERT_OK(conn);
    Exec(*conn, "CREATE TABLE lonely AS SELECT 1 AS v");
  }
  // A directory without extract.duckdb is not a source at all.
  fs::create_directories(extracts_ / "not_yet" / "data");

  Orchestrator orch = Make();
  auto report = orch.Rebuild();
  ASSERT_OK(report);

  std::vector<std::string> names;
  for (const auto& s : report->sources) names.push_back(s.source);
  EXPECT_EQ(names, (std::vector<std::string>{"bad-name", "corrupt", "empty", "good", "half",
                                             "nometa", "zz_after"}));

  const SourceReport* good = Find(*report, "good");
  ASSERT_NE(good, nullptr);
  EXPECT_TRUE(good->error.empty()) << good->error;
  EXPECT_EQ(good->views, (std::vector<std::string>{"t1", "y"}));
  EXPECT_EQ(good->skipped.size(), 2u);
  EXPECT_TRUE(HasSkip(*good, "x; DROP TABLE y: not a strict identifier"));
  EXPECT_TRUE(HasSkip(*good, "ghost: no view or table"));
  EXPECT_EQ(Find(*report, "zz_after")->views, std::vector<std::string>{"t2"});

  for (const char* broken : {"bad-name", "corrupt", "empty", "half", "nometa"}) {
    const SourceReport* s = Find(*report, broken);
    ASSERT_NE(s, nullptr) << broken;
    EXPECT_FALSE(s->error.empty()) << broken;
    EXPECT_TRUE(s->views.empty()) << broken;
  }
  EXPECT_NE(Find(*report, "nometa")->error.find("_meta"), std::string::npos);
  EXPECT_NE(Find(*report, "bad-name")->error.find("not a strict identifier"), std::string::npos);

  EXPECT_EQ(orch.PublishedViews(), (std::map<std::string, std::string>{
                                       {"t1", "good"}, {"t2", "zz_after"}, {"y", "good"}}));

  auto reader = orch.OpenReader();
  ASSERT_OK(reader);
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM t1"), 3);
  EXPECT_EQ(ScalarInt(*reader, "SELECT answer FROM y"), 42);
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM t2"), 4);
  EXPECT_FALSE(reader->conn().Query("SELECT * FROM from_bad").ok());
  EXPECT_FALSE(reader->conn().Query("SELECT * FROM half_t").ok());
}

TEST_F(OrchestratorTest, ReservedSourceNamesAreRefused) {
  MakeExtract("server", {{"s1", "SELECT 1 AS v"}});
  MakeExtract("ok_src", {{"s2", "SELECT 2 AS v"}});
  Orchestrator orch = Make();
  auto report = orch.Rebuild();
  ASSERT_OK(report);
  EXPECT_NE(Find(*report, "server")->error.find("reserved"), std::string::npos);
  auto reader = orch.OpenReader();
  ASSERT_OK(reader);
  EXPECT_EQ(ScalarInt(*reader, "SELECT v FROM s2"), 2);
}

TEST_F(OrchestratorTest, ReaderIsSandboxedToTheExtractsDir) {
  MakeExtract("alpha", {{"orders", "SELECT range AS id FROM range(10)"}});
  // A hostile inner view reading a file outside extracts/ is refused at rebuild.
  fs::create_directories(root_ / "outside");
  ASSERT_OK(WriteFileAtomic(root_ / "outside" / "secret.csv", "k\nsecret\n"));
  {
    auto database = db::Database::Open((extracts_ / "alpha" / "extract.duckdb").string());
    ASSERT_OK(database);
    auto conn = database->Connect();
    ASSERT_OK(conn);
    auto lit = QuoteLiteral((root_ / "outside" / "secret.csv").string());
    ASSERT_OK(lit);
    Exec(*conn, "CREATE VIEW leak AS SELECT * FROM read_csv(" + *lit + ")");
    Exec(*conn, "INSERT INTO _meta (table_name) VALUES ('leak')");
  }

  Orchestrator orch = Make();
  auto report = orch.Rebuild();
  ASSERT_OK(report);
  EXPECT_EQ(report->sources[0].views, std::vector<std::string>{"orders"});
  EXPECT_TRUE(HasSkip(report->sources[0], "leak: cannot create view"));

  auto reader = orch.OpenReader();
  ASSERT_OK(reader);
  auto& conn = reader->conn();
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM orders"), 10);
  // Parquet under extracts/ stays readable directly too.
  auto parquet = QuoteLiteral(ParquetPath("alpha", "orders").string());
  ASSERT_OK(parquet);
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM read_parquet(" + *parquet + ")"), 10);

  auto passwd = conn.Query("SELECT * FROM read_csv('/etc/passwd')");
  ASSERT_FALSE(passwd.ok());
  EXPECT_NE(passwd.status().message().find("Permission"), std::string::npos)
      << passwd.status().message();
  auto secret_lit = QuoteLiteral((root_ / "outside" / "secret.csv").string());
  ASSERT_OK(secret_lit);
  EXPECT_FALSE(conn.Query("SELECT * FROM read_csv(" + *secret_lit + ")").ok());
  auto dotdot =
      QuoteLiteral((extracts_ / "alpha" / ".." / ".." / "outside" / "secret.csv").string());
  ASSERT_OK(dotdot);
  EXPECT_FALSE(conn.Query("SELECT * FROM read_csv(" + *dotdot + ")").ok());
  auto out_lit = QuoteLiteral((root_ / "outside" / "written.csv").string());
  ASSERT_OK(out_lit);
  EXPECT_FALSE(conn.Execute("COPY (SELECT 1) TO " + *out_lit).ok());
  EXPECT_FALSE(fs::exists(root_ / "outside" / "written.csv"));
  EXPECT_FALSE(conn.Execute("SET enable_external_access = true").ok());
  EXPECT_FALSE(conn.Execute("SET allowed_directories = ['/']").ok());
  EXPECT_FALSE(conn.Execute("LOAD httpfs").ok());
  EXPECT_FALSE(conn.Query("SELECT * FROM read_csv('https://example.com/x.csv')").ok());
  EXPECT_FALSE(conn.Execute("ATTACH " + *out_lit + " AS x").ok());
  // Read-only: the analytics DB itself cannot be changed.
  EXPECT_FALSE(conn.Execute("DROP VIEW orders").ok());
  EXPECT_EQ(ScalarInt(*reader, "SELECT count(*) FROM orders"), 10);
}

TEST_F(OrchestratorTest, ReadersSpillToTheirOwnTempDirAndCleanUp) {
  MakeExtract("alpha", {{"orders", "SELECT range AS id FROM range(10)"}});
  Orchestrator orch = Make();
  ASSERT_OK(orch.Rebuild());
  auto entries = [&] {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(analytics_.parent_path())) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  {
    auto reader = orch.OpenReader();
    ASSERT_OK(reader);
    ASSERT_OK(reader->conn().Execute("SET memory_limit = '32MB'"));
    ASSERT_OK(reader->conn().Execute("SET threads = 1"));
    auto r = reader->conn().Query(
        "SELECT count(*) FROM (SELECT range AS x, md5(range::VARCHAR) AS h FROM range(2000000) "
        "ORDER BY h)");
    ASSERT_OK(r);
    EXPECT_EQ(r->GetInt64(0, 0), 2000000);
    // The sort spilled into this reader's own directory, never "server.duckdb.tmp" (the
    // rebuild's file, DuckDB's default spill path for server.duckdb).
    auto now = entries();
    ASSERT_EQ(now.size(), 2u);
    EXPECT_EQ(now[0].rfind(".server.duckdb.reader_", 0), 0u) << now[0];
    EXPECT_EQ(now[1], "server.duckdb");
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"server.duckdb"});
}

TEST_F(OrchestratorTest, EmptyInMemoryReaderBeforeFirstRebuild) {
  Orchestrator orch = Make();
  auto reader = orch.OpenReader();
  ASSERT_OK(reader);
  EXPECT_TRUE(reader->is_empty());
  EXPECT_EQ(ScalarInt(*reader, "SELECT 1"), 1);
  EXPECT_FALSE(reader->conn().Query("SELECT * FROM read_csv('/etc/passwd')").ok());
  EXPECT_FALSE(fs::exists(analytics_));
  EXPECT_TRUE(orch.PublishedViews().empty());
}

TEST_F(OrchestratorTest, MissingExtractsDirLeavesAnalyticsUntouched) {
  fs::remove_all(extracts_);
  Orchestrator orch = Make();
  auto report = orch.Rebuild();
  ASSERT_OK(report);
  EXPECT_TRUE(report->sources.empty());
  EXPECT_FALSE(fs::exists(analytics_));
}

TEST_F(OrchestratorTest, RebuildWhileReadersQuery) {
  MakeExtract("alpha", {{"orders", "SELECT range AS id FROM range(1000)"}});
  Orchestrator orch = Make();
  ASSERT_OK(orch.Rebuild());
  auto old_reader = orch.OpenReader();
  ASSERT_OK(old_reader);
  EXPECT_EQ(ScalarInt(*old_reader, "SELECT count(*) FROM orders"), 1000);

  MakeExtract("beta", {{"extra", "SELECT range AS id FROM range(5)"}});

  std::atomic<bool> stop{false};
  std::atomic<int> old_ok{0}, old_fail{0}, new_ok{0}, new_fail{0};
  // Keeps querying the reader opened before the rebuilds.
  std::thread querier([&] {
    while (!stop) {
      auto r = old_reader->conn().Query("SELECT count(*) FROM orders");
      (r.ok() && r->GetInt64(0, 0) == 1000) ? ++old_ok : ++old_fail;
    }
  });
  // Opens fresh readers while the file is swapped under it.
  std::thread opener([&] {
    while (!stop) {
      auto reader = orch.OpenReader();
      if (!reader.ok()) {
        ++new_fail;
        continue;
      }
      auto r = reader->conn().Query("SELECT count(*) FROM orders");
      (r.ok() && r->GetInt64(0, 0) == 1000) ? ++new_ok : ++new_fail;
    }
  });
  for (int i = 0; i < 5; ++i) {
    auto report = orch.Rebuild();
    ASSERT_OK(report);
    EXPECT_EQ(report->sources.size(), 2u);
  }
  stop = true;
  querier.join();
  opener.join();
  EXPECT_GT(old_ok.load(), 0);
  EXPECT_EQ(old_fail.load(), 0);
  EXPECT_GT(new_ok.load(), 0);
  EXPECT_EQ(new_fail.load(), 0);

  // The old reader still holds the old file: no `extra` there, but its rows keep coming.
  EXPECT_EQ(ScalarInt(*old_reader, "SELECT count(*) FROM orders"), 1000);
  EXPECT_FALSE(old_reader->conn().Query("SELECT * FROM extra").ok());
  auto fresh = orch.OpenReader();
  ASSERT_OK(fresh);
  EXPECT_EQ(ScalarInt(*fresh, "SELECT count(*) FROM extra"), 5);
  EXPECT_FALSE(fs::exists(analytics_.string() + ".tmp"));
}

TEST_F(OrchestratorTest, RebuildSourceShowsNewDataAndReportsOnlyThatSource) {
  MakeExtract("alpha", {{"orders", "SELECT range AS id FROM range(10)"}});
  MakeExtract("beta", {{"other", "SELECT 1 AS v"}});
  Orchestrator orch = Make();
  ASSERT_OK(orch.Rebuild());
  auto before = orch.OpenReader();
  ASSERT_OK(before);
  EXPECT_EQ(ScalarInt(*before, "SELECT count(*) FROM orders"), 10);

  // The connector rewrites the Parquet and adds a table to the same extract.
  MakeExtract("alpha", {{"orders", "SELECT range AS id FROM range(25)"},
                        {"returns", "SELECT range AS id FROM range(3)"}});
  auto report = orch.RebuildSource("alpha");
  ASSERT_OK(report);
  ASSERT_EQ(report->sources.size(), 1u);
  EXPECT_EQ(report->sources[0].source, "alpha");
  EXPECT_EQ(report->sources[0].views, (std::vector<std::string>{"orders", "returns"}));
  // Other sources stay published (full rebuild).
  EXPECT_EQ(orch.PublishedViews().at("other"), "beta");

  auto after = orch.OpenReader();
  ASSERT_OK(after);
  EXPECT_EQ(ScalarInt(*after, "SELECT count(*) FROM orders"), 25);
  EXPECT_EQ(ScalarInt(*after, "SELECT count(*) FROM returns"), 3);
  EXPECT_EQ(ScalarInt(*after, "SELECT v FROM other"), 1);

  auto unknown = orch.RebuildSource("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  auto invalid = orch.RebuildSource("../alpha");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OrchestratorTest, RemoteAttachRowsAreValidatedAndNotAttached) {
  MakeExtract("kbc_src", {{"local_t", "SELECT 1 AS v"}});
  {
    auto database = db::Database::Open((extracts_ / "kbc_src" / "extract.duckdb").string());
    ASSERT_OK(database);
    auto conn = database->Connect();
    ASSERT_OK(conn);
    Exec(*conn,
         "CREATE TABLE _remote_attach(alias VARCHAR, extension VARCHAR, url VARCHAR, "
         "token_env VARCHAR)");
    Exec(*conn,
         "INSERT INTO _remote_attach VALUES "
         "('kbc', 'keboola', 'https://connection.keboola.com', 'KEBOOLA_STORAGE_TOKEN'), "
         "('evil', 'httpfs', 'x', ''), ('kbc2', 'keboola', 'u', 'PATH')");
  }
  Orchestrator orch = Make();
  auto report = orch.Rebuild();
  ASSERT_OK(report);
  const SourceReport& s = report->sources[0];
  EXPECT_EQ(s.views, std::vector<std::string>{"local_t"});
  ASSERT_EQ(s.skipped.size(), 3u);
  EXPECT_TRUE(HasSkip(s, "_remote_attach.kbc: remote sources arrive in a later issue"));
  EXPECT_TRUE(HasSkip(s, "_remote_attach.evil: refused: _remote_attach extension 'httpfs'"));
  EXPECT_TRUE(HasSkip(s, "_remote_attach.kbc2: refused: _remote_attach token_env 'PATH'"));
  auto reader = orch.OpenReader();
  ASSERT_OK(reader);
  EXPECT_EQ(
      ScalarInt(*reader, "SELECT count(*) FROM duckdb_databases() WHERE database_name = 'kbc'"), 0);
}

TEST(RemoteAttachPolicyTest, ValidatesEachField) {
  RemoteAttachPolicy policy;
  EXPECT_OK(ValidateRemoteAttach({"kbc", "keboola", "https://x", "KBC_TOKEN"}, policy));
  EXPECT_OK(ValidateRemoteAttach({"bq", "bigquery", "project=p", ""}, policy));
  EXPECT_EQ(ValidateRemoteAttach({"k b", "keboola", "u", ""}, policy).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(ValidateRemoteAttach({"kbc", "keboola;", "u", ""}, policy).ok());
  EXPECT_FALSE(ValidateRemoteAttach({"kbc", "postgres", "u", ""}, policy).ok());
  EXPECT_FALSE(ValidateRemoteAttach({"kbc", "keboola", "u", "kbc_token"}, policy).ok());
  EXPECT_FALSE(ValidateRemoteAttach({"kbc", "keboola", "u", "HOME"}, policy).ok());
  EXPECT_FALSE(ValidateRemoteAttach({"kbc", "keboola", "u\n", ""}, policy).ok());
  policy.extensions = {"postgres"};
  EXPECT_OK(ValidateRemoteAttach({"pg", "postgres", "u", ""}, policy));
  EXPECT_FALSE(ValidateRemoteAttach({"kbc", "keboola", "u", ""}, policy).ok());
}

}  // namespace
}  // namespace da::orchestrator
