// Issue 13, sign-in: each test names the attack it blocks, through the real server against a real
// OIDC provider (npm oidc-provider) and a real SMTP server (npm smtp-server) started by the test.
#include <gtest/gtest.h>

#include <regex>
#include <set>

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

constexpr char kAdminEmail[] = "root@example.test";
constexpr char kAdminPassword[] = "correct horse battery staple";

json Body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

/// Every Set-Cookie header of a response whose cookie name is `name` ("" when none).
std::string SetCookieHeader(const httplib::Response& res, const std::string& name) {
  for (size_t i = 0; i < res.get_header_value_count("Set-Cookie"); ++i) {
    std::string h = res.get_header_value("Set-Cookie", i);
    if (h.rfind(name + "=", 0) == 0) return h;
  }
  return "";
}

/// The value of a Set-Cookie header ("" for a cleared cookie).
std::string CookieValueOf(const std::string& set_cookie) {
  const size_t eq = set_cookie.find('=');
  return eq == std::string::npos ? "" : set_cookie.substr(eq + 1, set_cookie.find(';') - eq - 1);
}

/// "da_session=<v>" from a response ("" when it started no session).
std::string SessionCookie(const httplib::Response& res) {
  std::string v = CookieValueOf(SetCookieHeader(res, "da_session"));
  return v.empty() ? "" : "da_session=" + v;
}

/// "da_oidc_state=<v>" from the Set-Cookie of /auth/oidc/login.
std::string StateCookie(const httplib::Response& res) {
  std::string v = CookieValueOf(SetCookieHeader(res, "da_oidc_state"));
  return v.empty() ? "" : "da_oidc_state=" + v;
}

/// The Location of a redirect as sent (cpp-httplib decodes the space between scopes).
std::string RawLocation(const httplib::Response& res) {
  std::string url = res.get_header_value("Location");
  for (size_t at = url.find(' '); at != std::string::npos; at = url.find(' ', at)) url.replace(at, 1, "%20");
  return url;
}

/// A da server with OIDC against `idp`, on a port known in advance (the redirect URI names it).
struct OidcServer {
  int port = FreeLocalPort();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::string redirect = base + "/auth/oidc/callback";
};

std::vector<std::string> OidcEnv(const OidcTestProvider& idp, const OidcServer& s, std::vector<std::string> extra,
                                 const std::string& client_id = "da") {
  std::vector<std::string> env = {"DA_OIDC_ISSUER=" + idp.issuer(), "DA_OIDC_CLIENT_ID=" + client_id,
                                  "DA_OIDC_CLIENT_SECRET=s3cret", "DA_OIDC_REDIRECT_URI=" + s.redirect,
                                  "DA_AUTH_RATE_LIMIT=off"};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

/// Signs in through the provider as `login`, as a browser would; returns the callback's answer.
httplib::Result OidcSignIn(ServerProcess& server, const OidcTestProvider& idp, const OidcServer& s,
                           const std::string& login) {
  std::string none;
  auto start = server.Get("/auth/oidc/login?next=/catalog", &none);
  EXPECT_EQ(start->status, 302) << start->body;
  auto callback = BrowserSignIn(RawLocation(*start), login, s.redirect);
  EXPECT_TRUE(callback.ok()) << callback.status().ToString();
  if (!callback.ok()) return httplib::Result(nullptr, httplib::Error::Unknown);
  return server.Get(callback->substr(s.base.size()), &none, {{"Cookie", StateCookie(*start)}});
}

size_t UserCount(ServerProcess& server) { return Body(server.Get("/api/users"))["users"].size(); }

// Item 1, OIDC account takeover: an account at the provider that claims someone's email without
// the provider having verified it, or a second account (another `sub`) with the same email, must
// not sign in as that user.
TEST(SecuritySignInE2E, OidcAccountTakeoverByEmailIsRefused) {
  OidcServer s;
  ASSERT_GT(s.port, 0);
  OidcTestProvider::Options options;
  options.accounts["mallory"] = {{"email", "bob@example.test"}, {"email_verified", false}};
  options.accounts["nomark"] = {{"email", "nomark@example.test"}, {"email_verified", nullptr}};
  options.accounts["alice2"] = {{"email", "alice@example.test"}};  // verified, but another sub
  auto idp = OidcTestProvider::Start({OidcTestClient{"da", "s3cret", s.redirect}}, options);
  ASSERT_OK(idp);
  TempDir tmp;
  ServerProcess server(tmp.path() / "data", OidcEnv(**idp, s, {"DA_OIDC_SIGNUP=open"}), s.port);
  ASSERT_EQ(server.Post("/api/users", json{{"email", "bob@example.test"}, {"name", "Bob"}}.dump())->status, 201);

  // An unverified email (false, or no email_verified claim at all) is refused, even for a new user.
  for (const char* login : {"mallory", "nomark"}) {
    auto r = OidcSignIn(server, **idp, s, login);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get_header_value("Location"), "/login?error=oidc_email_unverified") << login;
    EXPECT_TRUE(SessionCookie(*r).empty()) << login;
  }
  EXPECT_EQ(UserCount(server), 2u);  // admin + bob: nobody was created

  // The first sign-in binds alice to (issuer, sub "alice"); the same person signs in again.
  auto first = OidcSignIn(server, **idp, s, "alice");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->get_header_value("Location"), "/catalog");
  ASSERT_FALSE(SessionCookie(*first).empty());
  // Another provider account (sub "alice2") presenting alice's verified email is refused, not merged.
  auto other = OidcSignIn(server, **idp, s, "alice2");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->get_header_value("Location"), "/login?error=oidc_identity_mismatch");
  EXPECT_TRUE(SessionCookie(*other).empty());
  auto again = OidcSignIn(server, **idp, s, "alice");
  ASSERT_TRUE(again);
  ASSERT_FALSE(SessionCookie(*again).empty());
  std::string none;
  EXPECT_EQ(Body(server.Get("/api/me", &none, {{"Cookie", SessionCookie(*again)}}))["email"], "alice@example.test");
  EXPECT_EQ(UserCount(server), 3u);

  json refused = Body(server.Get("/api/admin/audit?action=sign_in_failed"));
  std::multiset<std::string> reasons;
  for (const auto& e : refused["entries"]) reasons.insert(e["params"].value("reason", ""));
  EXPECT_EQ(reasons.count("email_unverified"), 2u) << refused.dump();
  EXPECT_EQ(reasons.count("identity_mismatch"), 1u) << refused.dump();
  EXPECT_EQ(Body(server.Get("/api/admin/audit?action=oidc_identity_bound"))["entries"].size(), 1u);
}

