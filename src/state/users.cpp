#include "state/users.h"

#include <algorithm>
#include <cctype>
#include <exception>

#include "common/hash.h"
#include "common/log.h"
#include "common/time_util.h"
#include "state/internal.h"

namespace da::state {
namespace {

constexpr const char* kTokenPrefix = "da_";
constexpr size_t kTokenRandomBytes = 20;  // 40 hex chars after "da_"
constexpr size_t kMaxEmailChars = 320;
constexpr size_t kMaxTokenNameChars = 256;
constexpr const char* kBadToken = "invalid or expired token";

std::string NormalizeEmail(const std::string& email) {
  size_t b = email.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = email.find_last_not_of(" \t\r\n");
  std::string out = email.substr(b, e - b + 1);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasSpaceOrControl(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

bool HasControl(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

Result<std::optional<User>> FindOne(db::Connection& c, const char* where,
                                    const std::string& value) {
  DA_ASSIGN_OR_RETURN(
      db::QueryResult r,
      c.Query(std::string("SELECT ") + internal::kUserColumns + " FROM users u WHERE " + where, {value}));
  if (r.RowCount() == 0) return std::optional<User>();
  return std::optional<User>(internal::UserAt(r, 0));
}

bool IsWellFormedToken(const std::string& token) {
  const std::string prefix = kTokenPrefix;
  if (token.size() != prefix.size() + 2 * kTokenRandomBytes) return false;
  if (token.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(token.begin() + static_cast<std::ptrdiff_t>(prefix.size()), token.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<int64_t> UserRepo::CountUsers() {
  return db_.Read([](db::Connection& c) -> Result<int64_t> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query("SELECT count(*) FROM users"));
    return r.GetInt64(0, 0);
  });
}

Result<User> UserRepo::CreateUser(const std::string& email, const std::string& name,
                                  bool is_admin) {
  std::string normalized = NormalizeEmail(email);
  if (normalized.empty()) return InvalidArgument("email is required");
  if (HasSpaceOrControl(normalized) || normalized.size() > kMaxEmailChars) {
    return InvalidArgument("email '" + normalized.substr(0, 80) +
                           "' contains whitespace or control characters or is too long");
  }
  if (HasControl(name)) return InvalidArgument("user name contains control characters");
  User u;
  u.id = RandomHex(16);
  u.email = normalized;
  u.name = name;
  u.active = true;
  u.is_admin = is_admin;
  int64_t now = NowMicros();
  u.created_at = IsoFromMicros(now);
  return db_.Write([&](db::Connection& c) -> Result<User> {
    DA_ASSIGN_OR_RETURN(std::optional<User> existing, FindOne(c, "email = $1", u.email));
    if (existing) return AlreadyExists("a user with email '" + u.email + "' already exists");
    Status txn = [&]() -> Status {
      DA_RETURN_IF_ERROR(
          c.Execute("INSERT INTO users (id, email, name, active, is_admin, created_at, updated_at) "
                    "VALUES ($1, $2, $3, TRUE, $4, make_timestamp($5), make_timestamp($5))",
                    {u.id, u.email, u.name, u.is_admin, now}));
      if (!u.is_admin) return Status::Ok();
      return c.Execute(
          "INSERT INTO group_members (group_id, user_id, added_at) "
          "VALUES ('admin', $1, make_timestamp($2))",
          {u.id, now});
    }();
    if (!txn.ok()) return txn;
    return u;
  });
}

Result<std::optional<User>> UserRepo::FindByEmail(const std::string& email) {
  std::string normalized = NormalizeEmail(email);
  return db_.Read([&](db::Connection& c) { return FindOne(c, "email = $1", normalized); });
}

Result<std::optional<User>> UserRepo::FindById(const std::string& user_id) {
  return db_.Read([&](db::Connection& c) { return FindOne(c, "id = $1", user_id); });
}

Status UserRepo::SetActive(const std::string& user_id, bool active) {
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("UPDATE users SET active = $1, updated_at = make_timestamp($2) WHERE id = $3",
                {active, NowMicros(), user_id}));
    if (r.RowsChanged() == 0) return NotFound("user '" + user_id + "' not found");
    ForgetCachedTokens();  // under the DB mutex: no Authenticate can re-cache the old state
    return Status::Ok();
  });
}

namespace {

/// Issues a token for `user_id`; `expires_at_micros` 0 = never expires.
Result<IssuedToken> IssueToken(StateDb& db, const std::string& user_id, const std::string& name,
                               int64_t expires_at_micros, const std::string& kind) {
  if (HasControl(name) || name.size() > kMaxTokenNameChars) {
    return InvalidArgument("token name contains control characters or is longer than " +
                           std::to_string(kMaxTokenNameChars) + " bytes");
  }
  IssuedToken t;
  t.id = RandomHex(16);
  t.token = kTokenPrefix + RandomHex(kTokenRandomBytes);
  t.prefix = t.token.substr(3, 8);
  int64_t now = NowMicros();
  db::Value expires = std::monostate{};
  if (expires_at_micros > 0) {
    expires = expires_at_micros;
    t.expires_at = IsoFromMicros(expires_at_micros);
  }
  return db.Write([&](db::Connection& c) -> Result<IssuedToken> {
    DA_ASSIGN_OR_RETURN(std::optional<User> user, FindOne(c, "id = $1", user_id));
    if (!user) return NotFound("user '" + user_id + "' not found");
    DA_RETURN_IF_ERROR(
        c.Execute("INSERT INTO access_tokens (id, user_id, name, token_hash, prefix, created_at, "
                  "expires_at, kind) VALUES ($1, $2, $3, $4, $5, make_timestamp($6), "
                  "make_timestamp($7), $8)",
                  {t.id, user_id, name, Sha256Hex(t.token), t.prefix, now, expires, kind}));
    return t;
  });
}

}  // namespace

Result<IssuedToken> UserRepo::CreateToken(const std::string& user_id, const std::string& name) {
  return IssueToken(db_, user_id, name, 0, kTokenKindPat);
}

Result<IssuedToken> UserRepo::CreateToken(const std::string& user_id, const std::string& name,
                                          int64_t ttl_seconds, const std::string& kind) {
  if (ttl_seconds < 0) {
    return InvalidArgument("token ttl " + std::to_string(ttl_seconds) + "s must not be negative");
  }
  if (kind != kTokenKindPat && kind != kTokenKindSession && kind != kTokenKindBootstrap) {
    return InvalidArgument("unknown token kind '" + kind + "'");
  }
  return IssueToken(db_, user_id, name, ttl_seconds == 0 ? 0 : NowMicros() + ttl_seconds * 1000000,
                    kind);
}

Result<IssuedToken> UserRepo::CreateToken(const std::string& user_id, const std::string& name,
                                          int64_t ttl_seconds) {
  if (ttl_seconds <= 0) {
    return InvalidArgument("token ttl " + std::to_string(ttl_seconds) + "s must be positive");
  }
  return IssueToken(db_, user_id, name, NowMicros() + ttl_seconds * 1000000, kTokenKindPat);
}

Result<Principal> UserRepo::Authenticate(const std::string& token, const std::string& client_ip) {
  if (!IsWellFormedToken(token)) return Unauthenticated(kBadToken);
  std::string hash = Sha256Hex(token);
  int64_t now = NowMicros();
  std::optional<std::string> touch_token_id;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = token_cache_.find(hash);
    if (it != token_cache_.end()) {
      CachedToken& cached = it->second;
      if (cached.expires_at_us != 0 && cached.expires_at_us <= now) {
        token_cache_.erase(it);
        return Unauthenticated(kBadToken);
      }
      if (now - cached.last_used_written_us < kLastUsedResolutionUs) return cached.principal;
      cached.last_used_written_us = now;
      touch_token_id = cached.principal.token_id;
    }
  }
  if (touch_token_id) {
    Principal p;
    {
      std::lock_guard<std::mutex> lock(cache_mu_);
      auto it = token_cache_.find(hash);
      if (it == token_cache_.end()) touch_token_id.reset();  // forgotten meanwhile: look it up
      else p = it->second.principal;
    }
    if (touch_token_id) {
      TouchToken(*touch_token_id, now, client_ip);
      return p;
    }
  }
  CachedToken entry;
  auto principal = db_.Read([&](db::Connection& c) -> Result<Principal> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("SELECT t.id, t.user_id, epoch_us(t.expires_at), t.revoked_at IS NOT NULL, "
                "u.email, u.is_admin, u.active, coalesce(t.kind, 'pat'), coalesce(u.name, '') "
                "FROM access_tokens t JOIN users u ON u.id = t.user_id "
                "WHERE t.token_hash = $1",
                {hash}));
    if (r.RowCount() == 0) return Unauthenticated(kBadToken);
    bool expired = !r.IsNull(2, 0) && r.GetInt64(2, 0) <= now;
    bool revoked = r.GetBool(3, 0);
    bool active = r.GetBool(6, 0);
    if (expired || revoked || !active) return Unauthenticated(kBadToken);
    Principal p;
    p.token_id = r.GetString(0, 0);
    p.user_id = r.GetString(1, 0);
    p.email = r.GetString(4, 0);
    p.is_admin = r.GetBool(5, 0);
    p.token_kind = r.GetString(7, 0);
    p.name = r.GetString(8, 0);
    entry.expires_at_us = r.IsNull(2, 0) ? 0 : r.GetInt64(2, 0);
    // Cached while still holding the DB mutex, so a concurrent revocation (which clears the
    // cache after its write, under the same mutex) cannot be overtaken by this entry.
    entry.principal = p;
    entry.last_used_written_us = now;
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (token_cache_.size() >= kMaxCachedTokens) token_cache_.clear();
    token_cache_[hash] = entry;
    return p;
  });
  if (principal.ok()) TouchToken(principal->token_id, now, client_ip);
  return principal;
}

