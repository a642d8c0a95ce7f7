// The keboola connector end to end through real processes: the Storage API emulator
// (tests/emulators/keboola, HTTPS on loopback with a test CA) → `da connector discover|test` →
// `da extract keboola` (bad inputs, filters, strategies) → `da serve` discover-and-register →
// server sync → `da sync` → `da query`, asserting values of the real vega datasets.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/table_spec.h"
#include "model/table_spec_json.h"
#include "support/datasets.h"
#include "support/files.h"
#include "support/keboola_emulator_process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
namespace fs = std::filesystem;
using nlohmann::json;

using Emulator = KeboolaEmulatorProcess;

/// A registry record of the keboola source.
model::TableSpec Record(const std::string& id, const std::string& name) {
  model::TableSpec t;
  t.id = id;
  t.name = name;
  t.source_type = "keboola";
  t.bucket = id.substr(0, id.rfind('.'));
  t.source_table = id;
  return t;
}

/// Runs `da extract keboola` over `tables` and returns the report (tables by id).
struct Extract {
  int exit_code = -1;
  std::string err;
  std::map<std::string, json> tables;
};

Extract RunExtract(const fs::path& dir, const std::vector<model::TableSpec>& tables,
                   const std::vector<std::string>& env, const std::string& yaml = "") {
  json reg = {{"tables", json::array()}};
  for (const auto& t : tables) reg["tables"].push_back(model::TableSpecToJson(t));
  std::ofstream(dir / "registry.json") << reg.dump();
  std::ofstream(dir / "instance.yaml") << "sources:\n  keboola:\n    table_concurrency: 4\n    poll_initial_ms: 50\n"
                                          "    poll_max_ms: 200\n" << yaml;
  auto r = RunDa({"extract", "keboola", "--data-dir", (dir / "data").string(), "--registry-json",
                  (dir / "registry.json").string(), "--config", (dir / "instance.yaml").string()},
                 dir / "client", env);
  Extract out;
  out.exit_code = r.exit_code;
  out.err = r.err;
  for (const auto& line : Lines(r.out)) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("tables")) continue;
    for (const auto& t : j["tables"]) out.tables[t["table_id"].get<std::string>()] = t;
  }
  return out;
}

fs::path Parquet(const fs::path& dir, const std::string& id) {
  return dir / "data" / "extracts" / "keboola" / "data" / (id + ".parquet");
}

class KeboolaE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new TempDir();
    emu_ = new Emulator(work_->path() / "emulator");
  }
  static void TearDownTestSuite() {
    delete emu_;
    delete work_;
  }
  void SetUp() override { ASSERT_TRUE(emu_->ok()) << "the emulator did not start"; }

  static TempDir* work_;
  static Emulator* emu_;
};
TempDir* KeboolaE2E::work_ = nullptr;
Emulator* KeboolaE2E::emu_ = nullptr;

