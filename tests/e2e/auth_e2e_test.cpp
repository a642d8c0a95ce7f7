// Users, groups, grants and sign-in end to end (issue 6): the real server over real HTTP.
// The caller × endpoint matrix (200/401/403), the grant → revoke journey down to `da sync`
// removing the local copy, token expiry and revocation, PAT rules, CSRF, guards, audit and
// the sign-in rate limit.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <condition_variable>
#include <mutex>
#include <regex>

#include "db/duckdb.h"
#include "support/datasets.h"
#include "support/files.h"
#include "support/server_process.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"
#include "sync/child_process.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPassword = "correct horse battery";

json Body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

/// The `name=value` of a Set-Cookie header with that cookie name; "" when absent.
std::string SetCookie(const httplib::Response& res, const std::string& name) {
  size_t n = res.get_header_value_count("Set-Cookie");
  for (size_t i = 0; i < n; ++i) {
    std::string h = res.get_header_value("Set-Cookie", i);
    if (h.rfind(name + "=", 0) == 0) return h;
  }
  return "";
}

std::string CookieValueOf(const std::string& set_cookie) {
  size_t eq = set_cookie.find('=');
  size_t semi = set_cookie.find(';');
  return set_cookie.substr(eq + 1, semi - eq - 1);
}

class AuthE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    server_ = new ServerProcess(Data(), {"DA_AUTH_RATE_LIMIT=off"});
    for (const auto& [name, file] : std::map<std::string, std::string>{
             {"airports", "airports.csv"}, {"weather", "seattle-weather.csv"}}) {
      auto r = server_->Post("/api/admin/register-table",
                             json{{"name", name}, {"source_type", "files"},
                                  {"source_table", Dataset(file).string()}}.dump());
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
    }
    server_->SyncAndWait();
    // analyst: no grant; granted: member of "analysts", which holds a grant on airports.
    analyst_id_ = NewUser("analyst@example.com");
    granted_id_ = NewUser("granted@example.com");
    auto g = server_->Post("/api/admin/groups", json{{"name", "analysts"}}.dump());
    ASSERT_EQ(g->status, 201) << g->body;
    group_id_ = Body(g)["id"];
    auto m = server_->Post("/api/admin/groups/" + group_id_ + "/members",
                           json{{"email", "granted@example.com"}}.dump());
    ASSERT_EQ(m->status, 201) << m->body;
    auto gr = server_->Post("/api/admin/grants", json{{"group_id", group_id_},
                                                      {"resource_type", "table"},
                                                      {"resource_id", "airports"}}.dump());
    ASSERT_EQ(gr->status, 201) << gr->body;
    analyst_pat_ = Pat("analyst@example.com", "laptop");
    granted_pat_ = Pat("granted@example.com", "laptop");
    revoked_pat_ = Pat("analyst@example.com", "old");
    expired_pat_ = Pat("analyst@example.com", "expiring", 1);
    // Revoked through the API; expired by moving expires_at into the past in the state DB
    // while the server is stopped (the API only takes whole days).
    json listed = Body(server_->Get("/auth/tokens", &SessionOf("analyst@example.com")));
    std::string revoked_id, expired_id;
    for (const auto& t : listed["tokens"]) {
      if (t["name"] == "old") revoked_id = t["id"];
      if (t["name"] == "expiring") expired_id = t["id"];
    }
    ASSERT_FALSE(revoked_id.empty());
    auto del = server_->Delete("/auth/tokens/" + revoked_id, &analyst_pat_);
    ASSERT_EQ(del->status, 200) << del->body;
    std::string admin = server_->admin_token();
    delete server_;
    {
      auto db = db::Database::Open((Data() / "state" / "system.duckdb").string());
      ASSERT_OK(db);
      auto conn = db->Connect();
      const int64_t hour_ago_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count() - int64_t{3600} * 1000000;
      ASSERT_TRUE(conn->Execute("UPDATE access_tokens SET expires_at = make_timestamp($2) "
                                "WHERE id = $1", {expired_id, hour_ago_us}).ok());
    }
    server_ = new ServerProcess(Data(), {"DA_AUTH_RATE_LIMIT=off"});
    admin_token_ = admin;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete tmp_;
    tmp_ = nullptr;
  }

  static fs::path Data() { return tmp_->path() / "data"; }

  /// Creates a user with kPassword; returns its id.
  static std::string NewUser(const std::string& email) {
    auto r = server_->Post("/api/users", json{{"email", email}, {"name", "Test"}}.dump());
    EXPECT_EQ(r->status, 201) << r->body;
    std::string id = Body(r)["id"];
    auto p = server_->Post("/api/users/" + id + "/set-password", json{{"password", kPassword}}.dump());
    EXPECT_EQ(p->status, 200) << p->body;
    return id;
  }
  /// A session token from POST /auth/token (cached per email).
  static const std::string& SessionOf(const std::string& email) {
    static std::map<std::string, std::string> sessions;
    auto& s = sessions[email];
    if (s.empty()) {
      std::string none;
      auto r = server_->Post("/auth/token", json{{"email", email}, {"password", kPassword}}.dump(), &none);
      EXPECT_EQ(r->status, 200) << r->body;
      EXPECT_EQ(Body(r)["token_type"], "bearer");
      s = Body(r)["access_token"];
    }
    return s;
  }
  static std::string Pat(const std::string& email, const std::string& name, int days = 0) {
    json body = {{"name", name}};
    if (days > 0) body["expires_in_days"] = days;
    auto r = server_->Post("/auth/tokens", body.dump(), &SessionOf(email));
    EXPECT_EQ(r->status, 201) << r->body;
    json j = Body(r);
    EXPECT_EQ(j["prefix"], j["token"].get<std::string>().substr(3, 8));
    return j["token"];
  }
  static int Http(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body = "") {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    auto r = server_->Send(method, path, body, h);
    return r ? r->status : -1;
  }

  static inline TempDir* tmp_ = nullptr;
  static inline ServerProcess* server_ = nullptr;
  static inline std::string admin_token_, analyst_id_, granted_id_, group_id_;
  static inline std::string analyst_pat_, granted_pat_, revoked_pat_, expired_pat_;
};