void UserRepo::TouchToken(const std::string& token_id, int64_t now, const std::string& client_ip) {
  Status touched = db_.Write([&](db::Connection& c) {
    return c.Execute(
        "UPDATE access_tokens SET last_used_at = make_timestamp($1), last_used_ip = $3 "
        "WHERE id = $2",
        {now, token_id, client_ip});
  });
  // Bookkeeping only: a failed last_used_at write must not lock the caller out.
  if (!touched.ok()) spdlog::warn("token {}: last_used_at not updated: {}", token_id, touched.message());
}

void UserRepo::ForgetCachedTokens() {
  std::lock_guard<std::mutex> lock(cache_mu_);
  token_cache_.clear();
}

Status UserRepo::RevokeToken(const std::string& token_id) {
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query("SELECT count(*) FROM access_tokens WHERE id = $1", {token_id}));
    if (r.GetInt64(0, 0) == 0) return NotFound("token '" + token_id + "' not found");
    DA_RETURN_IF_ERROR(c.Execute(
        "UPDATE access_tokens SET revoked_at = make_timestamp($1) "
        "WHERE id = $2 AND revoked_at IS NULL",
        {NowMicros(), token_id}));
    ForgetCachedTokens();  // under the DB mutex: no Authenticate can re-cache the old state
    return Status::Ok();
  });
}

