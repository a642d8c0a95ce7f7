// Health detail, Prometheus metrics and the OpenAPI document, against the real `da serve`.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include "db/duckdb.h"
#include "support/datasets.h"
#include "support/server_process.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support

const std::vector<std::string> kNoScheduler = {"DA_SCHEDULER_TICK_SEC=0"};

void Register(ServerProcess& server, const std::string& name, const std::string& file) {
  nlohmann::json body = {{"name", name},
                         {"source_type", "files"},
                         {"source_table", Dataset(file).string()}};
  auto r = server.Post("/api/admin/register-table", body.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
}

nlohmann::json HealthDetail(ServerProcess& server, int expected_status = 200) {
  auto r = server.Get("/api/health/detailed");
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, expected_status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  return nlohmann::json::parse(r->body);
}

std::vector<std::string> Strings(const nlohmann::json& arr) {
  std::vector<std::string> out;
  for (const auto& v : arr) out.push_back(v.get<std::string>());
  return out;
}

/// Parsed exposition: series ("name{labels}" exactly as printed) → value. Checks that every
/// sample follows a `# TYPE` line of its family and that lines are well-formed.
std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      types[name] = type;
      continue;
    }
    if (line[0] == '#') {
      EXPECT_EQ(line.rfind("# HELP ", 0), 0u) << line;
      continue;
    }
    size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    std::string series = line.substr(0, space);
    std::string name = series.substr(0, series.find('{'));
    bool typed = types.count(name) > 0;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s = suffix;
      if (!typed && name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        typed = types.count(name.substr(0, name.size() - s.size())) > 0;
      }
    }
    EXPECT_TRUE(typed) << "sample without a preceding # TYPE: " << line;
    std::string value = line.substr(space + 1);
    out[series] = value == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(value);
  }
  return out;
}

/// The metrics listener's port (DA_METRICS_LISTEN=127.0.0.1:0), printed before "listening on".
int MetricsPort(ServerProcess& server) {
  std::smatch m;
  const std::string out = server.Output();
  if (!std::regex_search(out, m, std::regex(R"(da serve metrics at http://127\.0\.0\.1:(\d+)/metrics)"))) {
    ADD_FAILURE() << "no metrics listener line in:\n" << out;
    return 0;
  }
  return std::stoi(m[1]);
}

std::map<std::string, double> Scrape(ServerProcess& server) {
  httplib::Client metrics("127.0.0.1", MetricsPort(server));
  auto r = metrics.Get("/metrics");
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u)
      << r->get_header_value("Content-Type");
  return ParseMetrics(r->body);
}

double Value(const std::map<std::string, double>& m, const std::string& series) {
  auto it = m.find(series);
  return it == m.end() ? 0.0 : it->second;
}

std::string Req(const std::string& route, const std::string& method, int status) {
  return "da_http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
         std::to_string(status) + "\"}";
}

