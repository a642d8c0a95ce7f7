#pragma once
/// The audit row of a sign-in step (magic link, OIDC), written for the request's caller.
#include <string>

#include <nlohmann/json.hpp>

#include "server/router.h"
#include "service/caller.h"
#include "state/state_db.h"

namespace da::server {

/// service::AuditCall for the request's principal and client address.
inline void AuditRequest(state::StateDb& db, const RequestContext& rc, const std::string& action,
                         const std::string& resource,
                         nlohmann::json params = nlohmann::json::object(),
                         const std::string& result = "ok") {
  service::AuditCall(db, {rc.principal, rc.client_ip}, action, resource, std::move(params), result);
}

}  // namespace da::server
