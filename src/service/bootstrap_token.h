#pragma once
/// The first-start admin and its bootstrap token (docs/security.md, "The bootstrap admin").
///
/// On the first start (no users) the server creates the admin. Without
/// DA_BOOTSTRAP_ADMIN_PASSWORD it also issues one bootstrap token (kind "bootstrap") that:
/// - expires after DA_BOOTSTRAP_TOKEN_TTL_HOURS (default 24);
/// - is written only to `<state>/bootstrap-token` (mode 600), never to stdout or the log;
/// - is listed among the admin's tokens and may be revoked like a PAT;
/// - is revoked as soon as its admin has a password or a personal access token;
/// - takes its file with it: the file is removed when the token is revoked, and at start-up
///   when the token is no longer valid (expired).
/// With DA_BOOTSTRAP_ADMIN_PASSWORD the admin starts with a password, so no token is issued.
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"

namespace da::service {

/// `<state dir>/bootstrap-token`.
std::filesystem::path BootstrapTokenPath(const InstanceConfig& config);

/// The bootstrap token's lifetime in seconds: DA_BOOTSTRAP_TOKEN_TTL_HOURS (a whole number of
/// hours, 1..8760; default 24). invalid_argument naming the variable otherwise.
Result<int64_t> BootstrapTokenTtlSeconds();

/// What a start did about the bootstrap admin.
struct BootstrapOutcome {
  bool admin_created = false;  ///< false: users existed already, nothing was done
  std::string email;           ///< the new admin's email
  bool token_written = false;  ///< a bootstrap token was issued and written to `token_path`
  std::filesystem::path token_path;
  int64_t token_ttl_seconds = 0;
};

/// First start only (no users): creates the admin (DA_BOOTSTRAP_ADMIN_EMAIL or
/// admin@localhost; DA_BOOTSTRAP_ADMIN_PASSWORD, checked against the password policy) and, when
/// no password was given, its bootstrap token. On later starts removes a token file whose token
/// is no longer valid. Errors: invalid_argument for a bad password or TTL; I/O errors.
Result<BootstrapOutcome> EnsureBootstrapAdmin(const ServiceContext& ctx);

/// Revokes `user_id`'s active bootstrap token, if any, and removes the token file; audited as
/// `bootstrap_token_revoked` with `reason` ("password_set", "token_created", "revoked").
/// A no-op for a user without one. Errors from the state DB only (a file already gone is fine).
Status RetireBootstrapToken(const ServiceContext& ctx, const Caller& caller,
                            const std::string& user_id, const std::string& reason);

}  // namespace da::service