TEST_F(AuthE2E, CallerByEndpointMatrix) {
  const std::string bad = "da_" + std::string(40, '0');
  struct Caller {
    const char* kind;
    std::string token;
    int data;   // status on airports data paths
    int admin;  // status on admin endpoints
    int list;   // status on listing endpoints (catalog, manifest, me)
  };
  std::vector<Caller> callers = {
      {"none", "", 401, 401, 401},
      {"bad token", bad, 401, 401, 401},
      {"analyst", analyst_pat_, 403, 403, 200},
      {"analyst with grant", granted_pat_, 200, 403, 200},
      {"admin", admin_token_, 200, 200, 200},
      {"revoked PAT", revoked_pat_, 401, 401, 401},
      {"expired PAT", expired_pat_, 401, 401, 401},
  };
  const std::string query = json{{"sql", "SELECT count(*) AS n FROM \"AIRPORTS\""}}.dump();
  for (const auto& c : callers) {
    SCOPED_TRACE(c.kind);
    EXPECT_EQ(Http("GET", "/api/data/airports/download", c.token), c.data);
    EXPECT_EQ(Http("GET", "/api/v2/schema/airports", c.token), c.data);
    EXPECT_EQ(Http("GET", "/api/v2/sample/airports", c.token), c.data);
    EXPECT_EQ(Http("GET", "/api/catalog/profile/airports", c.token), c.data);
    EXPECT_EQ(Http("POST", "/api/query", c.token, query), c.data);
    EXPECT_EQ(Http("GET", "/api/catalog/tables", c.token), c.list);
    EXPECT_EQ(Http("GET", "/api/v2/catalog", c.token), c.list);
    EXPECT_EQ(Http("GET", "/api/sync/manifest", c.token), c.list);
    EXPECT_EQ(Http("GET", "/api/me", c.token), c.list);
    EXPECT_EQ(Http("GET", "/api/users", c.token), c.admin);
    EXPECT_EQ(Http("GET", "/api/admin/groups", c.token), c.admin);
    EXPECT_EQ(Http("GET", "/api/admin/grants", c.token), c.admin);
    EXPECT_EQ(Http("GET", "/api/admin/audit", c.token), c.admin);
    EXPECT_EQ(Http("GET", "/api/admin/registry", c.token), c.admin);
  }
  // Lists show only what the caller may see; weather is granted to nobody.
  auto ids = [](const json& tables) {
    std::set<std::string> out;
    for (const auto& t : tables) out.insert(t["id"].get<std::string>());
    return out;
  };
  EXPECT_EQ(ids(Body(server_->Get("/api/catalog/tables", &analyst_pat_))["tables"]), std::set<std::string>{});
  EXPECT_EQ(ids(Body(server_->Get("/api/catalog/tables", &granted_pat_))["tables"]),
            std::set<std::string>{"airports"});
  EXPECT_EQ(ids(Body(server_->Get("/api/sync/manifest", &granted_pat_))["tables"]),
            std::set<std::string>{"airports"});
  EXPECT_EQ(ids(Body(server_->Get("/api/catalog/tables"))["tables"]),
            (std::set<std::string>{"airports", "weather"}));
  EXPECT_EQ(Http("GET", "/api/data/weather/download", granted_pat_), 403);
  // A query touching an ungranted table through a CTE is refused as a whole.
  EXPECT_EQ(Http("POST", "/api/query", granted_pat_,
                   json{{"sql", "WITH w AS (SELECT * FROM main.weather) SELECT count(*) FROM airports, w"}}.dump()),
            403);
  json access = Body(server_->Get("/api/me/effective-access", &granted_pat_));
  ASSERT_EQ(access["tables"].size(), 1u) << access.dump();
  EXPECT_EQ(access["tables"][0]["via"], json::array({"analysts"}));
  json who = Body(server_->Get("/api/admin/tables/airports/access"));
  std::set<std::string> emails;
  for (const auto& u : who["users"]) emails.insert(u["email"].get<std::string>());
  EXPECT_EQ(emails, (std::set<std::string>{"admin@localhost", "granted@example.com"}));
}

