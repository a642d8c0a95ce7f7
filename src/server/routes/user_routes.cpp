// Users, groups, memberships, grants, "who am I" and the audit log (issue 6):
// /api/users*, /api/admin/groups*, /api/admin/grants*, /api/admin/tables/{id}/access,
// /api/me, /api/me/effective-access, /api/admin/audit.
#include <map>
#include <optional>

#include "auth/password.h"
#include "common/identifiers.h"
#include "server/app.h"
#include "server/routes/auth_json.h"
#include "state/audit.h"
#include "state/internal.h"

namespace da::server {

nlohmann::json UserJson(const state::User& u) {
  return {{"id", u.id},         {"email", u.email},       {"name", u.name},
          {"active", u.active}, {"is_admin", u.is_admin}, {"has_password", u.has_password},
          {"created_at", u.created_at}};
}

nlohmann::json GroupJson(const state::Group& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"description", g.description},
          {"is_system", g.is_system},
          {"member_count", g.member_count},
          {"created_at", g.created_at}};
}

nlohmann::json GrantJson(const state::Grant& g) {
  return {{"id", g.id},
          {"group_id", g.group_id},
          {"group_name", g.group_name},
          {"resource_type", g.resource_type},
          {"resource_id", g.resource_id},
          {"created_by", g.created_by},
          {"created_at", g.created_at}};
}

void AuditRequest(state::StateDb& db, const RequestContext& rc, const std::string& action,
                  const std::string& resource, nlohmann::json params, const std::string& result) {
  if (!params.is_object()) params = nlohmann::json::object();
  params["ip"] = rc.client_ip;
  state::Audit(db, rc.principal.user_id, action, resource, params.dump(), result);
}

namespace {

/// `body[key]` as a string: nullopt when absent or null; malformed for another JSON type.
Result<std::optional<std::string>> OptString(const nlohmann::json& body, const char* key) {
  if (!body.is_object()) return Malformed("request body must be a JSON object");
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Malformed(std::string("'") + key + "' must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> ReqString(const nlohmann::json& body, const char* key) {
  DA_ASSIGN_OR_RETURN(std::optional<std::string> v, OptString(body, key));
  if (!v || v->empty()) return InvalidArgument(std::string("'") + key + "' is required");
  return *v;
}

nlohmann::json GroupsBrief(const std::vector<state::Group>& groups) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : groups) out.push_back({{"id", g.id}, {"name", g.name}});
  return out;
}