// Item 2, who may sign in: by default (invite-only) an account at the provider that no admin
// invited does not become a user; with DA_OIDC_SIGNUP=domains only listed domains (and Google's
// `hd`) may join.
TEST(SecuritySignInE2E, OidcSignUpIsInviteOnlyByDefaultAndDomainsAreChecked) {
  OidcServer s1, s2;
  ASSERT_GT(s1.port, 0);
  ASSERT_GT(s2.port, 0);
  OidcTestProvider::Options options;
  options.accounts["dan"] = {{"email", "dan@corp.example.test"}};
  options.accounts["hana"] = {{"email", "hana@corp.example.test"}, {"hd", "corp.example.test"}};
  options.accounts["gw"] = {{"email", "gw@corp.example.test"}, {"hd", "other.example.test"}};
  auto idp = OidcTestProvider::Start(
      {OidcTestClient{"da", "s3cret", s1.redirect}, OidcTestClient{"da2", "s3cret", s2.redirect}}, options);
  ASSERT_OK(idp);
  {
    TempDir tmp;
    ServerProcess server(tmp.path() / "data", OidcEnv(**idp, s1, {}), s1.port);  // no DA_OIDC_SIGNUP
    auto stranger = OidcSignIn(server, **idp, s1, "carol");
    ASSERT_TRUE(stranger);
    EXPECT_EQ(stranger->get_header_value("Location"), "/login?error=oidc_not_invited");
    EXPECT_TRUE(SessionCookie(*stranger).empty());
    EXPECT_EQ(UserCount(server), 1u);
    ASSERT_EQ(server.Post("/api/users", json{{"email", "carol@example.test"}, {"name", "Carol"}}.dump())->status, 201);
    auto invited = OidcSignIn(server, **idp, s1, "carol");
    ASSERT_TRUE(invited);
    EXPECT_EQ(invited->get_header_value("Location"), "/catalog");
    EXPECT_FALSE(SessionCookie(*invited).empty());
  }
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       OidcEnv(**idp, s2, {"DA_OIDC_SIGNUP=domains", "DA_OIDC_ALLOWED_DOMAINS=corp.example.test"}, "da2"),
                       s2.port);
  for (const char* login : {"dan", "hana"}) {
    auto joined = OidcSignIn(server, **idp, s2, login);
    ASSERT_TRUE(joined);
    EXPECT_EQ(joined->get_header_value("Location"), "/catalog") << login;
    EXPECT_FALSE(SessionCookie(*joined).empty()) << login;
  }
  for (const char* login : {"eve", "gw"}) {  // eve@example.test; gw's hd is not listed
    auto refused = OidcSignIn(server, **idp, s2, login);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->get_header_value("Location"), "/login?error=oidc_domain_not_allowed") << login;
    EXPECT_TRUE(SessionCookie(*refused).empty()) << login;
  }
  EXPECT_EQ(UserCount(server), 3u);  // admin, dan, hana
}

