// OidcClient against a real OpenID Connect provider (npm oidc-provider) started by the test;
// the browser part of the sign-in is driven by BrowserSignIn (libcurl: redirects, cookies, forms).
#include "auth/oidc.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "support/oidc_test_provider.h"
#include "support/status_macros.h"

namespace da::auth {
namespace {

using testing::BrowserSignIn;
using testing::OidcTestProvider;
using testing::QueryParam;

constexpr const char* kRedirect = "http://127.0.0.1:9/auth/oidc/callback";
constexpr const char* kSecret = "da-client-secret-Zq9";

class OidcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto p = OidcTestProvider::Start({{"da", kSecret, kRedirect, "client_secret_basic", "RS256"},
                                      {"da-es", kSecret, kRedirect, "client_secret_post", "ES256"},
                                      {"other", "other-secret", kRedirect, "client_secret_basic", "RS256"}});
    ASSERT_OK(p);
    provider_ = std::move(p).value().release();
  }
  static void TearDownTestSuite() {
    delete provider_;
    provider_ = nullptr;
  }
  static OidcConfig Config(const std::string& client_id = "da") {
    OidcConfig c;
    c.issuer = provider_->issuer();
    c.client_id = client_id;
    c.client_secret = kSecret;
    c.redirect_uri = kRedirect;
    c.scopes = "openid email profile groups";
    c.groups_claim = "groups";
    return c;
  }
  static OidcTestProvider* provider_;
};
OidcTestProvider* OidcTest::provider_ = nullptr;

TEST_F(OidcTest, SignInWithRs256AndClientSecretBasic) {
  OidcClient client(Config());
  auto url = client.BeginLogin("/tables/42?tab=schema");
  ASSERT_OK(url);
  EXPECT_EQ(QueryParam(*url, "code_challenge_method"), "S256");
  EXPECT_EQ(QueryParam(*url, "code_challenge").size(), 43u);
  EXPECT_EQ(QueryParam(*url, "state").size(), 43u);
  EXPECT_EQ(client.pending_count(), 1u);
  auto callback = BrowserSignIn(*url, "alice", kRedirect);
  ASSERT_OK(callback) << callback.status().ToString() << provider_->server_log();
  EXPECT_EQ(QueryParam(*callback, "state"), QueryParam(*url, "state"));
  auto result = client.CompleteLogin(QueryParam(*callback, "code"), QueryParam(*callback, "state"));
  ASSERT_OK(result) << result.status().ToString() << provider_->server_log();
  EXPECT_EQ(result->identity.subject, "alice");
  EXPECT_EQ(result->identity.email, "alice@example.test");
  EXPECT_EQ(result->identity.name, "User alice");
  EXPECT_TRUE(result->identity.email_verified);
  EXPECT_EQ(result->identity.groups, (std::vector<std::string>{"analysts", "alice-team"}));
  EXPECT_EQ(result->next, "/tables/42?tab=schema");
  EXPECT_EQ(client.pending_count(), 0u);
}

TEST_F(OidcTest, SignInWithEs256AndClientSecretPost) {
  OidcConfig config = Config("da-es");
  config.groups_claim = "";  // no group sync
  OidcClient client(config);
  auto url = client.BeginLogin("//evil.example.test/");
  ASSERT_OK(url);
  auto callback = BrowserSignIn(*url, "bob", kRedirect);
  ASSERT_OK(callback);
  auto result = client.CompleteLogin(QueryParam(*callback, "code"), QueryParam(*callback, "state"));
  ASSERT_OK(result) << result.status().ToString() << provider_->server_log();
  EXPECT_EQ(result->identity.email, "bob@example.test");
  EXPECT_TRUE(result->identity.groups.empty());
  EXPECT_EQ(result->next, "/");  // not a same-origin path
}