TEST_F(AuthE2E, GrantThenRevokeReachesTheLaptop) {
  const std::string email = "journey@example.com";
  NewUser(email);
  std::string pat = Pat(email, "journey");
  const std::string query = json{{"sql", "SELECT count(*) AS n FROM weather"}}.dump();
  EXPECT_EQ(Http("POST", "/api/query", pat, query), 403);
  EXPECT_EQ(Http("GET", "/api/data/weather/download", pat), 403);

  auto g = server_->Post("/api/admin/groups", json{{"name", "weather-readers"}}.dump());
  std::string gid = Body(g)["id"];
  ASSERT_EQ(server_->Post("/api/admin/groups/" + gid + "/members", json{{"email", email}}.dump())->status, 201);
  auto grant = server_->Post("/api/admin/grants", json{{"group_id", gid}, {"resource_type", "table"},
                                                       {"resource_id", "weather"}}.dump());
  ASSERT_EQ(grant->status, 201) << grant->body;
  EXPECT_EQ(Http("POST", "/api/query", pat, query), 200);
  EXPECT_EQ(Http("GET", "/api/data/weather/download", pat), 200);

  TempDir laptop;
  fs::path ws = laptop.path() / "ws";
  fs::create_directories(ws);
  auto login = RunDa({"login", "--server", server_->url(), "--token", pat}, laptop.path() / "cfg");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  auto sync1 = RunDa({"sync", "--workspace", ws.string()}, laptop.path() / "cfg");
  ASSERT_EQ(sync1.exit_code, 0) << sync1.err;
  EXPECT_NE(sync1.out.find("Downloaded weather"), std::string::npos) << sync1.out;
  EXPECT_TRUE(fs::exists(ws / "data" / "weather.parquet")) << sync1.out;

  ASSERT_EQ(server_->Delete("/api/admin/grants/" + Body(grant)["id"].get<std::string>())->status, 200);
  EXPECT_EQ(Http("POST", "/api/query", pat, query), 403);
  EXPECT_EQ(Http("GET", "/api/data/weather/download", pat), 403);
  auto sync2 = RunDa({"sync", "--workspace", ws.string()}, laptop.path() / "cfg");
  ASSERT_EQ(sync2.exit_code, 0) << sync2.err;
  EXPECT_NE(sync2.out.find("Removed weather"), std::string::npos) << sync2.out;
  EXPECT_NE(sync2.out.find("access"), std::string::npos) << sync2.out;
  EXPECT_FALSE(fs::exists(ws / "data" / "weather.parquet"));
  auto local = RunDa({"query", "--workspace", ws.string(), "SELECT count(*) FROM weather"},
                     laptop.path() / "cfg");
  EXPECT_NE(local.exit_code, 0) << local.out;
}