TEST_F(KeboolaE2E, DiscoverListsTablesWithTypesKeysAndDescriptions) {
  TempDir tmp;
  auto r = RunDa({"connector", "discover", "keboola", "--json", "--data-dir",
                  (tmp.path() / "data").string()},
                 tmp.path() / "client", emu_->Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  std::map<std::string, json> by_id;
  for (const auto& t : j["tables"]) by_id[t["source_table"].get<std::string>()] = t;
  ASSERT_TRUE(by_id.count("in.c-flights.flights")) << r.out;
  const json& f = by_id["in.c-flights.flights"];
  EXPECT_EQ(f["name"], "flights");
  EXPECT_EQ(f["description"], "US domestic flights, 3M rows");
  EXPECT_EQ(f["columns"][0], json({{"name", "date"}, {"type", "TIMESTAMP"}}));
  EXPECT_EQ(f["columns"][1], json({{"name", "delay"}, {"type", "BIGINT"}}));
  EXPECT_EQ(by_id["in.c-flights.airports"]["primary_key"], json({"iata"}));
  EXPECT_EQ(by_id["in.c-flights.airports"]["columns"][5]["type"], "DOUBLE");  // latitude
  // No column metadata ([] on the wire): text columns.
  EXPECT_EQ(by_id["in.c-test.tricky"]["columns"][0]["type"], "VARCHAR");
  EXPECT_EQ(r.out.find(emu_->token()), std::string::npos);
}

TEST_F(KeboolaE2E, ConnectorTestChecksTheTokenAgainstVerify) {
  TempDir tmp;
  auto bad = RunDa({"connector", "test", "keboola", "--json", "--data-dir",
                    (tmp.path() / "data").string()},
                   tmp.path() / "client", emu_->Env("wrong-token-123456"));
  EXPECT_NE(bad.exit_code, 0);
  auto j = json::parse(bad.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << bad.out << bad.err;
  EXPECT_EQ(j["checks"][0]["name"], "health_check");
  EXPECT_EQ(j["checks"][0]["outcome"], "fail");
  EXPECT_NE(j["checks"][0]["detail"].get<std::string>().find("401"), std::string::npos) << bad.out;
  // The API's own message comes along (redacted).
  EXPECT_NE(j["checks"][0]["detail"].get<std::string>().find("Invalid access token"), std::string::npos) << bad.out;
  EXPECT_EQ((bad.out + bad.err).find("wrong-token-123456"), std::string::npos);

  // The right token: the health check and the whole contract suite pass.
  std::ofstream(tmp.path() / "instance.yaml") << "sources:\n  keboola:\n    poll_initial_ms: 50\n";
  auto good = RunDa({"connector", "test", "keboola", "--json", "--data-dir",
                     (tmp.path() / "data").string(), "--config", (tmp.path() / "instance.yaml").string()},
                    tmp.path() / "client", emu_->Env());
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  auto g = json::parse(good.out, nullptr, false);
  ASSERT_TRUE(g.is_object()) << good.out;
  EXPECT_EQ(g["passed"], true) << good.out;
  EXPECT_EQ(g["checks"][0]["outcome"], "pass") << good.out;
}

TEST_F(KeboolaE2E, ExtractBadInputsEachFailCleanlyAndOthersSucceed) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "scratch");
  // Two 503s with Retry-After on the weather table's calls: retried, then fine.
  std::string none;
  emu_->Control("/_emulator/fail?status=503&count=2&retry_after=1&prefix=/v2/storage/tables/in.c-test.broken_slice", &none);
  std::vector<model::TableSpec> tables = {
      Record("in.c-test.tricky", "tricky"),
      Record("in.c-test.empty", "empty_table"),
      Record("in.c-test.broken_slice", "broken_slice"),
      Record("in.c-test.job_error", "job_error"),
      Record("in.c-test.job_stuck", "job_stuck"),
      Record("in.c-test.token_echo", "token_echo"),
      Record("in.c-test.nope", "nope"),
      Record("in.c-flights.airports", "airports"),
      Record("in.c-test.gcs_sliced", "gcs_sliced"),
      Record("in.c-test.typed_blank", "typed_blank"),
  };
  auto env = emu_->Env();
  env.push_back("DA_GCS_ENDPOINT=" + emu_->url());
  // Left by a killed process (pid 999999 does not exist): removed by the next read.
  fs::create_directories(tmp.path() / "scratch" / "keboola-999999-abcdef" / "x");
  env.push_back("DA_TEMP_DIR=" + (tmp.path() / "scratch").string());
  auto r = RunExtract(tmp.path(), tables, env, "    job_timeout_seconds: 2\n");
  ASSERT_EQ(r.tables.size(), tables.size()) << r.err;
  auto error_of = [&](const std::string& id) { return r.tables[id].value("error", std::string()); };

  EXPECT_EQ(r.tables["in.c-test.tricky"]["status"], "ok") << error_of("in.c-test.tricky");
  EXPECT_EQ(r.tables["in.c-test.tricky"]["rows"], 3);
  EXPECT_EQ(r.tables["in.c-test.empty"]["status"], "ok") << error_of("in.c-test.empty");
  EXPECT_EQ(r.tables["in.c-test.empty"]["rows"], 0);
  EXPECT_EQ(r.tables["in.c-test.broken_slice"]["status"], "ok") << error_of("in.c-test.broken_slice");
  EXPECT_EQ(r.tables["in.c-test.broken_slice"]["rows"], 1461);
  EXPECT_EQ(r.tables["in.c-flights.airports"]["status"], "ok") << error_of("in.c-flights.airports");
  EXPECT_EQ(r.tables["in.c-flights.airports"]["rows"], 3376);
  // A quoted '' in an INTEGER column: the typed CSV read falls back to text + CAST ('' = NULL).
  EXPECT_EQ(r.tables["in.c-test.typed_blank"]["status"], "ok") << error_of("in.c-test.typed_blank");
  auto blank = DuckDbRows("SELECT typeof(n), count(n), sum(n) FROM '" +
                          Parquet(tmp.path(), "in.c-test.typed_blank").string() + "' GROUP BY ALL");
  EXPECT_EQ(blank, std::vector<std::string>({"BIGINT,1,7"}));
  // gs:// slices: fetched from the GCS JSON API with the issued bearer token.
  EXPECT_EQ(r.tables["in.c-test.gcs_sliced"]["status"], "ok") << error_of("in.c-test.gcs_sliced");
  EXPECT_EQ(r.tables["in.c-test.gcs_sliced"]["rows"], 1461);

  EXPECT_NE(error_of("in.c-test.job_error").find("Snowflake unload failed"), std::string::npos)
      << error_of("in.c-test.job_error");
  EXPECT_NE(error_of("in.c-test.job_stuck").find("job_timeout_seconds"), std::string::npos)
      << error_of("in.c-test.job_stuck");
  EXPECT_NE(error_of("in.c-test.nope").find("was not found in the bucket"), std::string::npos)
      << error_of("in.c-test.nope");
  const std::string leak = error_of("in.c-test.token_echo");
  EXPECT_NE(leak.find("emulated leak"), std::string::npos) << leak;
  EXPECT_EQ(leak.find(emu_->token()), std::string::npos) << leak;
  EXPECT_NE(leak.find("***"), std::string::npos) << leak;
  EXPECT_EQ(r.err.find(emu_->token()), std::string::npos) << "the token leaked into the logs";

  // Temp files are always removed.
  EXPECT_TRUE(fs::is_empty(tmp.path() / "scratch"));

  // The CSV corner cases survive: newline, quotes, unicode, a 100 000-character cell, NULL vs ''.
  const std::string p = Parquet(tmp.path(), "in.c-test.tricky").string();
  auto rows = DuckDbRows("SELECT id, text = 'line1' || chr(10) || 'line2', note, length(text), "
                         "note IS NULL FROM '" + p + "' ORDER BY id::INT");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "1,true,say \"hi\", ok,11,false");
  auto uni = DuckDbRows("SELECT text, note = '' FROM '" + p + "' WHERE id = '2'");
  EXPECT_EQ(uni, std::vector<std::string>({"Zürich – 東京 🚀,true"}));
  auto longcell = DuckDbRows("SELECT length(text), note IS NULL FROM '" + p + "' WHERE id = '3'");
  EXPECT_EQ(longcell, std::vector<std::string>({"100000,true"}));
  // Typed from base-type metadata: temp_max is DOUBLE, date is DATE; values match the CSV.
  const std::string w = Parquet(tmp.path(), "in.c-test.broken_slice").string();
  auto typed = DuckDbRows("SELECT typeof(date), typeof(temp_max), sum(temp_max)::DECIMAL(12,1) FROM '" +
                          w + "' GROUP BY ALL");
  auto truth = DuckDbRows("SELECT 'DATE', 'DOUBLE', sum(temp_max)::DECIMAL(12,1) FROM '" +
                          Dataset("seattle-weather.csv").string() + "'");
  EXPECT_EQ(typed, truth);
}