TEST_F(OidcTest, ReplayedStateIsRefused) {
  OidcClient client(Config());
  auto url = client.BeginLogin("/");
  ASSERT_OK(url);
  auto callback = BrowserSignIn(*url, "carol", kRedirect);
  ASSERT_OK(callback);
  std::string code = QueryParam(*callback, "code"), state = QueryParam(*callback, "state");
  ASSERT_OK(client.CompleteLogin(code, state));
  auto replay = client.CompleteLogin(code, state);
  EXPECT_EQ(replay.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(replay.status().message().find("already used"), std::string::npos);
  EXPECT_EQ(replay.status().message().find(code), std::string::npos);
  EXPECT_EQ(client.CompleteLogin(code, "made-up-state").status().code(), StatusCode::kUnauthenticated);
}

TEST_F(OidcTest, StateIsConsumedEvenWhenTheCodeIsBad) {
  OidcClient client(Config());
  auto url = client.BeginLogin("/");
  ASSERT_OK(url);
  std::string state = QueryParam(*url, "state");
  auto bad = client.CompleteLogin("not-a-real-code", state);
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(bad.status().message().find("invalid_grant"), std::string::npos) << bad.status().message();
  EXPECT_EQ(bad.status().message().find(kSecret), std::string::npos);
  EXPECT_EQ(client.pending_count(), 0u);
}

TEST_F(OidcTest, CodeIssuedToAnotherClientIsRefused) {
  // The attacker's browser signs in for client "other" but lands the code in our callback with
  // our state: the provider refuses to give our client another client's code.
  OidcClient client(Config());
  auto url = client.BeginLogin("/");
  ASSERT_OK(url);
  std::string foreign = *url;
  foreign.replace(foreign.find("client_id=da"), 12, "client_id=other");
  auto callback = BrowserSignIn(foreign, "mallory", kRedirect);
  ASSERT_OK(callback);
  auto result = client.CompleteLogin(QueryParam(*callback, "code"), QueryParam(*callback, "state"));
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(OidcTest, PendingLoginExpiresAfterTenMinutes) {
  auto now = std::chrono::system_clock::now();
  OidcClient client(Config(), [&now] { return now; });
  auto url = client.BeginLogin("/");
  ASSERT_OK(url);
  auto callback = BrowserSignIn(*url, "dave", kRedirect);
  ASSERT_OK(callback);
  now += std::chrono::minutes(11);
  auto late = client.CompleteLogin(QueryParam(*callback, "code"), QueryParam(*callback, "state"));
  EXPECT_EQ(late.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);
}

TEST_F(OidcTest, ConcurrentLoginsGetDistinctStates) {
  OidcClient client(Config());
  std::mutex mu;
  std::set<std::string> states;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto url = client.BeginLogin("/");
        ASSERT_OK(url);
        std::lock_guard lock(mu);
        states.insert(QueryParam(*url, "state"));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(states.size(), 100u);
  EXPECT_EQ(client.pending_count(), 100u);
}

// Attack: begin 10,001 logins (cheap GETs) so the pending table is full and every later SSO
// sign-in is refused. The oldest pending login is evicted instead; a login started after the
// flood completes.
TEST_F(OidcTest, AFloodOfBegunLoginsEvictsTheOldestAndARealLoginStillWorks) {
  OidcClient client(Config());
  auto first = client.BeginLogin("/");
  ASSERT_OK(first);
  for (size_t i = 0; i < OidcClient::kMaxPending; ++i) ASSERT_OK(client.BeginLogin("/"));
  EXPECT_EQ(client.pending_count(), OidcClient::kMaxPending);
  auto url = client.BeginLogin("/after-flood");
  ASSERT_OK(url);
  EXPECT_EQ(client.pending_count(), OidcClient::kMaxPending);
  auto callback = BrowserSignIn(*url, "alice", kRedirect);
  ASSERT_OK(callback) << callback.status().ToString();
  auto result = client.CompleteLogin(QueryParam(*callback, "code"), QueryParam(*callback, "state"));
  ASSERT_OK(result) << result.status().ToString();
  EXPECT_EQ(result->next, "/after-flood");
  // The first login (the oldest) was the one evicted.
  EXPECT_EQ(client.CompleteLogin("x", QueryParam(*first, "state")).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(OidcTest, IssuerMismatchOrUnreachableIssuerIsRefused) {
  OidcConfig wrong = Config();
  wrong.issuer.replace(wrong.issuer.find("127.0.0.1"), 9, "localhost");  // discovery says 127.0.0.1
  OidcClient client(wrong);
  auto url = client.BeginLogin("/");
  EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(url.status().message().find("is not the configured issuer"), std::string::npos) << url.status().message();

  OidcConfig gone = Config();
  gone.issuer = "http://127.0.0.1:1";
  EXPECT_EQ(OidcClient(gone).BeginLogin("/").status().code(), StatusCode::kUnavailable);
  OidcConfig remote_http = Config();
  remote_http.issuer = "http://idp.example.test";
  EXPECT_EQ(OidcClient(remote_http).BeginLogin("/").status().code(), StatusCode::kInvalidArgument);
}

TEST(OidcUserinfoTest, ClaimsMissingFromTheIdTokenComeFromUserinfo) {
  testing::OidcTestProvider::Options options;
  options.claims_in_userinfo_only = true;
  auto idp = OidcTestProvider::Start({{"da", kSecret, kRedirect, "client_secret_basic", "RS256"}}, options);
  ASSERT_OK(idp);
  OidcConfig config;
  config.issuer = (*idp)->issuer();
  config.client_id = "da";
  config.client_secret = kSecret;
  config.redirect_uri = kRedirect;
  config.scopes = "openid email profile groups";
  config.groups_claim = "groups";
  OidcClient client(config);
  auto url = client.BeginLogin("/");
  ASSERT_OK(url);
  auto callback = BrowserSignIn(*url, "hana", kRedirect);
  ASSERT_OK(callback);
  auto result = client.CompleteLogin(QueryParam(*callback, "code"), QueryParam(*callback, "state"));
  ASSERT_OK(result) << result.status().ToString() << (*idp)->server_log();
  EXPECT_EQ(result->identity.subject, "hana");
  EXPECT_EQ(result->identity.email, "hana@example.test");
  EXPECT_TRUE(result->identity.email_verified);
  EXPECT_EQ(result->identity.groups, (std::vector<std::string>{"analysts", "hana-team"}));
}

TEST(OidcConfigTest, FromEnvironment) {
  for (const char* v : {"DA_OIDC_ISSUER", "DA_OIDC_CLIENT_ID", "DA_OIDC_CLIENT_SECRET", "DA_OIDC_REDIRECT_URI",
                        "DA_OIDC_SCOPES", "DA_OIDC_GROUPS_CLAIM", "DA_OIDC_NAME"}) {
    ::unsetenv(v);
  }
  auto none = OidcConfigFromEnv();
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  ::setenv("DA_OIDC_ISSUER", "https://accounts.google.com", 1);
  ::setenv("DA_OIDC_CLIENT_ID", "id", 1);
  auto partial = OidcConfigFromEnv();
  EXPECT_EQ(partial.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(partial.status().message().find("DA_OIDC_CLIENT_SECRET"), std::string::npos);
  ::setenv("DA_OIDC_CLIENT_SECRET", "s", 1);
  ::setenv("DA_OIDC_REDIRECT_URI", "https://da.example.test/auth/oidc/callback", 1);
  ::setenv("DA_OIDC_GROUPS_CLAIM", "groups", 1);
  auto full = OidcConfigFromEnv();
  ASSERT_TRUE(full.ok() && full->has_value()) << full.status().ToString();
  EXPECT_EQ((*full)->scopes, "openid email profile");
  EXPECT_EQ((*full)->display_name, "Single sign-on");
  EXPECT_EQ((*full)->groups_claim, "groups");
  ::setenv("DA_OIDC_REDIRECT_URI", "/auth/oidc/callback", 1);
  EXPECT_EQ(OidcConfigFromEnv().status().code(), StatusCode::kInvalidArgument);
  ::setenv("DA_OIDC_REDIRECT_URI", "https://da.example.test/auth/oidc/callback", 1);
  ::setenv("DA_OIDC_ISSUER", "http://idp.example.test", 1);
  EXPECT_EQ(OidcConfigFromEnv().status().code(), StatusCode::kInvalidArgument);
  for (const char* v : {"DA_OIDC_ISSUER", "DA_OIDC_CLIENT_ID", "DA_OIDC_CLIENT_SECRET", "DA_OIDC_REDIRECT_URI",
                        "DA_OIDC_GROUPS_CLAIM"}) {
    ::unsetenv(v);
  }
}

// Issue 13, sign-in item 2: who may sign in is configured, and a new install is invite-only.
TEST(OidcConfigTest, SignUpPolicyDefaultsToInviteOnly) {
  ::setenv("DA_OIDC_ISSUER", "https://accounts.google.com", 1);
  ::setenv("DA_OIDC_CLIENT_ID", "id", 1);
  ::setenv("DA_OIDC_CLIENT_SECRET", "s", 1);
  ::setenv("DA_OIDC_REDIRECT_URI", "https://da.example.test/auth/oidc/callback", 1);
  ::unsetenv("DA_OIDC_SIGNUP");
  ::unsetenv("DA_OIDC_ALLOWED_DOMAINS");
  auto defaults = OidcConfigFromEnv();
  ASSERT_TRUE(defaults.ok() && defaults->has_value());
  EXPECT_EQ((*defaults)->signup.mode, OidcSignUpPolicy::Mode::kInvite);
  EXPECT_TRUE((*defaults)->signup.allowed_domains.empty());
  ::setenv("DA_OIDC_SIGNUP", "domains", 1);
  EXPECT_EQ(OidcConfigFromEnv().status().code(), StatusCode::kInvalidArgument);  // no domains listed
  ::setenv("DA_OIDC_ALLOWED_DOMAINS", " Example.COM, @corp.example.test ,", 1);
  auto domains = OidcConfigFromEnv();
  ASSERT_TRUE(domains.ok() && domains->has_value()) << domains.status().ToString();
  EXPECT_EQ((*domains)->signup.mode, OidcSignUpPolicy::Mode::kDomains);
  EXPECT_EQ((*domains)->signup.allowed_domains, (std::vector<std::string>{"example.com", "corp.example.test"}));
  ::setenv("DA_OIDC_ALLOWED_DOMAINS", "https://example.com", 1);
  EXPECT_EQ(OidcConfigFromEnv().status().code(), StatusCode::kInvalidArgument);
  ::setenv("DA_OIDC_SIGNUP", "everyone", 1);
  EXPECT_EQ(OidcConfigFromEnv().status().code(), StatusCode::kInvalidArgument);
  ::setenv("DA_OIDC_SIGNUP", "open", 1);
  ::unsetenv("DA_OIDC_ALLOWED_DOMAINS");
  auto open = OidcConfigFromEnv();
  ASSERT_TRUE(open.ok() && open->has_value());
  EXPECT_EQ((*open)->signup.mode, OidcSignUpPolicy::Mode::kOpen);
  for (const char* v : {"DA_OIDC_ISSUER", "DA_OIDC_CLIENT_ID", "DA_OIDC_CLIENT_SECRET", "DA_OIDC_REDIRECT_URI",
                        "DA_OIDC_SIGNUP"}) {
    ::unsetenv(v);
  }
}

}  // namespace
}  // namespace da::auth
