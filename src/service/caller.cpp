#include "service/caller.h"

#include "state/audit.h"

namespace da::service {

void AuditCall(state::StateDb& db, const Caller& caller, const std::string& action,
               const std::string& resource, nlohmann::json params, const std::string& result) {
  if (!params.is_object()) params = nlohmann::json::object();
  params["ip"] = caller.client_ip;
  state::Audit(db, caller.principal.user_id, action, resource, params.dump(), result);
}

Status RequireAdmin(const Caller& caller) {
  if (caller.principal.is_admin) return Status::Ok();
  return PermissionDenied("admin access required");
}

}  // namespace da::service
