#pragma once
/// Who calls a service: the authenticated principal and where the call came from.
#include <string>

#include <nlohmann/json.hpp>

#include "state/state_db.h"
#include "state/users.h"

namespace da::service {

/// The caller of a service method. `principal` is empty (no user id) for public calls without
/// credentials; `client_ip` is recorded in audit rows and never used for access decisions.
struct Caller {
  state::Principal principal;
  std::string client_ip;
};

/// Writes one audit_log row for a call: actor = the caller's user id, `params` (an object;
/// anything else counts as {}) gains `ip`. Failures are logged by state::Audit, never returned.
void AuditCall(state::StateDb& db, const Caller& caller, const std::string& action,
               const std::string& resource, nlohmann::json params = nlohmann::json::object(),
               const std::string& result = "ok");

/// permission_denied unless the caller is an admin (the check of every admin-only operation).
Status RequireAdmin(const Caller& caller);

}  // namespace da::service