void RegisterUserRoutes(Router& r, AppContext& ctx) {
  r.Get("/api/users", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto users = ctx.users->ListUsers();
          if (!users.ok()) return WriteError(res, users.status(), rc.request_id);
          nlohmann::json out = nlohmann::json::array();
          for (const auto& u : *users) out.push_back(UserJson(u));
          WriteJson(res, 200, {{"users", out}});
        });

  r.Post("/api/users", AccessLevel::kAdmin, Execution::kWorker,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           auto email = ReqString(*body, "email");
           if (!email.ok()) return WriteError(res, email.status(), rc.request_id);
           auto name = OptString(*body, "name");
           if (!name.ok()) return WriteError(res, name.status(), rc.request_id);
           auto u = ctx.users->CreateUser(*email, name->value_or(""), false);
           if (!u.ok()) return WriteError(res, u.status(), rc.request_id);
           AuditRequest(*ctx.db, rc, "user_created", u->id, {{"email", u->email}});
           WriteJson(res, 201, UserJson(*u));
         });

  r.Patch("/api/users/{id}", AccessLevel::kAdmin,
          [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
            const std::string id = req.PathParam("id");
            auto body = ParseJsonBody(req);
            if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
            auto name = OptString(*body, "name");
            if (!name.ok()) return WriteError(res, name.status(), rc.request_id);
            std::optional<bool> active;
            if (body->contains("active") && !(*body)["active"].is_null()) {
              if (!(*body)["active"].is_boolean()) {
                return WriteError(res, Malformed("'active' must be true or false"), rc.request_id);
              }
              active = (*body)["active"].get<bool>();
            }
            auto u = ctx.users->UpdateUser(rc.principal.user_id, id, *name, active);
            if (!u.ok()) return WriteError(res, u.status(), rc.request_id);
            nlohmann::json params = nlohmann::json::object();
            if (*name) params["name"] = **name;
            if (active) params["active"] = *active;
            AuditRequest(*ctx.db, rc, "user_updated", id, params);
            WriteJson(res, 200, UserJson(*u));
          });

  // An admin sets anyone's password; a user may set their own.
  r.Post("/api/users/{id}/set-password", AccessLevel::kAuthenticated, Execution::kWorker,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           const std::string id = req.PathParam("id");
           if (!rc.principal.is_admin && id != rc.principal.user_id) {
             return WriteError(res, PermissionDenied("only an admin may set another user's password"),
                               rc.request_id);
           }
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           auto password = OptString(*body, "password");
           if (!password.ok()) return WriteError(res, password.status(), rc.request_id);
           Status policy = auth::CheckPasswordPolicy(password->value_or(""));
           if (!policy.ok()) return WriteError(res, policy, rc.request_id);
           auto user = ctx.users->FindById(id);
           if (!user.ok()) return WriteError(res, user.status(), rc.request_id);
           if (!*user) return WriteError(res, NotFound("user '" + id + "' not found"), rc.request_id);
           auto hash = auth::HashPassword(**password);
           if (!hash.ok()) return WriteError(res, hash.status(), rc.request_id);
           Status st = ctx.users->SetPasswordHash(id, *hash);
           if (!st.ok()) return WriteError(res, st, rc.request_id);
           AuditRequest(*ctx.db, rc, "password_set", id);
           WriteJson(res, 200, {{"ok", true}});
         });

  r.Get("/api/me", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto user = ctx.users->FindById(rc.principal.user_id);
          if (!user.ok()) return WriteError(res, user.status(), rc.request_id);
          if (!*user) return WriteError(res, Unauthenticated("unknown user"), rc.request_id);
          auto groups = ctx.groups->GroupsOf(rc.principal.user_id);
          if (!groups.ok()) return WriteError(res, groups.status(), rc.request_id);
          WriteJson(res, 200,
                    {{"id", (*user)->id},
                     {"email", (*user)->email},
                     {"name", (*user)->name},
                     {"is_admin", (*user)->is_admin},
                     {"has_password", (*user)->has_password},
                     {"auth", rc.via_cookie ? "session_cookie" : rc.principal.token_kind},
                     {"groups", GroupsBrief(*groups)}});
        });

  r.Get("/api/me/effective-access", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto all = ctx.registry->List();
          if (!all.ok()) return WriteError(res, all.status(), rc.request_id);
          auto groups = ctx.groups->GroupsOf(rc.principal.user_id);
          if (!groups.ok()) return WriteError(res, groups.status(), rc.request_id);
          auto grants = ctx.groups->ListGrants("", "table");
          if (!grants.ok()) return WriteError(res, grants.status(), rc.request_id);
          std::map<std::string, std::string> my_groups;  // id → name
          for (const auto& g : *groups) my_groups[g.id] = g.name;
          nlohmann::json tables = nlohmann::json::array();
          for (const auto& t : *all) {
            if (!ctx.access.CanSeeTable(rc.principal, t)) continue;
            nlohmann::json via = nlohmann::json::array();
            if (rc.principal.is_admin) via.push_back("Admin");
            for (const auto& g : *grants) {
              if (g.resource_id == t.id && my_groups.count(g.group_id)) via.push_back(g.group_name);
            }
            tables.push_back({{"id", t.id}, {"name", t.name}, {"via", via}});
          }
          WriteJson(res, 200,
                    {{"user_id", rc.principal.user_id},
                     {"is_admin", rc.principal.is_admin},
                     {"groups", GroupsBrief(*groups)},
                     {"tables", tables}});
        });
}

