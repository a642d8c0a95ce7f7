// Issue 13, the query sandbox and the server's own files, end to end against the real server:
//   - item 18: files tables confined to DA_FILES_ROOTS (registration refused with 422, a
//     symlink planted inside a root refused at extraction);
//   - item 16: DESCRIBE, SUMMARIZE and EXPLAIN [ANALYZE] over granted views answer as a
//     SELECT does; over a view the caller may not see they get a SELECT's refusal;
//   - item 17: connector programs (the `da extract` child, a Singer tap) get an allow-listed
//     environment plus what their manifest declares, never the server's secrets.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "support/datasets.h"
#include "support/files.h"
#include "support/server_process.h"
#include "support/singer_taps.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
namespace fs = std::filesystem;
using nlohmann::json;

json Body(const httplib::Result& r) {
  if (!r) return {};
  return json::parse(r->body, nullptr, false);
}

httplib::Result Register(ServerProcess& server, const std::string& name,
                         const std::string& source_table) {
  return server.Post("/api/admin/register-table",
                     json{{"name", name}, {"source_type", "files"}, {"source_table", source_table}}
                         .dump());
}

// Attack: a files table naming a file outside the directories the operator meant to publish
// (another user's ~/.config/da/config.json, /etc/passwd, or a symlink inside an allowed
// directory that points out) would publish that file to every grantee.
TEST(SecuritySandboxE2E, FilesTablesStayInsideTheFilesRoots) {
  TempDir tmp;
  const fs::path allowed = tmp.path() / "allowed";
  const fs::path outside = tmp.path() / "home" / ".config" / "da";
  WriteText(outside / "config.json", R"({"server":"x","token":"da_secret_token_value"})");
  WriteText(outside / "secret.csv", "token\nda_secret_token_value\n");
  WriteText(allowed / "ok.csv", "id,amount\n1,10\n2,20\n");
  WriteText(allowed / "sales" / "a.csv", "id,amount\n3,30\n");
  fs::create_directory_symlink(outside, allowed / "link");
  ServerProcess server(tmp.path() / "data", {"DA_FILES_ROOTS=" + allowed.string()});

  for (const std::string& bad :
       {(outside / "config.json").string(), (outside / "secret.csv").string(),
        std::string("/etc/passwd.csv"), (allowed / "link" / "secret.csv").string(),
        (allowed / ".." / "home" / ".config" / "da" / "secret.csv").string(),
        (tmp.path() / "*" / ".config" / "da" / "*.csv").string()}) {
    auto r = Register(server, "stolen", bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 422) << bad << ": " << r->body;
    json j = Body(r);
    EXPECT_EQ(j["error"]["code"], "invalid_argument") << r->body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(
                  "outside the directories files tables may read"),
              std::string::npos)
        << r->body;
  }
  // Nothing was registered by the refusals.
  auto listed = Body(server.Get("/api/admin/registry"));
  EXPECT_TRUE(listed["tables"].empty()) << listed.dump();

  // Moving a registered table out is refused the same way.
  auto ok = Register(server, "ok", (allowed / "ok.csv").string());
  ASSERT_EQ(ok->status, 201) << ok->body;
  auto moved = server.Put("/api/admin/registry/ok",
                          json{{"source_table", (outside / "secret.csv").string()}}.dump());
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 422) << moved->body;

  // A glob inside the root is accepted; a symlink planted in it afterwards is refused at
  // extraction, and nothing of the file it points at is published.
  auto sales = Register(server, "sales", (allowed / "sales" / "*.csv").string());
  ASSERT_EQ(sales->status, 201) << sales->body;
  fs::create_symlink(outside / "secret.csv", allowed / "sales" / "b.csv");
  json run = server.SyncAndWait();
  std::map<std::string, json> by_id;
  for (const auto& t : run["tables"]) by_id[t["table_id"].get<std::string>()] = t;
  ASSERT_TRUE(by_id.count("ok") && by_id.count("sales")) << run.dump();
  EXPECT_NE(by_id["ok"]["status"], "error") << run.dump();
  EXPECT_EQ(by_id["sales"]["status"], "error") << run.dump();
  EXPECT_NE(by_id["sales"].dump().find("outside the directories files tables may read"),
            std::string::npos)
      << run.dump();
  auto q = server.Post("/api/query", json{{"sql", "SELECT sum(amount) AS s FROM ok"}}.dump());
  ASSERT_EQ(q->status, 200) << q->body;
  EXPECT_EQ(Body(q)["rows"][0][0], 30);
  EXPECT_EQ(server.Output().find("da_secret_token_value"), std::string::npos);
}