Result<int64_t> UserRepo::RevokeTokensOf(const std::string& user_id,
                                         const std::vector<std::string>& kinds,
                                         const std::string& keep_token_id) {
  return db_.Write([&](db::Connection& c) -> Result<int64_t> {
    int64_t revoked = 0;
    for (const std::string& kind : kinds) {
      DA_ASSIGN_OR_RETURN(
          db::QueryResult r,
          c.Query("UPDATE access_tokens SET revoked_at = make_timestamp($1) "
                  "WHERE user_id = $2 AND coalesce(kind, 'pat') = $3 AND id <> $4 "
                  "AND revoked_at IS NULL RETURNING id",
                  {NowMicros(), user_id, kind, keep_token_id}));
      revoked += static_cast<int64_t>(r.RowCount());
    }
    ForgetCachedTokens();  // under the DB mutex: no Authenticate can re-cache the old state
    return revoked;
  });
}

Result<std::vector<TokenInfo>> UserRepo::ListTokens(const std::string& user_id,
                                                    const std::vector<std::string>& kinds) {
  return db_.Read([&](db::Connection& c) -> Result<std::vector<TokenInfo>> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("SELECT id, coalesce(name, ''), prefix, coalesce(kind, 'pat'), epoch_us(created_at), "
                "epoch_us(expires_at), epoch_us(last_used_at), coalesce(last_used_ip, ''), "
                "revoked_at IS NOT NULL FROM access_tokens WHERE user_id = $1 "
                "ORDER BY created_at DESC, id",
                {user_id}));
    std::vector<TokenInfo> out;
    for (size_t i = 0; i < r.RowCount(); ++i) {
      if (std::find(kinds.begin(), kinds.end(), r.GetString(3, i)) == kinds.end()) continue;
      TokenInfo t;
      t.id = r.GetString(0, i);
      t.name = r.GetString(1, i);
      t.prefix = r.GetString(2, i);
      t.kind = r.GetString(3, i);
      t.created_at = internal::IsoCell(r, 4, i);
      t.expires_at = internal::IsoCell(r, 5, i);
      t.last_used_at = internal::IsoCell(r, 6, i);
      t.last_used_ip = r.GetString(7, i);
      t.revoked = r.GetBool(8, i);
      out.push_back(std::move(t));
    }
    return out;
  });
}

