#include "auth/rate_limit.h"

#include <cstdlib>

namespace da::auth {
namespace {

bool ParsePositive(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::stoll(s);
  return true;
}

Result<RateLimitConfig> FromEnv(const char* name, RateLimitConfig fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return ParseRateLimit(v, name);
}

}  // namespace

Result<RateLimitConfig> ParseRateLimit(const std::string& text, const std::string& setting) {
  RateLimitConfig c;
  if (text == "0" || text == "off") {
    c.attempts = 0;
    return c;
  }
  size_t slash = text.find('/');
  if (slash == std::string::npos || !ParsePositive(text.substr(0, slash), &c.attempts) ||
      !ParsePositive(text.substr(slash + 1), &c.window_seconds) || c.attempts < 1 ||
      c.window_seconds < 1) {
    return InvalidArgument(setting + " must be <attempts>/<seconds> (e.g. 10/60) or off, got '" +
                           text.substr(0, 40) + "'");
  }
  return c;
}

Result<RateLimitConfig> RateLimitFromEnv() { return FromEnv("DA_AUTH_RATE_LIMIT", RateLimitConfig{}); }

Result<SignInLimits> SignInLimitsFromEnv() {
  SignInLimits l;
  DA_ASSIGN_OR_RETURN(l.per_client, RateLimitFromEnv());
  DA_ASSIGN_OR_RETURN(l.per_account, FromEnv("DA_AUTH_ACCOUNT_RATE_LIMIT", l.per_account));
  DA_ASSIGN_OR_RETURN(l.per_email, FromEnv("DA_AUTH_EMAIL_RATE_LIMIT", l.per_email));
  if (l.per_client.attempts == 0) l.per_account.attempts = l.per_email.attempts = 0;
  return l;
}

int64_t RateLimiter::WaitLocked(const Window& w, std::chrono::steady_clock::time_point now) const {
  const auto window = std::chrono::seconds(config_.window_seconds);
  if (now - w.start >= window || w.count < config_.attempts) return 0;
  auto left = std::chrono::duration_cast<std::chrono::seconds>(w.start + window - now).count();
  return left < 1 ? 1 : left + 1;
}

int64_t RateLimiter::Peek(const std::string& key) {
  if (config_.attempts == 0) return 0;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = windows_.find(key);
  return it == windows_.end() ? 0 : WaitLocked(it->second, now);
}

int64_t RateLimiter::Hit(const std::string& key) {
  if (config_.attempts == 0) return 0;
  auto now = std::chrono::steady_clock::now();
  const auto window = std::chrono::seconds(config_.window_seconds);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    // Full: drop the key whose window started longest ago (expired ones go first, as they are
    // the oldest), never the whole table.
    while (windows_.size() >= max_keys_ && !order_.empty()) {
      windows_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    it = windows_.emplace(key, Window{now, 0, std::prev(order_.end())}).first;
  }
  Window& w = it->second;
  if (now - w.start >= window) {
    w.start = now;
    w.count = 0;
    order_.splice(order_.end(), order_, w.order);  // now the newest window
  }
  if (int64_t wait = WaitLocked(w, now); wait > 0) return wait;
  ++w.count;
  return 0;
}

size_t RateLimiter::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return windows_.size();
}

}  // namespace da::auth
