#pragma once
/// Users use cases: user accounts (admin), passwords, "who am I", personal access tokens and
/// sessions (password sign-in, start, sign-out). Cookies, redirects and rate limiting of
/// sign-in stay in the HTTP layer.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/oidc.h"
#include "common/status.h"
#include "service/access_service.h"
#include "service/caller.h"
#include "service/context.h"
#include "state/groups.h"
#include "state/users.h"

namespace da::service {

/// Browser/API session lifetime: DA_SESSION_TTL_HOURS (1..8760), default 12 h.
int64_t SessionTtlSeconds();

struct UserList {
  std::vector<state::User> users;
};
/// {users: [user...]}
nlohmann::json ToJson(const UserList& a);

/// POST /api/users: email required; a new user is never an admin (add them to Admin).
struct CreateUserRequest {
  std::string email;
  std::string name;
};
/// PATCH /api/users/{id}: only the given fields change.
struct UpdateUserRequest {
  std::string id;
  std::optional<std::string> name;
  std::optional<bool> active;
};
/// POST /api/users/{id}/set-password.
struct SetPasswordRequest {
  std::string user_id;
  std::string password;
  /// The user's present password: required when users change their own password and have one.
  std::optional<std::string> current_password;
};
struct OkAnswer {};
/// {ok: true}
nlohmann::json ToJson(const OkAnswer&);

/// GET /api/me. `via_cookie`: the caller signed in with the session cookie.
struct MeRequest {
  bool via_cookie = false;
};
struct MeAnswer {
  state::User user;
  std::string auth;  ///< "session_cookie" or the token kind
  std::vector<state::Group> groups;
};
/// {id, email, name, is_admin, has_password, auth, groups: [{id, name}]}
nlohmann::json ToJson(const MeAnswer& a);

/// POST /auth/tokens: a personal access token; `expires_in_days` 1..3650, nullopt = never.
struct CreateTokenRequest {
  std::string name;
  std::optional<int64_t> expires_in_days;
};
struct TokenAnswer {
  state::IssuedToken token;
  std::string name;
};
/// {id, name, prefix, token, expires_at (null = never)}
nlohmann::json ToJson(const TokenAnswer& a);
struct TokenList {
  std::vector<state::TokenInfo> tokens;
};
/// {tokens: [{id, name, prefix, created_at, expires_at, last_used_at, last_used_from, revoked}]}
nlohmann::json ToJson(const TokenList& a);
/// DELETE /auth/tokens/{id}.
struct TokenIdRequest {
  std::string id;
};

/// Email + password sign-in.
struct PasswordSignInRequest {
  std::string email;
  std::string password;
};
/// A new session: the user and their session token.
struct Session {
  state::User user;
  state::IssuedToken token;
};

/// A user vouched for by an outside identity provider (OIDC), and who may sign in through it.
struct ExternalIdentity {
  std::string issuer;   ///< the provider (OIDC `iss`)
  std::string subject;  ///< the provider's stable id of the person (OIDC `sub`)
  std::string email;
  bool email_verified = false;
  std::string hosted_domain;  ///< Google's `hd` claim; "" when absent
  std::string name;
  /// Group names the provider lists; applied only when `sync_groups`.
  std::vector<std::string> groups;
  bool sync_groups = false;
  /// Who may sign in (DA_OIDC_SIGNUP, DA_OIDC_ALLOWED_DOMAINS).
  auth::OidcSignUpPolicy policy;
};

class UsersService {
 public:
  explicit UsersService(const ServiceContext& ctx) : ctx_(ctx) {}

  /// Admin: every user.
  Result<UserList> ListUsers(const Caller& caller);
  /// Admin: already_exists for a taken email, invalid_argument for a bad one.
  Result<state::User> CreateUser(const Caller& caller, const CreateUserRequest& request);
  /// Admin: not_found; failed_precondition when it would leave no active admin.
  Result<state::User> UpdateUser(const Caller& caller, const UpdateUserRequest& request);
  /// Sets a password (docs/security.md, "Passwords").
  /// - Your own: never with a personal access token (a stolen PAT must not become a password);
  ///   when you already have a password, `current_password` must match. Your other sessions
  ///   are revoked; your PATs stay (listed on /tokens, revoked one by one).
  /// - Someone else's: admins only (account recovery). Every session and PAT of that user is
  ///   revoked.
  /// Errors: permission_denied (not an admin; a PAT; a wrong current password, audited as
  /// password_change_failed), invalid_argument (password policy; current_password missing),
  /// not_found "user '<id>' not found".
  Result<OkAnswer> SetPassword(const Caller& caller, const SetPasswordRequest& request);
  /// The caller's account and groups; unauthenticated "unknown user" when it vanished.
  Result<MeAnswer> Me(const Caller& caller, const MeRequest& request);

  /// A personal access token for the caller; permission_denied when the caller used a PAT.
  Result<TokenAnswer> CreateToken(const Caller& caller, const CreateTokenRequest& request);
  /// The caller's personal access tokens and bootstrap token (kind "pat" or "bootstrap").
  Result<TokenList> ListTokens(const Caller& caller);
  /// Revokes one of the caller's tokens; not_found for another's or an unknown id.
  Result<DeletedAnswer> RevokeToken(const Caller& caller, const TokenIdRequest& request);

  /// Checks email + password and starts a session. The same unauthenticated "wrong email or
  /// password" for an unknown email, a user without password, an inactive user and a wrong
  /// password (audited as sign_in_failed). invalid_argument when either is empty.
  Result<Session> PasswordSignIn(const Caller& caller, const PasswordSignInRequest& request);
  /// Creates a session token (SessionTtlSeconds) for `user` and audits `sign_in` with `method`
  /// (magic_link, oidc, password).
  Result<state::IssuedToken> StartSession(const Caller& caller, const state::User& user,
                                          const std::string& method);
  /// The account of an outside identity, or why it may not sign in. In order:
  /// - `email_verified` must be true, and with `policy.allowed_domains` the email's domain (and
  ///   `hosted_domain` when given) must be listed;
  /// - the user bound to (issuer, subject) is the account;
  /// - else the user with that email, when it has no identity at this issuer yet: it is bound
  ///   now (first OIDC sign-in, audited oidc_identity_bound); a user bound to another subject is
  ///   refused, never merged;
  /// - else a new user (audited user_created via oidc) and its binding, unless the policy is
  ///   invite-only (or `domains` without a listed domain).
  /// Memberships then follow `groups` when `sync_groups` (audited group_sync).
  /// Refusals are permission_denied whose message is one fixed reason code, audited as
  /// sign_in_failed with it: "email_unverified", "domain_not_allowed", "identity_mismatch",
  /// "not_invited", "inactive". invalid_argument when issuer, subject or email is empty.
  Result<state::User> ExternalUser(const Caller& caller, const ExternalIdentity& identity);
  /// Revokes the caller's session token (nothing for other credentials) and audits sign_out.
  Status SignOut(const Caller& caller);

 private:
  ServiceContext ctx_;
};

}  // namespace da::service
