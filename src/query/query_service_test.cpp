#include "query/query_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "common/identifiers.h"
#include "state/state_db.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::query {
namespace {
namespace fs = std::filesystem;

const fs::path kDatasets = DA_DATASETS_DIR;

void Exec(db::Connection& conn, const std::string& sql) {
  Status st = conn.Execute(sql);
  ASSERT_OK(st) << sql << ": " << st.ToString();
}

std::string Lit(const fs::path& p) { return QuoteLiteral(p.string()).value(); }

/// A data dir with extracts/files/extract.duckdb (flights: 200k rows of flights-3m, airports,
/// typed: one row of assorted types, secret: published but not registered), a rebuilt
/// analytics DB and a registry holding flights, airports and typed.
class QueryServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new da::testing::TempDir("query-test-");
    fs::path dir = root_->path() / "extracts" / "files";
    fs::create_directories(dir / "data");
    auto database = db::Database::Open((dir / "extract.duckdb").string());
    ASSERT_OK(database);
    auto conn = database->Connect();
    ASSERT_OK(conn);
    Exec(*conn,
         "CREATE TABLE _meta(table_name VARCHAR NOT NULL, description VARCHAR, rows BIGINT, "
         "size_bytes BIGINT, extracted_at TIMESTAMP, query_mode VARCHAR DEFAULT 'local', "
         "schema_json VARCHAR)");
    const std::vector<std::pair<std::string, std::string>> tables = {
        {"flights", "SELECT * FROM read_parquet(" + Lit(kDatasets / "flights-3m.parquet") +
                        ") LIMIT 200000"},
        {"airports", "SELECT * FROM read_csv(" + Lit(kDatasets / "airports.csv") + ")"},
        {"typed", "SELECT 1.5::DECIMAL(6,2) AS dec, [1, 2] AS l"},
        {"secret", "SELECT 42 AS answer"}};
    for (const auto& [name, select] : tables) {
      fs::path parquet = dir / "data" / (name + ".parquet");
      Exec(*conn, "COPY (" + select + ") TO " + Lit(parquet) + " (FORMAT parquet)");
      Exec(*conn, "CREATE VIEW " + QuoteIdent(name) + " AS SELECT * FROM read_parquet(" +
                      Lit(parquet) + ")");
      Exec(*conn, "INSERT INTO _meta (table_name, extracted_at) VALUES ('" + name + "', now())");
    }
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }

  void SetUp() override {
    orchestrator_ = std::make_unique<orchestrator::Orchestrator>(
        root_->path() / "extracts", root_->path() / "analytics" / "server.duckdb");
    auto report = orchestrator_->Rebuild();
    ASSERT_OK(report);
    ASSERT_EQ(orchestrator_->PublishedViews().size(), 4u) << report->ToJson().dump();
    auto state = state::StateDb::Open(state_dir_.path() / "system.duckdb");
    ASSERT_OK(state);
    state_ = std::move(state).value();
    registry_ = std::make_unique<state::Registry>(*state_, [](const std::string&) { return true; });
    for (const char* name : {"flights", "airports", "typed"}) {
      model::TableSpec spec;
      spec.name = name;
      spec.source_type = "files";
      spec.source_table = "/x.csv";
      auto r = registry_->Register(spec, "test");
      ASSERT_OK(r);
    }
    service_ = std::make_unique<QueryService>(*orchestrator_, *registry_, access_,
                                              QueryServiceOptions{});
  }

  Result<QueryOutput> Run(const std::string& sql, int64_t limit = kDefaultRowLimit,
                          const state::Principal* who = nullptr) {
    return service_->Run(who ? *who : admin_, {sql, limit});
  }

  /// Ground truth: the same SQL on a plain in-memory DuckDB, first column as text.
  static std::vector<std::string> Direct(const std::string& sql) {
    auto database = db::Database::Open(":memory:");
    auto conn = database->Connect();
    auto r = conn->Query(sql);
    EXPECT_OK(r);
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (size_t i = 0; i < r->RowCount(); ++i) out.push_back(r->GetString(0, i));
    return out;
  }

  static inline da::testing::TempDir* root_ = nullptr;
  da::testing::TempDir state_dir_{"query-state-"};
  std::unique_ptr<orchestrator::Orchestrator> orchestrator_;
  std::unique_ptr<state::StateDb> state_;
  std::unique_ptr<state::Registry> registry_;
  auth::AccessPolicy access_;
  std::unique_ptr<QueryService> service_;
  state::Principal admin_{"u1", "admin@example.com", true, "t1", "", ""};
  state::Principal analyst_{"u2", "analyst@example.com", false, "t2", "", ""};
};

