#include "service/users_service.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "auth/password.h"
#include "service/bootstrap_token.h"
#include "state/oidc_identities.h"
#include "common/time_util.h"

namespace da::service {

using nlohmann::json;

int64_t SessionTtlSeconds() {
  const char* v = std::getenv("DA_SESSION_TTL_HOURS");
  if (v != nullptr && *v != '\0') {
    char* end = nullptr;
    long hours = std::strtol(v, &end, 10);
    if (end != nullptr && *end == '\0' && hours > 0 && hours <= 24 * 365) return hours * 3600;
  }
  return 12 * 3600;
}

json ToJson(const UserList& a) {
  json out = json::array();
  for (const auto& u : a.users) out.push_back(ToJson(u));
  return {{"users", out}};
}

json ToJson(const OkAnswer&) { return {{"ok", true}}; }

json ToJson(const MeAnswer& a) {
  return {{"id", a.user.id},
          {"email", a.user.email},
          {"name", a.user.name},
          {"is_admin", a.user.is_admin},
          {"has_password", a.user.has_password},
          {"auth", a.auth},
          {"groups", GroupsBrief(a.groups)}};
}

json ToJson(const TokenAnswer& a) {
  const auto& t = a.token;
  return {{"id", t.id},
          {"name", a.name},
          {"prefix", t.prefix},
          {"token", t.token},
          {"expires_at", t.expires_at.empty() ? json() : json(t.expires_at)}};
}

json ToJson(const TokenList& a) {
  auto opt = [](const std::string& s) { return s.empty() ? json() : json(s); };
  json out = json::array();
  for (const auto& t : a.tokens) {
    out.push_back({{"id", t.id}, {"name", t.name}, {"prefix", t.prefix}, {"kind", t.kind},
                   {"created_at", t.created_at}, {"expires_at", opt(t.expires_at)},
                   {"last_used_at", opt(t.last_used_at)},
                   {"last_used_from", opt(t.last_used_ip)}, {"revoked", t.revoked}});
  }
  return {{"tokens", out}};
}

Result<UserList> UsersService::ListUsers(const Caller& caller) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(auto users, ctx_.users.ListUsers());
  return UserList{std::move(users)};
}

Result<state::User> UsersService::CreateUser(const Caller& caller,
                                             const CreateUserRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(state::User u, ctx_.users.CreateUser(request.email, request.name, false));
  AuditCall(ctx_.db, caller, "user_created", u.id, {{"email", u.email}});
  return u;
}

Result<state::User> UsersService::UpdateUser(const Caller& caller,
                                             const UpdateUserRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(state::User u, ctx_.users.UpdateUser(caller.principal.user_id, request.id,
                                                           request.name, request.active));
  json params = json::object();
  if (request.name) params["name"] = *request.name;
  if (request.active) params["active"] = *request.active;
  AuditCall(ctx_.db, caller, "user_updated", request.id, params);
  return u;
}

Result<OkAnswer> UsersService::SetPassword(const Caller& caller,
                                           const SetPasswordRequest& request) {
  const std::string& id = request.user_id;
  const bool own = id == caller.principal.user_id;
  if (!own && !caller.principal.is_admin) {
    return PermissionDenied("only an admin may set another user's password");
  }
  if (own && caller.principal.token_kind == state::kTokenKindPat) {
    return PermissionDenied(
        "changing your own password needs a password or browser session, not a personal "
        "access token");
  }
  DA_RETURN_IF_ERROR(auth::CheckPasswordPolicy(request.password));
  DA_ASSIGN_OR_RETURN(auto user, ctx_.users.FindById(id));
  if (!user) return NotFound("user '" + id + "' not found");
  if (own) {
    DA_ASSIGN_OR_RETURN(auto stored, ctx_.users.PasswordHashFor(user->email));
    const std::string current_hash = stored ? stored->second : std::string();
    if (!current_hash.empty()) {
      const std::string given = request.current_password.value_or("");
      if (given.empty()) {
        return InvalidArgument("'current_password' is required to change your own password");
      }
      if (given.size() > auth::kMaxPasswordBytes || !auth::VerifyPassword(given, current_hash)) {
        AuditCall(ctx_.db, caller, "password_change_failed", id, {{"reason", "wrong current password"}},
                  "refused");
        return PermissionDenied("current_password is wrong");
      }
    }
  }
  DA_ASSIGN_OR_RETURN(std::string hash, auth::HashPassword(request.password));
  DA_RETURN_IF_ERROR(ctx_.users.SetPasswordHash(id, hash));
  // Your own change ends your other sessions; an admin's reset ends every session and PAT.
  std::vector<std::string> kinds = {state::kTokenKindSession};
  if (!own) kinds.push_back(state::kTokenKindPat);
  DA_ASSIGN_OR_RETURN(int64_t revoked,
                      ctx_.users.RevokeTokensOf(id, kinds, own ? caller.principal.token_id : ""));
  AuditCall(ctx_.db, caller, "password_set", id,
            {{"by", own ? "self" : "admin"}, {"tokens_revoked", revoked}});
  DA_RETURN_IF_ERROR(RetireBootstrapToken(ctx_, caller, id, "password_set"));
  return OkAnswer{};
}