Status UserRepo::RevokeOwnToken(const std::string& user_id, const std::string& token_id) {
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("SELECT count(*) FROM access_tokens WHERE id = $1 AND user_id = $2",
                {token_id, user_id}));
    if (r.GetInt64(0, 0) == 0) return NotFound("token '" + token_id + "' not found");
    DA_RETURN_IF_ERROR(c.Execute(
        "UPDATE access_tokens SET revoked_at = make_timestamp($1) "
        "WHERE id = $2 AND revoked_at IS NULL",
        {NowMicros(), token_id}));
    ForgetCachedTokens();
    return Status::Ok();
  });
}

Result<std::vector<User>> UserRepo::ListUsers() {
  return db_.Read([&](db::Connection& c) -> Result<std::vector<User>> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query(std::string("SELECT ") + internal::kUserColumns + " FROM users u ORDER BY email"));
    std::vector<User> out;
    for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(internal::UserAt(r, i));
    return out;
  });
}

Result<User> UserRepo::UpdateUser(const std::string& actor_id, const std::string& user_id,
                                  const std::optional<std::string>& name,
                                  std::optional<bool> active) {
  if (name && HasControl(*name)) return InvalidArgument("user name contains control characters");
  return db_.Write([&](db::Connection& c) -> Result<User> {
    DA_ASSIGN_OR_RETURN(std::optional<User> u, FindOne(c, "id = $1", user_id));
    if (!u) return NotFound("user '" + user_id + "' not found");
    if (active && !*active && u->active) {
      if (user_id == actor_id) return FailedPrecondition("you cannot deactivate yourself");
      if (u->is_admin) {
        DA_ASSIGN_OR_RETURN(
            db::QueryResult n,
            c.Query("SELECT count(*) FROM users WHERE is_admin AND active AND id <> $1", {user_id}));
        if (n.GetInt64(0, 0) == 0) {
          return FailedPrecondition("'" + u->email + "' is the last active admin");
        }
      }
    }
    if (name) u->name = *name;
    if (active) u->active = *active;
    DA_RETURN_IF_ERROR(c.Execute(
        "UPDATE users SET name = $1, active = $2, updated_at = make_timestamp($3) WHERE id = $4",
        {u->name, u->active, NowMicros(), user_id}));
    ForgetCachedTokens();
    return *u;
  });
}

Status UserRepo::SetPasswordHash(const std::string& user_id, const std::string& hash) {
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("UPDATE users SET password_hash = $1, updated_at = make_timestamp($2) WHERE id = $3",
                {hash, NowMicros(), user_id}));
    if (r.RowsChanged() == 0) return NotFound("user '" + user_id + "' not found");
    return Status::Ok();
  });
}

Result<std::optional<std::pair<User, std::string>>> UserRepo::PasswordHashFor(
    const std::string& email) {
  std::string normalized = NormalizeEmail(email);
  using Out = std::optional<std::pair<User, std::string>>;
  return db_.Read([&](db::Connection& c) -> Result<Out> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query(std::string("SELECT ") + internal::kUserColumns +
                    ", coalesce(password_hash, '') FROM users u WHERE email = $1",
                {normalized}));
    if (r.RowCount() == 0) return Out();
    return Out(std::make_pair(internal::UserAt(r, 0), r.GetString(7, 0)));
  });
}

}  // namespace da::state
