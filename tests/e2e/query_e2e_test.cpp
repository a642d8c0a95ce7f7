// POST /api/query and `da query --remote` end to end: the real server over real HTTP, the
// flights (3M rows) and airports datasets synced by the files connector, and an attack corpus
// that must be refused with 400/403 and change nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <map>

#include "common/hash.h"
#include "support/datasets.h"
#include "support/files.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
namespace fs = std::filesystem;
using nlohmann::json;

class QueryE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    fs::create_directories(tmp_->path() / "outside");
    server_ = new ServerProcess(Data(), {"DA_QUERY_TIMEOUT_SEC=3"});
    for (const auto& [name, file] : std::map<std::string, std::string>{
             {"flights", "flights-3m.parquet"}, {"airports", "airports.csv"}}) {
      auto r = server_->Post("/api/admin/register-table",
                             json{{"name", name},
                                  {"source_type", "files"},
                                  {"source_table", Dataset(file).string()}}
                                 .dump());
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
    }
    auto run = server_->SyncAndWait();
    ASSERT_EQ(run["tables"].size(), 2u) << run.dump();
    for (const auto& t : run["tables"]) {
      ASSERT_TRUE(t["status"] == "synced" || t["status"] == "ok") << run.dump();
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete tmp_;
    tmp_ = nullptr;
  }

  static fs::path Data() { return tmp_->path() / "data"; }
  static fs::path Outside() { return tmp_->path() / "outside"; }

  static httplib::Result Query(const std::string& sql, std::optional<int64_t> limit = {},
                               const std::string& accept = "") {
    json body = {{"sql", sql}};
    if (limit) body["limit"] = *limit;
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(120, 0);
    httplib::Headers h = {{"Authorization", "Bearer " + server_->admin_token()}};
    if (!accept.empty()) h.emplace("Accept", accept);
    return c.Post("/api/query", h, body.dump(), "application/json");
  }

  /// 200 and the parsed body.
  static json Ok(const std::string& sql, std::optional<int64_t> limit = {}) {
    auto r = Query(sql, limit);
    EXPECT_TRUE(r) << sql;
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << sql << "\n" << r->body;
    return json::parse(r->body);
  }

  /// Every file under `dir` with its size and MD5 (reader spill dirs excluded).
  static std::map<std::string, std::string> Snapshot(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::string rel = fs::relative(e.path(), dir).string();
      if (rel.find(".reader_") != std::string::npos) continue;
      out[rel] = std::to_string(e.file_size()) + ":" + Md5Hex(ReadBytes(e.path()));
    }
    return out;
  }

  static inline TempDir* tmp_ = nullptr;
  static inline ServerProcess* server_ = nullptr;
};

std::string Flights() { return "read_parquet('" + Dataset("flights-3m.parquet").string() + "')"; }

