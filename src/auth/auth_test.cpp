#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "auth/password.h"
#include "auth/rate_limit.h"
#include "support/status_macros.h"

namespace da::auth {
namespace {

TEST(Password, HashVerifyAndPolicy) {
  EXPECT_EQ(CheckPasswordPolicy("short").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckPasswordPolicy(std::string(1025, 'x')).code(), StatusCode::kInvalidArgument);
  EXPECT_OK(CheckPasswordPolicy("twelve chars"));
  auto hash = HashPassword("correct horse battery");
  ASSERT_OK(hash);
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse battery", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery", ""));  // no hash: never matches
  EXPECT_NE(*HashPassword("correct horse battery"), *hash);    // salted
}

TEST(RateLimit, ParsesTheSetting) {
  EXPECT_EQ(ParseRateLimit("5/30")->attempts, 5);
  EXPECT_EQ(ParseRateLimit("5/30")->window_seconds, 30);
  EXPECT_EQ(ParseRateLimit("off")->attempts, 0);
  for (const char* bad : {"", "5", "/30", "5/", "0/30", "5/0", "-1/3", "a/b"}) {
    EXPECT_EQ(ParseRateLimit(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RateLimit, CountsPerKeyAndResetsAfterTheWindow) {
  RateLimiter limiter({2, 1});
  EXPECT_EQ(limiter.Hit("a"), 0);
  EXPECT_EQ(limiter.Hit("a"), 0);
  int64_t wait = limiter.Hit("a");
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 2);
  EXPECT_EQ(limiter.Hit("b"), 0);  // another client is not affected
  std::this_thread::sleep_for(std::chrono::milliseconds(1050));
  EXPECT_EQ(limiter.Hit("a"), 0);
  RateLimiter off({0, 60});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(off.Hit("a"), 0);
}

// Attack: fill the table with fresh keys so it is cleared wholesale, resetting the count of a
// client (or account) that was being limited. Only the oldest key is ever evicted.
TEST(RateLimit, AFullTableEvictsTheOldestKeyNotEveryone) {
  RateLimiter limiter({2, 60}, /*max_keys=*/3);
  EXPECT_EQ(limiter.Hit("oldest"), 0);
  EXPECT_EQ(limiter.Hit("attacked"), 0);
  EXPECT_EQ(limiter.Hit("attacked"), 0);
  EXPECT_GE(limiter.Hit("attacked"), 1);
  EXPECT_EQ(limiter.Hit("flood-1"), 0);  // table full now
  EXPECT_EQ(limiter.Hit("flood-2"), 0);  // evicts "oldest" only
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_GE(limiter.Peek("attacked"), 1);  // still limited
  EXPECT_EQ(limiter.Hit("flood-3"), 0);    // evicts "attacked", whose window is now the oldest
  EXPECT_EQ(limiter.size(), 3u);
}

TEST(RateLimit, PeekDoesNotCount) {
  RateLimiter limiter({1, 60});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Peek("a"), 0);
  EXPECT_EQ(limiter.Hit("a"), 0);
  EXPECT_GE(limiter.Peek("a"), 1);
  EXPECT_EQ(limiter.Peek("b"), 0);
}

}  // namespace
}  // namespace da::auth