// Item 3, magic links poisoned through the Host header: without DA_PUBLIC_URL no link is mailed
// (and the server says so at start-up); with it, a forged Host never reaches a mail.
TEST(SecuritySignInE2E, MagicLinksNeverFollowAForgedHost) {
  auto smtp = SmtpTestServer::Start();
  ASSERT_OK(smtp);
  std::string none;
  {
    TempDir tmp;
    ServerProcess server(tmp.path() / "data", {"DA_SMTP_URL=" + (*smtp)->Url(), "DA_SMTP_FROM=da@example.test"});
    EXPECT_NE(server.Output().find("magic links are off"), std::string::npos) << server.Output();
    EXPECT_EQ(Body(server.Get("/auth/config"))["magic_link"], false);
    ASSERT_EQ(server.Post("/api/users", json{{"email", "ann@example.test"}}.dump())->status, 201);
    auto refused = server.Send("POST", "/auth/email/send-link", json{{"email", "ann@example.test"}}.dump(),
                               {{"Host", "evil.example"}});
    ASSERT_EQ(refused->status, 409) << refused->body;
    EXPECT_NE(Body(refused)["error"]["message"].get<std::string>().find("DA_PUBLIC_URL"), std::string::npos);
    EXPECT_TRUE((*smtp)->Mails().empty());
  }
  const int port = FreeLocalPort();
  const std::string public_url = "http://127.0.0.1:" + std::to_string(port);
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_SMTP_URL=" + (*smtp)->Url(), "DA_SMTP_FROM=da@example.test", "DA_PUBLIC_URL=" + public_url},
                       port);
  EXPECT_EQ(Body(server.Get("/auth/config"))["magic_link"], true);
  ASSERT_EQ(server.Post("/api/users", json{{"email", "ann@example.test"}}.dump())->status, 201);
  auto sent = server.Send("POST", "/auth/email/send-link", json{{"email", "ann@example.test"}}.dump(),
                          {{"Host", "evil.example"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "evil.example"}});
  ASSERT_EQ(sent->status, 200) << sent->body;
  auto mail = (*smtp)->WaitForMail(1);
  ASSERT_OK(mail);
  EXPECT_EQ(mail->Body().find("evil.example"), std::string::npos) << mail->Body();
  EXPECT_NE(mail->Body().find(public_url + "/auth/email/verify?token=ml_"), std::string::npos) << mail->Body();
}

