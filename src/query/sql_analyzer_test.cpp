#include "query/sql_analyzer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::query {
namespace {

/// A real DuckDB parser (in-memory) and a catalog publishing `flights` and `airports`.
class AnalyzerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = db::Database::Open(":memory:");
    ASSERT_OK(database);
    db_ = std::make_unique<db::Database>(std::move(database).value());
    auto conn = db_->Connect();
    ASSERT_OK(conn);
    conn_ = std::make_unique<db::Connection>(std::move(conn).value());
    catalog_.views = {{"flights", "flights"}, {"airports", "airports"}};
    catalog_.analytics_catalog = "server";
    catalog_.reserved_qualifiers = {"server", "files", "system", "temp", "pg_catalog",
                                    "information_schema", "memory"};
    auto denied = LoadFunctionDenylist(*conn_);
    ASSERT_OK(denied);
    catalog_.denied_functions = *denied;
  }

  Result<QueryPlan> Analyze(const std::string& sql) { return AnalyzeSql(*conn_, sql, catalog_); }

  void ExpectAccepted(const std::string& sql, std::vector<std::string> views,
                      std::vector<std::string> ctes = {}) {
    auto plan = Analyze(sql);
    ASSERT_OK(plan) << sql << ": " << plan.status().ToString();
    EXPECT_EQ(plan->views, views) << sql;
    EXPECT_EQ(plan->ctes, ctes) << sql;
  }

  /// Refused with `code` and a message containing `needle`.
  void ExpectRefused(const std::string& sql, StatusCode code, const std::string& needle) {
    auto plan = Analyze(sql);
    ASSERT_FALSE(plan.ok()) << "accepted: " << sql;
    EXPECT_EQ(plan.status().code(), code) << sql << ": " << plan.status().ToString();
    EXPECT_NE(plan.status().message().find(needle), std::string::npos)
        << sql << ": " << plan.status().message();
  }

  std::unique_ptr<db::Database> db_;
  std::unique_ptr<db::Connection> conn_;
  AnalyzerCatalog catalog_;
};

constexpr StatusCode kDenied = StatusCode::kPermissionDenied;
constexpr StatusCode kInvalid = StatusCode::kInvalidArgument;

TEST_F(AnalyzerTest, AcceptsSelectsOverPublishedViews) {
  ExpectAccepted("SELECT count(*) FROM flights", {"flights"});
  ExpectAccepted("from flights", {"flights"});
  ExpectAccepted("SeLeCt /* a comment; with DROP TABLE */ 1 -- COPY x TO 'y'\n FROM Flights",
                 {"flights"});
  ExpectAccepted("SELECT * FROM \"FLIGHTS\" f JOIN airports a ON f.origin = a.iata",
                 {"airports", "flights"});
  ExpectAccepted("SELECT * FROM main.flights", {"flights"});
  ExpectAccepted("SELECT * FROM server.flights", {"flights"});
  ExpectAccepted("SELECT * FROM \"Server\".\"Main\".flights", {"flights"});
  ExpectAccepted("SELECT 1", {});
  ExpectAccepted("VALUES (1, 'a'), (2, 'b')", {});
  ExpectAccepted("SELECT * FROM flights UNION ALL SELECT * FROM flights", {"flights"});
  ExpectAccepted("SELECT (SELECT max(x) FROM (SELECT 1 AS x)), * FROM airports WHERE iata IN "
                 "(SELECT origin FROM flights)",
                 {"airports", "flights"});
  ExpectAccepted("SELECT * FROM airports a, LATERAL (SELECT a.iata) t", {"airports"});
  ExpectAccepted("SELECT * FROM flights PIVOT (count(*) FOR origin IN ('SEA', 'LAX'))",
                 {"flights"});
  ExpectAccepted("SELECT upper(name), name.lower(), main.upper(name) FROM airports",
                 {"airports"});
}