Result<MeAnswer> UsersService::Me(const Caller& caller, const MeRequest& request) {
  DA_ASSIGN_OR_RETURN(auto user, ctx_.users.FindById(caller.principal.user_id));
  if (!user) return Unauthenticated("unknown user");
  DA_ASSIGN_OR_RETURN(auto groups, ctx_.groups.GroupsOf(caller.principal.user_id));
  return MeAnswer{std::move(*user),
                  request.via_cookie ? "session_cookie" : caller.principal.token_kind,
                  std::move(groups)};
}

Result<TokenAnswer> UsersService::CreateToken(const Caller& caller,
                                              const CreateTokenRequest& request) {
  if (caller.principal.token_kind == state::kTokenKindPat) {
    return PermissionDenied(
        "a personal access token cannot create tokens; sign in with a password or browser "
        "session");
  }
  if (request.name.empty()) return InvalidArgument("'name' is required");
  int64_t ttl = 0;
  if (request.expires_in_days) {
    const int64_t days = *request.expires_in_days;
    if (days < 1 || days > 3650) {
      return InvalidArgument("expires_in_days must be a whole number 1..3650");
    }
    ttl = days * 86400;
  }
  DA_ASSIGN_OR_RETURN(state::IssuedToken t,
                      ctx_.users.CreateToken(caller.principal.user_id, request.name, ttl,
                                             state::kTokenKindPat));
  AuditCall(ctx_.db, caller, "token_created", t.id, {{"name", request.name}, {"prefix", t.prefix}});
  DA_RETURN_IF_ERROR(RetireBootstrapToken(ctx_, caller, caller.principal.user_id, "token_created"));
  return TokenAnswer{std::move(t), request.name};
}

Result<TokenList> UsersService::ListTokens(const Caller& caller) {
  DA_ASSIGN_OR_RETURN(auto tokens,
                      ctx_.users.ListTokens(caller.principal.user_id,
                                            {state::kTokenKindPat, state::kTokenKindBootstrap}));
  return TokenList{std::move(tokens)};
}

Result<DeletedAnswer> UsersService::RevokeToken(const Caller& caller,
                                                const TokenIdRequest& request) {
  DA_ASSIGN_OR_RETURN(auto bootstrap, ctx_.users.ListTokens(caller.principal.user_id,
                                                            {state::kTokenKindBootstrap}));
  for (const auto& t : bootstrap) {
    if (t.id == request.id && !t.revoked) {  // its file goes with it
      DA_RETURN_IF_ERROR(RetireBootstrapToken(ctx_, caller, caller.principal.user_id, "revoked"));
    }
  }
  DA_RETURN_IF_ERROR(ctx_.users.RevokeOwnToken(caller.principal.user_id, request.id));
  AuditCall(ctx_.db, caller, "token_revoked", request.id);
  return DeletedAnswer{"revoked", request.id};
}

Result<Session> UsersService::PasswordSignIn(const Caller& caller,
                                             const PasswordSignInRequest& request) {
  const std::string& email = request.email;
  const std::string& password = request.password;
  if (email.empty() || password.empty()) {
    return InvalidArgument("email and password are required");
  }
  DA_ASSIGN_OR_RETURN(auto found, ctx_.users.PasswordHashFor(email));
  bool ok = false;
  if (password.size() <= auth::kMaxPasswordBytes) {
    ok = auth::VerifyPassword(password, found ? found->second : std::string());
  }
  if (!ok || !found || !found->first.active) {
    AuditCall(ctx_.db, caller, "sign_in_failed", found ? found->first.id : "",
              {{"method", "password"}, {"email", email.substr(0, 320)}}, "refused");
    return Unauthenticated("wrong email or password");
  }
  DA_ASSIGN_OR_RETURN(state::IssuedToken token, StartSession(caller, found->first, "password"));
  return Session{found->first, std::move(token)};
}

Result<state::IssuedToken> UsersService::StartSession(const Caller& caller,
                                                      const state::User& user,
                                                      const std::string& method) {
  DA_ASSIGN_OR_RETURN(state::IssuedToken token,
                      ctx_.users.CreateToken(user.id, "session (" + method + ")",
                                             SessionTtlSeconds(), state::kTokenKindSession));
  Caller as_user = caller;
  as_user.principal.user_id = user.id;
  AuditCall(ctx_.db, as_user, "sign_in", user.id, {{"method", method}, {"email", user.email}});
  return token;
}

