// Catalog v2 end to end on the real vega datasets: register + sync, then /api/v2/catalog,
// /api/v2/schema, /api/v2/sample, /api/catalog/profile (with ?refresh=true), `da catalog` and
// `da describe`, 401/403/404/422 answers, and a non-admin caller.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/hash.h"
#include "state/state_db.h"
#include "state/users.h"
#include "support/datasets.h"
#include "support/files.h"
#include "support/server_process.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support

using nlohmann::json;

json Body(const httplib::Result& r) {
  EXPECT_TRUE(r);
  if (!r) return json();
  return json::parse(r->body, nullptr, false);
}

/// Asserts an error answer: HTTP status, error code and a request id.
void ExpectError(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.contains("error")) << r->body;
  EXPECT_EQ(j["error"]["code"], code) << r->body;
  EXPECT_FALSE(j["error"]["request_id"].get<std::string>().empty());
}

std::string ParquetOf(const TempDir& tmp, const std::string& id) {
  return (tmp.path() / "data" / "extracts" / "files" / "data" / (id + ".parquet")).string();
}

/// Schema hash computed independently of the server: MD5 over "<name>\t<type>\n" per column of
/// DuckDB's own DESCRIBE of the published Parquet file.
std::string ExpectedSchemaHash(const std::string& parquet) {
  auto lines = DuckDbRows("SELECT column_name || chr(9) || column_type FROM "
                          "(DESCRIBE SELECT * FROM read_parquet('" + parquet + "'))");
  std::string canonical;
  for (const auto& l : lines) canonical += l + "\n";
  return Md5Hex(canonical);
}

/// Column of the first occurrence of `word` in `line` (for alignment checks).
size_t Col(const std::string& line, const std::string& word) { return line.find(word); }