void RegisterGroupRoutes(Router& r, AppContext& ctx) {
  r.Get("/api/admin/groups", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto groups = ctx.groups->ListGroups();
          if (!groups.ok()) return WriteError(res, groups.status(), rc.request_id);
          nlohmann::json out = nlohmann::json::array();
          for (const auto& g : *groups) out.push_back(GroupJson(g));
          WriteJson(res, 200, {{"groups", out}});
        });

  r.Post("/api/admin/groups", AccessLevel::kAdmin,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           auto name = ReqString(*body, "name");
           if (!name.ok()) return WriteError(res, name.status(), rc.request_id);
           auto description = OptString(*body, "description");
           if (!description.ok()) return WriteError(res, description.status(), rc.request_id);
           auto g = ctx.groups->CreateGroup(*name, description->value_or(""));
           if (!g.ok()) return WriteError(res, g.status(), rc.request_id);
           AuditRequest(*ctx.db, rc, "group_created", g->id, {{"name", g->name}});
           WriteJson(res, 201, GroupJson(*g));
         });

  r.Delete("/api/admin/groups/{id}", AccessLevel::kAdmin,
           [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
             const std::string id = req.PathParam("id");
             Status st = ctx.groups->DeleteGroup(id);
             if (!st.ok()) return WriteError(res, st, rc.request_id);
             AuditRequest(*ctx.db, rc, "group_deleted", id);
             WriteJson(res, 200, {{"deleted", id}});
           });

  r.Get("/api/admin/groups/{id}/members", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          auto members = ctx.groups->Members(req.PathParam("id"));
          if (!members.ok()) return WriteError(res, members.status(), rc.request_id);
          nlohmann::json out = nlohmann::json::array();
          for (const auto& u : *members) out.push_back(UserJson(u));
          WriteJson(res, 200, {{"members", out}});
        });

  r.Post("/api/admin/groups/{id}/members", AccessLevel::kAdmin,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           const std::string id = req.PathParam("id");
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           auto email = ReqString(*body, "email");
           if (!email.ok()) return WriteError(res, email.status(), rc.request_id);
           auto u = ctx.groups->AddMember(id, *email);
           if (!u.ok()) return WriteError(res, u.status(), rc.request_id);
           AuditRequest(*ctx.db, rc, "group_member_added", id, {{"user_id", u->id}, {"email", u->email}});
           WriteJson(res, 201, UserJson(*u));
         });

  r.Delete("/api/admin/groups/{id}/members/{user_id}", AccessLevel::kAdmin,
           [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
             const std::string id = req.PathParam("id");
             const std::string user_id = req.PathParam("user_id");
             Status st = ctx.groups->RemoveMember(id, user_id);
             if (!st.ok()) return WriteError(res, st, rc.request_id);
             AuditRequest(*ctx.db, rc, "group_member_removed", id, {{"user_id", user_id}});
             WriteJson(res, 200, {{"removed", user_id}});
           });
}