// The catalog answer is cached per caller and state generation; a committed grant or revocation
// moves the generation by itself (StateDb::Write), so the cached answer follows at once.
TEST_F(AuthE2E, TheCachedCatalogFollowsAGrantAndItsRevocationAtOnce) {
  const std::string email = "cached@example.com";
  NewUser(email);
  std::string pat = Pat(email, "cached");
  auto ids = [&] {
    std::set<std::string> out;
    const json body = Body(server_->Get("/api/catalog/tables", &pat));
    for (const auto& t : body["tables"]) {
      out.insert(t["id"].get<std::string>());
    }
    return out;
  };
  ASSERT_EQ(ids(), std::set<std::string>{});
  ASSERT_EQ(ids(), std::set<std::string>{});  // now answered from the cache
  auto g = server_->Post("/api/admin/groups", json{{"name", "cache-readers"}}.dump());
  std::string gid = Body(g)["id"];
  ASSERT_EQ(server_->Post("/api/admin/groups/" + gid + "/members", json{{"email", email}}.dump())->status, 201);
  EXPECT_EQ(ids(), std::set<std::string>{});  // a member of a group without grants
  auto grant = server_->Post("/api/admin/grants", json{{"group_id", gid}, {"resource_type", "table"},
                                                       {"resource_id", "weather"}}.dump());
  ASSERT_EQ(grant->status, 201) << grant->body;
  EXPECT_EQ(ids(), std::set<std::string>{"weather"});
  EXPECT_EQ(ids(), std::set<std::string>{"weather"});
  ASSERT_EQ(server_->Delete("/api/admin/grants/" + Body(grant)["id"].get<std::string>())->status, 200);
  EXPECT_EQ(ids(), std::set<std::string>{});
}

TEST_F(AuthE2E, RevokedTokenIsRefusedAtOnceAndPatsCannotMintPats) {
  NewUser("revoker@example.com");
  std::string pat = Pat("revoker@example.com", "short-lived");
  EXPECT_EQ(Http("GET", "/api/me", pat), 200);  // cached now
  EXPECT_EQ(Http("POST", "/auth/tokens", pat, json{{"name", "x"}}.dump()), 403);
  json tokens = Body(server_->Get("/auth/tokens", &pat));
  ASSERT_EQ(tokens["tokens"].size(), 1u);
  EXPECT_FALSE(tokens["tokens"][0]["last_used_at"].is_null());
  EXPECT_EQ(tokens["tokens"][0]["last_used_from"], "127.0.0.1");
  EXPECT_FALSE(tokens["tokens"][0].contains("token"));
  std::string id = tokens["tokens"][0]["id"];
  // Someone else's token id is not found.
  EXPECT_EQ(Http("DELETE", "/auth/tokens/" + id, granted_pat_), 404);
  EXPECT_EQ(Http("DELETE", "/auth/tokens/" + id, pat), 200);
  EXPECT_EQ(Http("GET", "/api/me", pat), 401);
  // Bad input changes nothing.
  EXPECT_EQ(Http("POST", "/auth/tokens", SessionOf("revoker@example.com"),
                   json{{"name", "x"}, {"expires_in_days", 0}}.dump()), 422);
  EXPECT_EQ(Http("POST", "/auth/token", "", json{{"email", "revoker@example.com"}, {"password", "wrong password!"}}.dump()), 401);
  EXPECT_EQ(Http("POST", "/auth/token", "", json{{"email", "nobody@example.com"}, {"password", kPassword}}.dump()), 401);
  EXPECT_EQ(Http("POST", "/api/users/" + analyst_id_ + "/set-password", admin_token_,
                   json{{"password", "short"}}.dump()), 422);
}