// Item 5 (magic links burned by mail scanners; login CSRF) and item 8 (open redirect after
// sign-in through the link's `next`).
TEST(SecuritySignInE2E, MagicLinkNeedsAPostFromItsPageAndLoginChecksTheOrigin) {
  auto smtp = SmtpTestServer::Start();
  ASSERT_OK(smtp);
  const int port = FreeLocalPort();
  const std::string public_url = "http://127.0.0.1:" + std::to_string(port);
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_SMTP_URL=" + (*smtp)->Url(), "DA_SMTP_FROM=da@example.test", "DA_PUBLIC_URL=" + public_url,
                        "DA_AUTH_RATE_LIMIT=off", std::string("DA_BOOTSTRAP_ADMIN_EMAIL=") + kAdminEmail,
                        std::string("DA_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword},
                       port);
  ASSERT_EQ(server.Post("/api/users", json{{"email", "ann@example.test"}}.dump())->status, 201);
  std::string none;
  ASSERT_EQ(server.Post("/auth/email/send-link", json{{"email", "ann@example.test"}, {"next", "/\t/evil.example"}}.dump(),
                        &none)->status, 200);
  auto mail = (*smtp)->WaitForMail(1);
  ASSERT_OK(mail);
  std::smatch m;
  std::string body = mail->Body();
  ASSERT_TRUE(std::regex_search(body, m, std::regex(R"((/auth/email/verify\?token=(ml_[0-9a-f]+)))"))) << body;
  const std::string link = m[1], token = m[2];

  // A mail scanner (or a link preview) opens the link: a page, no session, the link still works.
  for (int i = 0; i < 2; ++i) {
    auto page = server.Get(link, &none);
    ASSERT_EQ(page->status, 200) << page->body;
    EXPECT_NE(page->body.find("<form method=\"post\" action=\"/auth/email/verify\">"), std::string::npos);
    EXPECT_TRUE(SessionCookie(*page).empty());
    EXPECT_EQ(page->get_header_value("Cache-Control"), "no-store");
  }
  const std::string form = "token=" + token;
  // Another site posts the token (or a form without Origin and Referer): refused, link not used up.
  auto forged = server.Send("POST", "/auth/email/verify", form, {{"Origin", "https://evil.example"}},
                            "application/x-www-form-urlencoded");
  EXPECT_EQ(forged->status, 403) << forged->body;
  auto bare = server.Send("POST", "/auth/email/verify", form, {}, "application/x-www-form-urlencoded");
  EXPECT_EQ(bare->status, 403) << bare->body;
  // The page's own form post signs in; the link's `next` ("/\t/evil.example") is not followed.
  auto used = server.Send("POST", "/auth/email/verify", form, {{"Origin", public_url}},
                          "application/x-www-form-urlencoded");
  ASSERT_EQ(used->status, 302) << used->body;
  EXPECT_EQ(used->get_header_value("Location"), "/");
  ASSERT_FALSE(SessionCookie(*used).empty());
  EXPECT_EQ(Body(server.Get("/api/me", &none, {{"Cookie", SessionCookie(*used)}}))["email"], "ann@example.test");
  auto replay = server.Send("POST", "/auth/email/verify", form, {{"Referer", public_url + link}},
                            "application/x-www-form-urlencoded");
  ASSERT_EQ(replay->status, 302);
  EXPECT_EQ(replay->get_header_value("Location"), "/login?error=link_invalid_or_expired");

  // Login CSRF: another site's form (or fetch) cannot sign the browser into an account.
  const std::string creds = json{{"email", kAdminEmail}, {"password", kAdminPassword}}.dump();
  auto cross = server.Send("POST", "/auth/login", creds, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(cross->status, 403) << cross->body;
  EXPECT_EQ(Body(cross)["error"]["code"], "csrf_failed");
  EXPECT_TRUE(SessionCookie(*cross).empty());
  auto cross_referer = server.Send("POST", "/auth/login", creds, {{"Referer", "https://evil.example/x"}});
  EXPECT_EQ(cross_referer->status, 403);
  const std::string form_creds = std::string("email=") + kAdminEmail + "&password=correct+horse+battery+staple&next=/x";
  auto bare_form = server.Send("POST", "/auth/login", form_creds, {}, "application/x-www-form-urlencoded");
  EXPECT_EQ(bare_form->status, 403) << bare_form->body;
  auto own = server.Send("POST", "/auth/login", creds, {{"Origin", public_url}});
  EXPECT_EQ(own->status, 200) << own->body;
  auto cli = server.Send("POST", "/auth/login", creds, {});  // JSON without Origin/Referer: a script
  EXPECT_EQ(cli->status, 200) << cli->body;
}

// Item 8, open redirect after sign-in: whatever `next` says, the server sends the browser only to
// a path on its own origin, and the web UI asks it (GET /auth/config?next=) instead of judging.
TEST(SecuritySignInE2E, NextNeverLeavesTheOrigin) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_AUTH_RATE_LIMIT=off", std::string("DA_BOOTSTRAP_ADMIN_EMAIL=") + kAdminEmail,
                        std::string("DA_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword});
  std::string none;
  const std::vector<std::string> attacks = {
      "/%09/evil.example", "//evil.example", "/%5Cevil.example", "%2F%2Fevil.example", "/%0A/evil.example",
      "/%0D%0A/evil.example", "https%3A%2F%2Fevil.example", "%09//evil.example", "/%5C/evil.example",
      "javascript%3Aalert(1)"};
  for (const std::string& next : attacks) {
    json config = Body(server.Get("/auth/config?next=" + next, &none));
    EXPECT_EQ(config["next"], "/") << next;
    auto login = server.Send("POST", "/auth/login",
                             std::string("email=") + kAdminEmail + "&password=correct+horse+battery+staple&next=" + next,
                             {{"Origin", server.url()}}, "application/x-www-form-urlencoded");
    ASSERT_EQ(login->status, 302) << next << ": " << login->body;
    EXPECT_EQ(login->get_header_value("Location"), "/") << next;
  }
  EXPECT_EQ(Body(server.Get("/auth/config?next=%2Fcatalog%3Fq%3D1", &none))["next"], "/catalog?q=1");
  // The web UI's sign-in page takes `next` from that answer only.
  auto page = server.Get("/ui/pages/login.js", &none);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("authConfig(query.get('next')"), std::string::npos);
  EXPECT_EQ(page->body.find("safeNext"), std::string::npos);
}