TEST_F(KeboolaE2E, InvalidTokenFailsEveryTableWithTheApiMessage) {
  TempDir tmp;
  auto r = RunExtract(tmp.path(), {Record("in.c-flights.airports", "airports")},
                      emu_->Env("not-the-token-98765"));
  ASSERT_EQ(r.tables.size(), 1u) << r.err;
  const std::string e = r.tables["in.c-flights.airports"]["error"];
  EXPECT_NE(e.find("401"), std::string::npos) << e;
  EXPECT_NE(e.find("Invalid access token"), std::string::npos) << e;
  EXPECT_EQ((e + r.err).find("not-the-token-98765"), std::string::npos);
}

TEST_F(KeboolaE2E, ExportFilterAndParquetAndIncremental) {
  TempDir tmp;
  auto sun = Record("in.c-weather.seattle_weather", "sunny");
  sun.query_mode = model::QueryMode::kMaterialized;
  sun.source_query = R"({"where_filters": [{"column": "weather", "operator": "eq", "values": ["sun"]},
                          {"column": "temp_max", "operator": "ge", "values": ["20"], "data_type": "DOUBLE"}],
                         "columns": ["date", "weather", "temp_max"], "file_type": "parquet"})";
  auto r = RunExtract(tmp.path(), {sun}, emu_->Env());
  ASSERT_EQ(r.tables.size(), 1u) << r.err;
  ASSERT_EQ(r.tables[sun.id]["status"], "ok") << r.tables[sun.id].dump();
  auto got = DuckDbRows("SELECT count(*), max(temp_max), count(DISTINCT weather) FROM '" +
                        Parquet(tmp.path(), sun.id).string() + "'");
  auto want = DuckDbRows("SELECT count(*), max(temp_max), 1 FROM '" + Dataset("seattle-weather.csv").string() +
                         "' WHERE weather = 'sun' AND temp_max >= 20");
  EXPECT_EQ(got, want);
  // The wire form: PHP bracket arrays, columns comma-joined, fileType.
  auto exports = emu_->Control("/_emulator/exports");
  ASSERT_TRUE(exports.is_array());
  const json& last = exports.back()["params"];
  EXPECT_EQ(last["columns"], "date,weather,temp_max");
  EXPECT_EQ(last["fileType"], "parquet");
  EXPECT_EQ(last["whereFilters"][1], json({{"column", "temp_max"}, {"operator", "ge"},
                                           {"values", {"20"}}, {"dataType", "DOUBLE"}}));

  // Incremental with a primary key: a second run asks changedSince and merges changed rows.
  auto inc = Record("in.c-weather.seattle_weather", "weather");
  inc.sync_strategy = model::SyncStrategy::kIncremental;
  inc.incremental_column = "date";
  inc.primary_key = {"date"};
  TempDir tmp2;
  auto first = RunExtract(tmp2.path(), {inc}, emu_->Env());
  ASSERT_EQ(first.tables[inc.id]["status"], "ok") << first.tables[inc.id].dump();
  std::string rows = R"([{"date": "2016-01-01", "precipitation": "0.0", "temp_max": "9.9", "temp_min": "1.0", "wind": "2.0", "weather": "sun"}])";
  ASSERT_TRUE(emu_->Control("/_emulator/tables/in.c-weather.seattle_weather/rows", &rows).is_object());
  auto second = RunExtract(tmp2.path(), {inc}, emu_->Env());
  ASSERT_EQ(second.tables[inc.id]["status"], "ok") << second.tables[inc.id].dump();
  auto after = DuckDbRows("SELECT count(*), max(date) FROM '" + Parquet(tmp2.path(), inc.id).string() + "'");
  EXPECT_EQ(after, std::vector<std::string>({"1462,2016-01-01"}));
  auto exports2 = emu_->Control("/_emulator/exports");
  EXPECT_EQ(exports2.back()["params"]["changedSince"], "-7 days");

  // Partitioned by year of `date`: one file per year, every row once.
  auto part = Record("in.c-test.broken_slice", "weather_by_year");
  part.sync_strategy = model::SyncStrategy::kPartitioned;
  part.partition_by = "date";
  part.partition_granularity = model::PartitionGranularity::kYear;
  part.primary_key = {"date"};
  TempDir tmp3;
  auto p = RunExtract(tmp3.path(), {part}, emu_->Env());
  ASSERT_EQ(p.tables[part.id]["status"], "ok") << p.tables[part.id].dump();
  EXPECT_EQ(p.tables[part.id]["rows"], 1461);
  std::vector<std::string> files;
  for (const auto& f : p.tables[part.id]["files"]) files.push_back(f["name"]);
  EXPECT_EQ(files, std::vector<std::string>({"2012.parquet", "2013.parquet", "2014.parquet", "2015.parquet"}));
}

