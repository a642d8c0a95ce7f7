// The main job end to end on the real vega datasets:
// register (da admin) → sync (server runs `da extract`) → da login → da sync → da query.
#include <gtest/gtest.h>

#include <fstream>

#include "common/hash.h"
#include "support/datasets.h"
#include "support/files.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support

struct Dataset_ {
  const char* name;
  const char* file;
};
const Dataset_ kDatasets[] = {{"flights", "flights-3m.parquet"},
                              {"airports", "airports.csv"},
                              {"seattle_weather", "seattle-weather.csv"},
                              {"birdstrikes", "birdstrikes.csv"},
                              {"movies", "movies.json"}};

TEST(MainJob, FilesToAnalystQueryOnRealData) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data");
  ASSERT_GT(server.port(), 0);
  ASSERT_FALSE(server.admin_token().empty());
  auto cfg = tmp.path() / "config";
  auto ws = tmp.path() / "analysis";

  // Health first: schema ok.
  auto health = server.Get("/api/health", nullptr);
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(nlohmann::json::parse(health->body)["db_schema"], "ok");

  // The admin CLI talks to the server over HTTP.
  ASSERT_EQ(RunDa({"login", "--server", server.url(), "--token", server.admin_token()}, cfg).exit_code, 0);
  for (const auto& d : kDatasets) {
    auto r = RunDa({"admin", "register-table", d.name, "--source-type", "files", "--source-table",
                    Dataset(d.file).string()},
                   cfg);
    ASSERT_EQ(r.exit_code, 0) << d.name << ": " << r.err;
  }
  auto listed = RunDa({"admin", "list-tables", "--json"}, cfg);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("seattle_weather"), std::string::npos);
  // Table settings through the CLI: a schedule and a schema policy land in the record.
  auto updated = RunDa({"admin", "update-table", "movies", "--sync-schedule", "every 6h",
                        "--schema-policy", "freeze", "--json"},
                       cfg);
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  auto record = nlohmann::json::parse(updated.out);
  EXPECT_EQ(record["sync_schedule"], "every 6h");
  EXPECT_EQ(record["schema_policy"], "freeze");
  auto bad_policy = RunDa({"admin", "update-table", "movies", "--schema-policy", "loose"}, cfg);
  EXPECT_NE(bad_policy.exit_code, 0);
  EXPECT_NE(bad_policy.err.find("schema_policy"), std::string::npos) << bad_policy.err;

  auto synced = RunDa({"admin", "sync", "--wait"}, cfg);
  ASSERT_EQ(synced.exit_code, 0) << synced.out << synced.err << server.Output();
  // --wait prints the run's per-table outcomes.
  EXPECT_NE(synced.out.find(": ok (manual"), std::string::npos) << synced.out;
  EXPECT_NE(synced.out.find("flights"), std::string::npos) << synced.out;
  EXPECT_NE(synced.out.find("3000000"), std::string::npos) << synced.out;

  // The run is listed, shown and (being finished) cannot be cancelled.
  auto runs = RunDa({"admin", "runs", "--json"}, cfg);
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  auto run_list = nlohmann::json::parse(runs.out)["runs"];
  ASSERT_EQ(run_list.size(), 1u) << runs.out;
  const std::string run_id = run_list[0]["run_id"].get<std::string>();
  EXPECT_EQ(run_list[0]["status"], "ok");
  auto shown = RunDa({"admin", "run", run_id}, cfg);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out.rfind("Run " + run_id + ": ok", 0), 0u) << shown.out;
  EXPECT_NE(shown.out.find("seattle_weather  synced  1461"), std::string::npos) << shown.out;
  auto cancel = RunDa({"admin", "cancel", run_id}, cfg);
  EXPECT_EQ(cancel.exit_code, 4) << cancel.err;  // 409 failed_precondition
  EXPECT_NE(cancel.err.find("error: "), std::string::npos) << cancel.err;
  auto bad_id = RunDa({"admin", "run", "../x"}, cfg);
  EXPECT_EQ(bad_id.exit_code, 2) << bad_id.err;

  // The catalog reports the real row counts.
  auto cat = server.Get("/api/catalog/tables");
  ASSERT_TRUE(cat);
  ASSERT_EQ(cat->status, 200);
  std::map<std::string, nlohmann::json> by_id;
  auto catalog = nlohmann::json::parse(cat->body);
  for (const auto& t : catalog["tables"]) by_id[t["id"].get<std::string>()] = t;
  ASSERT_EQ(by_id.size(), 5u);
  EXPECT_EQ(by_id["flights"]["rows"], 3000000);
  EXPECT_EQ(by_id["flights"]["status"], "ok");
  EXPECT_EQ(by_id["airports"]["rows"],
            std::stoll(DuckDbRows("SELECT count(*) FROM read_csv('" +
                                  Dataset("airports.csv").string() + "')")[0]));
  // The catalog answer is cached per caller; a registry change shows at once.
  ASSERT_EQ(RunDa({"admin", "update-table", "airports", "--description", "US airports"}, cfg).exit_code, 0);
  auto cat2 = server.Get("/api/catalog/tables");
  ASSERT_TRUE(cat2);
  bool described = false;
  const auto catalog2 = nlohmann::json::parse(cat2->body);
  for (const auto& t : catalog2["tables"]) {
    if (t["id"] == "airports") described = t["description"] == "US airports";
  }
  EXPECT_TRUE(described) << cat2->body;

  // The manifest MD5 is the MD5 of the downloaded bytes.
  auto manifest = server.Get("/api/sync/manifest");
  ASSERT_TRUE(manifest);
  auto mj = nlohmann::json::parse(manifest->body);
  ASSERT_EQ(mj["tables"].size(), 5u);
  for (const auto& t : mj["tables"]) {
    EXPECT_EQ(t["md5"].get<std::string>().size(), 32u);
    if (t["id"] == "airports") {
      auto dl = server.Get("/api/data/airports/download");
      ASSERT_TRUE(dl);
      ASSERT_EQ(dl->status, 200);
      EXPECT_EQ(Md5Hex(dl->body), t["md5"]);
      EXPECT_EQ(dl->get_header_value("ETag"), "\"" + t["md5"].get<std::string>() + "\"");
      EXPECT_EQ(dl->body.substr(0, 4), "PAR1");
    }
  }

  // The analyst: sync to a workspace, query locally.
  auto pull = RunDa({"sync", "--workspace", ws.string()}, cfg);
  ASSERT_EQ(pull.exit_code, 0) << pull.out << pull.err;
  EXPECT_NE(pull.out.find("Updated 5 tables (5 total)"), std::string::npos) << pull.out;

  auto count = RunDa({"query", "--workspace", ws.string(), "--format", "csv",
                      "SELECT count(*) AS n FROM flights"},
                     cfg);
  ASSERT_EQ(count.exit_code, 0) << count.err;
  auto count_lines = Lines(count.out);
  ASSERT_EQ(count_lines.size(), 2u) << count.out;
  EXPECT_EQ(count_lines[1], "3000000");

  auto q = RunDa({"query", "--workspace", ws.string(), "--format", "csv",
                  "SELECT origin, count(*) AS n FROM flights GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"},
                 cfg);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  auto got = Lines(q.out);
  ASSERT_FALSE(got.empty());
  got.erase(got.begin());  // header
  auto expected = DuckDbRows(
      "SELECT origin, count(*) AS n FROM read_parquet('" + Dataset("flights-3m.parquet").string() +
      "') GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5");
  EXPECT_EQ(got, expected);

  // Values survive the CSV → Parquet → laptop path too.
  auto w = RunDa({"query", "--workspace", ws.string(), "--format", "csv",
                  "SELECT weather, count(*), round(avg(temp_max), 3) FROM seattle_weather GROUP BY 1 ORDER BY 1"},
                 cfg);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto wl = Lines(w.out);
  wl.erase(wl.begin());
  EXPECT_EQ(wl, DuckDbRows("SELECT weather, count(*), round(avg(temp_max), 3) FROM read_csv('" +
                           Dataset("seattle-weather.csv").string() + "') GROUP BY 1 ORDER BY 1"));

  // A second sync downloads nothing.
  auto again = RunDa({"sync", "--workspace", ws.string()}, cfg);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("Updated 0 tables (5 total)"), std::string::npos) << again.out;

  // Unregistering removes the table from the server and, on the next sync, from the laptop.
  auto del = RunDa({"admin", "unregister-table", "movies"}, cfg);
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "data" / "extracts" / "files" / "data" / "movies.parquet"));
  auto third = RunDa({"sync", "--workspace", ws.string()}, cfg);
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_FALSE(std::filesystem::exists(ws / "data" / "movies.parquet"));
  auto gone = RunDa({"query", "--workspace", ws.string(), "SELECT count(*) FROM movies"}, cfg);
  EXPECT_NE(gone.exit_code, 0);
}

TEST(MainJob, DownloadHonoursEtagAndRanges) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data");
  auto reg = server.Post("/api/admin/register-table",
                         nlohmann::json{{"name", "airports"}, {"source_type", "files"},
                                        {"source_table", Dataset("airports.csv").string()}}
                             .dump());
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->status, 201) << reg->body;
  server.SyncAndWait({"airports"});
  auto full = server.Get("/api/data/airports/download");
  ASSERT_TRUE(full);
  ASSERT_EQ(full->status, 200);
  std::string etag = full->get_header_value("ETag");
  EXPECT_EQ(etag, "\"" + Md5Hex(full->body) + "\"");

  auto cached = server.Get("/api/data/airports/download", nullptr, {{"If-None-Match", etag}});
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->status, 304);
  EXPECT_TRUE(cached->body.empty());

  auto part = server.Get("/api/data/airports/download", nullptr, {{"Range", "bytes=4-103"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, full->body.substr(4, 100));
}

}  // namespace
}  // namespace da::e2e
