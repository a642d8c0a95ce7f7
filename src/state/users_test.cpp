#include "state/users.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "common/hash.h"
#include "support/state_db_fixture.h"
#include "support/status_macros.h"

namespace da::state {
namespace {

class UsersTest : public testing::StateDbFixture {
 protected:
  void SetUp() override {
    StateDbFixture::SetUp();
    repo_ = std::make_unique<UserRepo>(*db_);
  }

  static void ExpectRejected(const Result<Principal>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "invalid or expired token");
  }

  std::unique_ptr<UserRepo> repo_;
};

TEST_F(UsersTest, CreateAndFindUser) {
  EXPECT_EQ(*repo_->CountUsers(), 0);
  auto u = repo_->CreateUser(" Alice@Example.com ", "Alice", true);
  ASSERT_OK(u);
  EXPECT_EQ(u->email, "alice@example.com");
  EXPECT_EQ(u->name, "Alice");
  EXPECT_TRUE(u->is_admin);
  EXPECT_TRUE(u->active);
  EXPECT_EQ(u->id.size(), 32u);
  EXPECT_EQ(u->created_at.size(), 20u);
  EXPECT_EQ(*repo_->CountUsers(), 1);

  auto found = repo_->FindByEmail("ALICE@example.com");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, u->id);
  EXPECT_EQ((*found)->created_at, u->created_at);
  EXPECT_TRUE((*found)->is_admin);
  EXPECT_FALSE(repo_->FindByEmail("bob@example.com")->has_value());
  EXPECT_EQ((*repo_->FindById(u->id))->email, "alice@example.com");
  EXPECT_FALSE(repo_->FindById("nope")->has_value());
}

