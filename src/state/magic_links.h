#pragma once
/// One-time email sign-in links. Only SHA-256 of the link token is stored.
#include <cstdint>
#include <string>

#include "common/status.h"
#include "state/state_db.h"

namespace da::state {

struct MagicLinkGrant {
  std::string user_id;
  std::string next;  ///< where to go after sign-in ("" = /)
};

/// Stores a new link for `user_id` valid `ttl_seconds`; returns the plaintext token
/// ("ml_" + 40 hex, 160 random bits).
Result<std::string> CreateMagicLink(StateDb& db, const std::string& user_id, const std::string& next,
                                    int64_t ttl_seconds);
/// Consumes a link: unauthenticated ("this sign-in link is invalid, used or expired") when
/// unknown, already used or expired; otherwise marks it used (one use) and returns its grant.
Result<MagicLinkGrant> ConsumeMagicLink(StateDb& db, const std::string& token);

}  // namespace da::state