TEST_F(AnalyzerTest, NoFalsePositivesOnIdentifiersAndLiterals) {
  // The reference's substring denylist refused these.
  ExpectAccepted("SELECT 1 AS last_update, 2 AS created_at, 'drop table x' AS s", {});
  ExpectAccepted("SELECT ';' AS semi, 'a;b' AS two FROM flights WHERE origin <> ';'",
                 {"flights"});
  ExpectAccepted("SELECT '/etc/passwd' AS path, 'https://x' AS url, 'read_csv(' AS f", {});
  ExpectAccepted("SELECT \"update\".x FROM (SELECT 1 AS x) AS \"update\"", {});
}

TEST_F(AnalyzerTest, CtesAreScopedLikeDuckDb) {
  ExpectAccepted("WITH a AS (SELECT * FROM flights) SELECT count(*) FROM a", {"flights"}, {"a"});
  // A CTE named like a published view shadows it: nothing published is read.
  ExpectAccepted("WITH flights AS (SELECT 1 AS x) SELECT * FROM flights", {}, {"flights"});
  ExpectAccepted("WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b", {},
                 {"a", "b"});
  ExpectAccepted("WITH a AS MATERIALIZED (SELECT 1 AS x) SELECT * FROM a UNION ALL "
                 "SELECT * FROM a",
                 {}, {"a"});
  ExpectAccepted("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
                 "SELECT * FROM r",
                 {}, {"r"});
  // A CTE named like a forbidden table does not open the table...
  ExpectRefused("WITH x AS (SELECT * FROM secret) SELECT * FROM x", kDenied, "'secret'");
  // ...nor outside its scope...
  ExpectRefused("SELECT * FROM (WITH secret AS (SELECT 1) SELECT 1) t, secret", kDenied,
                "'secret'");
  ExpectRefused("SELECT (WITH secret AS (SELECT 1) SELECT 1), * FROM secret", kDenied,
                "'secret'");
  // ...nor inside its own non-recursive body (there DuckDB reads the real table)...
  ExpectRefused("WITH secret AS (SELECT * FROM secret) SELECT * FROM secret", kDenied,
                "'secret'");
  ExpectRefused("WITH secret AS MATERIALIZED (SELECT * FROM secret) SELECT * FROM secret",
                kDenied, "'secret'");
  // ...nor qualified.
  ExpectRefused("WITH secret AS (SELECT 1) SELECT * FROM main.secret", kDenied, "'main.secret'");
  // A forward reference is checked as a table (DuckDB binds CTEs in order).
  ExpectRefused("WITH a AS (SELECT * FROM secret), secret AS (SELECT 1) SELECT * FROM a",
                kDenied, "'secret'");
}

TEST_F(AnalyzerTest, RefusesFilesUrlsAndTableFunctions) {
  ExpectRefused("SELECT * FROM '/etc/passwd'", kDenied, "files and URLs");
  ExpectRefused("SELECT * FROM 'https://example.com/x.parquet'", kDenied, "files and URLs");
  ExpectRefused("FROM 's3://bucket/x.csv'", kDenied, "files and URLs");
  ExpectRefused("SELECT * FROM \"../state/system.duckdb\"", kDenied, "files and URLs");
  ExpectRefused("SELECT * FROM read_csv('/etc/passwd')", kDenied, "read_csv");
  ExpectRefused("SELECT * FROM READ_PARQUET('x.parquet')", kDenied, "read_parquet");
  ExpectRefused("SELECT * FROM glob('/*')", kDenied, "glob");
  ExpectRefused("SELECT * FROM query_table('flights')", kDenied, "query_table");
  ExpectRefused("SELECT * FROM query('SELECT 1')", kDenied, "query");
  ExpectRefused("SELECT * FROM flights, read_text('/etc/hostname')", kDenied, "read_text");
  ExpectRefused("SELECT * FROM flights WHERE origin IN (SELECT * FROM read_blob('/x'))", kDenied,
                "read_blob");
  ExpectRefused("SELECT * FROM range(10)", kDenied, "range");
}

