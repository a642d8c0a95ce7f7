#pragma once
/// JSON shapes shared by the user/group/grant routes and the sign-in routes.
#include <string>

#include <nlohmann/json.hpp>

#include "server/router.h"
#include "state/groups.h"
#include "state/users.h"

namespace da::server {

/// {id, email, name, active, is_admin, has_password, created_at}
nlohmann::json UserJson(const state::User& u);
/// {id, name, description, is_system, member_count, created_at}
nlohmann::json GroupJson(const state::Group& g);
/// {id, group_id, group_name, resource_type, resource_id, created_by, created_at}
nlohmann::json GrantJson(const state::Grant& g);
/// Writes an audit_log row for a request: actor = the caller's user id, params gain `ip`.
void AuditRequest(state::StateDb& db, const RequestContext& rc, const std::string& action,
                  const std::string& resource, nlohmann::json params = nlohmann::json::object(),
                  const std::string& result = "ok");

}  // namespace da::server
