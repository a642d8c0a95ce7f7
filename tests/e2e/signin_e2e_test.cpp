// Email magic links and OpenID Connect sign-in through the real server (issue 6), against a real
// SMTP server (npm smtp-server) and a real OIDC provider (npm oidc-provider) started by the tests.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "support/free_port.h"
#include "support/oidc_test_provider.h"
#include "support/server_process.h"
#include "support/smtp_test_server.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
using nlohmann::json;

json Body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

/// "da_session=<v>; da_csrf=<v>" from a response's Set-Cookie headers ("" without a session).
std::string SessionCookies(const httplib::Response& res) {
  std::string out;
  for (size_t i = 0; i < res.get_header_value_count("Set-Cookie"); ++i) {
    std::string h = res.get_header_value("Set-Cookie", i);
    std::string pair = h.substr(0, h.find(';'));
    if (pair.rfind("da_session=", 0) == 0 || pair.rfind("da_csrf=", 0) == 0) {
      if (pair.back() == '=') continue;  // a cleared cookie
      out += (out.empty() ? "" : "; ") + pair;
    }
  }
  return out.find("da_session=") == std::string::npos ? "" : out;
}

/// "da_oidc_state=<v>" from the Set-Cookie of /auth/oidc/login ("" when not set).
std::string StateCookie(const httplib::Response& res) {
  for (size_t i = 0; i < res.get_header_value_count("Set-Cookie"); ++i) {
    std::string h = res.get_header_value("Set-Cookie", i);
    std::string pair = h.substr(0, h.find(';'));
    if (pair.rfind("da_oidc_state=", 0) == 0 && pair.back() != '=') return pair;
  }
  return "";
}

/// The Location of a redirect as sent. cpp-httplib's client percent-decodes Location; the only
/// character that decoding breaks in our authorization URLs is the space between scopes (state,
/// nonce and the PKCE challenge are base64url).
std::string RawLocation(const httplib::Response& res) {
  std::string url = res.get_header_value("Location");
  for (size_t at = url.find(' '); at != std::string::npos; at = url.find(' ', at)) url.replace(at, 1, "%20");
  return url;
}

/// The path + query of the sign-in link in a mail body.
std::string LinkPath(const std::string& body) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex(R"(http://127\.0\.0\.1:\d+(/auth/email/verify\?token=[A-Za-z0-9_]+))"))) {
    return "";
  }
  return m[1];
}

/// Opens a magic link as a browser does: the GET shows a page, whose form POSTs the token back
/// (with the page's Origin). Returns the POST's answer.
httplib::Result OpenMagicLink(ServerProcess& server, const std::string& link) {
  std::string none;
  auto page = server.Get(link, &none);
  EXPECT_EQ(page->status, 200) << page->body;
  const std::string token = link.substr(link.find("token=") + 6);
  return server.Send("POST", "/auth/email/verify", "token=" + token, {{"Origin", server.url()}},
                     "application/x-www-form-urlencoded");
}

TEST(SignInE2E, MagicLinkIsOneTimeAndExpires) {
  auto smtp = testing::SmtpTestServer::Start();
  ASSERT_OK(smtp);
  TempDir tmp;
  // Links are built only from DA_PUBLIC_URL (issue 13), so the port is chosen before the start.
  const int port = FreeLocalPort();
  ASSERT_GT(port, 0);
  ServerProcess server(tmp.path() / "data",
                       {"DA_SMTP_URL=" + (*smtp)->Url(), "DA_SMTP_FROM=da <da@example.test>",
                        "DA_MAGIC_LINK_TTL_SEC=2", "DA_AUTH_RATE_LIMIT=off",
                        "DA_PUBLIC_URL=http://127.0.0.1:" + std::to_string(port)},
                       port);
  EXPECT_EQ(Body(server.Get("/auth/config"))["magic_link"], true);
  ASSERT_EQ(server.Post("/api/users", json{{"email", "ann@example.test"}, {"name", "Ann"}}.dump())->status, 201);
  std::string none;
  auto known = server.Post("/auth/email/send-link", json{{"email", "Ann@Example.test"}, {"next", "/catalog"}}.dump(), &none);
  auto unknown = server.Post("/auth/email/send-link", json{{"email", "nobody@example.test"}}.dump(), &none);
  ASSERT_EQ(known->status, 200) << known->body;
  EXPECT_EQ(unknown->status, known->status);
  EXPECT_EQ(unknown->body, known->body);  // same answer whether or not the address exists

  auto mail = (*smtp)->WaitForMail(1);
  ASSERT_OK(mail);
  EXPECT_EQ(mail->rcpt_to, std::vector<std::string>{"ann@example.test"});
  std::string link = LinkPath(mail->Body());
  ASSERT_FALSE(link.empty()) << mail->Body();

  auto first = OpenMagicLink(server, link);
  ASSERT_EQ(first->status, 302) << first->body;
  EXPECT_EQ(first->get_header_value("Location"), "/catalog");
  std::string cookies = SessionCookies(*first);
  ASSERT_FALSE(cookies.empty());
  auto me = server.Get("/api/me", &none, {{"Cookie", cookies}});
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(Body(me)["email"], "ann@example.test");

  auto reused = OpenMagicLink(server, link);
  ASSERT_EQ(reused->status, 302);
  EXPECT_EQ(reused->get_header_value("Location").rfind("/login?error=", 0), 0u);
  EXPECT_TRUE(SessionCookies(*reused).empty());

  ASSERT_EQ(server.Post("/auth/email/send-link", json{{"email", "ann@example.test"}}.dump(), &none)->status, 200);
  auto second = (*smtp)->WaitForMail(2);
  ASSERT_OK(second);
  std::string late = LinkPath(second->Body());
  ASSERT_FALSE(late.empty());
  EXPECT_NE(late, link);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // DA_MAGIC_LINK_TTL_SEC=2
  auto expired = OpenMagicLink(server, late);
  ASSERT_EQ(expired->status, 302);
  EXPECT_EQ(expired->get_header_value("Location").rfind("/login?error=", 0), 0u);
  EXPECT_TRUE(SessionCookies(*expired).empty());
  json audit = Body(server.Get("/api/admin/audit?action=sign_in"));
  ASSERT_EQ(audit["entries"].size(), 1u);
  EXPECT_EQ(audit["entries"][0]["params"]["method"], "magic_link");
}