TEST_F(AnalyzerTest, RefusesSystemCatalogsAndOtherCatalogs) {
  ExpectRefused("SELECT * FROM duckdb_settings()", kDenied, "duckdb_settings");
  ExpectRefused("SELECT * FROM duckdb_databases()", kDenied, "duckdb_databases");
  ExpectRefused("SELECT * FROM duckdb_tables", kDenied, "duckdb_tables");
  ExpectRefused("SELECT * FROM information_schema.tables", kDenied, "information_schema.tables");
  ExpectRefused("SELECT * FROM INFORMATION_SCHEMA.\"COLUMNS\"", kDenied, "outside");
  ExpectRefused("SELECT * FROM pg_catalog.pg_class", kDenied, "pg_catalog.pg_class");
  ExpectRefused("SELECT * FROM pg_tables", kDenied, "pg_tables");
  ExpectRefused("SELECT * FROM files.airports", kDenied, "files.airports");
  ExpectRefused("SELECT * FROM files.main._meta", kDenied, "files.main._meta");
  ExpectRefused("SELECT * FROM \"FILES\".\"MAIN\".\"airports\"", kDenied, "outside");
  ExpectRefused("SELECT * FROM system.main.duckdb_settings", kDenied, "outside");
  ExpectRefused("SELECT * FROM temp.main.t", kDenied, "outside");
  ExpectRefused("SELECT * FROM server.other.flights", kDenied, "outside");
  ExpectRefused("SELECT * FROM secret", kDenied, "not a published view");
  ExpectRefused("SHOW TABLES", kDenied, "SHOW and DESCRIBE without a view");
  ExpectRefused("SHOW ALL TABLES", kDenied, "SHOW and DESCRIBE without a view");
  ExpectRefused("DESCRIBE", kDenied, "SHOW and DESCRIBE without a view");
  ExpectRefused("SHOW databases", kDenied, "SHOW and DESCRIBE without a view");
}

// An analyst's first questions: DESCRIBE and SUMMARIZE a view they may see. Over anything else
// they meet exactly the refusal a SELECT meets (the message tells no more).
TEST_F(AnalyzerTest, DescribeAndSummarizeAreCheckedLikeTheirSelect) {
  ExpectAccepted("DESCRIBE flights", {"flights"});
  ExpectAccepted("describe FLIGHTS", {"flights"});
  ExpectAccepted("SUMMARIZE flights", {"flights"});
  ExpectAccepted("SUMMARIZE TABLE flights", {"flights"});
  ExpectAccepted("SHOW flights", {"flights"});
  ExpectAccepted("DESCRIBE SELECT f.x, a.y FROM flights f JOIN airports a ON true",
                 {"airports", "flights"});
  ExpectAccepted("SUMMARIZE SELECT * FROM flights", {"flights"});
  ExpectAccepted("SELECT column_name FROM (DESCRIBE flights)", {"flights"});
  for (const std::string& target :
       {std::string("secret"), std::string("'/etc/passwd'"), std::string("files.airports"),
        std::string("information_schema.tables"), std::string("duckdb_tables")}) {
    auto select = Analyze("SELECT * FROM " + target);
    ASSERT_FALSE(select.ok()) << target;
    for (const std::string& verb : {"DESCRIBE ", "SUMMARIZE ", "DESCRIBE SELECT * FROM ",
                                    "SUMMARIZE SELECT * FROM "}) {
      auto shown = Analyze(verb + target);
      ASSERT_FALSE(shown.ok()) << verb << target;
      EXPECT_EQ(shown.status().code(), select.status().code()) << verb << target;
      EXPECT_EQ(shown.status().message(), select.status().message()) << verb << target;
    }
  }
  ExpectRefused("SUMMARIZE SELECT current_setting('threads')", kDenied, "current_setting");
  ExpectRefused("SUMMARIZE SELECT * FROM read_csv('/etc/passwd')", kDenied, "read_csv");
  ExpectRefused("DESCRIBE SELECT * FROM duckdb_settings()", kDenied, "duckdb_settings");
}

