#pragma once
/// The binding of a user to an OpenID Connect identity (issuer + `sub`), made at the user's first
/// OIDC sign-in; later sign-ins find the user by it, never by email alone. One identity per user
/// per issuer, one user per identity.
#include <optional>
#include <string>

#include "common/status.h"
#include "state/state_db.h"

namespace da::state {

/// The user bound to (issuer, subject), nullopt when none is.
Result<std::optional<std::string>> UserOfOidcIdentity(StateDb& db, const std::string& issuer,
                                                      const std::string& subject);
/// The subject `user_id` is bound to at `issuer`, nullopt when none.
Result<std::optional<std::string>> OidcSubjectOf(StateDb& db, const std::string& user_id,
                                                 const std::string& issuer);
/// Binds `user_id` to (issuer, subject). already_exists when the identity is bound to anyone or
/// the user already has a (different) identity at this issuer (checked under the write lock).
Status BindOidcIdentity(StateDb& db, const std::string& user_id, const std::string& issuer,
                        const std::string& subject);

}  // namespace da::state