TEST(SignInE2E, OidcFindsOrCreatesTheUserAndSyncsGroups) {
  const int port = FreeLocalPort();
  ASSERT_GT(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string redirect = base + "/auth/oidc/callback";
  auto idp = testing::OidcTestProvider::Start({testing::OidcTestClient{"da", "s3cret", redirect}});
  ASSERT_OK(idp);
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_OIDC_ISSUER=" + (*idp)->issuer(), "DA_OIDC_CLIENT_ID=da",
                        "DA_OIDC_CLIENT_SECRET=s3cret", "DA_OIDC_REDIRECT_URI=" + redirect,
                        "DA_OIDC_SCOPES=openid email profile groups", "DA_OIDC_GROUPS_CLAIM=groups",
                        "DA_OIDC_NAME=Test IdP", "DA_AUTH_RATE_LIMIT=off",
                        "DA_OIDC_SIGNUP=open"},  // creates users (issue 13: the default is invite-only)
                       port);
  ASSERT_EQ(server.port(), port);
  json config = Body(server.Get("/auth/config"));
  EXPECT_EQ(config["oidc"], true);
  EXPECT_EQ(config["oidc_name"], "Test IdP");
  ASSERT_EQ(server.Post("/api/admin/groups", json{{"name", "Analysts"}}.dump())->status, 201);
  ASSERT_EQ(server.Post("/api/admin/groups", json{{"name", "finance"}}.dump())->status, 201);

  std::string none;
  auto start = server.Get("/auth/oidc/login?next=/catalog", &none);
  ASSERT_EQ(start->status, 302) << start->body;
  std::string authorize = RawLocation(*start);
  ASSERT_EQ(authorize.rfind((*idp)->issuer(), 0), 0u) << authorize;
  auto callback = testing::BrowserSignIn(authorize, "alice", redirect);
  ASSERT_OK(callback) << callback.status().ToString() << "\n" << (*idp)->server_log();
  ASSERT_EQ(callback->rfind(redirect + "?", 0), 0u) << *callback;
  const std::string path = callback->substr(base.size());
  // The login is bound to the browser that started it: without its state cookie (a victim's
  // browser sent to the attacker's callback) the callback is refused and the state survives.
  auto foreign = server.Get(path, &none);
  ASSERT_EQ(foreign->status, 302);
  EXPECT_EQ(foreign->get_header_value("Location"), "/login?error=oidc_failed");
  EXPECT_TRUE(SessionCookies(*foreign).empty());
  const std::string state_cookie = StateCookie(*start);
  ASSERT_FALSE(state_cookie.empty());
  auto done = server.Get(path, &none, {{"Cookie", state_cookie}});
  ASSERT_EQ(done->status, 302) << done->body;
  EXPECT_EQ(done->get_header_value("Location"), "/catalog");
  std::string cookies = SessionCookies(*done);
  ASSERT_FALSE(cookies.empty());
  json me = Body(server.Get("/api/me", &none, {{"Cookie", cookies}}));
  EXPECT_EQ(me["email"], "alice@example.test");
  EXPECT_EQ(me["is_admin"], false);
  std::set<std::string> groups;
  for (const auto& g : me["groups"]) groups.insert(g["name"].get<std::string>());
  EXPECT_EQ(groups, (std::set<std::string>{"Everyone", "Analysts"}));  // "alice-team" does not exist

  // The same callback again (replayed code, state and nonce) is refused.
  auto replay = server.Get(path, &none, {{"Cookie", state_cookie}});
  ASSERT_EQ(replay->status, 302);
  EXPECT_EQ(replay->get_header_value("Location"), "/login?error=oidc_failed");
  EXPECT_TRUE(SessionCookies(*replay).empty());
  // A second sign-in finds the same user.
  auto second = server.Get("/auth/oidc/login", &none);
  auto again = testing::BrowserSignIn(RawLocation(*second), "alice", redirect);
  ASSERT_OK(again);
  auto second_done = server.Get(again->substr(base.size()), &none, {{"Cookie", StateCookie(*second)}});
  ASSERT_EQ(second_done->status, 302);
  EXPECT_FALSE(SessionCookies(*second_done).empty());
  json users = Body(server.Get("/api/users"));
  EXPECT_EQ(users["users"].size(), 2u) << users.dump();  // bootstrap admin + alice
  json failed = Body(server.Get("/api/admin/audit?action=sign_in_failed"));
  ASSERT_EQ(failed["entries"].size(), 2u);  // the foreign browser and the replay
  EXPECT_EQ(failed["entries"][0]["params"]["method"], "oidc");
  EXPECT_EQ(failed["entries"][1]["params"]["method"], "oidc");
}

}  // namespace
}  // namespace da::e2e