TEST_F(QueryServiceTest, AggregateMatchesDuckDbOnTheSourceFile) {
  auto out = Run("SELECT origin, count(*) AS n, sum(delay) AS d FROM flights GROUP BY 1 "
                 "ORDER BY n DESC, origin LIMIT 5");
  ASSERT_OK(out);
  auto j = out->ToJson();
  EXPECT_EQ(j["columns"], nlohmann::json({"origin", "n", "d"}));
  EXPECT_EQ(j["types"], nlohmann::json({"VARCHAR", "BIGINT", "HUGEINT"}));
  EXPECT_EQ(j["row_count"], 5);
  EXPECT_EQ(j["truncated"], false);
  auto truth = Direct("SELECT origin || ',' || count(*) || ',' || sum(delay) FROM (SELECT * FROM "
                      "read_parquet(" + Lit(kDatasets / "flights-3m.parquet") +
                      ") LIMIT 200000) GROUP BY origin ORDER BY count(*) DESC, origin LIMIT 5");
  ASSERT_EQ(truth.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const auto& row = j["rows"][i];
    EXPECT_TRUE(row[1].is_number_integer());
    EXPECT_TRUE(row[2].is_number_integer());
    EXPECT_EQ(row[0].get<std::string>() + "," + std::to_string(row[1].get<int64_t>()) + "," +
                  std::to_string(row[2].get<int64_t>()),
              truth[i]);
  }
  EXPECT_EQ(out->plan().views, std::vector<std::string>{"flights"});
}

TEST_F(QueryServiceTest, LimitTruncatesAndKeepsOrder) {
  auto out = Run("SELECT delay FROM flights ORDER BY delay DESC, distance", 3);
  ASSERT_OK(out);
  EXPECT_EQ(out->row_count(), 3);
  EXPECT_TRUE(out->truncated());
  EXPECT_EQ(out->result().RowCount(), 4u);  // limit + 1 fetched, not 200k
  auto truth = Direct("SELECT delay FROM (SELECT * FROM read_parquet(" +
                      Lit(kDatasets / "flights-3m.parquet") +
                      ") LIMIT 200000) ORDER BY delay DESC, distance LIMIT 3");
  auto rows = out->ToJson()["rows"];
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(std::to_string(rows[i][0].get<int64_t>()), truth[i]);

  auto exact = Run("SELECT * FROM airports LIMIT 7", 7);
  ASSERT_OK(exact);
  EXPECT_EQ(exact->row_count(), 7);
  EXPECT_FALSE(exact->truncated());

  EXPECT_EQ(Run("SELECT 1", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Run("SELECT 1", kMaxRowLimit + 1).status().code(), StatusCode::kInvalidArgument);
  auto max = Run("SELECT * FROM flights", kMaxRowLimit);
  ASSERT_OK(max);
  EXPECT_EQ(max->row_count(), kMaxRowLimit);
  EXPECT_TRUE(max->truncated());
}

TEST_F(QueryServiceTest, WrapKeepsTheStatementAndFallsBackWhenItCannot) {
  // Trailing semicolons and comments.
  for (const char* sql : {"SELECT 1 AS x;", "SELECT 1 AS x; -- done", "SELECT 1 AS x -- c",
                          "SELECT ';' AS x", "SELECT 1 AS x /* ; */ ;"}) {
    auto out = Run(sql);
    ASSERT_OK(out) << sql << ": " << out.status().ToString();
    EXPECT_EQ(out->row_count(), 1) << sql;
    EXPECT_EQ(out->result().ColumnName(0), "x") << sql;
  }
  auto semi = Run("SELECT ';' AS x");
  ASSERT_OK(semi);
  EXPECT_EQ(semi->ToJson()["rows"][0][0], ";");

  // Duplicate names survive; the plan embeds the statement unchanged.
  auto dup = Run("SELECT 1 AS a, 2 AS a, 'x' AS \"we\"\"ird\"");
  ASSERT_OK(dup);
  EXPECT_EQ(dup->ToJson()["columns"], nlohmann::json({"a", "a", "we\"ird"}));

  auto database = db::Database::Open(":memory:");
  auto conn = database->Connect();
  auto statement = [&](const std::string& sql) { return SerializeSql(*conn, sql).value()[0]; };
  std::string sql = "WITH a AS (SELECT 1 AS x, [1] AS l) SELECT * FROM a ORDER BY x LIMIT 5; -- ;";
  auto plan = PlanExecution(*conn, sql, statement(sql), 11);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->sql,
            "SELECT #1 AS \"x\", #2 AS \"l\", CAST(#2 AS VARCHAR) FROM (\nWITH a AS (SELECT 1 AS "
            "x, [1] AS l) SELECT * FROM a ORDER BY x LIMIT 5\n) AS da_query LIMIT 11");
  EXPECT_EQ(plan->columns, (std::vector<std::string>{"x", "l"}));
  EXPECT_EQ(plan->types, (std::vector<std::string>{"INTEGER", "INTEGER[]"}));
  EXPECT_EQ(plan->text_columns, (std::vector<size_t>{0, 2}));  // the list's CSV text: a copy
  // Text that does not embed as the same AST is refused, never run differently.
  auto other = PlanExecution(*conn, "SELECT 1 AS x", statement("SELECT 2 AS x"), 5);
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
}