class ShowE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    server_ = new ServerProcess(tmp_->path() / "data", {"DA_QUERY_TIMEOUT_SEC=2",
                                                        "DA_AUTH_RATE_LIMIT=off"});
    for (const auto& [name, file] : std::map<std::string, std::string>{
             {"airports", "airports.csv"}, {"flights", "flights-3m.parquet"}}) {
      auto r = Register(*server_, name, Dataset(file).string());
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
    }
    server_->SyncAndWait();
    // The analyst's group holds a grant on airports only.
    auto u = server_->Post("/api/users", json{{"email", "ann@example.com"}, {"name", "Ann"}}.dump());
    ASSERT_EQ(u->status, 201) << u->body;
    const std::string user_id = Body(u)["id"];
    auto p = server_->Post("/api/users/" + user_id + "/set-password",
                           json{{"password", kPassword}}.dump());
    ASSERT_EQ(p->status, 200) << p->body;
    auto g = server_->Post("/api/admin/groups", json{{"name", "airport-readers"}}.dump());
    ASSERT_EQ(g->status, 201) << g->body;
    const std::string group_id = Body(g)["id"];
    auto m = server_->Post("/api/admin/groups/" + group_id + "/members",
                           json{{"email", "ann@example.com"}}.dump());
    ASSERT_EQ(m->status, 201) << m->body;
    auto gr = server_->Post("/api/admin/grants", json{{"group_id", group_id},
                                                      {"resource_type", "table"},
                                                      {"resource_id", "airports"}}.dump());
    ASSERT_EQ(gr->status, 201) << gr->body;
    std::string none;
    auto t = server_->Post("/auth/token",
                           json{{"email", "ann@example.com"}, {"password", kPassword}}.dump(), &none);
    ASSERT_EQ(t->status, 200) << t->body;
    analyst_ = new std::string(Body(t)["access_token"].get<std::string>());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete tmp_;
    tmp_ = nullptr;
    delete analyst_;
    analyst_ = nullptr;
  }

  static httplib::Result Query(const std::string& sql) {
    return server_->Post("/api/query", json{{"sql", sql}}.dump(), analyst_);
  }

  static constexpr const char* kPassword = "correct horse battery staple";
  static inline TempDir* tmp_ = nullptr;
  static inline ServerProcess* server_ = nullptr;
  static inline std::string* analyst_ = nullptr;
};

// Agents and people ask DESCRIBE / SUMMARIZE / EXPLAIN first: over a granted view they answer
// in the JSON shape of a SELECT.
TEST_F(ShowE2E, DescribeSummarizeAndExplainAnswerOverAGrantedView) {
  auto d = Query("DESCRIBE airports");
  ASSERT_EQ(d->status, 200) << d->body;
  json dj = Body(d);
  EXPECT_EQ(dj["columns"][0], "column_name");
  EXPECT_EQ(dj["columns"][1], "column_type");
  EXPECT_EQ(dj["row_count"], 7);
  EXPECT_EQ(dj["rows"][0][0], "iata");
  EXPECT_EQ(dj["truncated"], false);

  auto s = Query("SUMMARIZE airports");
  ASSERT_EQ(s->status, 200) << s->body;
  json sj = Body(s);
  EXPECT_EQ(sj["row_count"], 7);
  EXPECT_EQ(sj["columns"][0], "column_name");

  for (const char* sql : {"EXPLAIN SELECT state, count(*) FROM airports GROUP BY 1",
                          "EXPLAIN ANALYZE SELECT state, count(*) FROM airports GROUP BY 1"}) {
    auto e = Query(sql);
    ASSERT_EQ(e->status, 200) << sql << ": " << e->body;
    json ej = Body(e);
    EXPECT_EQ(ej["columns"], json({"explain_key", "explain_value"})) << sql;
    EXPECT_EQ(ej["row_count"], 1) << sql;
    EXPECT_TRUE(ej["rows"][0][1].is_string()) << sql;
  }
}

