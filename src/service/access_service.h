#pragma once
/// Access use cases: groups, memberships, grants, who may see a table, what the caller may see,
/// and the audit log. Everything but EffectiveAccess is admin only.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"
#include "service/requests.h"
#include "service/table_access.h"
#include "state/audit.h"
#include "state/groups.h"
#include "state/users.h"

namespace da::service {

/// {id, email, name, active, is_admin, has_password, created_at}
nlohmann::json ToJson(const state::User& u);
/// {id, name, description, is_system, member_count, created_at}
nlohmann::json ToJson(const state::Group& g);
/// {id, group_id, group_name, resource_type, resource_id, created_by, created_at}
nlohmann::json ToJson(const state::Grant& g);

struct GroupList {
  std::vector<state::Group> groups;
};
/// {groups: [...]}
nlohmann::json ToJson(const GroupList& a);

/// POST /api/admin/groups.
struct CreateGroupRequest {
  std::string name;
  std::string description;
};
/// A group addressed by its id.
struct GroupIdRequest {
  std::string id;
};
/// {deleted: id} / {removed: user_id}
struct DeletedAnswer {
  std::string key;  ///< "deleted" | "removed" | "revoked"
  std::string id;
};
nlohmann::json ToJson(const DeletedAnswer& a);

struct MemberList {
  std::vector<state::User> members;
};
/// {members: [user...]}
nlohmann::json ToJson(const MemberList& a);

/// POST /api/admin/groups/{id}/members.
struct AddMemberRequest {
  std::string group_id;
  std::string email;
};
/// DELETE /api/admin/groups/{id}/members/{user_id}.
struct RemoveMemberRequest {
  std::string group_id;
  std::string user_id;
};

/// GET /api/admin/grants?group_id=&resource_type= ("" = any).
struct ListGrantsRequest {
  std::string group_id;
  std::string resource_type;
};
struct GrantList {
  std::vector<state::Grant> grants;
};
/// {grants: [...]}
nlohmann::json ToJson(const GrantList& a);

/// POST /api/admin/grants: resource_type defaults to "table" (then the table must exist).
struct CreateGrantRequest {
  std::string group_id;
  std::string resource_type = "table";
  std::string resource_id;
};
/// DELETE /api/admin/grants/{id}.
struct GrantIdRequest {
  std::string id;
};

/// GET /api/admin/tables/{id}/access: the groups granted the table and the users reaching it.
struct TableAccessAnswer {
  std::string table_id;
  std::vector<state::Grant> grants;
  std::vector<state::TableAccessEntry> users;
};
/// {table_id, groups: [{id, name, grant_id}], users: [{id, email, name, via}]}
nlohmann::json ToJson(const TableAccessAnswer& a);

/// GET /api/me/effective-access.
struct EffectiveAccessAnswer {
  std::string user_id;
  bool is_admin = false;
  std::vector<state::Group> groups;
  struct Table {
    std::string id;
    std::string name;
    std::vector<std::string> via;  ///< "Admin" and/or the granting groups' names
  };
  std::vector<Table> tables;
};
/// {user_id, is_admin, groups: [{id, name}], tables: [{id, name, via}]}
nlohmann::json ToJson(const EffectiveAccessAnswer& a);

struct AuditList {
  std::vector<state::AuditEntry> entries;
};
/// {entries: [{id, timestamp, actor, actor_email, action, resource, params, result}]}
nlohmann::json ToJson(const AuditList& a);

/// [{id, name}]
nlohmann::json GroupsBrief(const std::vector<state::Group>& groups);

class AccessService {
 public:
  explicit AccessService(const ServiceContext& ctx) : ctx_(ctx), access_(ctx.registry, ctx.access) {}

  Result<GroupList> ListGroups(const Caller& caller);
  /// invalid_argument / already_exists from the group repository.
  Result<state::Group> CreateGroup(const Caller& caller, const CreateGroupRequest& request);
  /// failed_precondition for system groups; not_found.
  Result<DeletedAnswer> DeleteGroup(const Caller& caller, const GroupIdRequest& request);
  Result<MemberList> Members(const Caller& caller, const GroupIdRequest& request);
  Result<state::User> AddMember(const Caller& caller, const AddMemberRequest& request);
  Result<DeletedAnswer> RemoveMember(const Caller& caller, const RemoveMemberRequest& request);

  Result<GrantList> ListGrants(const Caller& caller, const ListGrantsRequest& request);
  /// not_found for an unknown table (resource_type "table") or group.
  Result<state::Grant> CreateGrant(const Caller& caller, const CreateGrantRequest& request);
  Result<state::Grant> DeleteGrant(const Caller& caller, const GrantIdRequest& request);
  /// not_found for an unknown table.
  Result<TableAccessAnswer> WhoCanSee(const Caller& caller, const TableIdRequest& request);

  /// The caller's own view: their groups and the tables they may see, with why.
  Result<EffectiveAccessAnswer> EffectiveAccess(const Caller& caller);

  /// invalid_argument for a limit outside 1..1000.
  Result<AuditList> Audit(const Caller& caller, const state::AuditFilter& filter);

 private:
  ServiceContext ctx_;
  TableAccess access_;
};

}  // namespace da::service