// Values follow db::CellToJson (docs/api.md, "JSON encoding of values"); lists and structs are
// JSON arrays and objects, NaN/±inf null; CSV keeps DuckDB's text.
TEST_F(QueryServiceTest, ValuesBecomeJsonScalarsOrText) {
  auto out = Run("SELECT 9223372036854775807::HUGEINT * 4 AS big, 42::HUGEINT AS small, "
                 "12.50::DECIMAL(6,2) AS dec, DATE '2024-02-29' AS d, [1, 2] AS l, {'a': 1} AS s, "
                 "NULL::INT AS n, true AS b, 'x,\"y\"' AS t, 'inf'::DOUBLE AS inf, "
                 "'00000000-0000-0000-0000-000000000001'::UUID AS u, 'ab'::BLOB AS bl");
  ASSERT_OK(out);
  auto j = out->ToJson();
  EXPECT_EQ(j["columns"],
            nlohmann::json({"big", "small", "dec", "d", "l", "s", "n", "b", "t", "inf", "u", "bl"}));
  EXPECT_EQ(j["types"], nlohmann::json({"HUGEINT", "HUGEINT", "DECIMAL(6,2)", "DATE", "INTEGER[]",
                                        "STRUCT(a INTEGER)", "INTEGER", "BOOLEAN", "VARCHAR",
                                        "DOUBLE", "UUID", "BLOB"}));
  const auto& row = j["rows"][0];
  EXPECT_EQ(row[0], "36893488147419103228");  // beyond uint64: text
  EXPECT_EQ(row[1], 42);
  EXPECT_EQ(row[2], 12.5);
  EXPECT_EQ(row[3], "2024-02-29");
  EXPECT_EQ(row[4], nlohmann::json::array({1, 2}));
  EXPECT_EQ(row[5], nlohmann::json({{"a", 1}}));
  EXPECT_TRUE(row[6].is_null());
  EXPECT_EQ(row[7], true);
  EXPECT_EQ(row[8], "x,\"y\"");
  EXPECT_TRUE(row[9].is_null());  // JSON has no Infinity
  EXPECT_EQ(row[10], "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(row[11], "ab");
  EXPECT_EQ(out->ToCsv(),
            "big,small,dec,d,l,s,n,b,t,inf,u,bl\r\n"
            "36893488147419103228,42,12.50,2024-02-29,\"[1, 2]\",{'a': 1},,true,\"x,\"\"y\"\"\",inf,"
            "00000000-0000-0000-0000-000000000001,ab\r\n");
  // UUIDs first in the row crash DuckDB's deprecated value accessors; cast, they do not.
  auto uuids = Run("SELECT uuid() AS u, 1 AS x FROM airports LIMIT 3");
  ASSERT_OK(uuids);
  EXPECT_EQ(uuids->ToJson()["rows"][2][1], 1);
  EXPECT_EQ(uuids->ToJson()["rows"][2][0].get<std::string>().size(), 36u);
}

TEST_F(QueryServiceTest, CheckAccessUsesTheRegistryAndThePolicy) {
  QueryPlan plan;
  plan.views = {"flights"};
  EXPECT_OK(service_->CheckAccess(admin_, plan));
  Status st = service_->CheckAccess(analyst_, plan);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("'flights'"), std::string::npos);
  // A published view without a registry row: admins only.
  plan.views = {"secret"};
  EXPECT_OK(service_->CheckAccess(admin_, plan));
  EXPECT_EQ(service_->CheckAccess(analyst_, plan).code(), StatusCode::kPermissionDenied);
  // Nothing published read: anyone.
  plan.views = {};
  EXPECT_OK(service_->CheckAccess(analyst_, plan));

  // Through Run: the analyst gets the same answer for a hidden view, a CTE around it, a
  // differently cased or quoted name and a name that does not exist.
  for (const char* sql :
       {"SELECT * FROM flights", "WITH x AS (SELECT * FROM FLIGHTS) SELECT * FROM x",
        "SELECT * FROM \"Flights\"", "SELECT * FROM server.main.flights",
        "SELECT (SELECT count(*) FROM flights)"}) {
    auto r = Run(sql, 10, &analyst_);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << sql;
    EXPECT_EQ(r.status().message(), "table 'flights' is not a published view you may query")
        << sql;
  }
  auto missing = Run("SELECT * FROM nosuch", 10, &analyst_);
  EXPECT_EQ(missing.status().message(), "table 'nosuch' is not a published view you may query");
  auto mine = Run("WITH flights AS (SELECT 1 AS x) SELECT * FROM flights", 10, &analyst_);
  EXPECT_OK(mine);
  EXPECT_OK(Run("SELECT * FROM secret", 10));
}

