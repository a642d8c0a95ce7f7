#include "service/access_service.h"

#include <map>

namespace da::service {

using nlohmann::json;

json ToJson(const state::User& u) {
  return {{"id", u.id},         {"email", u.email},       {"name", u.name},
          {"active", u.active}, {"is_admin", u.is_admin}, {"has_password", u.has_password},
          {"created_at", u.created_at}};
}

json ToJson(const state::Group& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"description", g.description},
          {"is_system", g.is_system},
          {"member_count", g.member_count},
          {"created_at", g.created_at}};
}

json ToJson(const state::Grant& g) {
  return {{"id", g.id},
          {"group_id", g.group_id},
          {"group_name", g.group_name},
          {"resource_type", g.resource_type},
          {"resource_id", g.resource_id},
          {"created_by", g.created_by},
          {"created_at", g.created_at}};
}

json ToJson(const GroupList& a) {
  json out = json::array();
  for (const auto& g : a.groups) out.push_back(ToJson(g));
  return {{"groups", out}};
}

json ToJson(const DeletedAnswer& a) { return {{a.key, a.id}}; }

json ToJson(const MemberList& a) {
  json out = json::array();
  for (const auto& u : a.members) out.push_back(ToJson(u));
  return {{"members", out}};
}

json ToJson(const GrantList& a) {
  json out = json::array();
  for (const auto& g : a.grants) out.push_back(ToJson(g));
  return {{"grants", out}};
}

json ToJson(const TableAccessAnswer& a) {
  json groups = json::array();
  for (const auto& g : a.grants) {
    groups.push_back({{"id", g.group_id}, {"name", g.group_name}, {"grant_id", g.id}});
  }
  json users = json::array();
  for (const auto& e : a.users) {
    users.push_back({{"id", e.user.id}, {"email", e.user.email}, {"name", e.user.name},
                     {"via", e.via_groups}});
  }
  return {{"table_id", a.table_id}, {"groups", groups}, {"users", users}};
}

json GroupsBrief(const std::vector<state::Group>& groups) {
  json out = json::array();
  for (const auto& g : groups) out.push_back({{"id", g.id}, {"name", g.name}});
  return out;
}

json ToJson(const EffectiveAccessAnswer& a) {
  json tables = json::array();
  for (const auto& t : a.tables) tables.push_back({{"id", t.id}, {"name", t.name}, {"via", t.via}});
  return {{"user_id", a.user_id},
          {"is_admin", a.is_admin},
          {"groups", GroupsBrief(a.groups)},
          {"tables", tables}};
}

json ToJson(const AuditList& a) {
  json out = json::array();
  for (const auto& e : a.entries) {
    auto params = json::parse(e.params, nullptr, false);
    out.push_back({{"id", e.id},
                   {"timestamp", e.timestamp},
                   {"actor", e.actor},
                   {"actor_email", e.actor_email},
                   {"action", e.action},
                   {"resource", e.resource},
                   {"params", params.is_discarded() ? json(e.params) : params},
                   {"result", e.result}});
  }
  return {{"entries", out}};
}

Result<GroupList> AccessService::ListGroups(const Caller& caller) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(auto groups, ctx_.groups.ListGroups());
  return GroupList{std::move(groups)};
}

Result<state::Group> AccessService::CreateGroup(const Caller& caller,
                                                const CreateGroupRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(state::Group g, ctx_.groups.CreateGroup(request.name, request.description));
  AuditCall(ctx_.db, caller, "group_created", g.id, {{"name", g.name}});
  return g;
}

Result<DeletedAnswer> AccessService::DeleteGroup(const Caller& caller,
                                                 const GroupIdRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_RETURN_IF_ERROR(ctx_.groups.DeleteGroup(request.id));
  AuditCall(ctx_.db, caller, "group_deleted", request.id);
  return DeletedAnswer{"deleted", request.id};
}

Result<MemberList> AccessService::Members(const Caller& caller, const GroupIdRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(auto members, ctx_.groups.Members(request.id));
  return MemberList{std::move(members)};
}