TEST(OpsE2e, HealthDetailReportsSchemaFreshnessRunsAndDisk) {
  TempDir tmp;
  const auto data = tmp.path() / "data";
  auto server = std::make_unique<ServerProcess>(data, kNoScheduler);

  std::string none;
  auto anon = server->Get("/api/health/detailed", &none);
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);
  EXPECT_EQ(nlohmann::json::parse(anon->body)["error"]["code"], "unauthenticated");

  // Empty instance: healthy, nothing to report.
  auto h = HealthDetail(*server);
  EXPECT_EQ(h["status"], "healthy");
  EXPECT_FALSE(h["version"].get<std::string>().empty());
  EXPECT_EQ(h["schema"]["db_schema"], "ok");
  EXPECT_EQ(h["schema"]["current"], h["schema"]["expected"]);
  EXPECT_EQ(h["data"]["tables"], 0);
  EXPECT_TRUE(h["data"]["stale_tables"].empty());
  EXPECT_TRUE(h["data"]["never_synced"].empty());
  EXPECT_EQ(h["data"]["stale_after_hours"], 24.0);
  EXPECT_TRUE(h["last_run"].is_null());
  EXPECT_EQ(h["disk"]["path"], data.string());
  EXPECT_GT(h["disk"]["free_bytes"].get<int64_t>(), 0);
  EXPECT_LE(h["disk"]["free_bytes"].get<int64_t>(), h["disk"]["total_bytes"].get<int64_t>());
  auto space = std::filesystem::space(data);
  EXPECT_EQ(h["disk"]["total_bytes"].get<uint64_t>(), space.capacity);

  // Registered but never synced → degraded, listed by id.
  Register(*server, "airports", "airports.csv");
  Register(*server, "seattle_weather", "seattle-weather.csv");
  h = HealthDetail(*server);
  EXPECT_EQ(h["status"], "degraded");
  EXPECT_EQ(h["checks"]["data"], "warning");
  EXPECT_EQ(h["data"]["tables"], 2);
  EXPECT_EQ(Strings(h["data"]["never_synced"]),
            (std::vector<std::string>{"airports", "seattle_weather"}));

  // One synced: the other is still never synced; last_run is that run.
  auto run = server->SyncAndWait({"airports"});
  ASSERT_EQ(run["status"], "ok") << run.dump();
  h = HealthDetail(*server);
  EXPECT_EQ(h["status"], "degraded");
  EXPECT_EQ(Strings(h["data"]["never_synced"]), (std::vector<std::string>{"seattle_weather"}));
  EXPECT_TRUE(h["data"]["stale_tables"].empty());
  ASSERT_TRUE(h["last_run"].is_object());
  EXPECT_EQ(h["last_run"]["run_id"], run["run_id"]);
  EXPECT_EQ(h["last_run"]["status"], "ok");

  // All synced and fresh → healthy.
  server->SyncAndWait();
  h = HealthDetail(*server);
  EXPECT_EQ(h["status"], "healthy") << h.dump();
  EXPECT_TRUE(h["data"]["never_synced"].empty());
  EXPECT_TRUE(h["data"]["stale_tables"].empty());

  auto cat = server->Get("/api/catalog/tables");
  ASSERT_TRUE(cat);
  ASSERT_EQ(cat->status, 200) << cat->body;
  std::map<std::string, std::string> updated;
  const auto catalog = nlohmann::json::parse(cat->body);
  for (const auto& t : catalog["tables"]) {
    updated[t["id"].get<std::string>()] = t["updated"].get<std::string>();
  }

  // Restarted with stale_after_hours = 0: every synced table is now stale (older than 0 h).
  server->Stop();
  server = std::make_unique<ServerProcess>(
      data, std::vector<std::string>{"DA_SCHEDULER_TICK_SEC=0", "DA_STALE_AFTER_HOURS=0"});
  h = HealthDetail(*server);
  EXPECT_EQ(h["status"], "degraded");
  EXPECT_EQ(h["data"]["stale_after_hours"], 0.0);
  ASSERT_EQ(h["data"]["stale_tables"].size(), 2u) << h.dump();
  std::map<std::string, std::string> stale;
  for (const auto& t : h["data"]["stale_tables"]) {
    stale[t["id"].get<std::string>()] = t["last_sync"].get<std::string>();
    EXPECT_GE(t["age_seconds"].get<int64_t>(), 0);
  }
  ASSERT_EQ(stale.size(), 2u);
  for (const auto& [id, last] : stale) {
    // Same instant as the catalog's `updated` (the health body has no fractional seconds).
    EXPECT_EQ(last.substr(0, 19), updated[id].substr(0, 19)) << id;
  }
  // last_run survives the restart (read from the state DB).
  ASSERT_TRUE(h["last_run"].is_object());
  EXPECT_EQ(h["last_run"]["status"], "ok");
}

