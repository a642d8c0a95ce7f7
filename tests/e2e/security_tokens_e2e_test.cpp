// Issue 13 (governance without holes), item 6: the first-start admin token, end to end against
// the real server. Item 10 (`da login` by a one-time code and a PKCE verifier) is proven in
// auth_e2e_test.cpp (AuthE2E.BrowserSessionNeedsCsrfOnWrites, AuthE2E.CliLoginApprovedInTheBrowser).
// Each test names the attack it blocks.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>

#include "support/files.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
using nlohmann::json;
namespace fs = std::filesystem;

class SecurityTokensE2E : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> env = {}) {
    server_ = std::make_unique<ServerProcess>(tmp_.path() / "data", std::move(env), 0,
                                              AdminToken::kBootstrap);
  }
  fs::path TokenFile() const { return tmp_.path() / "data" / "state" / "bootstrap-token"; }
  const std::string& Bootstrap() const { return server_->admin_token(); }
  int Status(const std::string& method, const std::string& path, const std::string& token,
             const std::string& body = "") {
    auto r = server_->Send(method, path, body, {{"Authorization", "Bearer " + token}});
    return r ? r->status : -1;
  }
  json MyTokens(const std::string& token) {
    auto r = server_->Get("/auth/tokens", &token);
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body)["tokens"];
  }

  TempDir tmp_;
  std::unique_ptr<ServerProcess> server_;
};

// Attack: the token is read from a terminal's scrollback, a CI log or a journald capture of the
// server's output, where it stayed valid for ever.
TEST_F(SecurityTokensE2E, TheBootstrapTokenGoesOnlyToItsPrivateFile) {
  Start();
  ASSERT_EQ(Bootstrap().rfind("da_", 0), 0u) << Bootstrap();
  const std::string output = server_->Output();
  EXPECT_EQ(output.find(Bootstrap()), std::string::npos) << output;
  EXPECT_EQ(output.find(Bootstrap().substr(0, 12)), std::string::npos) << output;
  EXPECT_NE(output.find(TokenFile().string()), std::string::npos) << output;
  struct stat sb {};
  ASSERT_EQ(::stat(TokenFile().c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
}

// Attack: a bootstrap token found later (a copied data dir, an old backup) still opens the admin
// account: it must expire (24 h by default), and the admin must see and revoke it.
TEST_F(SecurityTokensE2E, TheBootstrapTokenExpiresIsListedAndRevocable) {
  Start();
  json tokens = MyTokens(Bootstrap());
  ASSERT_EQ(tokens.size(), 1u) << tokens.dump();
  EXPECT_EQ(tokens[0]["kind"], "bootstrap");
  ASSERT_TRUE(tokens[0]["expires_at"].is_string()) << tokens.dump();
  // expires_at is "YYYY-MM-DDTHH:MM:SS...Z", 24 h from now give or take the test's run time.
  std::tm tm{};
  const std::string expires = tokens[0]["expires_at"];
  ASSERT_NE(::strptime(expires.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << expires;
  const double hours = std::difftime(::timegm(&tm), std::time(nullptr)) / 3600.0;
  EXPECT_GT(hours, 23.9);
  EXPECT_LE(hours, 24.0);

  EXPECT_EQ(Status("DELETE", "/auth/tokens/" + tokens[0]["id"].get<std::string>(), Bootstrap()), 200);
  EXPECT_EQ(Status("GET", "/api/me", Bootstrap()), 401);
  EXPECT_FALSE(fs::exists(TokenFile()));
}

// Attack: the admin set a password (or made a PAT) long ago, and the bootstrap token, still in
// the data dir, still opens the account.
TEST_F(SecurityTokensE2E, TheBootstrapTokenEndsWhenTheAdminSetsAPassword) {
  Start({"DA_AUTH_RATE_LIMIT=off"});
  auto me = server_->Get("/api/me");
  const std::string id = json::parse(me->body)["id"];
  EXPECT_EQ(Status("POST", "/api/users/" + id + "/set-password", Bootstrap(),
                   json{{"password", "admin password 12345"}}.dump()),
            200);
  EXPECT_EQ(Status("GET", "/api/me", Bootstrap()), 401);
  EXPECT_FALSE(fs::exists(TokenFile()));
  // The password works; the token list shows the bootstrap token revoked.
  std::string none;
  auto signed_in = server_->Post(
      "/auth/token", json{{"email", "admin@localhost"}, {"password", "admin password 12345"}}.dump(),
      &none);
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  json tokens = MyTokens(json::parse(signed_in->body)["access_token"]);
  ASSERT_EQ(tokens.size(), 1u) << tokens.dump();
  EXPECT_EQ(tokens[0]["kind"], "bootstrap");
  EXPECT_TRUE(tokens[0]["revoked"].get<bool>());
}

TEST_F(SecurityTokensE2E, TheBootstrapTokenEndsWhenTheAdminCreatesAToken) {
  Start();
  auto made = server_->Post("/auth/tokens", json{{"name", "laptop"}}.dump());
  ASSERT_EQ(made->status, 201) << made->body;
  const std::string pat = json::parse(made->body)["token"];
  EXPECT_EQ(Status("GET", "/api/me", Bootstrap()), 401);
  EXPECT_EQ(Status("GET", "/api/me", pat), 200);
  EXPECT_FALSE(fs::exists(TokenFile()));
  // A restart does not bring it back.
  server_->Stop();
  Start();
  EXPECT_FALSE(fs::exists(TokenFile()));
  EXPECT_EQ(Status("GET", "/api/me", pat), 200);
}

// With DA_BOOTSTRAP_ADMIN_PASSWORD the admin has a password from the start: no token at all.
TEST_F(SecurityTokensE2E, NoBootstrapTokenWhenTheAdminStartsWithAPassword) {
  Start({"DA_BOOTSTRAP_ADMIN_PASSWORD=admin password 12345"});
  EXPECT_FALSE(fs::exists(TokenFile()));
  std::string none;
  auto signed_in = server_->Post(
      "/auth/token", json{{"email", "admin@localhost"}, {"password", "admin password 12345"}}.dump(),
      &none);
  EXPECT_EQ(signed_in->status, 200) << signed_in->body;
}

}  // namespace
}  // namespace da::e2e