TEST_F(QueryE2E, AggregatesEqualDuckDbOnTheSourceFile) {
  auto j = Ok("SELECT count(*) AS n, sum(delay) AS total_delay, min(date) AS first, "
              "max(distance) AS longest FROM flights");
  EXPECT_EQ(j["columns"], json({"n", "total_delay", "first", "longest"}));
  EXPECT_EQ(j["types"], json({"BIGINT", "HUGEINT", "TIMESTAMP", "BIGINT"}));
  auto truth = DuckDbRows("SELECT count(*), sum(delay), min(date), max(distance) FROM " + Flights());
  ASSERT_EQ(truth.size(), 1u);
  const auto& row = j["rows"][0];
  EXPECT_EQ(std::to_string(row[0].get<int64_t>()) + "," + std::to_string(row[1].get<int64_t>()) +
                "," + row[2].get<std::string>() + "," + std::to_string(row[3].get<int64_t>()),
            truth[0]);
  EXPECT_EQ(row[0], 3000000);

  auto by_origin = Ok("SELECT origin, count(*) AS n, round(avg(delay), 3) AS avg_delay "
                      "FROM flights GROUP BY origin ORDER BY n DESC, origin LIMIT 10");
  auto expected = DuckDbRows("SELECT origin, count(*), round(avg(delay), 3) FROM " + Flights() +
                             " GROUP BY origin ORDER BY 2 DESC, origin LIMIT 10");
  ASSERT_EQ(by_origin["rows"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& r = by_origin["rows"][i];
    auto truth_row = expected[i];
    EXPECT_EQ(truth_row.substr(0, truth_row.find(',')), r[0].get<std::string>());
    EXPECT_EQ(std::stoll(truth_row.substr(truth_row.find(',') + 1)), r[1].get<int64_t>());
    EXPECT_DOUBLE_EQ(std::stod(truth_row.substr(truth_row.rfind(',') + 1)), r[2].get<double>());
  }
  // A join across sources of the same connector, quoted and differently cased names,
  // catalog-qualified names, comments and case tricks all reach the same views.
  auto joined = Ok("/* top */ SeLeCt a.state, count(*) AS n FROM \"FLIGHTS\" f JOIN "
                   "server.main.Airports a ON f.origin = a.iata -- trailing\n"
                   "WHERE a.state = 'WA' GROUP BY 1");
  auto joined_truth = DuckDbRows("SELECT a.state, count(*) FROM " + Flights() +
                                 " f JOIN read_csv('" + Dataset("airports.csv").string() +
                                 "') a ON f.origin = a.iata WHERE a.state = 'WA' GROUP BY 1");
  ASSERT_EQ(joined["rows"].size(), 1u) << joined.dump();
  EXPECT_EQ("WA," + std::to_string(joined["rows"][0][1].get<int64_t>()), joined_truth[0]);
}

TEST_F(QueryE2E, NoFalsePositivesOfTheSubstringDenylist) {
  auto j = Ok("SELECT 1 AS last_update, ';' AS semi, 'drop table x; copy y' AS text, "
              "'/etc/passwd' AS path FROM airports LIMIT 1;");
  EXPECT_EQ(j["columns"], json({"last_update", "semi", "text", "path"}));
  EXPECT_EQ(j["rows"], json({{1, ";", "drop table x; copy y", "/etc/passwd"}}));
  auto cte = Ok("WITH flights AS (SELECT 42 AS x) SELECT * FROM flights");
  EXPECT_EQ(cte["rows"], json({{42}}));
}

TEST_F(QueryE2E, CsvOutputLimitAndTruncation) {
  auto csv = Query("SELECT iata, name FROM airports WHERE iata IN ('SEA', 'BOS') ORDER BY iata",
                   std::nullopt, "text/csv");
  ASSERT_TRUE(csv);
  ASSERT_EQ(csv->status, 200) << csv->body;
  EXPECT_EQ(csv->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  auto truth = DuckDbRows("SELECT iata, name FROM read_csv('" + Dataset("airports.csv").string() +
                          "') WHERE iata IN ('SEA', 'BOS') ORDER BY iata");
  ASSERT_EQ(truth.size(), 2u);
  EXPECT_EQ(csv->body, "iata,name\r\n" + truth[0] + "\r\n" + truth[1] + "\r\n");
  EXPECT_EQ(csv->get_header_value("X-Truncated"), "false");

  auto def = Ok("SELECT * FROM flights");
  EXPECT_EQ(def["row_count"], 1000);
  EXPECT_EQ(def["rows"].size(), 1000u);
  EXPECT_EQ(def["truncated"], true);
  auto few = Ok("SELECT delay FROM flights ORDER BY delay DESC, date", 3);
  EXPECT_EQ(few["row_count"], 3);
  EXPECT_EQ(few["truncated"], true);
  auto few_truth = DuckDbRows("SELECT delay FROM " + Flights() + " ORDER BY delay DESC, date LIMIT 3");
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(std::to_string(few["rows"][i][0].get<int64_t>()), few_truth[i]);
  auto exact = Ok("SELECT * FROM airports LIMIT 5", 5);
  EXPECT_EQ(exact["truncated"], false);
  auto max = Ok("SELECT * FROM flights", 100000);
  EXPECT_EQ(max["rows"].size(), 100000u);
  for (int64_t bad : {0, -1, 100001}) {
    auto r = Query("SELECT 1", bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
  }
}

TEST_F(QueryE2E, SlowQueryIsInterruptedAtTheTimeLimit) {
  auto started = std::chrono::steady_clock::now();
  auto r = Query("SELECT count(*) FROM flights a, flights b WHERE a.delay + b.delay = 7");
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504) << r->body;
  auto j = json::parse(r->body);
  EXPECT_EQ(j["error"]["code"], "deadline_exceeded");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("time limit"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(30));
  // The server keeps answering.
  EXPECT_EQ(Ok("SELECT count(*) AS n FROM airports")["rows"][0][0].get<int64_t>(),
            std::stoll(DuckDbRows("SELECT count(*) FROM read_csv('" +
                                  Dataset("airports.csv").string() + "')")[0]));
}

TEST_F(QueryE2E, AttackCorpusIsRefusedAndChangesNothing) {
  const std::string out = Outside().string();
  const std::string extracts = (Data() / "extracts").string();
  const std::string state = (Data() / "state").string();
  const std::string flights_parquet = extracts + "/files/data/flights.parquet";
  struct Case {
    std::string sql;
    int status;
  };
  std::string mb_sql = "SELECT 1 AS x /*" + std::string(1 << 20, 'a') + "*/";
  std::string nested = "SELECT * FROM ";
  for (int i = 0; i < 5000; ++i) nested += "(SELECT * FROM ";
  nested += "flights";
  for (int i = 0; i < 5000; ++i) nested += ")";
  std::string parens = "SELECT " + std::string(5000, '(') + "1" + std::string(5000, ')') +
                       " FROM read_csv('/etc/passwd')";
  const std::vector<Case> cases = {
      // file readers and replacement scans on paths and URLs
      {"SELECT * FROM read_csv('/etc/passwd')", 403},
      {"SeLeCt * FrOm ReAd_CsV_aUtO('" + state + "/bootstrap-token')", 403},
      {"SELECT * FROM read_parquet('" + flights_parquet + "')", 403},
      {"SELECT * FROM read_json('/etc/os-release')", 403},
      {"SELECT * FROM read_text('/etc/hostname')", 403},
      {"SELECT * FROM read_blob('" + state + "/system.duckdb')", 403},
      {"SELECT * FROM glob('/*')", 403},
      {"SELECT * FROM sniff_csv('/etc/passwd')", 403},
      {"SELECT * FROM parquet_metadata('" + flights_parquet + "')", 403},
      {"SELECT * FROM '/etc/passwd'", 403},
      {"SELECT * FROM \"" + state + "/system.duckdb\"", 403},
      {"SELECT * FROM '" + flights_parquet + "'", 403},
      {"FROM 'https://example.com/data.parquet'", 403},
      {"SELECT * FROM 's3://bucket/key.csv'", 403},
      {"SELECT * FROM flights, read_csv('/etc/passwd')", 403},
      {"SELECT (SELECT count(*) FROM read_csv('/etc/passwd'))", 403},
      {"SELECT * FROM airports UNION ALL SELECT * FROM read_csv('/etc/passwd')", 403},
      {"SELECT * FROM query_table('flights')", 403},
      {"SELECT * FROM query('SELECT 1')", 403},
      // COPY, EXPORT, ATTACH/DETACH, INSTALL/LOAD
      {"COPY flights TO '" + out + "/flights.csv'", 400},
      {"COPY (SELECT * FROM airports) TO '" + extracts + "/files/data/evil.parquet' (FORMAT parquet)", 400},
      {"cOpY airports tO '" + out + "/case.csv'", 400},
      {"/* SELECT */ COPY airports TO '" + out + "/comment.csv'", 400},
      {"EXPORT DATABASE '" + out + "/export'", 400},
      {"EXPORT DATABASE '" + extracts + "/export'", 400},
      {"IMPORT DATABASE '" + out + "'", 400},
      {"ATTACH '" + out + "/evil.duckdb' AS evil", 400},
      {"-- SELECT\nATTACH ':memory:' AS m", 400},
      {"DETACH files", 400},
      {"INSTALL httpfs", 400},
      {"LOAD httpfs", 400},
      {"FORCE INSTALL httpfs FROM 'http://127.0.0.1:1'", 400},
      // settings
      {"SET enable_external_access = true", 400},
      {"SET GLOBAL allowed_directories = ['/']", 400},
      {"RESET allowed_directories", 400},
      {"SET lock_configuration = false", 400},
      {"PRAGMA enable_profiling", 400},
      {"PRAGMA database_list", 400},
      {"CALL duckdb_settings()", 400},
      {"CALL pragma_table_info('flights')", 400},
      {"SELECT current_setting('allowed_directories')", 403},
      {"SELECT getvariable('x')", 403},
      // multiple statements, DDL/DML, temp objects
      {"SELECT 1; SELECT 2", 400},
      {"SELECT 1; DROP VIEW flights", 400},
      {"SELECT 1;COPY airports TO '" + out + "/multi.csv'", 400},
      {"CREATE TABLE t AS SELECT 1", 400},
      {"CREATE TEMP TABLE t AS SELECT * FROM airports", 400},
      {"CREATE TEMP VIEW flights AS SELECT 1", 400},
      {"CREATE MACRO m() AS 1", 400},
      {"INSERT INTO airports SELECT * FROM airports", 400},
      {"UPDATE airports SET name = 'x'", 400},
      {"DELETE FROM airports", 400},
      {"DROP VIEW flights", 400},
      {"ALTER VIEW flights RENAME TO f", 400},
      // EXPLAIN runs over a SELECT the sandbox accepts, nothing else (issue 13 item 16)
      {"EXPLAIN COPY airports TO '" + out + "/explain.csv'", 400},
      {"EXPLAIN ANALYZE SELECT * FROM files._meta", 403},
      {"EXPLAIN SELECT * FROM read_csv('/etc/passwd')", 403},
      {"CHECKPOINT", 400},
      // system catalogs that reveal paths or settings
      {"SELECT * FROM duckdb_settings()", 403},
      {"SELECT * FROM duckdb_databases()", 403},
      {"SELECT * FROM duckdb_extensions()", 403},
      {"SELECT * FROM duckdb_views", 403},
      {"SELECT * FROM information_schema.tables", 403},
      {"SELECT * FROM INFORMATION_SCHEMA.\"SCHEMATA\"", 403},
      {"SELECT * FROM pg_catalog.pg_class", 403},
      {"SELECT * FROM pg_settings", 403},
      {"SELECT pg_get_viewdef(1)", 403},
      {"DESCRIBE files._meta", 403},
      {"SHOW ALL TABLES", 403},
      {"SUMMARIZE '/etc/passwd'", 403},
      // other catalogs, quoted and qualified names, CTE tricks
      {"SELECT * FROM files.flights", 403},
      {"SELECT * FROM \"FILES\".\"MAIN\".\"_meta\"", 403},
      {"SELECT * FROM files._meta", 403},
      {"SELECT * FROM system.main.duckdb_settings", 403},
      {"SELECT * FROM temp.main.anything", 403},
      {"WITH x AS (SELECT * FROM files._meta) SELECT * FROM x", 403},
      {"WITH _meta AS (SELECT * FROM _meta) SELECT * FROM _meta", 403},
      {"SELECT * FROM (WITH secret AS (SELECT 1) SELECT 1) t, secret", 403},
      {"SELECT * FROM no_such_table", 403},
      // size and depth
      {mb_sql, 400},
      {nested, 400},
      {parens, 403},
      {"", 400},
      {"SELEC 1", 400},
  };
  auto extracts_before = Snapshot(Data() / "extracts");
  auto analytics_before = Snapshot(Data() / "analytics");
  for (const auto& c : cases) {
    auto r = Query(c.sql);
    std::string shown = c.sql.substr(0, 120);
    ASSERT_TRUE(r) << "no response (server down?) after: " << shown;
    EXPECT_EQ(r->status, c.status) << shown << "\n" << r->body.substr(0, 300);
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << shown << "\n" << r->body.substr(0, 300);
    EXPECT_EQ(j["error"]["code"], c.status == 403 ? "permission_denied" : "invalid_argument")
        << shown;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    EXPECT_FALSE(j["error"]["request_id"].get<std::string>().empty());
  }
  // Nothing was written, exported or attached anywhere.
  EXPECT_TRUE(fs::is_empty(Outside())) << fs::directory_iterator(Outside())->path();
  EXPECT_FALSE(fs::exists(Data() / "extracts" / "export"));
  EXPECT_FALSE(fs::exists(Data() / "extracts" / "files" / "data" / "evil.parquet"));
  EXPECT_EQ(Snapshot(Data() / "extracts"), extracts_before);
  EXPECT_EQ(Snapshot(Data() / "analytics"), analytics_before);
  // The sandbox is intact and the data is the same.
  EXPECT_EQ(server_->Get("/api/health")->status, 200);
  EXPECT_EQ(Ok("SELECT count(*) FROM flights")["rows"][0][0], 3000000);
  EXPECT_EQ(Query("SELECT * FROM read_csv('/etc/passwd')")->status, 403);
}

TEST_F(QueryE2E, BadBodiesAndAuth) {
  std::string none;
  auto unauth = server_->Post("/api/query", R"({"sql":"SELECT 1"})", &none);
  ASSERT_TRUE(unauth);
  EXPECT_EQ(unauth->status, 401);
  for (const char* body : {"", "{bad", "[1]", R"({"sql": 1})", R"({"sql":"SELECT 1","limit":"5"})"}) {
    auto r = server_->Post("/api/query", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body << " " << r->body;
  }
}

TEST_F(QueryE2E, DeepButAcceptableNestingRuns) {
  std::string nested = "SELECT count(*) AS n FROM ";
  for (int i = 0; i < 200; ++i) nested += "(SELECT * FROM ";
  nested += "airports";
  for (int i = 0; i < 200; ++i) nested += ")";
  auto r = Query(nested);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->status == 200 || r->status == 400) << r->body.substr(0, 300);
  EXPECT_EQ(server_->Get("/api/health")->status, 200);
}

TEST_F(QueryE2E, CliRemoteQueryPrintsLikeLocal) {
  auto cfg = tmp_->path() / "cli-config";
  ASSERT_EQ(RunDa({"login", "--server", server_->url(), "--token", server_->admin_token()}, cfg)
                .exit_code,
            0);
  auto csv = RunDa({"query", "--remote", "--format", "csv",
                    "SELECT origin, count(*) AS n FROM flights GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3"},
                   cfg);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  auto truth = DuckDbRows("SELECT origin, count(*) FROM " + Flights() +
                          " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3");
  EXPECT_EQ(Lines(csv.out), (std::vector<std::string>{"origin,n", truth[0], truth[1], truth[2]}));

  auto table = RunDa({"query", "--remote", "SELECT iata, latitude FROM airports WHERE iata = 'SEA'"},
                     cfg);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("SEA"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("(1 row)"), std::string::npos) << table.out;

  auto truncated = RunDa({"query", "--remote", "--limit", "2", "-f", "json", "SELECT * FROM airports"}, cfg);
  ASSERT_EQ(truncated.exit_code, 0) << truncated.err;
  EXPECT_EQ(json::parse(truncated.out).size(), 2u);
  EXPECT_NE(truncated.err.find("truncated to 2 rows"), std::string::npos) << truncated.err;

  auto denied = RunDa({"query", "--remote", "SELECT * FROM read_csv('/etc/passwd')"}, cfg);
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("read_csv"), std::string::npos) << denied.err;
  EXPECT_TRUE(denied.out.empty()) << denied.out;
  auto bad = RunDa({"query", "--remote", "COPY airports TO '/tmp/x.csv'"}, cfg);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("only a single SELECT"), std::string::npos) << bad.err;
}