TEST(OpsE2e, SchemaMismatchIsUnhealthyWith503) {
  TempDir tmp;
  const auto data = tmp.path() / "data";
  {
    ServerProcess server(data, kNoScheduler);
    EXPECT_EQ(HealthDetail(server)["status"], "healthy");
    server.Stop();
  }
  // A newer schema than this binary knows: the server opens it unchanged but is unhealthy.
  {
    auto db = db::Database::Open((data / "state" / "system.duckdb").string());
    ASSERT_OK(db);
    auto conn = db->Connect();
    ASSERT_OK(conn);
    ASSERT_OK(conn->Execute("INSERT INTO schema_version (version, applied_at) VALUES (999, now())"));
  }
  ServerProcess server(data, kNoScheduler);
  auto h = HealthDetail(server, 503);
  EXPECT_EQ(h["status"], "unhealthy");
  EXPECT_EQ(h["schema"]["db_schema"], "mismatch");
  EXPECT_EQ(h["schema"]["current"], 999);
  EXPECT_EQ(h["checks"]["schema"], "error");
}

TEST(OpsE2e, MetricsCountExactlyTheRequestsMade) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_SCHEDULER_TICK_SEC=0", "DA_METRICS_LISTEN=127.0.0.1:0"});

  // Sync counters start at zero, with their known label values present.
  auto m0 = Scrape(server);
  EXPECT_EQ(Value(m0, "da_sync_runs_total{status=\"ok\"}"), 0);
  EXPECT_TRUE(m0.count("da_sync_table_outcomes_total{status=\"synced\"}"));
  EXPECT_EQ(Value(m0, "da_rows_extracted_total"), 0);
  EXPECT_EQ(Value(m0, "da_tables_registered"), 0);

  Register(server, "airports", "airports.csv");
  auto run = server.SyncAndWait({"airports"});
  ASSERT_EQ(run["status"], "ok") << run.dump();

  auto m1 = Scrape(server);
  // Scrapes go to the metrics listener, apart from the API: they are not API requests.
  EXPECT_EQ(Value(m1, Req("/metrics", "GET", 200)), 0);
  EXPECT_EQ(Value(m1, Req("/api/admin/register-table", "POST", 201)), 1);
  EXPECT_EQ(Value(m1, Req("/api/sync/trigger", "POST", 202)), 1);

  std::string none;
  const std::string bad = "not-a-token";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(server.Get("/api/health", &none));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(server.Get("/api/data/nope/download"));
  ASSERT_TRUE(server.Get("/api/data/airports/download"));
  ASSERT_TRUE(server.Get("/api/catalog/tables", &none));
  ASSERT_TRUE(server.Get("/api/catalog/tables", &bad));
  ASSERT_TRUE(server.Get("/no/such/route", &none));

  auto m2 = Scrape(server);
  auto diff = [&](const std::string& s) { return Value(m2, s) - Value(m1, s); };
  EXPECT_EQ(diff(Req("/api/health", "GET", 200)), 3);
  EXPECT_EQ(diff(Req("/api/data/{id}/download", "GET", 404)), 2);
  EXPECT_EQ(diff(Req("/api/data/{id}/download", "GET", 200)), 1);
  EXPECT_EQ(diff(Req("/api/catalog/tables", "GET", 401)), 2);
  EXPECT_EQ(diff(Req("/metrics", "GET", 200)), 0);
  EXPECT_EQ(diff("da_http_request_duration_seconds_count{route=\"/api/health\"}"), 3);
  EXPECT_EQ(diff("da_http_request_duration_seconds_count{route=\"/api/data/{id}/download\"}"), 3);
  // Raw paths never become labels.
  for (const auto& [series, v] : m2) {
    EXPECT_EQ(series.find("nope"), std::string::npos) << series;
    EXPECT_EQ(series.find("/no/such/route"), std::string::npos) << series;
  }
  // Histogram buckets are cumulative and end at the count.
  double prev = 0;
  for (const char* le : {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                         "0.25", "0.5", "1", "2.5", "5", "10", "30", "+Inf"}) {
    double b = Value(m2, std::string("da_http_request_duration_seconds_bucket{route=\"/api/health\",le=\"") +
                             le + "\"}");
    EXPECT_GE(b, prev) << le;
    prev = b;
  }
  EXPECT_EQ(prev, Value(m2, "da_http_request_duration_seconds_count{route=\"/api/health\"}"));

  // Sync-derived series match the run and the data.
  const double rows = std::stod(
      DuckDbRows("SELECT count(*) FROM read_csv('" + Dataset("airports.csv").string() + "')")[0]);
  EXPECT_EQ(Value(m2, "da_sync_runs_total{status=\"ok\"}"), 1);
  EXPECT_EQ(Value(m2, "da_sync_table_outcomes_total{status=\"synced\"}"), 1);
  EXPECT_EQ(Value(m2, "da_sync_table_outcomes_total{status=\"error\"}"), 0);
  EXPECT_EQ(Value(m2, "da_rows_extracted_total"), rows);
  auto manifest = nlohmann::json::parse(server.Get("/api/sync/manifest")->body);
  ASSERT_EQ(manifest["tables"].size(), 1u);
  EXPECT_EQ(Value(m2, "da_bytes_extracted_total"), manifest["tables"][0]["size_bytes"].get<double>());
  EXPECT_EQ(Value(m2, "da_tables_registered"), 1);
  EXPECT_EQ(Value(m2, "da_sync_in_progress"), 0);
  double last = Value(m2, "da_table_last_sync_timestamp_seconds{table_id=\"airports\"}");
  double age = Value(m2, "da_table_freshness_seconds{table_id=\"airports\"}");
  auto now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  EXPECT_GT(last, now - 600);
  EXPECT_LE(last, now + 1);
  EXPECT_GE(age, 0);
  EXPECT_LT(age, 600);
}