TEST_F(AuthE2E, BrowserSessionNeedsCsrfOnWrites) {
  auto login = server_->Send("POST", "/auth/login",
                             json{{"email", "granted@example.com"}, {"password", kPassword}}.dump(), {});
  ASSERT_EQ(login->status, 200) << login->body;
  EXPECT_EQ(Body(login)["user"]["email"], "granted@example.com");
  std::string session = SetCookie(*login, "da_session");
  std::string csrf = SetCookie(*login, "da_csrf");
  EXPECT_NE(session.find("HttpOnly"), std::string::npos) << session;
  EXPECT_NE(session.find("SameSite=Lax"), std::string::npos) << session;
  EXPECT_EQ(csrf.find("HttpOnly"), std::string::npos) << csrf;
  std::string cookies = "da_session=" + CookieValueOf(session) + "; da_csrf=" + CookieValueOf(csrf);
  httplib::Headers h = {{"Cookie", cookies}};
  auto me = server_->Send("GET", "/api/me", "", h);
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(Body(me)["groups"].size(), 2u) << me->body;  // Everyone + analysts
  auto refused = server_->Send("POST", "/auth/tokens", json{{"name", "web"}}.dump(), h);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(Body(refused)["error"]["code"], "csrf_failed");
  httplib::Headers wrong = {{"Cookie", cookies}, {"X-CSRF-Token", "nope"}};
  EXPECT_EQ(server_->Send("POST", "/auth/tokens", json{{"name", "web"}}.dump(), wrong)->status, 403);
  httplib::Headers with = {{"Cookie", cookies}, {"X-CSRF-Token", CookieValueOf(csrf)}};
  EXPECT_EQ(server_->Send("POST", "/auth/tokens", json{{"name", "web"}}.dump(), with)->status, 201);
  // The browser approval page of `da login` needs the session; without one → /login.
  // (RFC 7636 Appendix B's verifier and challenge.)
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  const std::string query =
      "port=5555&state=abc&code_challenge=" + challenge + "&code_challenge_method=S256";
  auto page = server_->Send("GET", "/auth/cli/authorize?" + query, "", h);
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_NE(page->body.find("name=\"csrf_token\" value=\"" + CookieValueOf(csrf) + "\""), std::string::npos);
  auto anon = server_->Send("GET", "/auth/cli/authorize?" + query, "", {});
  ASSERT_EQ(anon->status, 302);
  // (cpp-httplib's client percent-decodes Location; the server sends next=%2Fauth%2Fcli...)
  EXPECT_EQ(anon->get_header_value("Location"), "/login?next=/auth/cli/authorize?" + query);
  // An old CLI without a challenge is told to update.
  EXPECT_EQ(server_->Send("GET", "/auth/cli/authorize?port=5555&state=abc", "", h)->status, 422);
  auto approve = server_->Send("POST", "/auth/cli/authorize", query + "&csrf_token=" + CookieValueOf(csrf),
                               h, "application/x-www-form-urlencoded");
  ASSERT_EQ(approve->status, 302) << approve->body;
  std::string loc = approve->get_header_value("Location");
  ASSERT_EQ(loc.rfind("http://127.0.0.1:5555/callback?state=abc&code=", 0), 0u) << loc;
  const std::string code = loc.substr(loc.find("code=") + 5);
  EXPECT_EQ(loc.find("da_"), std::string::npos) << "no token in the URL: " << loc;
  EXPECT_EQ(Http("GET", "/api/me", code), 401);  // the code is no credential
  auto exchange = [&](const std::string& c, const std::string& state, const std::string& v) {
    return server_->Send("POST", "/auth/cli/token",
                         json{{"code", c}, {"state", state}, {"code_verifier", v}}.dump(), {});
  };
  auto forged = server_->Send("POST", "/auth/cli/authorize", query, h,
                              "application/x-www-form-urlencoded");
  EXPECT_EQ(forged->status, 403);
  // Approved again; a wrong verifier burns that code, and a used code is refused.
  auto again = server_->Send("POST", "/auth/cli/authorize", query + "&csrf_token=" + CookieValueOf(csrf),
                             h, "application/x-www-form-urlencoded");
  ASSERT_EQ(again->status, 302);
  const std::string loc2 = again->get_header_value("Location");
  const std::string code2 = loc2.substr(loc2.find("code=") + 5);
  EXPECT_EQ(exchange(code2, "abc", std::string(43, 'x'))->status, 401);
  EXPECT_EQ(exchange(code2, "abc", verifier)->status, 401);
  EXPECT_EQ(exchange(code, "other", verifier)->status, 401);  // the state is bound: burnt too
  auto third = server_->Send("POST", "/auth/cli/authorize", query + "&csrf_token=" + CookieValueOf(csrf),
                             h, "application/x-www-form-urlencoded");
  const std::string loc3 = third->get_header_value("Location");
  const std::string code3 = loc3.substr(loc3.find("code=") + 5);
  auto traded = exchange(code3, "abc", verifier);
  ASSERT_EQ(traded->status, 200) << traded->body;
  json token = Body(traded);
  EXPECT_EQ(Http("GET", "/api/me", token["token"].get<std::string>()), 200);
  // Expires after DA_CLI_TOKEN_TTL_DAYS (default 90): "YYYY-..." about 90 days on.
  ASSERT_TRUE(token["expires_at"].is_string()) << token.dump();
  EXPECT_EQ(exchange(code3, "abc", verifier)->status, 401);  // one use only
  // Logout revokes the session.
  EXPECT_EQ(server_->Send("POST", "/auth/logout", "", with)->status, 200);
  EXPECT_EQ(server_->Send("GET", "/api/me", "", h)->status, 401);
}