// Item 9, cookies: with an https public URL the session cookie is Secure even when no proxy
// says X-Forwarded-Proto, the CSRF cookie is __Host- prefixed (and read under that name), and
// answers carry HSTS.
TEST(SecuritySignInE2E, HttpsPublicUrlMakesCookiesSecureAndSendsHsts) {
  const std::string public_url = "https://da.example.test";
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_AUTH_RATE_LIMIT=off", "DA_PUBLIC_URL=" + public_url,
                        std::string("DA_BOOTSTRAP_ADMIN_EMAIL=") + kAdminEmail,
                        std::string("DA_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword});
  auto login = server.Send("POST", "/auth/login", json{{"email", kAdminEmail}, {"password", kAdminPassword}}.dump(),
                           {{"Origin", public_url}});
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string session = SetCookieHeader(*login, "da_session");
  const std::string csrf = SetCookieHeader(*login, "__Host-da_csrf");
  EXPECT_NE(session.find("; Secure"), std::string::npos) << session;
  EXPECT_NE(session.find("HttpOnly"), std::string::npos) << session;
  ASSERT_FALSE(csrf.empty());
  EXPECT_NE(csrf.find("; Secure"), std::string::npos) << csrf;
  EXPECT_NE(csrf.find("; Path=/"), std::string::npos) << csrf;
  EXPECT_EQ(csrf.find("Domain"), std::string::npos) << csrf;
  EXPECT_TRUE(SetCookieHeader(*login, "da_csrf").empty());
  EXPECT_EQ(login->get_header_value("Strict-Transport-Security"), "max-age=31536000");
  std::string none;
  EXPECT_EQ(server.Get("/login", &none)->get_header_value("Strict-Transport-Security"), "max-age=31536000");
  EXPECT_EQ(server.Get("/api/health", &none)->get_header_value("Strict-Transport-Security"), "max-age=31536000");

  // The server reads the __Host- cookie for the double-submit check.
  const std::string cookies = "da_session=" + CookieValueOf(session) + "; __Host-da_csrf=" + CookieValueOf(csrf);
  auto ok = server.Send("POST", "/auth/tokens", json{{"name", "laptop"}}.dump(),
                        {{"Cookie", cookies}, {"X-CSRF-Token", CookieValueOf(csrf)}});
  EXPECT_EQ(ok->status, 201) << ok->body;
  auto forged = server.Send("POST", "/auth/tokens", json{{"name", "laptop"}}.dump(),
                            {{"Cookie", cookies}, {"X-CSRF-Token", "0123456789abcdef0123456789abcdef"}});
  EXPECT_EQ(forged->status, 403) << forged->body;
  auto logout = server.Send("POST", "/auth/logout", "", {{"Cookie", cookies}, {"X-CSRF-Token", CookieValueOf(csrf)}});
  ASSERT_EQ(logout->status, 200) << logout->body;
  EXPECT_NE(SetCookieHeader(*logout, "__Host-da_csrf").find("Max-Age=0"), std::string::npos);

  // Plain http without a public URL: no Secure, no HSTS (a browser would drop Secure cookies).
  TempDir plain_dir;
  ServerProcess plain(plain_dir.path() / "data",
                      {"DA_AUTH_RATE_LIMIT=off", std::string("DA_BOOTSTRAP_ADMIN_EMAIL=") + kAdminEmail,
                       std::string("DA_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword});
  auto plain_login = plain.Send("POST", "/auth/login", json{{"email", kAdminEmail}, {"password", kAdminPassword}}.dump(), {});
  ASSERT_EQ(plain_login->status, 200);
  EXPECT_EQ(SetCookieHeader(*plain_login, "da_session").find("Secure"), std::string::npos);
  EXPECT_FALSE(SetCookieHeader(*plain_login, "da_csrf").empty());
  EXPECT_FALSE(plain_login->has_header("Strict-Transport-Security"));
}

}  // namespace
}  // namespace da::e2e