namespace {

std::string LowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The reason an identity may not sign in whatever account it maps to ("" = it may).
std::string IdentityRefusal(const ExternalIdentity& identity) {
  if (!identity.email_verified) return "email_unverified";
  const auto& allowed = identity.policy.allowed_domains;
  if (allowed.empty()) return "";
  auto listed = [&](const std::string& domain) {
    return std::find(allowed.begin(), allowed.end(), LowerAscii(domain)) != allowed.end();
  };
  const size_t at = identity.email.rfind('@');
  if (at == std::string::npos || !listed(identity.email.substr(at + 1))) return "domain_not_allowed";
  if (!identity.hosted_domain.empty() && !listed(identity.hosted_domain)) return "domain_not_allowed";
  return "";
}

}  // namespace

Result<state::User> UsersService::ExternalUser(const Caller& caller,
                                               const ExternalIdentity& identity) {
  if (identity.issuer.empty() || identity.subject.empty() || identity.email.empty()) {
    return InvalidArgument("an outside identity needs an issuer, a subject and an email");
  }
  auto refuse = [&](const std::string& reason, const std::string& user_id) -> Status {
    AuditCall(ctx_.db, caller, "sign_in_failed", user_id,
              {{"method", "oidc"}, {"reason", reason}, {"email", identity.email.substr(0, 320)}},
              "refused");
    return PermissionDenied(reason);
  };
  if (std::string reason = IdentityRefusal(identity); !reason.empty()) return refuse(reason, "");

  std::optional<state::User> found;
  DA_ASSIGN_OR_RETURN(auto bound_id, state::UserOfOidcIdentity(ctx_.db, identity.issuer, identity.subject));
  if (bound_id) {
    DA_ASSIGN_OR_RETURN(found, ctx_.users.FindById(*bound_id));
    if (!found) return refuse("not_invited", *bound_id);  // the bound user was deleted
  } else {
    DA_ASSIGN_OR_RETURN(found, ctx_.users.FindByEmail(identity.email));
    if (found) {
      DA_ASSIGN_OR_RETURN(auto subject, state::OidcSubjectOf(ctx_.db, found->id, identity.issuer));
      if (subject) return refuse("identity_mismatch", found->id);  // bound to another `sub`
    }
  }
  Caller as_user = caller;
  state::User user;
  if (found) {
    user = std::move(*found);
    as_user.principal.user_id = user.id;
  } else {
    if (identity.policy.mode == auth::OidcSignUpPolicy::Mode::kInvite) return refuse("not_invited", "");
    if (identity.policy.mode == auth::OidcSignUpPolicy::Mode::kDomains &&
        identity.policy.allowed_domains.empty()) {
      return refuse("not_invited", "");
    }
    DA_ASSIGN_OR_RETURN(user, ctx_.users.CreateUser(identity.email, identity.name, false));
    as_user.principal.user_id = user.id;
    AuditCall(ctx_.db, as_user, "user_created", user.id,
              {{"email", user.email}, {"via", "oidc"},
               {"signup", auth::SignUpModeName(identity.policy.mode)}});
  }
  if (!user.active) return refuse("inactive", user.id);
  if (!bound_id) {
    Status bound = state::BindOidcIdentity(ctx_.db, user.id, identity.issuer, identity.subject);
    if (bound.code() == StatusCode::kAlreadyExists) return refuse("identity_mismatch", user.id);
    DA_RETURN_IF_ERROR(bound);
    AuditCall(ctx_.db, as_user, "oidc_identity_bound", user.id,
              {{"issuer", identity.issuer}, {"subject", identity.subject.substr(0, 255)}});
  }
  if (identity.sync_groups) {
    DA_ASSIGN_OR_RETURN(auto changed, ctx_.groups.SyncMemberships(user.id, identity.groups));
    if (!changed.first.empty() || !changed.second.empty()) {
      AuditCall(ctx_.db, as_user, "group_sync", user.id,
                {{"joined", changed.first}, {"left", changed.second}});
    }
  }
  return user;
}

Status UsersService::SignOut(const Caller& caller) {
  if (caller.principal.token_kind != state::kTokenKindSession) return Status::Ok();
  DA_RETURN_IF_ERROR(ctx_.users.RevokeToken(caller.principal.token_id));
  AuditCall(ctx_.db, caller, "sign_out", caller.principal.user_id);
  return Status::Ok();
}

}  // namespace da::service