// A repeated SQL text reuses its analysis on the same reader, but access is decided per caller
// every time, and a different limit is a different plan.
TEST_F(QueryServiceTest, RepeatedQueriesReusePlansButCheckAccessEachTime) {
  const std::string sql = "SELECT origin, count(*) AS n FROM flights GROUP BY 1 ORDER BY 2 DESC, 1";
  auto first = Run(sql, 3);
  ASSERT_OK(first);
  auto again = Run(sql, 3);
  ASSERT_OK(again);
  EXPECT_EQ(again->ToJson()["rows"], first->ToJson()["rows"]);
  EXPECT_EQ(again->ToJson()["types"], first->ToJson()["types"]);
  EXPECT_TRUE(again->ToJson()["truncated"].get<bool>());
  auto denied = Run(sql, 3, &analyst_);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  auto wider = Run(sql, 100000);
  ASSERT_OK(wider);
  EXPECT_GT(wider->row_count(), 3);
  EXPECT_FALSE(wider->ToJson()["truncated"].get<bool>());
  // Refusals are never cached: the same hostile text is refused twice.
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(Run("SELECT * FROM read_csv('/etc/passwd')").ok());
  }
}

TEST_F(QueryServiceTest, TimeLimitInterruptsASlowQuery) {
  QueryServiceOptions options;
  options.timeout = std::chrono::milliseconds(300);
  QueryService quick(*orchestrator_, *registry_, access_, options);
  auto started = std::chrono::steady_clock::now();
  auto out = quick.Run(admin_, {"SELECT count(*) FROM flights a, flights b WHERE a.delay + "
                                "b.delay = 7 AND a.distance <> b.distance", 10});
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDeadlineExceeded) << out.status().ToString();
  EXPECT_NE(out.status().message().find("time limit"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  // A fast query under the same limit runs.
  EXPECT_OK(quick.Run(admin_, {"SELECT count(*) FROM airports", 10}));
}

// What agents and analysts ask first: DESCRIBE, SUMMARIZE and EXPLAIN over a view they may see
// answer in a SELECT's JSON shape; over a view they may not see they get a SELECT's refusal.
TEST_F(QueryServiceTest, DescribeSummarizeAndExplainRunOverVisibleViewsOnly) {
  auto described = Run("DESCRIBE airports");
  ASSERT_OK(described);
  auto d = described->ToJson();
  EXPECT_EQ(d["columns"][0], "column_name");
  EXPECT_EQ(d["columns"][1], "column_type");
  EXPECT_EQ(d["row_count"], 7);
  EXPECT_EQ(d["rows"][0][0], "iata");
  EXPECT_EQ(described->plan().views, std::vector<std::string>{"airports"});

  auto summary = Run("SUMMARIZE airports");
  ASSERT_OK(summary);
  auto sj = summary->ToJson();
  EXPECT_EQ(sj["row_count"], 7);
  EXPECT_NE(std::find(sj["columns"].begin(), sj["columns"].end(), "approx_unique"),
            sj["columns"].end());

  for (const char* sql : {"EXPLAIN SELECT count(*) FROM flights",
                          "explain analyze SELECT origin, count(*) FROM flights GROUP BY 1"}) {
    auto explained = Run(sql);
    ASSERT_OK(explained) << sql;
    auto e = explained->ToJson();
    EXPECT_EQ(e["columns"], nlohmann::json({"explain_key", "explain_value"})) << sql;
    EXPECT_EQ(e["types"], nlohmann::json({"VARCHAR", "VARCHAR"})) << sql;
    EXPECT_EQ(e["row_count"], 1) << sql;
    EXPECT_EQ(explained->plan().views, std::vector<std::string>{"flights"});
    // Served again from the plan cache, same answer shape.
    auto again = Run(sql);
    ASSERT_OK(again);
    EXPECT_EQ(again->ToJson()["columns"], e["columns"]);
  }

  // The analyst may see nothing: each form gets the refusal the SELECT gets, word for word.
  for (const char* sql : {"DESCRIBE flights", "SUMMARIZE flights", "EXPLAIN SELECT * FROM flights",
                          "EXPLAIN ANALYZE SELECT * FROM flights",
                          "DESCRIBE SELECT * FROM flights", "SELECT * FROM flights"}) {
    auto r = Run(sql, 10, &analyst_);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << sql;
    EXPECT_EQ(r.status().message(), "table 'flights' is not a published view you may query")
        << sql;
  }
  for (const char* sql : {"DESCRIBE nosuch", "EXPLAIN SELECT * FROM nosuch"}) {
    EXPECT_EQ(Run(sql, 10, &analyst_).status().message(),
              "table 'nosuch' is not a published view you may query")
        << sql;
  }
  // Anything else behind EXPLAIN stays refused.
  for (const char* sql : {"EXPLAIN COPY flights TO '/tmp/x.csv'", "EXPLAIN (FORMAT json) SELECT 1",
                          "EXPLAIN SELECT 1; DROP TABLE flights", "EXPLAIN SELECT * FROM read_csv('/etc/passwd')",
                          "EXPLAIN ANALYZE SELECT current_setting('threads')", "SHOW TABLES"}) {
    auto r = Run(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_TRUE(r.status().code() == StatusCode::kInvalidArgument ||
                r.status().code() == StatusCode::kPermissionDenied)
        << sql << ": " << r.status().ToString();
  }
}

// EXPLAIN ANALYZE runs its query, so the query's time limit applies to it.
TEST_F(QueryServiceTest, ExplainAnalyzeIsBoundByTheTimeLimit) {
  QueryServiceOptions options;
  options.timeout = std::chrono::milliseconds(300);
  QueryService quick(*orchestrator_, *registry_, access_, options);
  auto out = quick.Run(admin_, {"EXPLAIN ANALYZE SELECT count(*) FROM flights a, flights b WHERE "
                                "a.delay + b.delay = 7 AND a.distance <> b.distance", 10});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDeadlineExceeded) << out.status().ToString();
}

TEST_F(QueryServiceTest, DuckDbErrorsAreInvalidArgumentWithDuckDbsMessage) {
  auto out = Run("SELECT no_such_column FROM airports");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("no_such_column"), std::string::npos);
  auto div = Run("SELECT 1 / 0 AS x, error('boom') AS y");
  ASSERT_FALSE(div.ok());
  EXPECT_NE(div.status().message().find("boom"), std::string::npos);
  EXPECT_EQ(Run(std::string(kMaxSqlBytes + 1, ' ')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(QueryServiceTest, ReadersAreReusedUntilTheAnalyticsDbChanges) {
  QueryServiceOptions options;
  options.analytics_path = root_->path() / "analytics" / "server.duckdb";
  QueryService pooled(*orchestrator_, *registry_, access_, options);
  EXPECT_EQ(pooled.IdleReaders(), 0u);
  {
    auto out = pooled.Run(admin_, {"SELECT count(*) FROM airports", 10});
    ASSERT_OK(out);
    EXPECT_EQ(pooled.IdleReaders(), 0u);  // on loan while the output lives
  }
  EXPECT_EQ(pooled.IdleReaders(), 1u);
  {
    auto again = pooled.Run(admin_, {"SELECT count(*) FROM airports", 10});
    ASSERT_OK(again);
    EXPECT_EQ(pooled.IdleReaders(), 0u);  // the idle one was taken
  }
  EXPECT_EQ(pooled.IdleReaders(), 1u);
  // A refused statement leaves the reader reusable; a failed execution closes it.
  EXPECT_FALSE(pooled.Run(admin_, {"SELECT * FROM secret_nope", 10}).ok());
  EXPECT_EQ(pooled.IdleReaders(), 1u);
  EXPECT_FALSE(pooled.Run(admin_, {"SELECT error('boom')", 10}).ok());
  EXPECT_EQ(pooled.IdleReaders(), 0u);
  ASSERT_OK(pooled.Run(admin_, {"SELECT 1", 10}));
  EXPECT_EQ(pooled.IdleReaders(), 1u);
  // After a rebuild the old reader is not reused: the new file is served.
  ASSERT_OK(orchestrator_->Rebuild());
  {
    auto fresh = pooled.Run(admin_, {"SELECT count(*) FROM airports", 10});
    ASSERT_OK(fresh);
    EXPECT_EQ(pooled.IdleReaders(), 0u);  // the stale reader was dropped, not lent
  }
  EXPECT_EQ(pooled.IdleReaders(), 1u);
}

TEST_F(QueryServiceTest, LockedReaderRefusesSettingsFilesAndExtensions) {
  auto reader = orchestrator_->OpenReader();
  ASSERT_OK(reader);
  auto catalog = service_->PrepareReader(*reader);
  ASSERT_OK(catalog);
  EXPECT_EQ(catalog->analytics_catalog, "server");
  EXPECT_EQ(catalog->views.size(), 4u);
  EXPECT_TRUE(catalog->reserved_qualifiers.contains("files"));
  EXPECT_TRUE(catalog->denied_functions.contains("pg_get_viewdef"));
  db::Connection& conn = reader->conn();
  fs::path outside = state_dir_.path() / "leak.csv";
  fs::path inside = root_->path() / "extracts" / "files" / "data" / "leak.csv";
  // The second wall: even statements the analyzer refuses fail inside DuckDB.
  const std::vector<std::string> attempts = {
      "SET threads = 1",
      "RESET threads",
      "SET enable_external_access = true",
      "SET allowed_directories = ['/']",
      "SET lock_configuration = false",
      "SELECT * FROM read_csv('/etc/passwd')",
      "COPY (SELECT 1) TO " + Lit(outside),
      "ATTACH " + Lit(outside.string() + ".duckdb") + " AS x",
      "INSTALL httpfs",
      "LOAD httpfs",
      "SELECT * FROM read_text('/etc/hostname')"};
  for (const std::string& sql : attempts) {
    Status st = conn.Execute(sql);
    EXPECT_FALSE(st.ok()) << "DuckDB ran: " << sql;
  }
  EXPECT_FALSE(fs::exists(outside));
  EXPECT_FALSE(fs::exists(outside.string() + ".duckdb"));
  // Settings unchanged.
  auto r = conn.Query("SELECT current_setting('enable_external_access')");
  ASSERT_OK(r);
  EXPECT_EQ(r->GetString(0, 0), "false");
  // DuckDB alone would write inside extracts/ — only the analyzer stops COPY there.
  auto copy = Run("COPY (SELECT 1) TO " + Lit(inside));
  EXPECT_EQ(copy.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(inside));
}

}  // namespace
}  // namespace da::query

namespace da::query {
namespace {

/// Issue 13 item 13: limits a hostile analyst cannot lift.
class QueryLimitsTest : public QueryServiceTest {
 protected:
  static QueryLimits Tight() {
    QueryLimits limits;
    limits.memory_limit_bytes = 256LL << 20;
    limits.threads = 2;
    limits.temp_limit_bytes = 64LL << 20;
    limits.max_answer_bytes = 1LL << 20;
    limits.largest_allocation_bytes = 512LL << 20;
    return limits;
  }
  std::unique_ptr<QueryService> Limited(QueryLimits limits = Tight()) {
    QueryServiceOptions options;
    options.limits = limits;
    return std::make_unique<QueryService>(*orchestrator_, *registry_, access_, options);
  }
  /// Runs `sql` as the analyst and encodes the answer as the route does.
  static Status RunAndEncode(QueryService& service, const state::Principal& who,
                             const std::string& sql) {
    auto out = service.Run(who, {sql, kMaxRowLimit});
    if (!out.ok()) return out.status();
    return out->EncodeJson().status();
  }
};

TEST_F(QueryLimitsTest, ReaderRunsWithTheLimitsAndCannotRaiseThem) {
  auto service = Limited();
  auto reader = orchestrator_->OpenReader();
  ASSERT_OK(reader);
  ASSERT_OK(service->PrepareReader(*reader));
  db::Connection& conn = reader->conn();
  auto r = conn.Query(
      "SELECT current_setting('memory_limit'), current_setting('threads')::BIGINT, "
      "current_setting('max_temp_directory_size')");
  ASSERT_OK(r);
  EXPECT_EQ(r->GetString(0, 0), "256.0 MiB");
  EXPECT_EQ(r->GetInt64(1, 0), 2);
  EXPECT_EQ(r->GetString(2, 0), "64.0 MiB");
  for (const char* sql : {"SET memory_limit = '100GB'", "SET threads = 64",
                          "SET max_temp_directory_size = '1TB'", "RESET memory_limit"}) {
    EXPECT_FALSE(conn.Execute(sql).ok()) << "DuckDB ran: " << sql;
  }
}

// A 1 GB string: refused (memory limit or answer cap) with resource_exhausted, and the next
// query runs on the same service.
TEST_F(QueryLimitsTest, AGigabyteStringIsRefusedAndTheServiceGoesOn) {
  auto service = Limited();
  Status st = RunAndEncode(*service, analyst_, "SELECT repeat('x', 1000000000) AS s");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  auto next = service->Run(analyst_, {"SELECT 41 + 1 AS n", 10});
  ASSERT_OK(next);
  EXPECT_EQ(next->ToJson()["rows"][0][0], 42);
}

// A list of 3 billion numbers (24 GB): refused with resource_exhausted, the service goes on.
TEST_F(QueryLimitsTest, AThreeBillionElementListIsRefusedAndTheServiceGoesOn) {
  auto service = Limited();
  Status st = RunAndEncode(*service, analyst_, "SELECT len(range(0, 3000000000)) AS n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("memory"), std::string::npos) << st.message();
  auto next = service->Run(admin_, {"SELECT count(*) AS n FROM airports", 10});
  ASSERT_OK(next);
}

// An answer over the cap is cut while it is encoded, with a message naming the setting.
TEST_F(QueryLimitsTest, AnAnswerOverTheCapIsRefusedWhileEncoding) {
  auto service = Limited();
  auto big = service->Run(admin_, {"SELECT * FROM flights", kMaxRowLimit});
  ASSERT_OK(big);
  auto json = big->EncodeJson();
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(json.status().message().find("DA_QUERY_MAX_ANSWER_BYTES"), std::string::npos);
  EXPECT_NE(json.status().message().find("1.0 MiB"), std::string::npos) << json.status().message();
  EXPECT_EQ(big->EncodeCsv().status().code(), StatusCode::kResourceExhausted);
  // Under the cap: the same bytes as the unbounded encodings.
  auto small = service->Run(admin_, {"SELECT * FROM typed", 10});
  ASSERT_OK(small);
  auto text = small->EncodeJson();
  ASSERT_OK(text);
  EXPECT_EQ(*text, small->ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  auto csv = small->EncodeCsv();
  ASSERT_OK(csv);
  EXPECT_EQ(*csv, small->ToCsv());
}

}  // namespace
}  // namespace da::query
