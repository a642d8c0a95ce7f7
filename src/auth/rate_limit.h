#pragma once
/// Per-client fixed-window rate limiting for the sign-in endpoints.
///
/// `DA_AUTH_RATE_LIMIT` = "<attempts>/<seconds>" (default "10/60"): at most <attempts> sign-in
/// requests per client IP in each window of <seconds>; "0" or "off" disables the limit.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/status.h"

namespace da::auth {

struct RateLimitConfig {
  int64_t attempts = 10;  ///< 0 = unlimited
  int64_t window_seconds = 60;
};

/// Parses "<attempts>/<seconds>", "0" or "off". invalid_argument naming DA_AUTH_RATE_LIMIT.
Result<RateLimitConfig> ParseRateLimit(const std::string& text);
/// From the environment (unset → defaults).
Result<RateLimitConfig> RateLimitFromEnv();

/// Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimitConfig config) : config_(config) {}
  /// Counts one attempt by `key`. Returns 0 when allowed, else the seconds until the window
  /// resets (>= 1), for Retry-After.
  int64_t Hit(const std::string& key);

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    int64_t count = 0;
  };
  RateLimitConfig config_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace da::auth