void RegisterGrantRoutes(Router& r, AppContext& ctx) {
  r.Get("/api/admin/grants", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          auto grants = ctx.groups->ListGrants(req.Query("group_id"),
                                               req.Query("resource_type"));
          if (!grants.ok()) return WriteError(res, grants.status(), rc.request_id);
          nlohmann::json out = nlohmann::json::array();
          for (const auto& g : *grants) out.push_back(GrantJson(g));
          WriteJson(res, 200, {{"grants", out}});
        });

  r.Post("/api/admin/grants", AccessLevel::kAdmin,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           auto group_id = ReqString(*body, "group_id");
           if (!group_id.ok()) return WriteError(res, group_id.status(), rc.request_id);
           auto type = OptString(*body, "resource_type");
           if (!type.ok()) return WriteError(res, type.status(), rc.request_id);
           auto resource_id = ReqString(*body, "resource_id");
           if (!resource_id.ok()) return WriteError(res, resource_id.status(), rc.request_id);
           std::string resource_type = type->value_or("table");
           if (resource_type == "table") {
             auto t = ctx.registry->Get(*resource_id);
             if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
           }
           auto g = ctx.groups->CreateGrant(*group_id, resource_type, *resource_id,
                                            rc.principal.user_id);
           if (!g.ok()) return WriteError(res, g.status(), rc.request_id);
           AuditRequest(*ctx.db, rc, "grant_created", g->id,
                        {{"group_id", g->group_id}, {"resource_type", g->resource_type},
                         {"resource_id", g->resource_id}});
           WriteJson(res, 201, GrantJson(*g));
         });

  r.Delete("/api/admin/grants/{id}", AccessLevel::kAdmin,
           [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
             auto g = ctx.groups->DeleteGrant(req.PathParam("id"));
             if (!g.ok()) return WriteError(res, g.status(), rc.request_id);
             AuditRequest(*ctx.db, rc, "grant_deleted", g->id,
                          {{"group_id", g->group_id}, {"resource_type", g->resource_type},
                           {"resource_id", g->resource_id}});
             WriteJson(res, 200, GrantJson(*g));
           });

  r.Get("/api/admin/tables/{id}/access", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          const std::string id = req.PathParam("id");
          auto t = ctx.registry->Get(id);
          if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
          auto grants = ctx.groups->ListGrants("", "table");
          if (!grants.ok()) return WriteError(res, grants.status(), rc.request_id);
          auto who = ctx.groups->TableAccess(id);
          if (!who.ok()) return WriteError(res, who.status(), rc.request_id);
          nlohmann::json groups = nlohmann::json::array();
          for (const auto& g : *grants) {
            if (g.resource_id == id) {
              groups.push_back({{"id", g.group_id}, {"name", g.group_name}, {"grant_id", g.id}});
            }
          }
          nlohmann::json users = nlohmann::json::array();
          for (const auto& e : *who) {
            users.push_back({{"id", e.user.id}, {"email", e.user.email}, {"name", e.user.name},
                             {"via", e.via_groups}});
          }
          WriteJson(res, 200, {{"table_id", id}, {"groups", groups}, {"users", users}});
        });
}

void RegisterAuditRoutes(Router& r, AppContext& ctx) {
  r.Get("/api/admin/audit", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          state::AuditFilter f;
          f.user = req.Query("user");
          f.action = req.Query("action");
          for (auto [key, out] : {std::pair{"since", &f.since_us}, std::pair{"until", &f.until_us}}) {
            std::string v = req.Query(key);
            if (v.empty()) continue;
            auto us = state::internal::ParseIsoMicros(v);
            if (!us.ok()) return WriteError(res, us.status().WithContext(key), rc.request_id);
            *out = *us;
          }
          std::string limit = req.Query("limit");
          if (!limit.empty()) {
            if (limit.size() > 6 || limit.find_first_not_of("0123456789") != std::string::npos) {
              return WriteError(res, InvalidArgument("limit must be a number 1..1000"), rc.request_id);
            }
            f.limit = std::stoll(limit);
          }
          auto entries = state::ListAudit(*ctx.db, f);
          if (!entries.ok()) return WriteError(res, entries.status(), rc.request_id);
          nlohmann::json out = nlohmann::json::array();
          for (const auto& e : *entries) {
            auto params = nlohmann::json::parse(e.params, nullptr, false);
            out.push_back({{"id", e.id},
                           {"timestamp", e.timestamp},
                           {"actor", e.actor},
                           {"actor_email", e.actor_email},
                           {"action", e.action},
                           {"resource", e.resource},
                           {"params", params.is_discarded() ? nlohmann::json(e.params) : params},
                           {"result", e.result}});
          }
          WriteJson(res, 200, {{"entries", out}});
        });
}

}  // namespace

void RegisterAccessRoutes(Router& r, AppContext& ctx) {
  RegisterUserRoutes(r, ctx);
  RegisterGroupRoutes(r, ctx);
  RegisterGrantRoutes(r, ctx);
  RegisterAuditRoutes(r, ctx);
}

}  // namespace da::server