TEST(CatalogE2E, EndpointsCliAndAccess) {
  TempDir tmp;
  auto data_dir = tmp.path() / "data";
  auto server = std::make_unique<ServerProcess>(data_dir);
  ASSERT_GT(server->port(), 0);
  auto cfg = tmp.path() / "config";

  struct Reg {
    const char* name;
    const char* file;
  };
  for (const Reg& r : {Reg{"seattle_weather", "seattle-weather.csv"}, Reg{"airports", "airports.csv"},
                       Reg{"later", "movies.json"}}) {
    auto reg = server->Post("/api/admin/register-table",
                            json{{"name", r.name},
                                 {"source_type", "files"},
                                 {"source_table", Dataset(r.file).string()},
                                 {"description", std::string("the ") + r.name + " table"}}
                                .dump());
    ASSERT_TRUE(reg);
    ASSERT_EQ(reg->status, 201) << reg->body;
  }
  server->SyncAndWait({"seattle_weather", "airports"});  // "later" stays never synced
  const std::string weather_csv = "read_csv('" + Dataset("seattle-weather.csv").string() + "')";
  const std::string weather_pq = ParquetOf(tmp, "seattle_weather");

  // --- GET /api/v2/catalog
  json cat = Body(server->Get("/api/v2/catalog"));
  ASSERT_EQ(cat["count"], 3) << cat.dump();
  std::map<std::string, json> by_id;
  for (const auto& t : cat["tables"]) by_id[t["id"].get<std::string>()] = t;
  const json& w = by_id["seattle_weather"];
  EXPECT_EQ(w["name"], "seattle_weather");
  EXPECT_EQ(w["description"], "the seattle_weather table");
  EXPECT_EQ(w["query_mode"], "local");
  EXPECT_EQ(w["source_type"], "files");
  EXPECT_EQ(w["rows"], std::stoll(DuckDbRows("SELECT count(*) FROM " + weather_csv)[0]));
  EXPECT_EQ(w["size_bytes"], static_cast<int64_t>(std::filesystem::file_size(weather_pq)));
  EXPECT_EQ(w["status"], "ok");
  EXPECT_EQ(w["published"], true);
  EXPECT_EQ(w["updated"].get<std::string>().size(), 20u);  // YYYY-MM-DDTHH:MM:SSZ
  EXPECT_EQ(w["schema_hash"], ExpectedSchemaHash(weather_pq));
  EXPECT_EQ(by_id["airports"]["schema_hash"], ExpectedSchemaHash(ParquetOf(tmp, "airports")));
  EXPECT_NE(by_id["airports"]["schema_hash"], w["schema_hash"]);
  const json& later = by_id["later"];
  EXPECT_EQ(later["status"], "never_synced");
  EXPECT_EQ(later["published"], false);
  EXPECT_TRUE(later["rows"].is_null());
  EXPECT_TRUE(later["schema_hash"].is_null());

  // --- GET /api/v2/schema/{id}
  json schema = Body(server->Get("/api/v2/schema/seattle_weather"));
  EXPECT_EQ(schema["id"], "seattle_weather");
  EXPECT_EQ(schema["name"], "seattle_weather");
  EXPECT_EQ(schema["schema_hash"], w["schema_hash"]);
  auto described = DuckDbRows("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " +
                              weather_csv + ")");
  ASSERT_EQ(schema["columns"].size(), described.size());
  for (size_t i = 0; i < described.size(); ++i) {
    const json& c = schema["columns"][i];
    EXPECT_EQ(c["name"].get<std::string>() + "," + c["type"].get<std::string>(), described[i]);
    EXPECT_TRUE(c["nullable"].is_boolean());
  }
  ExpectError(server->Get("/api/v2/schema/no_such_table"), 404, "not_found");
  ExpectError(server->Get("/api/v2/schema/later"), 404, "not_found");  // registered, not published
  ExpectError(server->Get("/api/v2/schema/bad%20id%3B"), 404, "not_found");

  // --- GET /api/v2/sample/{id}?n=
  json sample = Body(server->Get("/api/v2/sample/seattle_weather"));
  ASSERT_EQ(sample["rows"].size(), 5u) << sample.dump();  // default n
  EXPECT_EQ(sample["n"], 5);
  EXPECT_EQ(sample["columns"],
            json({"date", "precipitation", "temp_max", "temp_min", "wind", "weather"}));
  EXPECT_EQ(sample["types"][0], "DATE");
  auto first = DuckDbRows("SELECT date, temp_max, weather FROM " + weather_csv + " LIMIT 1")[0];
  const json& row0 = sample["rows"][0];
  EXPECT_EQ(row0[0].get<std::string>() + "," + json(row0[2]).dump() + "," +
                row0[5].get<std::string>(),
            first);
  EXPECT_EQ(Body(server->Get("/api/v2/sample/seattle_weather?n=3"))["rows"].size(), 3u);
  json big = Body(server->Get("/api/v2/sample/airports?n=1000"));
  EXPECT_EQ(big["rows"].size(), 1000u);
  EXPECT_EQ(big["row_count"], 1000);
  for (const char* bad : {"0", "1001", "-1", "abc", "", "5x", "99999999999999999999"}) {
    ExpectError(server->Get(std::string("/api/v2/sample/seattle_weather?n=") + bad), 422,
                "invalid_argument");
  }
  ExpectError(server->Get("/api/v2/sample/no_such_table"), 404, "not_found");
  ExpectError(server->Get("/api/v2/sample/later"), 404, "not_found");

  // --- GET /api/catalog/profile/{id}
  ExpectError(server->Get("/api/catalog/profile/later"), 404, "not_found");  // never profiled
  ExpectError(server->Get("/api/catalog/profile/later?refresh=true"), 404, "not_found");
  ExpectError(server->Get("/api/catalog/profile/no_such_table"), 404, "not_found");
  ExpectError(server->Get("/api/catalog/profile/seattle_weather?refresh=maybe"), 422,
              "invalid_argument");
  auto refreshed = server->Get("/api/catalog/profile/seattle_weather?refresh=true");
  ASSERT_TRUE(refreshed);
  ASSERT_EQ(refreshed->status, 200) << refreshed->body;
  json profile = json::parse(refreshed->body);
  EXPECT_EQ(profile["table_id"], "seattle_weather");
  EXPECT_EQ(profile["rows"], w["rows"]);
  ASSERT_EQ(profile["columns"].size(), 6u);
  std::map<std::string, json> pcol;
  for (const auto& c : profile["columns"]) pcol[c["name"].get<std::string>()] = c;
  auto minmax = DuckDbRows("SELECT min(temp_max), max(temp_max) FROM " + weather_csv)[0];
  EXPECT_EQ(pcol["temp_max"]["min"].dump() + "," + pcol["temp_max"]["max"].dump(), minmax);
  EXPECT_EQ(pcol["temp_max"]["null_count"], 0);
  EXPECT_EQ(pcol["temp_max"]["histogram"].size(), 10u);
  auto top = DuckDbRows("SELECT weather, count(*) FROM " + weather_csv +
                        " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")[0];
  const json& top0 = pcol["weather"]["top_values"][0];
  EXPECT_EQ(top0["value"].get<std::string>() + "," + top0["count"].dump(), top);
  // Stored: a plain GET returns the same document.
  json stored = Body(server->Get("/api/catalog/profile/seattle_weather"));
  EXPECT_EQ(stored, profile);

  // --- CLI: da catalog / da describe
  ASSERT_EQ(RunDa({"login", "--server", server->url(), "--token", server->admin_token()}, cfg)
                .exit_code,
            0);
  auto listing = RunDa({"catalog"}, cfg);
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  auto lines = Lines(listing.out);
  ASSERT_EQ(lines.size(), 5u) << listing.out;  // header + 3 tables + count
  const std::string& header = lines[0];
  for (const char* h : {"ID", "NAME", "MODE", "ROWS", "SIZE", "UPDATED", "STATUS"}) {
    EXPECT_NE(header.find(h), std::string::npos) << header;
  }
  std::string weather_line, later_line;
  for (const auto& l : lines) {
    if (l.rfind("seattle_weather", 0) == 0) weather_line = l;
    if (l.rfind("later", 0) == 0) later_line = l;
  }
  ASSERT_FALSE(weather_line.empty()) << listing.out;
  EXPECT_NE(weather_line.find(" 1461 "), std::string::npos) << weather_line;
  EXPECT_EQ(Col(weather_line, " 1461 ") + 1, Col(header, "ROWS")) << listing.out;  // aligned
  EXPECT_EQ(Col(weather_line, " local ") + 1, Col(header, "MODE")) << listing.out;
  EXPECT_EQ(weather_line.substr(weather_line.size() - 2), "ok");
  EXPECT_NE(later_line.find("never_synced"), std::string::npos) << later_line;
  EXPECT_EQ(lines.back(), "(3 tables)");

  auto listing_json = RunDa({"catalog", "--json"}, cfg);
  ASSERT_EQ(listing_json.exit_code, 0) << listing_json.err;
  EXPECT_EQ(json::parse(listing_json.out)["count"], 3);

  auto desc = RunDa({"describe", "seattle_weather"}, cfg);
  ASSERT_EQ(desc.exit_code, 0) << desc.err;
  EXPECT_NE(desc.out.find("Table seattle_weather (view seattle_weather, local)"), std::string::npos)
      << desc.out;
  EXPECT_NE(desc.out.find("Rows: 1461"), std::string::npos) << desc.out;
  EXPECT_NE(desc.out.find("rain (641)"), std::string::npos) << desc.out;
  EXPECT_NE(desc.out.find("Sample (5 rows):"), std::string::npos) << desc.out;
  EXPECT_NE(desc.out.find("2012-01-01"), std::string::npos) << desc.out;
  std::string temp_max_line;
  for (const auto& l : Lines(desc.out)) {
    if (l.rfind("temp_max ", 0) == 0) temp_max_line = l;
  }
  EXPECT_NE(temp_max_line.find("DOUBLE"), std::string::npos) << desc.out;
  EXPECT_NE(temp_max_line.find("-1.6"), std::string::npos) << desc.out;
  EXPECT_NE(temp_max_line.find("35.6"), std::string::npos) << desc.out;

  auto desc2 = RunDa({"describe", "airports", "-n", "2", "--json"}, cfg);
  ASSERT_EQ(desc2.exit_code, 0) << desc2.err;
  json dj = json::parse(desc2.out);
  EXPECT_EQ(dj["schema"]["id"], "airports");
  // Profiled by the server right after the sync that published it.
  ASSERT_TRUE(dj["profile"].is_object()) << desc2.out;
  EXPECT_EQ(dj["profile"]["rows"], 3376) << dj["profile"].dump();
  EXPECT_EQ(dj["sample"]["rows"].size(), 2u);

  auto missing = RunDa({"describe", "no_such_table"}, cfg);
  EXPECT_EQ(missing.exit_code, 3) << missing.out << missing.err;  // not found
  EXPECT_NE(missing.err.find("no_such_table"), std::string::npos) << missing.err;
  auto bad_n = RunDa({"describe", "seattle_weather", "-n", "0"}, cfg);
  EXPECT_EQ(bad_n.exit_code, 2) << bad_n.err;

  // --- authentication and visibility
  std::string no_token;
  ExpectError(server->Get("/api/v2/catalog", &no_token), 401, "unauthenticated");
  ExpectError(server->Get("/api/catalog/profile/seattle_weather", &no_token), 401,
              "unauthenticated");

  // A non-admin user sees no tables yet (no grants exist): create one while the server is down.
  server->Stop();
  server.reset();
  std::string analyst_token;
  {
    auto db = state::StateDb::Open(data_dir / "state" / "system.duckdb");
    ASSERT_OK(db);
    state::UserRepo users(**db);
    auto user = users.CreateUser("analyst@example.com", "analyst", false);
    ASSERT_OK(user);
    auto token = users.CreateToken(user->id, "e2e");
    ASSERT_OK(token);
    analyst_token = token->token;
  }
  server = std::make_unique<ServerProcess>(data_dir);
  json visible = Body(server->Get("/api/v2/catalog", &analyst_token));
  EXPECT_EQ(visible["count"], 0) << visible.dump();
  ExpectError(server->Get("/api/v2/schema/seattle_weather", &analyst_token), 403,
              "permission_denied");
  ExpectError(server->Get("/api/v2/sample/seattle_weather", &analyst_token), 403,
              "permission_denied");
  ExpectError(server->Get("/api/catalog/profile/seattle_weather", &analyst_token), 403,
              "permission_denied");
  ExpectError(server->Get("/api/catalog/profile/seattle_weather?refresh=true", &analyst_token),
              403, "permission_denied");
  ExpectError(server->Get("/api/v2/schema/no_such_table", &analyst_token), 404, "not_found");
  // The profile survived the restart.
  EXPECT_EQ(Body(server->Get("/api/catalog/profile/seattle_weather")), profile);
}

}  // namespace
}  // namespace da::e2e
