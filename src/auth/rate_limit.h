#pragma once
/// Fixed-window rate limiting for the sign-in endpoints (docs/security.md, "Abuse of the sign-in
/// and the engine").
///
/// Settings, each "<attempts>/<seconds>", "0" or "off" (off disables the limit):
///  - `DA_AUTH_RATE_LIMIT` (default "10/60"): sign-in requests per client address (the address
///    http/client_address.h resolves, proxies in DA_TRUSTED_PROXIES honoured). "off" also turns
///    off the two limits below (tests, trusted networks).
///  - `DA_AUTH_ACCOUNT_RATE_LIMIT` (default "20/900"): failed password checks per account, from
///    any client; over it, password sign-in to that account alone is refused until the window
///    ends (magic links and SSO still work, other accounts are untouched).
///  - `DA_AUTH_EMAIL_RATE_LIMIT` (default "5/900"): magic links requested per target address.
///
/// A limiter holds at most `max_keys` keys; when full it evicts the key whose window started
/// longest ago (never the whole table), so a flood of new keys cannot reset anyone's count
/// except the oldest's.
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/status.h"

namespace da::auth {

struct RateLimitConfig {
  int64_t attempts = 10;  ///< 0 = unlimited
  int64_t window_seconds = 60;
};

/// Parses "<attempts>/<seconds>", "0" or "off". invalid_argument naming `setting`.
Result<RateLimitConfig> ParseRateLimit(const std::string& text,
                                       const std::string& setting = "DA_AUTH_RATE_LIMIT");
/// DA_AUTH_RATE_LIMIT from the environment (unset → defaults).
Result<RateLimitConfig> RateLimitFromEnv();

/// The three sign-in limits (see the file comment).
struct SignInLimits {
  RateLimitConfig per_client;             ///< DA_AUTH_RATE_LIMIT
  RateLimitConfig per_account{20, 900};   ///< DA_AUTH_ACCOUNT_RATE_LIMIT (failures)
  RateLimitConfig per_email{5, 900};      ///< DA_AUTH_EMAIL_RATE_LIMIT
};
/// From the environment; DA_AUTH_RATE_LIMIT=off turns all three off. invalid_argument naming
/// the malformed setting.
Result<SignInLimits> SignInLimitsFromEnv();

/// Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimitConfig config, size_t max_keys = 100000)
      : config_(config), max_keys_(max_keys < 1 ? 1 : max_keys) {}
  /// Counts one attempt by `key`. Returns 0 when allowed, else the seconds until the window
  /// resets (>= 1), for Retry-After.
  int64_t Hit(const std::string& key);
  /// Like Hit without counting: 0 when `key` may try now, else the seconds to wait.
  int64_t Peek(const std::string& key);
  /// Keys held (tests).
  size_t size();

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    int64_t count = 0;
    std::list<std::string>::iterator order;  ///< position in order_
  };
  /// Seconds left of `w`'s window when it is exhausted at `now`, else 0.
  int64_t WaitLocked(const Window& w, std::chrono::steady_clock::time_point now) const;

  RateLimitConfig config_;
  size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
  std::list<std::string> order_;  ///< keys by window start, oldest first
};

}  // namespace da::auth