// One JSON encoding of values (docs/api.md): the server's POST /api/query and the analyst's
// local `da query --format json` give the same JSON for the same row of mixed types.
TEST_F(QueryE2E, ApiAndLocalQueryEncodeTheSameRowAlike) {
  auto cfg = tmp_->path() / "cli-config-json";
  ASSERT_EQ(RunDa({"login", "--server", server_->url(), "--token", server_->admin_token()}, cfg)
                .exit_code,
            0);
  auto ws = tmp_->path() / "ws-json";
  auto pull = RunDa({"sync", "--workspace", ws.string()}, cfg);
  ASSERT_EQ(pull.exit_code, 0) << pull.out << pull.err;

  const std::string sql =
      "SELECT iata, latitude, count(*) OVER () AS n, sum(1) OVER () AS total, "
      "latitude::DECIMAL(9,4) AS dec, 12345678901234567.89::DECIMAL(38,2) AS wide, "
      "18446744073709551616::HUGEINT AS big, 1.1::FLOAT AS f, 'nan'::DOUBLE AS nan, "
      "'-inf'::DOUBLE AS ninf, true AS yes, NULL::INT AS nothing, DATE '2024-02-29' AS d, "
      "TIMESTAMP '2024-02-29 10:11:12.5' AS ts, INTERVAL 3 DAY AS iv, "
      "'00000000-0000-0000-0000-000000000001'::UUID AS u, 'ab'::BLOB AS bl, "
      "[1, NULL, 3] AS l, {'a': iata, 'b': [true]} AS st, MAP {'k': 1.5} AS m, "
      "[DATE '2024-01-02'] AS dates FROM airports WHERE iata = 'SEA'";
  json api = Ok(sql);
  ASSERT_EQ(api["rows"].size(), 1u) << api.dump();
  auto local = RunDa({"query", "--workspace", ws.string(), "--format", "json", sql}, cfg);
  ASSERT_EQ(local.exit_code, 0) << local.err;
  json local_rows = json::parse(local.out);
  ASSERT_EQ(local_rows.size(), 1u) << local.out;

  json from_api = json::object();
  for (size_t c = 0; c < api["columns"].size(); ++c) {
    from_api[api["columns"][c].get<std::string>()] = api["rows"][0][c];
  }
  EXPECT_EQ(from_api, local_rows[0]) << "api:   " << from_api.dump() << "\nlocal: " << local.out;
  // And the values are the documented ones.
  const json& row = local_rows[0];
  EXPECT_EQ(row["iata"], "SEA");
  EXPECT_TRUE(row["latitude"].is_number_float());
  EXPECT_EQ(row["total"], row["n"]);
  EXPECT_TRUE(row["dec"].is_number());
  EXPECT_EQ(row["wide"], "12345678901234567.89");
  EXPECT_EQ(row["big"], "18446744073709551616");
  EXPECT_EQ(row["f"], 1.1);
  EXPECT_TRUE(row["nan"].is_null());
  EXPECT_TRUE(row["ninf"].is_null());
  EXPECT_EQ(row["yes"], true);
  EXPECT_TRUE(row["nothing"].is_null());
  EXPECT_EQ(row["d"], "2024-02-29");
  EXPECT_EQ(row["ts"], "2024-02-29 10:11:12.5");
  EXPECT_EQ(row["iv"], "3 days");
  EXPECT_EQ(row["u"], "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(row["bl"], "ab");
  EXPECT_EQ(row["l"], json::parse("[1, null, 3]"));
  EXPECT_EQ(row["st"], json::parse(R"({"a": "SEA", "b": [true]})"));
  EXPECT_EQ(row["m"], json::parse(R"({"k": 1.5})"));
  EXPECT_EQ(row["dates"], json::parse(R"(["2024-01-02"])"));
}

}  // namespace
}  // namespace da::e2e