TEST(OpsE2e, OpenApiMatchesTheServedRoutesAndDocsRender) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data", kNoScheduler);
  std::string none;
  auto r = server.Get("/openapi.json", &none);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  auto doc = nlohmann::json::parse(r->body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  ASSERT_TRUE(doc["paths"].contains("/api/health/detailed"));

  // Every documented operation exists on the real server with the documented access level:
  // without a token, public ones answer (not "no route"), the others refuse with 401.
  httplib::Client c("127.0.0.1", server.port());
  int checked = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    std::string concrete = path;
    size_t brace = concrete.find('{');
    while (brace != std::string::npos) {
      concrete.replace(brace, concrete.find('}', brace) - brace + 1, "no-such-id");
      brace = concrete.find('{');
    }
    for (const auto& [method, op] : item.items()) {
      SCOPED_TRACE(method + " " + path);
      const std::string access = op["x-access"];
      if (access == "public" && method != "get") continue;  // never fire side effects blind
      httplib::Result res = method == "get"      ? c.Get(concrete.c_str())
                            : method == "post"   ? c.Post(concrete.c_str(), "", "application/json")
                            : method == "put"    ? c.Put(concrete.c_str(), "", "application/json")
                            : method == "patch"  ? c.Patch(concrete.c_str(), "", "application/json")
                                                 : c.Delete(concrete.c_str());
      ASSERT_TRUE(res);
      if (access == "public") {
        // A documented answer (200 mostly; sign-in redirects answer 302, unconfigured sign-in
        // options 404 and the CLI approval page 422 without its parameters).
        EXPECT_TRUE(op["responses"].contains(std::to_string(res->status)))
            << res->status << " " << res->body.substr(0, 200);
      } else {
        EXPECT_EQ(res->status, 401) << res->body.substr(0, 200);
        EXPECT_EQ(nlohmann::json::parse(res->body)["error"]["code"], "unauthenticated");
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 24);  // 24 operations when this test was written; more may come

  auto docs = server.Get("/docs", &none);
  ASSERT_TRUE(docs);
  EXPECT_EQ(docs->status, 200);
  EXPECT_EQ(docs->get_header_value("Content-Type").rfind("text/html", 0), 0u);
  for (const auto& [path, item] : doc["paths"].items()) {
    EXPECT_NE(docs->body.find(">" + path + "<"), std::string::npos) << path;
  }
  EXPECT_EQ(docs->body.find("<script"), std::string::npos);
  EXPECT_EQ(docs->body.find("https://"), std::string::npos);
}

}  // namespace
}  // namespace da::e2e
