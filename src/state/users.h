#pragma once
/// Users and access tokens. Tokens are stored only as SHA-256 hashes with a visible prefix.
///
/// The caller identity (Principal) is what every access decision takes; later issues add
/// groups and grants behind the same shape.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "state/audit.h"
#include "state/state_db.h"

namespace da::state {

struct User {
  std::string id;  ///< uuid-like hex
  std::string email;
  std::string name;
  bool active = true;
  bool is_admin = false;  ///< member of the system group Admin (kept in step by GroupRepo)
  std::string created_at;
  bool has_password = false;
};

/// Kinds of access token (access_tokens.kind).
inline constexpr const char* kTokenKindPat = "pat";              ///< personal access token
inline constexpr const char* kTokenKindSession = "session";      ///< password/browser sign-in
inline constexpr const char* kTokenKindBootstrap = "bootstrap";  ///< first-start admin token

/// A token as listed to its owner (never the plaintext or hash).
struct TokenInfo {
  std::string id;
  std::string name;
  std::string prefix;
  std::string kind;
  std::string created_at;
  std::string expires_at;    ///< "" = never
  std::string last_used_at;  ///< "" = never used
  std::string last_used_ip;
  bool revoked = false;
};

/// The authenticated caller of a request.
struct Principal {
  std::string user_id;
  std::string email;
  bool is_admin = false;
  std::string token_id;
  std::string token_kind;  ///< kTokenKind*; PATs cannot mint PATs
  std::string name;
};

struct IssuedToken {
  std::string id;
  std::string prefix;  ///< first 8 chars of the token, shown in listings
  std::string token;   ///< the plaintext: returned once, never stored
  std::string expires_at;  ///< ISO-8601 UTC; "" = never
};

/// Users and their personal access tokens. Thread-safe: every call goes through StateDb::Read or StateDb::Write.
///
/// Authenticate keeps the principals of recently seen valid tokens in memory (keyed by the
/// token's SHA-256, at most kMaxCachedTokens), so a request does not wait for the state DB:
/// every write through this repo (user or token change, revocation) clears that cache at once,
/// and a cached token's expiry is still checked on each use. This relies on the server being the
/// only writer of the state DB and owning one UserRepo. last_used_at is written at most once per
/// kLastUsedResolutionUs per token.
class UserRepo {
 public:
  explicit UserRepo(StateDb& db) : db_(db) {}

  static constexpr size_t kMaxCachedTokens = 10000;
  static constexpr int64_t kLastUsedResolutionUs = 60'000'000;

  /// Number of users (active or not).
  Result<int64_t> CountUsers();
  /// Emails are trimmed and lower-cased before they are stored or looked up.
  /// already_exists for a duplicate email; invalid_argument for an empty email or one with
  /// whitespace or control characters inside.
  Result<User> CreateUser(const std::string& email, const std::string& name, bool is_admin);
  /// Looks a user up by (normalised) email; nullopt when unknown.
  Result<std::optional<User>> FindByEmail(const std::string& email);

  /// Creates a token "da_<40 hex>" for the user; stores sha256(token) and its prefix.
  Result<IssuedToken> CreateToken(const std::string& user_id, const std::string& name);
  /// Like CreateToken, expiring `ttl_seconds` (> 0, else invalid_argument) from now.
  Result<IssuedToken> CreateToken(const std::string& user_id, const std::string& name,
                                  int64_t ttl_seconds);
  /// Like CreateToken with an explicit kind (kTokenKind*); `ttl_seconds` 0 = never expires,
  /// < 0 → invalid_argument.
  Result<IssuedToken> CreateToken(const std::string& user_id, const std::string& name,
                                  int64_t ttl_seconds, const std::string& kind);
  /// Resolves a plaintext token to its active user: unauthenticated when unknown, revoked,
  /// expired or the user is inactive. Updates last_used_at and last_used_ip (`client_ip`).
  Result<Principal> Authenticate(const std::string& token, const std::string& client_ip = "");
  /// The user's tokens whose kind is one of `kinds` (kTokenKind*; newest first), revoked and
  /// expired ones included.
  Result<std::vector<TokenInfo>> ListTokens(const std::string& user_id,
                                            const std::vector<std::string>& kinds);
  /// Revokes the user's own token; not_found when the id is unknown or someone else's.
  Status RevokeOwnToken(const std::string& user_id, const std::string& token_id);

  /// Every user, ordered by email.
  Result<std::vector<User>> ListUsers();
  /// Changes name and/or active. Guards (failed_precondition): nobody deactivates themselves
  /// (`actor_id`), the last active admin cannot be deactivated. not_found when unknown.
  Result<User> UpdateUser(const std::string& actor_id, const std::string& user_id,
                          const std::optional<std::string>& name, std::optional<bool> active);
  /// Stores a password hash (already computed by auth::HashPassword). not_found when unknown.
  Status SetPasswordHash(const std::string& user_id, const std::string& hash);
  /// The user with `email` and their password hash ("" when none); nullopt when unknown.
  Result<std::optional<std::pair<User, std::string>>> PasswordHashFor(const std::string& email);
  /// Drops every cached principal (after a change of admin membership or a user).
  void ForgetCachedTokens();

  /// Marks a token revoked (idempotent: revoking twice is ok). not_found for an unknown id.
  Status RevokeToken(const std::string& token_id);
  /// Revokes every active token of `user_id` whose kind is in `kinds` (kTokenKind*), except
  /// `keep_token_id` ("" keeps none). Returns how many were revoked.
  Result<int64_t> RevokeTokensOf(const std::string& user_id, const std::vector<std::string>& kinds,
                                 const std::string& keep_token_id);
  /// Looks a user up by id; nullopt when unknown.
  Result<std::optional<User>> FindById(const std::string& user_id);
  /// Activates or deactivates a user (inactive users cannot authenticate). not_found when unknown.
  Status SetActive(const std::string& user_id, bool active);

 private:
  struct CachedToken {
    Principal principal;
    int64_t expires_at_us = 0;  ///< 0 = never
    int64_t last_used_written_us = 0;
  };
  /// Records the token's last use (a Write of its own: its failure is logged, never returned).
  void TouchToken(const std::string& token_id, int64_t now, const std::string& client_ip);

  StateDb& db_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, CachedToken> token_cache_;  ///< sha256 hex → principal
};

}  // namespace da::state