TEST_F(AuthE2E, GuardsKeepAnAdmin) {
  json me = Body(server_->Get("/api/me"));
  std::string admin_id = me["id"];
  EXPECT_TRUE(me["is_admin"].get<bool>());
  auto self = server_->Patch("/api/users/" + admin_id, json{{"active", false}}.dump());
  EXPECT_EQ(self->status, 409) << self->body;
  auto last = server_->Delete("/api/admin/groups/admin/members/" + admin_id);
  EXPECT_EQ(last->status, 409) << last->body;
  EXPECT_EQ(server_->Delete("/api/admin/groups/admin")->status, 409);
  EXPECT_EQ(server_->Delete("/api/admin/groups/everyone")->status, 409);
  EXPECT_EQ(server_->Post("/api/admin/groups/everyone/members", json{{"email", "analyst@example.com"}}.dump())->status, 409);
  EXPECT_EQ(server_->Post("/api/admin/grants", json{{"group_id", group_id_}, {"resource_type", "table"},
                                                    {"resource_id", "no_such_table"}}.dump())->status, 404);
  EXPECT_EQ(server_->Post("/api/admin/groups", json{{"name", "ANALYSTS"}}.dump())->status, 409);
  // A second admin may be removed again; the first stays.
  NewUser("admin2@example.com");
  ASSERT_EQ(server_->Post("/api/admin/groups/admin/members", json{{"email", "admin2@example.com"}}.dump())->status, 201);
  std::string admin2 = Pat("admin2@example.com", "a2");
  EXPECT_EQ(Http("GET", "/api/users", admin2), 200);
  json users = Body(server_->Get("/api/users"));
  std::string admin2_id;
  for (const auto& u : users["users"]) {
    if (u["email"] == "admin2@example.com") admin2_id = u["id"];
  }
  EXPECT_EQ(server_->Delete("/api/admin/groups/admin/members/" + admin2_id)->status, 200);
  EXPECT_EQ(Http("GET", "/api/users", admin2), 403);  // cached principal dropped at once
  // Deactivation: the user's tokens stop working at once.
  EXPECT_EQ(server_->Patch("/api/users/" + admin2_id, json{{"active", false}}.dump())->status, 200);
  EXPECT_EQ(Http("GET", "/api/me", admin2), 401);
  EXPECT_EQ(server_->Patch("/api/users/" + admin2_id, json{{"active", "no"}}.dump())->status, 400);
}

