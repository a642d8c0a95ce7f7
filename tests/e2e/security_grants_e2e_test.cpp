// Grants and what a user can learn (issue 13, items 11 and 12), against the real `da serve`:
// grants die with their table, and a user sees no table id or name they were not granted in any
// answer (sync runs, health detail, metrics, every GET of the API description).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/datasets.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr char kPassword[] = "a long enough password 42";
// Distinctive, so a substring search of an answer is meaningful.
constexpr char kAdminEmail[] = "chief-operator-q7@corp.example";

json Body(const httplib::Result& r) {
  return r ? json::parse(r->body, nullptr, false) : json();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// A `da serve` with a bootstrap admin of a distinctive email and no scheduler.
std::vector<std::string> ServerEnv(std::vector<std::string> extra = {}) {
  std::vector<std::string> env = {"DA_SCHEDULER_TICK_SEC=0", "DA_AUTH_RATE_LIMIT=off",
                                  std::string("DA_BOOTSTRAP_ADMIN_EMAIL=") + kAdminEmail};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

/// Registers a files table with an explicit id and view name; returns the HTTP status.
int RegisterFilesTable(ServerProcess& server, const std::string& id, const std::string& name,
                       const fs::path& file) {
  auto r = server.Post("/api/admin/register-table",
                       json{{"id", id}, {"name", name}, {"source_type", "files"},
                            {"source_table", file.string()}}.dump());
  EXPECT_TRUE(r);
  if (r && r->status != 201) ADD_FAILURE() << "register " << id << ": " << r->body;
  return r ? r->status : -1;
}

/// Creates a user with kPassword; returns {id, session token from POST /auth/token}.
std::pair<std::string, std::string> NewUser(ServerProcess& server, const std::string& email) {
  auto r = server.Post("/api/users", json{{"email", email}, {"name", "Test"}}.dump());
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
  const std::string id = Body(r).value("id", "");
  auto p = server.Post("/api/users/" + id + "/set-password", json{{"password", kPassword}}.dump());
  EXPECT_TRUE(p && p->status == 200) << (p ? p->body : "no answer");
  std::string none;
  auto t = server.Post("/auth/token", json{{"email", email}, {"password", kPassword}}.dump(), &none);
  EXPECT_TRUE(t && t->status == 200) << (t ? t->body : "no answer");
  return {id, Body(t).value("access_token", "")};
}

/// Creates group `name` holding a grant on `table_id`, with `member_email` in it; the group id.
std::string GroupGranting(ServerProcess& server, const std::string& name,
                          const std::string& table_id, const std::string& member_email) {
  auto g = server.Post("/api/admin/groups", json{{"name", name}}.dump());
  EXPECT_TRUE(g && g->status == 201) << (g ? g->body : "no answer");
  const std::string group_id = Body(g).value("id", "");
  auto m = server.Post("/api/admin/groups/" + group_id + "/members",
                       json{{"email", member_email}}.dump());
  EXPECT_TRUE(m && m->status == 201) << (m ? m->body : "no answer");
  auto gr = server.Post("/api/admin/grants", json{{"group_id", group_id},
                                                  {"resource_type", "table"},
                                                  {"resource_id", table_id}}.dump());
  EXPECT_TRUE(gr && gr->status == 201) << (gr ? gr->body : "no answer");
  return group_id;
}

std::set<std::string> CatalogIds(ServerProcess& server, const std::string& token) {
  std::set<std::string> ids;
  json cat = Body(server.Get("/api/catalog/tables", &token));
  for (const auto& t : cat["tables"]) ids.insert(t["id"].get<std::string>());
  return ids;
}

/// The metrics listener's port (DA_METRICS_LISTEN=127.0.0.1:0), printed before "listening on".
int MetricsPort(ServerProcess& server) {
  std::smatch m;
  const std::string out = server.Output();
  if (!std::regex_search(out, m,
                         std::regex(R"(da serve metrics at http://127\.0\.0\.1:(\d+)/metrics)"))) {
    ADD_FAILURE() << "no metrics listener line in:\n" << out;
    return 0;
  }
  return std::stoi(m[1]);
}

/// <tmp>/data/files holding a.csv (airports) and b.csv (Seattle weather): under <data-dir>/files,
/// inside the default roots of files sources.
fs::path FilesUnderDataDir(const TempDir& tmp) {
  const fs::path files = tmp.path() / "data" / "files";
  fs::create_directories(files);
  fs::copy_file(Dataset("airports.csv"), files / "a.csv");
  fs::copy_file(Dataset("seattle-weather.csv"), files / "b.csv");
  return files;
}

// Attack: grants outliving their table. An admin unregisters `qz_reborn`, which the group
// "finance" was granted; later another table is registered under the same id. Before the fix
// the old grant stayed and the new table was at once visible to finance's members.
TEST(SecurityGrantsE2E, UnregisteringATableDeletesItsGrantsSoATableRegisteredAgainStartsHidden) {
  TempDir tmp;
  const fs::path files = FilesUnderDataDir(tmp);
  ServerProcess server(tmp.path() / "data", ServerEnv());
  ASSERT_EQ(RegisterFilesTable(server, "qz_reborn", "qz_reborn", files / "a.csv"), 201);
  auto [user_id, token] = NewUser(server, "member@example.com");
  const std::string group_id = GroupGranting(server, "finance", "qz_reborn", "member@example.com");
  server.SyncAndWait();
  EXPECT_EQ(CatalogIds(server, token), (std::set<std::string>{"qz_reborn"}));
  auto schema = server.Get("/api/v2/schema/qz_reborn", &token);
  ASSERT_TRUE(schema);
  EXPECT_EQ(schema->status, 200) << schema->body;
  json grants = Body(server.Get("/api/admin/grants?group_id=" + group_id));
  ASSERT_EQ(grants["grants"].size(), 1u) << grants.dump();
  const std::string grant_id = grants["grants"][0]["id"];

  auto del = server.Delete("/api/admin/registry/qz_reborn");
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, 200) << del->body;
  // The grant went with the table, and the audit row names it with its group.
  EXPECT_TRUE(Body(server.Get("/api/admin/grants?group_id=" + group_id))["grants"].empty());
  json audit = Body(server.Get("/api/admin/audit?action=registry_table_unregistered"));
  ASSERT_EQ(audit["entries"].size(), 1u) << audit.dump();
  EXPECT_EQ(audit["entries"][0]["resource"], "qz_reborn");
  json removed = json::array();
  removed.push_back({{"id", grant_id}, {"group_id", group_id}});
  EXPECT_EQ(audit["entries"][0]["params"]["grants_removed"], removed) << audit.dump();

  // Another table under the same id (other data): finance's member does not see it.
  ASSERT_EQ(RegisterFilesTable(server, "qz_reborn", "qz_reborn", files / "b.csv"), 201);
  server.SyncAndWait();
  EXPECT_TRUE(CatalogIds(server, token).empty());
  auto hidden = server.Get("/api/v2/schema/qz_reborn", &token);
  ASSERT_TRUE(hidden);
  EXPECT_EQ(hidden->status, 403) << hidden->body;
  EXPECT_TRUE(Body(server.Get("/api/sync/manifest", &token))["tables"].empty());
  auto download = server.Get("/api/data/qz_reborn/download", &token);
  ASSERT_TRUE(download);
  EXPECT_EQ(download->status, 403);
  json access = Body(server.Get("/api/admin/tables/qz_reborn/access"));
  for (const auto& u : access["users"]) EXPECT_NE(u["email"], "member@example.com") << access.dump();
}

// Attack: scraping /metrics, public on the API's port, to list every table id (labels of
// da_table_last_sync_timestamp_seconds). Metrics are now served only on the metrics listener
// (DA_METRICS_LISTEN), which an operator binds where only the monitoring system reaches.
TEST(SecurityGrantsE2E, MetricsAreServedOnlyOnTheMetricsListener) {
  TempDir tmp;
  // Under <data-dir>/files: inside the default roots of files sources.
  const fs::path files = tmp.path() / "data" / "files";
  fs::create_directories(files);
  fs::copy_file(Dataset("airports.csv"), files / "a.csv");
  {
    // Without DA_METRICS_LISTEN there are no metrics at all.
    ServerProcess server(tmp.path() / "data", ServerEnv());
    std::string none;
    auto r = server.Get("/metrics", &none);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << r->body.substr(0, 300);
    EXPECT_EQ(server.Get("/metrics")->status, 404);  // not even for the admin's token
    server.Stop();
  }
  ServerProcess server(tmp.path() / "data", ServerEnv({"DA_METRICS_LISTEN=127.0.0.1:0"}));
  ASSERT_EQ(RegisterFilesTable(server, "qz_metered", "qz_metered", files / "a.csv"), 201);
  server.SyncAndWait();
  std::string none;
  auto api = server.Get("/metrics", &none);
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(api->body.find("qz_metered"), std::string::npos);

  const int port = MetricsPort(server);
  ASSERT_GT(port, 0);
  ASSERT_NE(port, server.port());
  httplib::Client metrics("127.0.0.1", port);
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_EQ(scraped->status, 200);
  EXPECT_NE(scraped->body.find("da_table_last_sync_timestamp_seconds{table_id=\"qz_metered\"}"),
            std::string::npos)
      << scraped->body.substr(0, 500);
  // The listener serves nothing else: no API route is reachable through it.
  auto other = metrics.Get("/api/catalog/tables");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  EXPECT_EQ(Body(other)["error"]["code"], "not_found");
}

TEST(SecurityGrantsE2E, AMetricsListenAddressThatIsNotHostPortStopsTheServer) {
  TempDir tmp;
  CommandResult r = RunDa({"serve", "--port", "0", "--data-dir", (tmp.path() / "data").string()},
                          tmp.path() / "config", {"DA_METRICS_LISTEN=9464"}, 60000);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("DA_METRICS_LISTEN must be host:port"), std::string::npos)
      << r.out << r.err;
}

