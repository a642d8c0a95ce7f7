// Issue 13 (governance without holes), the account items, end to end against the real server:
// each test names the attack it blocks.
#include <gtest/gtest.h>

#include <string>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
using nlohmann::json;

constexpr const char* kFirst = "first password 12345";
constexpr const char* kSecond = "second password 12345";
constexpr const char* kThird = "third password 123456";

class SecurityAccountsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(tmp_.path() / "data",
                                              std::vector<std::string>{"DA_AUTH_RATE_LIMIT=off"});
    auto r = server_->Post("/api/users", json{{"email", "victim@example.com"}}.dump());
    ASSERT_EQ(r->status, 201) << r->body;
    victim_id_ = json::parse(r->body)["id"];
    ASSERT_EQ(Status("POST", "/api/users/" + victim_id_ + "/set-password", server_->admin_token(),
                     json{{"password", kFirst}}),
              200);
  }

  /// The status of `method path` with bearer `token` and a JSON `body`.
  int Status(const std::string& method, const std::string& path, const std::string& token,
             const json& body = nullptr) {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    auto r = server_->Send(method, path, body.is_null() ? "" : body.dump(), h);
    return r ? r->status : -1;
  }
  /// A bearer session from POST /auth/token; "" when the password is refused.
  std::string SignIn(const std::string& password) {
    std::string none;
    auto r = server_->Post("/auth/token",
                           json{{"email", "victim@example.com"}, {"password", password}}.dump(),
                           &none);
    if (!r || r->status != 200) return "";
    return json::parse(r->body)["access_token"];
  }
  int SetOwn(const std::string& token, const json& body) {
    return Status("POST", "/api/users/" + victim_id_ + "/set-password", token, body);
  }

  TempDir tmp_;
  std::unique_ptr<ServerProcess> server_;
  std::string victim_id_;
};

// Attack: a stolen personal access token (or a session left open) sets a new password and so
// takes the account over for good.
TEST_F(SecurityAccountsE2E, AStolenBearerTokenCannotSetThePassword) {
  const std::string session = SignIn(kFirst);
  ASSERT_FALSE(session.empty());
  auto made = server_->Post("/auth/tokens", json{{"name", "laptop"}}.dump(), &session);
  ASSERT_EQ(made->status, 201) << made->body;
  const std::string pat = json::parse(made->body)["token"];

  // A PAT never changes its owner's password, even with the right current password.
  EXPECT_EQ(SetOwn(pat, {{"password", kSecond}, {"current_password", kFirst}}), 403);
  // A session needs the current password, and the right one.
  EXPECT_EQ(SetOwn(session, {{"password", kSecond}}), 422);
  EXPECT_EQ(SetOwn(session, {{"password", kSecond}, {"current_password", "not the password!"}}),
            403);
  // Nothing changed: the first password still signs in.
  EXPECT_FALSE(SignIn(kFirst).empty());
  EXPECT_TRUE(SignIn(kSecond).empty());
  // Another user (not an admin) may not set the victim's password.
  auto other = server_->Post("/api/users", json{{"email", "other@example.com"}}.dump());
  ASSERT_EQ(other->status, 201);
  const std::string other_id = json::parse(other->body)["id"];
  ASSERT_EQ(Status("POST", "/api/users/" + other_id + "/set-password", server_->admin_token(),
                   json{{"password", kFirst}}),
            200);
  std::string none;
  auto other_session = server_->Post(
      "/auth/token", json{{"email", "other@example.com"}, {"password", kFirst}}.dump(), &none);
  ASSERT_EQ(other_session->status, 200);
  EXPECT_EQ(SetOwn(json::parse(other_session->body)["access_token"], {{"password", kSecond}}), 403);
}

// Attack: after the owner changes a leaked password, sessions opened with the old one live on.
TEST_F(SecurityAccountsE2E, APasswordChangeEndsTheOtherSessions) {
  const std::string mine = SignIn(kFirst);
  const std::string attacker = SignIn(kFirst);
  ASSERT_FALSE(mine.empty());
  ASSERT_FALSE(attacker.empty());
  auto made = server_->Post("/auth/tokens", json{{"name", "ci"}}.dump(), &mine);
  ASSERT_EQ(made->status, 201) << made->body;
  const std::string pat = json::parse(made->body)["token"];

  EXPECT_EQ(SetOwn(mine, {{"password", kSecond}, {"current_password", kFirst}}), 200);
  EXPECT_EQ(Status("GET", "/api/me", attacker), 401);  // the other session is revoked
  EXPECT_EQ(Status("GET", "/api/me", mine), 200);      // the one that changed it stays
  EXPECT_EQ(Status("GET", "/api/me", pat), 200);       // PATs stay (docs/security.md)
  EXPECT_TRUE(SignIn(kFirst).empty());
  EXPECT_FALSE(SignIn(kSecond).empty());

  // An admin's reset (account recovery) ends every session and PAT of the user.
  EXPECT_EQ(Status("POST", "/api/users/" + victim_id_ + "/set-password", server_->admin_token(),
                   json{{"password", kThird}}),
            200);
  EXPECT_EQ(Status("GET", "/api/me", mine), 401);
  EXPECT_EQ(Status("GET", "/api/me", pat), 401);
  EXPECT_FALSE(SignIn(kThird).empty());
}

}  // namespace
}  // namespace da::e2e