/// The export parameters the emulator recorded for `table_id` after the first `skip` exports.
std::vector<json> ExportsOf(const json& exports, size_t skip, const std::string& table_id) {
  std::vector<json> out;
  for (size_t i = skip; exports.is_array() && i < exports.size(); ++i) {
    if (exports[i]["table"] == table_id) out.push_back(exports[i]["params"]);
  }
  return out;
}

int64_t Unix(const json& v) { return std::stoll(v.get<std::string>()); }

// in.c-test.history: one row a day, days_ago 0..99 and 185..199 (an 85-day gap).
TEST_F(KeboolaE2E, PartitionedFirstLoadExportsBackwardsInChunks) {
  const std::string id = "in.c-test.history";
  auto part = Record(id, "history");
  part.sync_strategy = model::SyncStrategy::kPartitioned;
  part.partition_by = "day";
  part.partition_granularity = model::PartitionGranularity::kMonth;
  part.primary_key = {"id"};
  part.incremental_column = "day";
  auto rows_of = [&](const TempDir& t) {
    return DuckDbRows("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM '" +
                      (t.path() / "data" / "extracts" / "keboola" / "data" / id / "*.parquet").string() + "'");
  };

  // Default 30-day windows: 0-31, 30-61, 60-91, 90-121 days back have rows, 120-151 and
  // 150-181 are empty → stop; the rows beyond the gap are not reached. Rows on a window edge
  // come twice and are kept once.
  TempDir tmp;
  size_t before = emu_->Control("/_emulator/exports").size();
  auto r = RunExtract(tmp.path(), {part}, emu_->Env());
  ASSERT_EQ(r.tables[id]["status"], "ok") << r.tables[id].dump() << r.err;
  EXPECT_EQ(r.tables[id]["rows"], 100);
  EXPECT_EQ(rows_of(tmp), std::vector<std::string>({"100,100,0,99"}));
  auto chunks = ExportsOf(emu_->Control("/_emulator/exports"), before, id);
  ASSERT_EQ(chunks.size(), 6u);
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(Unix(chunks[i]["changedUntil"]) - Unix(chunks[i]["changedSince"]), 31 * 86400) << i;
    if (i > 0) EXPECT_EQ(Unix(chunks[i - 1]["changedUntil"]) - Unix(chunks[i]["changedUntil"]), 30 * 86400);
  }
  EXPECT_NEAR(static_cast<double>(Unix(chunks[0]["changedUntil"])), static_cast<double>(std::time(nullptr)), 600);
  // One log line per window, with rows and bytes, never the token.
  EXPECT_NE(r.err.find("first-load chunk 1/120"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("first-load chunk 6/120"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("first-load chunk 7/120"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(": 0 rows, "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(emu_->token()), std::string::npos);

  // The next sync has a watermark: one incremental export by changedSince, nothing doubled.
  before = emu_->Control("/_emulator/exports").size();
  auto again = RunExtract(tmp.path(), {part}, emu_->Env());
  ASSERT_EQ(again.tables[id]["status"], "ok") << again.tables[id].dump();
  auto later = ExportsOf(emu_->Control("/_emulator/exports"), before, id);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0]["changedSince"], "-7 days");
  EXPECT_FALSE(later[0].contains("changedUntil"));
  EXPECT_EQ(rows_of(tmp), std::vector<std::string>({"100,100,0,99"}));

  // 50-day windows from the source config: the 100-151 window is empty, 150-201 is not, then
  // two empty ones: every row, 6 exports.
  TempDir tmp2;
  before = emu_->Control("/_emulator/exports").size();
  auto wide = RunExtract(tmp2.path(), {part}, emu_->Env(), "    initial_load_chunk_days: 50\n");
  ASSERT_EQ(wide.tables[id]["status"], "ok") << wide.tables[id].dump();
  EXPECT_EQ(rows_of(tmp2), std::vector<std::string>({"115,115,0,199"}));
  EXPECT_EQ(ExportsOf(emu_->Control("/_emulator/exports"), before, id).size(), 6u);

  // max_history_days 45 in the table's filter: ceil(45/30) = 2 windows, the oldest clipped.
  TempDir tmp3;
  auto capped = part;
  capped.query_mode = model::QueryMode::kMaterialized;
  capped.source_query = R"({"max_history_days": 45})";
  before = emu_->Control("/_emulator/exports").size();
  auto c = RunExtract(tmp3.path(), {capped}, emu_->Env());
  ASSERT_EQ(c.tables[id]["status"], "ok") << c.tables[id].dump();
  EXPECT_EQ(rows_of(tmp3), std::vector<std::string>({"45,45,0,44"}));
  auto two = ExportsOf(emu_->Control("/_emulator/exports"), before, id);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(Unix(two[0]["changedUntil"]) - Unix(two[1]["changedSince"]), 45 * 86400);

  // No key in the registry (so the runtime merges nothing): the row 30 days back is in both
  // windows and the connector keeps it once, by the Keboola table's primary key.
  TempDir tmp4;
  auto unkeyed = capped;
  unkeyed.primary_key.clear();
  unkeyed.source_query = R"({"max_history_days": 61})";
  auto u = RunExtract(tmp4.path(), {unkeyed}, emu_->Env());
  ASSERT_EQ(u.tables[id]["status"], "ok") << u.tables[id].dump();
  EXPECT_EQ(rows_of(tmp4), std::vector<std::string>({"61,61,0,60"}));
}

TEST_F(KeboolaE2E, PartitionedChunkKnobsAreValidated) {
  const std::string id = "in.c-test.history";
  auto part = Record(id, "history");
  part.sync_strategy = model::SyncStrategy::kPartitioned;
  part.partition_by = "day";
  part.query_mode = model::QueryMode::kMaterialized;
  part.source_query = R"({"initial_load_chunk_days": 0})";
  TempDir tmp;
  size_t before = emu_->Control("/_emulator/exports").size();
  auto r = RunExtract(tmp.path(), {part}, emu_->Env());
  ASSERT_EQ(r.tables.size(), 1u) << r.err;
  EXPECT_EQ(r.tables[id]["status"], "error");
  EXPECT_NE(r.tables[id].value("error", "").find("initial_load_chunk_days must be an integer in [1, 3650]"),
            std::string::npos) << r.tables[id].dump();

  part.source_query = "";
  TempDir tmp2;
  auto bad = RunExtract(tmp2.path(), {part}, emu_->Env(), "    max_history_days: -3\n");
  ASSERT_EQ(bad.tables.size(), 1u) << bad.err;
  EXPECT_EQ(bad.tables[id]["status"], "error");
  EXPECT_NE(bad.tables[id].value("error", "").find("max_history_days must be an integer"), std::string::npos)
      << bad.tables[id].dump();
  EXPECT_EQ(ExportsOf(emu_->Control("/_emulator/exports"), before, id).size(), 0u);
}

TEST_F(KeboolaE2E, DiscoverRegisterSyncQuery) {
  TempDir tmp;
  const fs::path yaml = tmp.path() / "instance.yaml";
  std::ofstream(yaml) << "sources:\n  keboola:\n    poll_initial_ms: 50\n    poll_max_ms: 200\n"
                         "    job_timeout_seconds: 5\n";
  auto env = emu_->Env();
  env.push_back("DA_CONFIG=" + yaml.string());
  ServerProcess server(tmp.path() / "data", env);
  auto cfg = tmp.path() / "client";
  auto ws = tmp.path() / "ws";
  ASSERT_EQ(RunDa({"login", "--server", server.url(), "--token", server.admin_token()}, cfg).exit_code, 0);
  // Pre-existing rows that drift: the same id elsewhere, and the name `airports` under another id.
  ASSERT_EQ(RunDa({"admin", "register-table", "weather_files", "--id", "in.c-weather.seattle_weather",
                   "--source-type", "files", "--source-table", Dataset("seattle-weather.csv").string()}, cfg).exit_code, 0);
  ASSERT_EQ(RunDa({"admin", "register-table", "airports", "--source-type", "files", "--source-table",
                   Dataset("airports.csv").string()}, cfg).exit_code, 0);

  auto dry = RunDa({"admin", "discover-and-register", "--source", "keboola", "--dry-run", "--json"}, cfg);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  auto plan = json::parse(dry.out);
  EXPECT_EQ(plan["dry_run"], true);
  EXPECT_TRUE(plan["registered"].empty());
  std::map<std::string, json> by_id;
  for (const auto& e : plan["plan"]) by_id[e["id"].get<std::string>()] = e;
  EXPECT_EQ(by_id["in.c-flights.flights"]["class"], "new");
  EXPECT_EQ(by_id["in.c-weather.seattle_weather"]["class"], "existing_drift");
  EXPECT_EQ(by_id["in.c-weather.seattle_weather"]["existing"]["source_type"], "files");
  EXPECT_EQ(by_id["in.c-weather.seattle_weather"]["discovered"]["source_type"], "keboola");
  EXPECT_EQ(by_id["in.c-flights.airports"]["class"], "existing_drift");
  EXPECT_EQ(by_id["in.c-flights.airports"]["existing"]["id"], "airports");
  EXPECT_EQ(by_id["in.c-test.x'; DROP TABLE t; --"]["class"], "invalid");
  auto listed = RunDa({"admin", "list-tables", "--json"}, cfg);
  EXPECT_EQ(json::parse(listed.out)["tables"].size(), 2u);

  // A picked subset (as the web UI sends it): only the new ones among them are registered.
  auto picked = server.Post("/api/admin/discover-and-register?dry_run=false",
                            R"({"tables": ["in.c-flights.flights", "in.c-weather.seattle_weather", "in.c-none.x"]})");
  ASSERT_TRUE(picked);
  ASSERT_EQ(picked->status, 200) << picked->body;
  auto picked_body = json::parse(picked->body);
  EXPECT_EQ(picked_body["registered"], json::array({"in.c-flights.flights"}));
  std::set<std::string> refused;
  for (const auto& e : picked_body["errors"]) refused.insert(e["id"].get<std::string>());
  EXPECT_EQ(refused, (std::set<std::string>{"in.c-weather.seattle_weather", "in.c-none.x"}));
  auto misspelt = server.Post("/api/admin/discover-and-register?dry_run=false", R"({"table": ["x"]})");
  ASSERT_TRUE(misspelt);
  EXPECT_EQ(misspelt->status, 422) << misspelt->body;
  EXPECT_EQ(json::parse(RunDa({"admin", "list-tables", "--json"}, cfg).out)["tables"].size(), 3u);

  auto real = RunDa({"admin", "discover-and-register", "--source", "keboola"}, cfg);
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_NE(real.out.find("existing_drift"), std::string::npos) << real.out;
  auto reg = server.Get("/api/admin/registry");
  ASSERT_TRUE(reg);
  auto tables = json::parse(reg->body)["tables"];
  EXPECT_EQ(tables.size(), 2u + 10u) << reg->body;  // 13 discovered − 2 drift − 1 invalid
  for (const auto& t : tables) {
    if (t["id"] == "in.c-weather.seattle_weather") EXPECT_EQ(t["source_type"], "files");  // untouched
  }
  // Again: the same tables are now existing_match and nothing is registered twice.
  auto again = server.Post("/api/admin/discover-and-register?dry_run=false", "");
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body)["summary"]["existing_match"], 10);
  auto bad = server.Post("/api/admin/discover-and-register?dry_run=maybe", "");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 422);

  // A bad export filter is refused when registered or changed (422), not at the next sync.
  auto bad_filter = server.Post("/api/admin/register-table",
                                R"({"name": "hist", "source_type": "keboola", "source_table": "in.c-test.history",
                                    "source_query": "{\"initial_load_chunk_days\": 0}"})");
  ASSERT_TRUE(bad_filter);
  EXPECT_EQ(bad_filter->status, 422) << bad_filter->body;
  EXPECT_NE(bad_filter->body.find("initial_load_chunk_days"), std::string::npos) << bad_filter->body;
  auto bad_update = server.Put("/api/admin/registry/in.c-flights.flights",
                              R"({"source_query": "{\"where_filters\": [{\"column\": \"origin\", \"operator\": \"like\", \"values\": [\"S%\"]}]}"})");
  ASSERT_TRUE(bad_update);
  EXPECT_EQ(bad_update->status, 422) << bad_update->body;
  EXPECT_EQ(json::parse(server.Get("/api/admin/registry/in.c-flights.flights")->body)["source_query"], "");

  auto run = server.SyncAndWait({"in.c-flights.flights", "in.c-test.tricky"});
  auto pull = RunDa({"sync", "--workspace", ws.string()}, cfg);
  ASSERT_EQ(pull.exit_code, 0) << pull.out << pull.err << server.Output();
  auto count = RunDa({"query", "--workspace", ws.string(), "--format", "csv",
                      "SELECT count(*) AS n, count(*) FILTER (WHERE origin = 'SEA') AS sea, "
                      "sum(delay) AS d FROM flights"}, cfg);
  ASSERT_EQ(count.exit_code, 0) << count.err;
  auto lines = Lines(count.out);
  ASSERT_EQ(lines.size(), 2u) << count.out;
  auto truth = DuckDbRows("SELECT count(*), count(*) FILTER (WHERE origin = 'SEA'), sum(delay) FROM '" +
                          Dataset("flights-3m.parquet").string() + "'");
  EXPECT_EQ(lines[1], truth.at(0));
  auto tricky = RunDa({"query", "--workspace", ws.string(), "--format", "csv",
                       "SELECT length(text) AS n FROM tricky ORDER BY id"}, cfg);
  ASSERT_EQ(tricky.exit_code, 0) << tricky.err;
  EXPECT_EQ(Lines(tricky.out), std::vector<std::string>({"n", "11", "13", "100000"}));
  EXPECT_EQ(server.Output().find(emu_->token()), std::string::npos) << "token in the server log";
}

TEST_F(KeboolaE2E, DiscoverAndRegisterWithABadTokenChangesNothing) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data", emu_->Env("bad-token-4242-xyz"));
  auto r = server.Post("/api/admin/discover-and-register?dry_run=false", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << r->body;
  auto j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->body;
  EXPECT_EQ(j["error"]["code"], "source_error");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("Invalid access token"), std::string::npos);
  EXPECT_EQ(r->body.find("bad-token-4242-xyz"), std::string::npos);
  auto reg = server.Get("/api/admin/registry");
  ASSERT_TRUE(reg);
  EXPECT_TRUE(json::parse(reg->body)["tables"].empty());
  auto unknown = server.Post("/api/admin/discover-and-register?source=nope", "");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

}  // namespace
}  // namespace da::e2e