TEST_F(AuthE2E, SecurityEventsAreAudited) {
  EXPECT_EQ(Http("POST", "/auth/token", "", json{{"email", "audit@example.com"}, {"password", "wrong password!"}}.dump()), 401);
  json failed = Body(server_->Get("/api/admin/audit?action=sign_in_failed"));
  ASSERT_FALSE(failed["entries"].empty());
  EXPECT_EQ(failed["entries"][0]["params"]["email"], "audit@example.com");
  for (const auto& e : failed["entries"]) EXPECT_EQ(e["action"], "sign_in_failed");
  json granted = Body(server_->Get("/api/admin/audit?user=granted@example.com"));
  std::set<std::string> actions;
  for (const auto& e : granted["entries"]) actions.insert(e["action"].get<std::string>());
  EXPECT_TRUE(actions.count("sign_in") && actions.count("token_created")) << granted.dump();
  json admin = Body(server_->Get("/api/admin/audit?action=grant_created&limit=1"));
  ASSERT_EQ(admin["entries"].size(), 1u);
  json future = Body(server_->Get("/api/admin/audit?since=2999-01-01"));
  EXPECT_TRUE(future["entries"].empty());
  EXPECT_EQ(server_->Get("/api/admin/audit?since=yesterday")->status, 422);
  for (const char* action : {"user_created", "group_created", "group_member_added", "password_set",
                             "token_revoked", "sync_trigger", "registry_table_registered"}) {
    json e = Body(server_->Get(std::string("/api/admin/audit?action=") + action));
    EXPECT_FALSE(e["entries"].empty()) << action;
  }
}

TEST_F(AuthE2E, CliLoginApprovedInTheBrowser) {
  auto login = server_->Send("POST", "/auth/login",
                             json{{"email", "granted@example.com"}, {"password", kPassword}}.dump(), {});
  ASSERT_EQ(login->status, 200) << login->body;
  std::string csrf = CookieValueOf(SetCookie(*login, "da_csrf"));
  httplib::Headers browser = {
      {"Cookie", "da_session=" + CookieValueOf(SetCookie(*login, "da_session")) + "; da_csrf=" + csrf}};
  TempDir laptop;
  const fs::path cfg = laptop.path() / "cfg";

  std::mutex mu;
  std::condition_variable cv;
  std::string url;
  sync::ChildOptions o;
  o.argv = {DA_BINARY, "login", "--browser", "--server", server_->url(), "--timeout", "60"};
  o.extra_env = {"DA_CONFIG_DIR=" + cfg.string(), "DA_NO_BROWSER=1"};
  o.timeout_ms = 90000;
  o.on_stderr_line = [&](const std::string& line) {
    size_t at = line.find(server_->url() + "/auth/cli/authorize?");
    if (at == std::string::npos) return;
    std::lock_guard<std::mutex> lock(mu);
    url = line.substr(at + server_->url().size());
    cv.notify_all();
  };
  Result<sync::ChildResult> cli = Internal("not run");
  std::thread running([&] { cli = sync::RunChild(o); });
  struct Joiner {  // the CLI gives up after its --timeout, so this join is bounded
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{running};
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return !url.empty(); }));
  }
  // The "browser": the approval page, the form post, then the redirect to the CLI's listener.
  auto page = server_->Send("GET", url, "", browser);
  ASSERT_EQ(page->status, 200) << page->body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page->body, m, std::regex(R"re(name="port" value="(\d+)".*name="state" value="([0-9a-f]+)".*name="code_challenge" value="([A-Za-z0-9_-]+)")re")));
  auto approve = server_->Send("POST", "/auth/cli/authorize",
                               "port=" + m[1].str() + "&state=" + m[2].str() + "&code_challenge=" +
                                   m[3].str() + "&code_challenge_method=S256&csrf_token=" + csrf,
                               browser, "application/x-www-form-urlencoded");
  ASSERT_EQ(approve->status, 302) << approve->body;
  std::string location = approve->get_header_value("Location");
  ASSERT_EQ(location.rfind("http://127.0.0.1:" + m[1].str() + "/callback?", 0), 0u) << location;
  httplib::Client loopback("127.0.0.1", std::stoi(m[1].str()));
  auto callback = loopback.Get(location.substr(location.find("/callback")).c_str());
  ASSERT_TRUE(callback);
  EXPECT_EQ(callback->status, 200);
  running.join();
  ASSERT_OK(cli);
  ASSERT_EQ(cli->exit_code, 0) << cli->stderr_tail;
  EXPECT_NE(cli->stdout_data.find("as granted@example.com"), std::string::npos) << cli->stdout_data;

  auto whoami = RunDa({"whoami"}, cfg);
  ASSERT_EQ(whoami.exit_code, 0) << whoami.err;
  EXPECT_NE(whoami.out.find("granted@example.com"), std::string::npos);
  EXPECT_NE(whoami.out.find("analysts"), std::string::npos) << whoami.out;
  auto list = RunDa({"tokens", "list"}, cfg);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("da CLI"), std::string::npos) << list.out;
  // The saved credential is a PAT: creating another needs the password.
  auto refused = RunDa({"tokens", "create", "ci"}, cfg);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("--email"), std::string::npos) << refused.err;
  auto created = RunDa({"tokens", "create", "ci", "--email", "granted@example.com",
                        "--expires-in-days", "7"}, cfg, {std::string("DA_PASSWORD=") + kPassword});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string ci_token = Lines(created.out).at(0);
  EXPECT_EQ(Http("GET", "/api/me", ci_token), 200);
  auto logout = RunDa({"logout"}, cfg);
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_NE(logout.out.find("revoked on the server"), std::string::npos) << logout.out;
  EXPECT_NE(RunDa({"whoami"}, cfg).exit_code, 0);
  EXPECT_EQ(Http("GET", "/api/me", location.substr(location.find("token=") + 6)), 401);
}

