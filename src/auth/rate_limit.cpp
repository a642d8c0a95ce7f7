#include "auth/rate_limit.h"

#include <cstdlib>

namespace da::auth {
namespace {
constexpr size_t kMaxKeys = 100000;

bool ParsePositive(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::stoll(s);
  return true;
}
}  // namespace

Result<RateLimitConfig> ParseRateLimit(const std::string& text) {
  RateLimitConfig c;
  if (text == "0" || text == "off") {
    c.attempts = 0;
    return c;
  }
  size_t slash = text.find('/');
  if (slash == std::string::npos || !ParsePositive(text.substr(0, slash), &c.attempts) ||
      !ParsePositive(text.substr(slash + 1), &c.window_seconds) || c.attempts < 1 ||
      c.window_seconds < 1) {
    return InvalidArgument("DA_AUTH_RATE_LIMIT must be <attempts>/<seconds> (e.g. 10/60) or off, got '" +
                           text.substr(0, 40) + "'");
  }
  return c;
}

Result<RateLimitConfig> RateLimitFromEnv() {
  const char* v = std::getenv("DA_AUTH_RATE_LIMIT");
  if (v == nullptr || *v == '\0') return RateLimitConfig{};
  return ParseRateLimit(v);
}

int64_t RateLimiter::Hit(const std::string& key) {
  if (config_.attempts == 0) return 0;
  auto now = std::chrono::steady_clock::now();
  const auto window = std::chrono::seconds(config_.window_seconds);
  std::lock_guard<std::mutex> lock(mu_);
  if (windows_.size() >= kMaxKeys) {
    for (auto it = windows_.begin(); it != windows_.end();) {
      it = now - it->second.start >= window ? windows_.erase(it) : std::next(it);
    }
    if (windows_.size() >= kMaxKeys) windows_.clear();
  }
  Window& w = windows_[key];
  if (w.count == 0 || now - w.start >= window) {
    w.start = now;
    w.count = 0;
  }
  if (w.count >= config_.attempts) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(w.start + window - now).count();
    return left < 1 ? 1 : left + 1;
  }
  ++w.count;
  return 0;
}

}  // namespace da::auth
