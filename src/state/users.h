#pragma once
/// Users and access tokens. Tokens are stored only as SHA-256 hashes with a visible prefix.
///
/// The caller identity (Principal) is what every access decision takes; later issues add
/// groups and grants behind the same shape.
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "state/state_db.h"

namespace da::state {

struct User {
  std::string id;      ///< uuid-like hex
  std::string email;
  std::string name;
  bool active = true;
  bool is_admin = false;
  std::string created_at;
};

/// The authenticated caller of a request.
struct Principal {
  std::string user_id;
  std::string email;
  bool is_admin = false;
  std::string token_id;
};

struct IssuedToken {
  std::string id;
  std::string prefix;   ///< first 8 chars of the token, shown in listings
  std::string token;    ///< the plaintext: returned once, never stored
};

class UserRepo {
 public:
  explicit UserRepo(StateDb& db) : db_(db) {}

  Result<int64_t> CountUsers();
  /// already_exists for a duplicate email; invalid_argument for an empty email.
  Result<User> CreateUser(const std::string& email, const std::string& name, bool is_admin);
  Result<std::optional<User>> FindByEmail(const std::string& email);

  /// Creates a token "da_<40 hex>" for the user; stores sha256(token) and its prefix.
  Result<IssuedToken> CreateToken(const std::string& user_id, const std::string& name);
  /// Resolves a plaintext token to its active user: unauthenticated when unknown, revoked,
  /// expired or the user is inactive. Updates last_used_at.
  Result<Principal> Authenticate(const std::string& token);

 private:
  StateDb& db_;
};

/// Appends an audit_log row; failures are logged, never returned (audit never blocks).
void Audit(StateDb& db, const std::string& actor, const std::string& action,
           const std::string& resource, const std::string& params_json,
           const std::string& result = "ok");

}  // namespace da::state