// Over a view the caller may not see (or one that does not exist), each form meets exactly
// the refusal the SELECT meets: same status, same message shape, nothing more revealed.
TEST_F(ShowE2E, OverAnUngrantedViewTheyGetTheSelectsRefusal) {
  for (const std::string view : {"flights", "no_such_table"}) {
    auto select = Query("SELECT * FROM " + view);
    ASSERT_EQ(select->status, 403) << select->body;
    const json expected = Body(select)["error"];
    for (const std::string& sql :
         {"DESCRIBE " + view, "SUMMARIZE " + view, "DESCRIBE SELECT * FROM " + view,
          "EXPLAIN SELECT * FROM " + view, "EXPLAIN ANALYZE SELECT count(*) FROM " + view}) {
      auto r = Query(sql);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 403) << sql << ": " << r->body;
      json e = Body(r)["error"];
      EXPECT_EQ(e["code"], expected["code"]) << sql;
      EXPECT_EQ(e["message"], expected["message"]) << sql;
    }
  }
}

// EXPLAIN ANALYZE runs the query, so it is cut off by the query time limit like the query.
TEST_F(ShowE2E, ExplainAnalyzeIsBoundByTheQueryTimeLimit) {
  auto r = server_->Post(
      "/api/query",
      json{{"sql", "EXPLAIN ANALYZE SELECT count(*) FROM flights a, flights b "
                   "WHERE a.delay + b.delay = 7 AND a.distance <> b.distance"}}
          .dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504) << r->body;
  EXPECT_NE(r->body.find("time limit"), std::string::npos) << r->body;
}

// Attack: a third-party Singer tap, run by the server's sync through `da extract`, reads its
// environment and sends the server's secrets home. The tap dumps the names of the variables it
// got into a table; none of the server's secrets is among them, its declared variable is.
TEST(SecuritySandboxE2E, ATapSeesNoneOfTheServersSecrets) {
  TempDir tmp;
  const fs::path connectors = tmp.path() / "connectors";
  WriteTapManifest(connectors, "env_tap", "tap_env.sh", "[read]",
                   "auth:\n  type: token\n  env_vars: [{name: DA_TAP_DECLARED, required: true}]\n");
  const std::map<std::string, std::string> secrets = {
      {"KEBOOLA_STORAGE_TOKEN", "kbc-secret-token-value"},
      {"DA_OIDC_CLIENT_SECRET", "oidc-client-secret-value"},
      {"DA_SMTP_URL", "smtp://mailer:smtp-password-value@127.0.0.1:9"},
      {"DA_TAP_UNDECLARED", "undeclared-value"}};
  std::vector<std::string> env = {"DA_CONNECTORS_DIR=" + connectors.string(),
                                  "DA_SMTP_FROM=da@localhost", "DA_TAP_DECLARED=declared-value"};
  for (const auto& [name, value] : secrets) env.push_back(name + "=" + value);
  ServerProcess server(tmp.path() / "data", env);
  auto r = server.Post("/api/admin/register-table",
                       json{{"name", "tap_env"}, {"source_type", "env_tap"}, {"source_table", "env"}}
                           .dump());
  ASSERT_EQ(r->status, 201) << r->body;
  json run = server.SyncAndWait();
  ASSERT_EQ(run["tables"].size(), 1u) << run.dump();
  ASSERT_NE(run["tables"][0]["status"], "error") << run.dump() << server.Output();

  auto q = server.Post("/api/query",
                       json{{"sql", "SELECT name, value FROM tap_env ORDER BY name"}, {"limit", 10000}}
                           .dump());
  ASSERT_EQ(q->status, 200) << q->body;
  const json answer = Body(q);
  std::map<std::string, json> got;
  for (const auto& row : answer["rows"]) got[row[0].get<std::string>()] = row[1];
  for (const auto& [name, value] : secrets) EXPECT_EQ(got.count(name), 0u) << name;
  for (const char* name : {"DA_BOOTSTRAP_ADMIN_PASSWORD", "DA_CONNECTORS_DIR", "DA_SMTP_FROM"}) {
    EXPECT_EQ(got.count(name), 0u) << name;
  }
  EXPECT_EQ(got["DA_TAP_DECLARED"], "declared-value") << q->body;
  EXPECT_EQ(got.count("PATH"), 1u);
  for (const auto& [name, value] : secrets) {
    EXPECT_EQ(q->body.find(value), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace da::e2e