TEST(SplitExplain, CutsOffExplainAndAnalyzeOnly) {
  auto plain = SplitExplain("  EXPLAIN SELECT 1");
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->analyze);
  EXPECT_EQ(plain->inner, " SELECT 1");
  auto analyze = SplitExplain("-- why slow?\n/* a /* nested */ note */ explain Analyze\nSELECT 2");
  ASSERT_TRUE(analyze.has_value());
  EXPECT_TRUE(analyze->analyze);
  EXPECT_EQ(analyze->inner, "\nSELECT 2");
  auto analyse = SplitExplain("EXPLAIN ANALYSE(SELECT 3)");
  ASSERT_TRUE(analyse.has_value());
  EXPECT_TRUE(analyse->analyze);
  EXPECT_EQ(analyse->inner, "(SELECT 3)");
  // VERBOSE and options stay in the statement, which then is not a SELECT.
  EXPECT_EQ(SplitExplain("EXPLAIN (FORMAT json) SELECT 1")->inner, " (FORMAT json) SELECT 1");
  EXPECT_EQ(SplitExplain("EXPLAIN VERBOSE SELECT 1")->inner, " VERBOSE SELECT 1");
  EXPECT_EQ(SplitExplain("EXPLAIN analyze_me")->inner, " analyze_me");
  EXPECT_FALSE(SplitExplain("SELECT 'EXPLAIN'").has_value());
  EXPECT_FALSE(SplitExplain("EXPLAINED").has_value());
  EXPECT_FALSE(SplitExplain("").has_value());
}

TEST_F(AnalyzerTest, RefusesDeniedFunctions) {
  ExpectRefused("SELECT current_setting('allowed_directories')", kDenied, "current_setting");
  ExpectRefused("SELECT CURRENT_SETTING('home_directory')", kDenied, "current_setting");
  ExpectRefused("SELECT getvariable('x')", kDenied, "getvariable");
  ExpectRefused("SELECT nextval('s')", kDenied, "nextval");
  ExpectRefused("SELECT pg_get_viewdef(1)", kDenied, "pg_get_viewdef");
  ExpectRefused("SELECT pg_catalog.pg_get_viewdef(1)", kDenied, "pg_get_viewdef");
  ExpectRefused("SELECT get_block_size('server')", kDenied, "get_block_size");
  ExpectRefused("SELECT json_serialize_plan('SELECT * FROM secret')", kDenied,
                "json_serialize_plan");
  ExpectRefused("SELECT 'allowed_directories'.current_setting()", kInvalid, "syntax");
  ExpectRefused("SELECT origin.current_setting() FROM flights", kDenied, "current_setting");
  ExpectRefused("SELECT * FROM flights WHERE origin = current_setting('threads')", kDenied,
                "current_setting");
  ExpectRefused("SELECT count(*) FILTER (WHERE getvariable('x')) FROM flights", kDenied,
                "getvariable");
  ExpectRefused("SELECT files.main.f(1)", kDenied, "catalog");
  ExpectRefused("SELECT files.f(1)", kDenied, "files");
  ExpectRefused("SELECT information_schema.f(1)", kDenied, "information_schema");
}

