// Users, groups, memberships, grants, "who am I" and the audit log (issue 6):
// /api/users*, /api/admin/groups*, /api/admin/grants*, /api/admin/tables/{id}/access,
// /api/me, /api/me/effective-access, /api/admin/audit (service/users_service.h,
// service/access_service.h).
#include <optional>

#include "server/app.h"
#include "server/json_route.h"
#include "server/routes/auth_support.h"
#include "state/internal.h"

namespace da::server {
namespace {

Result<service::UpdateUserRequest> DecodeUpdateUser(const RouteInput& in) {
  DA_ASSIGN_OR_RETURN(auto body, in.Body());
  service::UpdateUserRequest request{in.Path("id"), std::nullopt, std::nullopt};
  DA_ASSIGN_OR_RETURN(request.name, OptString(body, "name"));
  if (body.contains("active") && !body["active"].is_null()) {
    if (!body["active"].is_boolean()) return Malformed("'active' must be true or false");
    request.active = body["active"].get<bool>();
  }
  return request;
}

Result<state::AuditFilter> DecodeAuditFilter(const RouteInput& in) {
  state::AuditFilter f;
  f.user = in.Query("user");
  f.action = in.Query("action");
  for (auto [key, out] : {std::pair{"since", &f.since_us}, std::pair{"until", &f.until_us}}) {
    std::string v = in.Query(key);
    if (v.empty()) continue;
    auto us = state::internal::ParseIsoMicros(v);
    if (!us.ok()) return us.status().WithContext(key);
    *out = *us;
  }
  std::string limit = in.Query("limit");
  if (!limit.empty()) {
    if (limit.size() > 6 || limit.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument("limit must be a number 1..1000");
    }
    f.limit = std::stoll(limit);
  }
  return f;
}

void RegisterUserRoutes(JsonRoutes& routes, service::Services& s, auth::RateLimiter* account_limiter) {
  service::UsersService& users = s.users;
  routes.Get("/api/users", AccessLevel::kAdmin,
             [&users](const RouteInput& in) { return users.ListUsers(in.caller()); });
  routes.Post("/api/users", AccessLevel::kAdmin, Execution::kWorker, [&users](const RouteInput& in)
      -> Result<state::User> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    DA_ASSIGN_OR_RETURN(auto email, ReqString(body, "email"));
    DA_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
    return users.CreateUser(in.caller(), {email, name.value_or("")});
  }, 201);
  routes.Patch("/api/users/{id}", AccessLevel::kAdmin, [&users](const RouteInput& in)
      -> Result<state::User> {
    DA_ASSIGN_OR_RETURN(auto request, DecodeUpdateUser(in));
    return users.UpdateUser(in.caller(), request);
  });
  // An admin sets anyone's password; a user may change their own (UsersService::SetPassword).
  // Wrong current passwords count against the account's sign-in limit (DA_AUTH_ACCOUNT_RATE_LIMIT),
  // so a session left open cannot be used to guess the password.
  routes.Post("/api/users/{id}/set-password", AccessLevel::kAuthenticated, Execution::kWorker,
              [&users, account_limiter](const RouteInput& in) -> Result<service::OkAnswer> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    DA_ASSIGN_OR_RETURN(auto password, OptString(body, "password"));
    DA_ASSIGN_OR_RETURN(auto current, OptString(body, "current_password"));
    const std::string key = LimitKey(in.caller().principal.email);
    const bool own = in.Path("id") == in.caller().principal.user_id;
    if (own && account_limiter != nullptr && account_limiter->Peek(key) > 0) {
      return ResourceExhausted("too many wrong passwords for this account; try again later");
    }
    auto answer = users.SetPassword(in.caller(), {in.Path("id"), password.value_or(""), current});
    if (own && account_limiter != nullptr && !answer.ok() &&
        answer.status().code() == StatusCode::kPermissionDenied &&
        answer.status().message().find("current_password is wrong") != std::string::npos) {
      account_limiter->Hit(key);
    }
    return answer;
  });
  routes.Get("/api/me", AccessLevel::kAuthenticated, [&users](const RouteInput& in) {
    return users.Me(in.caller(), {in.context().via_cookie});
  });
  routes.Get("/api/me/effective-access", AccessLevel::kAuthenticated,
             [&s](const RouteInput& in) { return s.access.EffectiveAccess(in.caller()); });
}