Result<state::User> AccessService::AddMember(const Caller& caller,
                                             const AddMemberRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(state::User u, ctx_.groups.AddMember(request.group_id, request.email));
  AuditCall(ctx_.db, caller, "group_member_added", request.group_id,
            {{"user_id", u.id}, {"email", u.email}});
  return u;
}

Result<DeletedAnswer> AccessService::RemoveMember(const Caller& caller,
                                                  const RemoveMemberRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_RETURN_IF_ERROR(ctx_.groups.RemoveMember(request.group_id, request.user_id));
  AuditCall(ctx_.db, caller, "group_member_removed", request.group_id,
            {{"user_id", request.user_id}});
  return DeletedAnswer{"removed", request.user_id};
}

Result<GrantList> AccessService::ListGrants(const Caller& caller,
                                            const ListGrantsRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(auto grants, ctx_.groups.ListGrants(request.group_id, request.resource_type));
  return GrantList{std::move(grants)};
}

Result<state::Grant> AccessService::CreateGrant(const Caller& caller,
                                                const CreateGrantRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  if (request.resource_type == "table") {
    DA_RETURN_IF_ERROR(ctx_.registry.Get(request.resource_id).status());
  }
  DA_ASSIGN_OR_RETURN(state::Grant g,
                      ctx_.groups.CreateGrant(request.group_id, request.resource_type,
                                              request.resource_id, caller.principal.user_id));
  AuditCall(ctx_.db, caller, "grant_created", g.id,
            {{"group_id", g.group_id}, {"resource_type", g.resource_type},
             {"resource_id", g.resource_id}});
  return g;
}

Result<state::Grant> AccessService::DeleteGrant(const Caller& caller,
                                                const GrantIdRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(state::Grant g, ctx_.groups.DeleteGrant(request.id));
  AuditCall(ctx_.db, caller, "grant_deleted", g.id,
            {{"group_id", g.group_id}, {"resource_type", g.resource_type},
             {"resource_id", g.resource_id}});
  return g;
}

Result<TableAccessAnswer> AccessService::WhoCanSee(const Caller& caller,
                                                   const TableIdRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_RETURN_IF_ERROR(ctx_.registry.Get(request.id).status());
  DA_ASSIGN_OR_RETURN(auto grants, ctx_.groups.ListGrants("", "table"));
  DA_ASSIGN_OR_RETURN(auto users, ctx_.groups.TableAccess(request.id));
  TableAccessAnswer out;
  out.table_id = request.id;
  for (auto& g : grants) {
    if (g.resource_id == request.id) out.grants.push_back(std::move(g));
  }
  out.users = std::move(users);
  return out;
}

Result<EffectiveAccessAnswer> AccessService::EffectiveAccess(const Caller& caller) {
  const auto& who = caller.principal;
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> visible, access_.VisibleTables(who));
  DA_ASSIGN_OR_RETURN(auto groups, ctx_.groups.GroupsOf(who.user_id));
  DA_ASSIGN_OR_RETURN(auto grants, ctx_.groups.ListGrants("", "table"));
  std::map<std::string, std::string> my_groups;  // id → name
  for (const auto& g : groups) my_groups[g.id] = g.name;
  EffectiveAccessAnswer out;
  out.user_id = who.user_id;
  out.is_admin = who.is_admin;
  for (const auto& t : visible) {
    EffectiveAccessAnswer::Table e{t.id, t.name, {}};
    if (who.is_admin) e.via.push_back("Admin");
    for (const auto& g : grants) {
      if (g.resource_id == t.id && my_groups.count(g.group_id)) e.via.push_back(g.group_name);
    }
    out.tables.push_back(std::move(e));
  }
  out.groups = std::move(groups);
  return out;
}

Result<AuditList> AccessService::Audit(const Caller& caller, const state::AuditFilter& filter) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(auto entries, state::ListAudit(ctx_.db, filter));
  return AuditList{std::move(entries)};
}

}  // namespace da::service