TEST_F(AnalyzerTest, RefusesEverythingButOneSelect) {
  ExpectRefused("", kInvalid, "empty");
  ExpectRefused("  -- only a comment\n", kInvalid, "empty");
  ExpectRefused("SELECT 1; SELECT 2", kInvalid, "one statement");
  ExpectRefused("SELECT 1; DROP TABLE flights", kInvalid, "only a single SELECT");
  ExpectRefused("SELEC 1", kInvalid, "syntax error");
  for (const char* sql :
       {"COPY flights TO '/tmp/x.csv'", "COPY (SELECT 1) TO '/tmp/x.csv'", "ATTACH '/tmp/x.duckdb' AS x",
        "DETACH files", "INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true",
        "RESET allowed_directories", "PRAGMA enable_profiling", "CALL duckdb_settings()",
        "CREATE TEMP TABLE t AS SELECT 1", "CREATE VIEW v AS SELECT 1",
        "INSERT INTO flights VALUES (1)", "UPDATE flights SET x = 1", "DELETE FROM flights",
        "DROP TABLE flights", "ALTER TABLE flights RENAME TO f", "EXPLAIN SELECT 1",
        "EXPLAIN ANALYZE SELECT 1", "PIVOT flights ON origin USING count(*)", "USE files",
        "CHECKPOINT", "BEGIN TRANSACTION", "PREPARE p AS SELECT 1", "EXECUTE p",
        "IMPORT DATABASE '/tmp/x'", "VACUUM", "CREATE SECRET (TYPE s3, KEY_ID 'x')",
        "SELECT 1; COPY flights TO '/tmp/x.csv'"}) {
    ExpectRefused(sql, kInvalid, "only a single SELECT statement is allowed");
  }
}

TEST_F(AnalyzerTest, RefusingHasNoSideEffects) {
  // Preparing EXPORT DATABASE would create the directory; the analyzer never prepares.
  da::testing::TempDir tmp("analyzer-");
  std::string target = (tmp.path() / "exported").string();
  ExpectRefused("EXPORT DATABASE '" + target + "'", kInvalid, "SELECT");
  ExpectRefused("COPY (SELECT 1) TO '" + target + ".csv'", kInvalid, "SELECT");
  ExpectRefused("ATTACH '" + target + ".duckdb' AS x", kInvalid, "SELECT");
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

TEST_F(AnalyzerTest, DeepNestingIsRefusedOrAnalyzedWithoutCrashing) {
  std::string parens = "SELECT " + std::string(5000, '(') + "1" + std::string(5000, ')');
  auto a = Analyze(parens);  // DuckDB folds the parentheses; either answer is fine
  if (!a.ok()) {
    EXPECT_EQ(a.status().code(), kInvalid);
  }

  std::string subqueries = "SELECT * FROM ";
  for (int i = 0; i < 5000; ++i) subqueries += "(SELECT * FROM ";
  subqueries += "secret";
  for (int i = 0; i < 5000; ++i) subqueries += ")";
  ExpectRefused(subqueries, kInvalid, "");

  // As deep as DuckDB's parser accepts: still analyzed, the table at the bottom still checked.
  std::string deep = "SELECT * FROM ";
  for (int i = 0; i < 400; ++i) deep += "(SELECT * FROM ";
  deep += "secret";
  for (int i = 0; i < 400; ++i) deep += ")";
  ExpectRefused(deep, kDenied, "'secret'");

  std::string calls = "SELECT ";
  for (int i = 0; i < 900; ++i) calls += "abs(";
  calls += "current_setting('threads')::INT";
  for (int i = 0; i < 900; ++i) calls += ")";
  ExpectRefused(calls, kDenied, "current_setting");
}

TEST_F(AnalyzerTest, WithoutLocationsDropsOnlyPositions) {
  auto a = SerializeSql(*conn_, "SELECT x FROM flights");
  auto b = SerializeSql(*conn_, "  SELECT   x FROM   flights");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)[0], (*b)[0]);
  EXPECT_EQ(WithoutLocations((*a)[0]), WithoutLocations((*b)[0]));
  auto c = SerializeSql(*conn_, "SELECT y FROM flights");
  ASSERT_OK(c);
  EXPECT_NE(WithoutLocations((*a)[0]), WithoutLocations((*c)[0]));
}

}  // namespace
}  // namespace da::query