TEST_F(UsersTest, DuplicateAndInvalidEmail) {
  ASSERT_OK(repo_->CreateUser("a@example.com", "A", false));
  auto dup = repo_->CreateUser("A@example.com", "A2", false);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(dup.status().message().find("a@example.com"), std::string::npos);
  EXPECT_EQ(repo_->CreateUser("", "x", false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->CreateUser("   ", "x", false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->CreateUser("a b@example.com", "x", false).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*repo_->CountUsers(), 1);
}

TEST_F(UsersTest, TokenRoundTrip) {
  auto u = repo_->CreateUser("a@example.com", "A", true);
  ASSERT_OK(u);
  auto t = repo_->CreateToken(u->id, "laptop");
  ASSERT_OK(t);
  ASSERT_EQ(t->token.size(), 43u);
  EXPECT_EQ(t->token.substr(0, 3), "da_");
  EXPECT_EQ(t->prefix, t->token.substr(3, 8));

  // Only the hash is stored, never the plaintext.
  EXPECT_EQ(
      Count("SELECT count(*) FROM access_tokens WHERE token_hash = $1", {Sha256Hex(t->token)}), 1);
  EXPECT_EQ(
      Count("SELECT count(*) FROM access_tokens WHERE token_hash = $1 OR name = $1", {t->token}),
      0);
  EXPECT_EQ(Count("SELECT count(*) FROM access_tokens WHERE last_used_at IS NULL"), 1);

  auto p = repo_->Authenticate(t->token);
  ASSERT_OK(p);
  EXPECT_EQ(p->user_id, u->id);
  EXPECT_EQ(p->email, "a@example.com");
  EXPECT_TRUE(p->is_admin);
  EXPECT_EQ(p->token_id, t->id);
  EXPECT_EQ(Count("SELECT count(*) FROM access_tokens WHERE last_used_at IS NOT NULL"), 1);

  // Two tokens for the same user are distinct.
  auto t2 = repo_->CreateToken(u->id, "ci");
  ASSERT_OK(t2);
  EXPECT_NE(t2->token, t->token);
  EXPECT_EQ(repo_->Authenticate(t2->token)->token_id, t2->id);

  EXPECT_EQ(repo_->CreateToken("no-such-user", "x").status().code(), StatusCode::kNotFound);
}

TEST_F(UsersTest, WrongTokensAreRejected) {
  auto u = repo_->CreateUser("a@example.com", "A", false);
  auto t = repo_->CreateToken(u->id, "laptop");
  ASSERT_OK(t);
  std::string flipped = t->token;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  ExpectRejected(repo_->Authenticate(flipped));
  ExpectRejected(repo_->Authenticate(""));
  ExpectRejected(repo_->Authenticate("da_"));
  ExpectRejected(repo_->Authenticate(t->token + "0"));
  ExpectRejected(repo_->Authenticate("xx_" + t->token.substr(3)));
  ExpectRejected(repo_->Authenticate("' OR 1=1 --"));
  // The good token still works.
  EXPECT_OK(repo_->Authenticate(t->token));
}

TEST_F(UsersTest, RevokedTokenIsRejected) {
  auto u = repo_->CreateUser("a@example.com", "A", false);
  auto t = repo_->CreateToken(u->id, "laptop");
  auto keep = repo_->CreateToken(u->id, "other");
  ASSERT_TRUE(t.ok() && keep.ok());
  ASSERT_OK(repo_->Authenticate(t->token));
  ASSERT_OK(repo_->RevokeToken(t->id));
  ExpectRejected(repo_->Authenticate(t->token));
  EXPECT_OK(repo_->RevokeToken(t->id));  // idempotent
  EXPECT_EQ(repo_->RevokeToken("nope").code(), StatusCode::kNotFound);
  EXPECT_OK(repo_->Authenticate(keep->token));
}

TEST_F(UsersTest, ExpiredTokenIsRejected) {
  auto u = repo_->CreateUser("a@example.com", "A", false);
  auto t = repo_->CreateToken(u->id, "short", 3600);
  ASSERT_OK(t);
  EXPECT_OK(repo_->Authenticate(t->token));
  ASSERT_TRUE(db_->Write([&](db::Connection& c) {
                   return c.Execute(
                       "UPDATE access_tokens SET expires_at = TIMESTAMP '2000-01-01 00:00:00' "
                       "WHERE id = $1",
                       {t->id});
                 })
                  .ok());
  // The write above went around the repo, so only a repo without the cached entry sees it.
  UserRepo fresh(*db_);
  ExpectRejected(fresh.Authenticate(t->token));
  EXPECT_EQ(repo_->CreateToken(u->id, "bad", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->CreateToken(u->id, "bad", -5).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(UsersTest, InactiveUserIsRejected) {
  auto u = repo_->CreateUser("a@example.com", "A", false);
  auto t = repo_->CreateToken(u->id, "laptop");
  ASSERT_OK(t);
  ASSERT_OK(repo_->Authenticate(t->token));  // cached: deactivation must still win
  ASSERT_OK(repo_->SetActive(u->id, false));
  EXPECT_FALSE((*repo_->FindById(u->id))->active);
  ExpectRejected(repo_->Authenticate(t->token));
  ASSERT_OK(repo_->SetActive(u->id, true));
  EXPECT_OK(repo_->Authenticate(t->token));
  EXPECT_EQ(repo_->SetActive("nope", false).code(), StatusCode::kNotFound);
}

TEST_F(UsersTest, CachedTokensSkipTheDbButLastUsedIsStillRecorded) {
  auto u = repo_->CreateUser("a@example.com", "A", true);
  auto t = repo_->CreateToken(u->id, "laptop");
  ASSERT_OK(t);
  auto first = repo_->Authenticate(t->token);
  ASSERT_OK(first);
  auto last_used = [&] {
    return Count("SELECT epoch_us(last_used_at) FROM access_tokens WHERE id = '" + t->id + "'");
  };
  int64_t recorded = last_used();
  EXPECT_GT(recorded, 0);
  // Within the resolution the cached principal answers and last_used_at stays as written.
  for (int i = 0; i < 100; ++i) {
    auto again = repo_->Authenticate(t->token);
    ASSERT_OK(again);
    EXPECT_EQ(again->token_id, first->token_id);
    EXPECT_EQ(again->email, "a@example.com");
    EXPECT_TRUE(again->is_admin);
  }
  EXPECT_EQ(last_used(), recorded);
  // A cached use makes no DB round trip at all: a change made around the repo stays as it is.
  ASSERT_TRUE(db_->Write([&](db::Connection& c) {
                   return c.Execute("UPDATE access_tokens SET last_used_at = TIMESTAMP "
                                    "'2000-01-01 00:00:00' WHERE id = $1",
                                    {t->id});
                 })
                  .ok());
  EXPECT_OK(repo_->Authenticate(t->token));
  EXPECT_EQ(last_used(), 946684800000000);
}

TEST_F(UsersTest, AuditInsertsRowsAndNeverFails) {
  Audit(*db_, "a@example.com", "token.create", "tok1", R"({"name":"laptop"})");
  Audit(*db_, "a@example.com", "login_failed", "", "{}", "denied");
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'token.create' AND "
                  "resource = 'tok1' AND actor = 'a@example.com' AND result = 'ok' AND "
                  "params = '{\"name\":\"laptop\"}' AND timestamp IS NOT NULL"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE result = 'denied'"), 1);

  // With the table gone the call logs and returns instead of failing the caller.
  ASSERT_OK(db_->Write([](db::Connection& c) { return c.Execute("DROP TABLE audit_log"); }));
  Audit(*db_, "a", "x", "y", "{}");
  SUCCEED();
}

TEST_F(UsersTest, ConcurrentAuthenticateIsSerialised) {
  auto u = repo_->CreateUser("a@example.com", "A", false);
  auto t = repo_->CreateToken(u->id, "laptop");
  ASSERT_OK(t);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&]() {
      for (int j = 0; j < 25; ++j) {
        if (repo_->Authenticate(t->token).ok()) ++ok;
        Audit(*db_, "a", "ping", "", "{}");
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'ping'"), 100);
}

}  // namespace
}  // namespace da::state