void RegisterGroupRoutes(JsonRoutes& routes, service::AccessService& access) {
  routes.Get("/api/admin/groups", AccessLevel::kAdmin,
             [&access](const RouteInput& in) { return access.ListGroups(in.caller()); });
  routes.Post("/api/admin/groups", AccessLevel::kAdmin, [&access](const RouteInput& in)
      -> Result<state::Group> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    DA_ASSIGN_OR_RETURN(auto name, ReqString(body, "name"));
    DA_ASSIGN_OR_RETURN(auto description, OptString(body, "description"));
    return access.CreateGroup(in.caller(), {name, description.value_or("")});
  }, 201);
  routes.Delete("/api/admin/groups/{id}", AccessLevel::kAdmin, [&access](const RouteInput& in) {
    return access.DeleteGroup(in.caller(), {in.Path("id")});
  });
  routes.Get("/api/admin/groups/{id}/members", AccessLevel::kAdmin,
             [&access](const RouteInput& in) { return access.Members(in.caller(), {in.Path("id")}); });
  routes.Post("/api/admin/groups/{id}/members", AccessLevel::kAdmin, [&access](const RouteInput& in)
      -> Result<state::User> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    DA_ASSIGN_OR_RETURN(auto email, ReqString(body, "email"));
    return access.AddMember(in.caller(), {in.Path("id"), email});
  }, 201);
  routes.Delete("/api/admin/groups/{id}/members/{user_id}", AccessLevel::kAdmin,
                [&access](const RouteInput& in) {
    return access.RemoveMember(in.caller(), {in.Path("id"), in.Path("user_id")});
  });
}

void RegisterGrantRoutes(JsonRoutes& routes, service::AccessService& access) {
  routes.Get("/api/admin/grants", AccessLevel::kAdmin, [&access](const RouteInput& in) {
    return access.ListGrants(in.caller(), {in.Query("group_id"), in.Query("resource_type")});
  });
  routes.Post("/api/admin/grants", AccessLevel::kAdmin, [&access](const RouteInput& in)
      -> Result<state::Grant> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    DA_ASSIGN_OR_RETURN(auto group_id, ReqString(body, "group_id"));
    DA_ASSIGN_OR_RETURN(auto type, OptString(body, "resource_type"));
    DA_ASSIGN_OR_RETURN(auto resource_id, ReqString(body, "resource_id"));
    return access.CreateGrant(in.caller(), {group_id, type.value_or("table"), resource_id});
  }, 201);
  routes.Delete("/api/admin/grants/{id}", AccessLevel::kAdmin, [&access](const RouteInput& in) {
    return access.DeleteGrant(in.caller(), {in.Path("id")});
  });
  routes.Get("/api/admin/tables/{id}/access", AccessLevel::kAdmin, [&access](const RouteInput& in) {
    return access.WhoCanSee(in.caller(), {in.Path("id")});
  });
  routes.Get("/api/admin/audit", AccessLevel::kAdmin, [&access](const RouteInput& in)
      -> Result<service::AuditList> {
    DA_ASSIGN_OR_RETURN(auto filter, DecodeAuditFilter(in));
    return access.Audit(in.caller(), filter);
  });
}

}  // namespace

void RegisterAccessRoutes(Router& r, AppContext& ctx) {
  JsonRoutes routes(r);
  RegisterUserRoutes(routes, *ctx.services, ctx.account_limiter.get());
  RegisterGroupRoutes(routes, ctx.services->access);
  RegisterGrantRoutes(routes, ctx.services->access);
}

}  // namespace da::server