TEST_F(AuthE2E, AdminCliManagesUsersGroupsAndGrants) {
  TempDir laptop;
  const fs::path cfg = laptop.path() / "cfg";
  ASSERT_EQ(RunDa({"login", "--server", server_->url(), "--token", admin_token_}, cfg).exit_code, 0);
  auto run = [&](std::vector<std::string> args, std::vector<std::string> env = {}) {
    auto r = RunDa(args, cfg, env);
    EXPECT_EQ(r.exit_code, 0) << args[1] << " " << args[2] << ": " << r.err;
    return r.out;
  };
  run({"admin", "users", "create", "cli@example.com", "--name", "Cli User"});
  run({"admin", "users", "set-password", "cli@example.com"}, {std::string("DA_PASSWORD=") + kPassword});
  run({"admin", "groups", "create", "cli-group", "--description", "from the CLI"});
  run({"admin", "groups", "add-member", "cli-group", "cli@example.com"});
  EXPECT_NE(run({"admin", "groups", "members", "cli-group"}).find("cli@example.com"), std::string::npos);
  EXPECT_NE(run({"admin", "grants", "create", "cli-group", "weather"}).find("Granted weather"), std::string::npos);
  EXPECT_NE(run({"admin", "grants", "list", "--group", "cli-group"}).find("weather"), std::string::npos);
  EXPECT_NE(run({"admin", "users", "list"}).find("cli@example.com"), std::string::npos);
  // The new user signs in with the password and sees exactly the granted table.
  json access = Body(server_->Get("/api/me/effective-access", &SessionOf("cli@example.com")));
  ASSERT_EQ(access["tables"].size(), 1u) << access.dump();
  EXPECT_EQ(access["tables"][0]["id"], "weather");
  run({"admin", "users", "deactivate", "cli@example.com"});
  EXPECT_EQ(Http("GET", "/api/me", SessionOf("cli@example.com")), 401);
  auto self = RunDa({"admin", "users", "deactivate", "admin@localhost"}, cfg);
  EXPECT_EQ(self.exit_code, 4) << self.err;  // conflict: nobody deactivates themselves
}

TEST(AuthRateLimitE2E, SignInIsLimitedPerIpAndResets) {
  TempDir tmp;
  // A window long enough that three slow password checks on a loaded machine stay inside it.
  ServerProcess server(tmp.path() / "data", {"DA_AUTH_RATE_LIMIT=3/10"});
  std::string none;
  const std::string body = json{{"email", "admin@localhost"}, {"password", "wrong password!"}}.dump();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(server.Post("/auth/token", body, &none)->status, 401) << i;
  auto limited = server.Post("/auth/login", body, &none);
  ASSERT_EQ(limited->status, 429);
  int retry = std::stoi(limited->get_header_value("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 11);
  std::this_thread::sleep_for(std::chrono::seconds(retry));
  EXPECT_EQ(server.Post("/auth/token", body, &none)->status, 401);
  json audit = Body(server.Get("/api/admin/audit?action=sign_in_rate_limited"));
  EXPECT_EQ(audit["entries"].size(), 1u);
}

}  // namespace
}  // namespace da::e2e