// Attack: a signed-in user with no grants reads the table ids and names of the instance (and the
// admin's email) from answers that are not about tables they may see: the latest sync run (open
// to every user; it listed every table, its errors and the admin's email), the health detail,
// /metrics, refusals that repeated the id asked for. The acceptance check: every GET of the API
// description, each path parameter filled with real table ids, view names, run, user and group
// ids, answers the user nothing that names a table or the admin.
TEST(SecurityGrantsE2E, AUserWithoutGrantsLearnsNoTableFromAnyGetEndpoint) {
  TempDir tmp;
  const fs::path files = FilesUnderDataDir(tmp);
  ServerProcess server(tmp.path() / "data", ServerEnv());
  struct Table {
    std::string id, name;
    fs::path file;
  };
  const std::vector<Table> tables = {{"qz_ledger_id", "qz_ledger_nm", files / "a.csv"},
                                     {"qz_payroll_id", "qz_payroll_nm", files / "b.csv"},
                                     // never there: its extraction fails, so errors exist
                                     {"qz_broken_id", "qz_broken_nm", files / "missing.csv"}};
  for (const auto& t : tables) ASSERT_EQ(RegisterFilesTable(server, t.id, t.name, t.file), 201);
  auto [granted_id, granted_token] = NewUser(server, "granted@example.com");
  const std::string group_id =
      GroupGranting(server, "finance", "qz_ledger_id", "granted@example.com");
  auto [prober_id, prober] = NewUser(server, "prober@example.com");
  json run = server.SyncAndWait();
  ASSERT_EQ(run["status"], "partial") << run.dump();
  json admin_view = Body(server.Get("/api/sync/runs/latest"));
  ASSERT_EQ(admin_view["tables"].size(), 3u) << admin_view.dump();
  ASSERT_EQ(admin_view["requested_by"], kAdminEmail);
  const std::string run_id = admin_view["run_id"];
  const std::string admin_id = Body(server.Get("/api/me"))["id"];

  std::vector<std::string> secrets = {Lower(kAdminEmail)};
  for (const auto& t : tables) {
    secrets.push_back(t.id);
    secrets.push_back(t.name);
  }
  std::vector<std::string> values = {run_id, admin_id, prober_id, granted_id, group_id, "finance"};
  for (const auto& t : tables) {
    values.push_back(t.id);
    values.push_back(t.name);
  }

  // Every GET operation of the description the server serves, with every combination of values
  // for its path parameters.
  std::string none;
  json doc = Body(server.Get("/openapi.json", &none));
  ASSERT_TRUE(doc.contains("paths"));
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(60, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer " + prober}};
  int requests = 0;
  std::set<std::string> operations;
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.contains("get")) continue;
    operations.insert(path);
    std::vector<std::string> concrete = {path};
    for (;;) {
      std::vector<std::string> next;
      bool substituted = false;
      for (const auto& p : concrete) {
        const size_t open = p.find('{');
        if (open == std::string::npos) {
          next.push_back(p);
          continue;
        }
        substituted = true;
        const size_t close = p.find('}', open);
        for (const auto& v : values) next.push_back(p.substr(0, open) + v + p.substr(close + 1));
      }
      concrete = std::move(next);
      if (!substituted) break;
    }
    for (const auto& target : concrete) {
      SCOPED_TRACE("GET " + target);
      auto r = client.Get(target.c_str(), auth);
      ASSERT_TRUE(r) << httplib::to_string(r.error());
      ++requests;
      EXPECT_LT(r->status, 500) << r->body.substr(0, 300);
      const std::string body = Lower(r->body);
      for (const auto& secret : secrets) {
        // A 404 may repeat what was asked for ("table 'qz_ledger_nm' not found": a view name is
        // not an id); it tells nothing. Any other mention is a leak.
        if (r->status == 404 && target.find(secret) != std::string::npos) continue;
        EXPECT_EQ(body.find(secret), std::string::npos)
            << r->status << " names '" << secret << "': " << r->body.substr(0, 600);
      }
    }
  }
  // The description covers the answers this test is about.
  for (const char* p : {"/api/sync/runs/latest", "/api/health/detailed", "/api/catalog/tables",
                        "/api/sync/manifest", "/api/data/{id}/download", "/api/v2/schema/{id}"}) {
    EXPECT_TRUE(operations.count(p)) << p;
  }
  EXPECT_GT(requests, 100);

  // The latest run, as the user sees it: the run without its tables or the admin.
  json latest = Body(client.Get("/api/sync/runs/latest", auth));
  EXPECT_EQ(latest["run_id"], run_id);
  EXPECT_EQ(latest["status"], "partial");
  EXPECT_TRUE(latest["tables"].empty()) << latest.dump();
  EXPECT_TRUE(latest["tables_requested"].empty()) << latest.dump();
  EXPECT_EQ(latest["requested_by"], "");

  // A member of finance sees exactly the granted table, in the run and in the health detail.
  const httplib::Headers granted = {{"Authorization", "Bearer " + granted_token}};
  json mine = Body(client.Get("/api/sync/runs/latest", granted));
  ASSERT_EQ(mine["tables"].size(), 1u) << mine.dump();
  EXPECT_EQ(mine["tables"][0]["table_id"], "qz_ledger_id");
  EXPECT_EQ(mine["tables_requested"], json::array({"qz_ledger_id"}));
  EXPECT_EQ(mine["counts"]["synced"], 1);
  EXPECT_EQ(mine["counts"]["error"], 0);
  EXPECT_EQ(mine["requested_by"], "");
  json health = Body(client.Get("/api/health/detailed", granted));
  EXPECT_EQ(health["data"]["tables"], 1) << health.dump();
  EXPECT_TRUE(health["data"]["error_tables"].empty()) << health.dump();
  EXPECT_EQ(health["last_run"]["tables_requested"], json::array({"qz_ledger_id"}));
  // The admin still sees everything.
  json admin_health = Body(server.Get("/api/health/detailed"));
  EXPECT_EQ(admin_health["data"]["tables"], 3);
  ASSERT_EQ(admin_health["data"]["error_tables"].size(), 1u) << admin_health.dump();
  EXPECT_EQ(admin_health["data"]["error_tables"][0]["id"], "qz_broken_id");
  EXPECT_EQ(admin_health["last_run"]["requested_by"], kAdminEmail);
}

}  // namespace
}  // namespace da::e2e
