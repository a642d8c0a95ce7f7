// OpenAPI descriptions of the users/groups/grants/audit and sign-in endpoints (issue 6),
// appended to the table in openapi.cpp.
#include "server/openapi.h"

namespace da::server {
namespace {

using J = nlohmann::json;

J S(const std::string& description = "") {
  J s = {{"type", "string"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
J Boolean() { return {{"type", "boolean"}}; }
J Integer(const std::string& description = "") {
  J s = {{"type", "integer"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
J Object(std::vector<std::pair<std::string, J>> props, std::vector<std::string> required = {}) {
  J p = J::object();
  for (auto& [k, v] : props) p[k] = std::move(v);
  J s = {{"type", "object"}, {"properties", std::move(p)}};
  if (!required.empty()) s["required"] = std::move(required);
  return s;
}
J ArrayOf(J items) { return {{"type", "array"}, {"items", std::move(items)}}; }
J ErrorRef() { return {{"$ref", "#/components/schemas/Error"}}; }
ResponseDoc Ok(int status, const std::string& d, J schema) { return {status, d, std::move(schema)}; }
ResponseDoc Err(int status, const std::string& d) { return {status, d, ErrorRef()}; }
ParamDoc Path(const std::string& name, const std::string& d) { return {name, "path", "string", true, d}; }
ParamDoc Query(const std::string& name, const std::string& d) { return {name, "query", "string", false, d}; }

J UserSchema() {
  return Object({{"id", S()}, {"email", S()}, {"name", S()}, {"active", Boolean()},
                 {"is_admin", Boolean()}, {"has_password", Boolean()}, {"created_at", S("ISO-8601 UTC")}});
}
J GroupSchema() {
  return Object({{"id", S("admin and everyone are the system groups")}, {"name", S()},
                 {"description", S()}, {"is_system", Boolean()},
                 {"member_count", Integer("Everyone: active users")}, {"created_at", S()}});
}
J GrantSchema() {
  return Object({{"id", S()}, {"group_id", S()}, {"group_name", S()}, {"resource_type", S("table")},
                 {"resource_id", S("table id")}, {"created_by", S("user id")}, {"created_at", S()}});
}
J Brief() { return ArrayOf(Object({{"id", S()}, {"name", S()}})); }

}  // namespace

void AppendAuthEndpoints(std::vector<EndpointDoc>* out) {
  auto& e = *out;
  const auto kPublic = AccessLevel::kPublic;
  const auto kAuth = AccessLevel::kAuthenticated;
  const auto kAdmin = AccessLevel::kAdmin;
  const ResponseDoc k401 = Err(401, "missing or invalid credentials");
  const ResponseDoc k403 = Err(403, "admin access required (or CSRF token missing on a cookie session)");
  const ResponseDoc k404 = Err(404, "unknown id");
  const ResponseDoc k409 = Err(409, "duplicate, or a guard refused it (last admin, yourself, system group)");
  const ResponseDoc k422 = Err(422, "a field fails validation");
  const ResponseDoc k429 = Err(429, "too many sign-in attempts from this address (Retry-After)");
  const J ok = Object({{"ok", Boolean()}});

  // Users
  e.push_back({"GET", "/api/users", kAdmin, "Access", "List users", "", {}, nullptr,
               {Ok(200, "users", Object({{"users", ArrayOf(UserSchema())}})), k401, k403}});
  e.push_back({"POST", "/api/users", kAdmin, "Access", "Create a user", "Email is lower-cased.", {},
               Object({{"email", S()}, {"name", S()}}, {"email"}),
               {Ok(201, "created", UserSchema()), k401, k403, k409, k422}});
  e.push_back({"PATCH", "/api/users/{id}", kAdmin, "Access", "Rename, activate or deactivate a user",
               "Deactivation stops every token of the user at once. Nobody deactivates themselves; "
               "the last active admin cannot be deactivated (409).",
               {Path("id", "user id")}, Object({{"name", S()}, {"active", Boolean()}}),
               {Ok(200, "updated", UserSchema()), k401, k403, k404, k409}});
  e.push_back({"POST", "/api/users/{id}/set-password", kAuth, "Access", "Set a password",
               "Admins set anyone's; a user sets their own. 12 to 1024 bytes; stored as argon2id.",
               {Path("id", "user id")}, Object({{"password", S()}}, {"password"}),
               {Ok(200, "set", ok), k401, Err(403, "not an admin and not yourself"), k404, k422}});
  e.push_back({"GET", "/api/me", kAuth, "Access", "The signed-in user", "", {}, nullptr,
               {Ok(200, "me", Object({{"id", S()}, {"email", S()}, {"name", S()}, {"is_admin", Boolean()},
                                      {"has_password", Boolean()},
                                      {"auth", S("pat | session | bootstrap | session_cookie")},
                                      {"groups", Brief()}})),
                k401}});
  e.push_back({"GET", "/api/me/effective-access", kAuth, "Access", "Tables the caller may see, and why", "",
               {}, nullptr,
               {Ok(200, "access", Object({{"user_id", S()}, {"is_admin", Boolean()}, {"groups", Brief()},
                                          {"tables", ArrayOf(Object({{"id", S()}, {"name", S()},
                                                                     {"via", ArrayOf(S("group name"))}}))}})),
                k401}});
  // Groups
  e.push_back({"GET", "/api/admin/groups", kAdmin, "Access", "List groups", "", {}, nullptr,
               {Ok(200, "groups", Object({{"groups", ArrayOf(GroupSchema())}})), k401, k403}});
  e.push_back({"POST", "/api/admin/groups", kAdmin, "Access", "Create a group", "", {},
               Object({{"name", S()}, {"description", S()}}, {"name"}),
               {Ok(201, "created", GroupSchema()), k401, k403, k409, k422}});
  e.push_back({"DELETE", "/api/admin/groups/{id}", kAdmin, "Access", "Delete a group",
               "Its memberships and grants go with it; system groups cannot be deleted.",
               {Path("id", "group id")}, nullptr,
               {Ok(200, "deleted", Object({{"deleted", S()}})), k401, k403, k404, k409}});
  e.push_back({"GET", "/api/admin/groups/{id}/members", kAdmin, "Access", "List a group's members",
               "Everyone lists every active user.", {Path("id", "group id")}, nullptr,
               {Ok(200, "members", Object({{"members", ArrayOf(UserSchema())}})), k401, k403, k404}});
  e.push_back({"POST", "/api/admin/groups/{id}/members", kAdmin, "Access", "Add a member by email",
               "Idempotent. Everyone's membership is implicit (409).", {Path("id", "group id")},
               Object({{"email", S()}}, {"email"}),
               {Ok(201, "added", UserSchema()), k401, k403, k404, k409}});
  e.push_back({"DELETE", "/api/admin/groups/{id}/members/{user_id}", kAdmin, "Access", "Remove a member",
               "The last active admin cannot leave Admin (409).",
               {Path("id", "group id"), Path("user_id", "user id")}, nullptr,
               {Ok(200, "removed", Object({{"removed", S()}})), k401, k403, k404, k409}});
  // Grants
  e.push_back({"GET", "/api/admin/grants", kAdmin, "Access", "List grants", "",
               {Query("group_id", "only this group"), Query("resource_type", "only this type (table)")},
               nullptr, {Ok(200, "grants", Object({{"grants", ArrayOf(GrantSchema())}})), k401, k403}});
  e.push_back({"POST", "/api/admin/grants", kAdmin, "Access", "Let a group see a table",
               "A duplicate answers the existing grant.", {},
               Object({{"group_id", S()}, {"resource_type", S("table (default)")}, {"resource_id", S("table id")}},
                      {"group_id", "resource_id"}),
               {Ok(201, "granted", GrantSchema()), k401, k403, Err(404, "unknown group or table"), k422}});
  e.push_back({"DELETE", "/api/admin/grants/{id}", kAdmin, "Access", "Revoke a grant",
               "Takes effect on the next request; the next `da sync` removes the local copy.",
               {Path("id", "grant id")}, nullptr, {Ok(200, "the deleted grant", GrantSchema()), k401, k403, k404}});
  e.push_back({"GET", "/api/admin/tables/{id}/access", kAdmin, "Access", "Who can see a table", "",
               {Path("id", "table id")}, nullptr,
               {Ok(200, "groups with a grant and the users they reach (admins via Admin)",
                   Object({{"table_id", S()},
                           {"groups", ArrayOf(Object({{"id", S()}, {"name", S()}, {"grant_id", S()}}))},
                           {"users", ArrayOf(Object({{"id", S()}, {"email", S()}, {"name", S()},
                                                     {"via", ArrayOf(S("group name"))}}))}})),
                k401, k403, k404}});
  e.push_back({"GET", "/api/admin/audit", kAdmin, "Access", "The audit log, newest first", "",
               {Query("user", "actor user id or email"), Query("action", "e.g. sign_in_failed"),
                Query("since", "ISO-8601, inclusive"), Query("until", "ISO-8601, exclusive"),
                Query("limit", "1..1000, default 100")},
               nullptr,
               {Ok(200, "entries",
                   Object({{"entries", ArrayOf(Object({{"id", S()}, {"timestamp", S()}, {"actor", S()},
                                                       {"actor_email", S()}, {"action", S()},
                                                       {"resource", S()}, {"params", {{"type", "object"}}},
                                                       {"result", S("ok | refused")}}))}})),
                k401, k403, k422}});
  // Sign-in
  const J credentials = Object({{"email", S()}, {"password", S()}}, {"email", "password"});
  e.push_back({"POST", "/auth/token", kPublic, "Sign-in", "Password sign-in for API clients",
               "Answers a session bearer token (DA_SESSION_TTL_HOURS, default 12). Rate limited per IP.",
               {}, credentials,
               {Ok(200, "signed in", Object({{"access_token", S()}, {"token_type", S("bearer")},
                                             {"expires_at", S()}})),
                Err(401, "wrong email or password (same answer for an unknown email)"), k429}});
  e.push_back({"POST", "/auth/login", kPublic, "Sign-in", "Password sign-in for browsers",
               "Sets the da_session (HttpOnly) and da_csrf cookies. A form post with `next` is "
               "redirected (302) there. Rate limited per IP.",
               {}, credentials,
               {Ok(200, "signed in", Object({{"user", Object({{"id", S()}, {"email", S()}, {"name", S()},
                                                              {"is_admin", Boolean()}})}})),
                Err(401, "wrong email or password"), k429}});
  e.push_back({"POST", "/auth/logout", kPublic, "Sign-in", "Sign out",
               "Revokes the session and clears both cookies (a cookie session needs X-CSRF-Token).", {},
               nullptr, {Ok(200, "signed out", ok), Err(403, "CSRF token missing")}});
  e.push_back({"GET", "/auth/config", kPublic, "Sign-in", "Which sign-in options are configured", "", {},
               nullptr,
               {Ok(200, "options", Object({{"password", Boolean()}, {"magic_link", Boolean()},
                                           {"oidc", Boolean()}, {"oidc_name", S()}}))}});
  e.push_back({"POST", "/auth/email/send-link", kPublic, "Sign-in", "Mail a one-time sign-in link",
               "The same answer whether or not the address belongs to an account. The link "
               "(DA_PUBLIC_URL or the request Host, /auth/email/verify?token=...) works once, for "
               "15 minutes (DA_MAGIC_LINK_TTL_SEC). 404 when DA_SMTP_URL is not set. Rate limited per IP.",
               {}, Object({{"email", S()}, {"next", S("same-origin path to open after sign-in")}}, {"email"}),
               {Ok(200, "accepted", Object({{"ok", Boolean()}, {"message", S()}})), Err(404, "not configured"), k429}});
  e.push_back({"GET", "/auth/email/verify", kPublic, "Sign-in", "Open a sign-in link",
               "Sets the session cookies and redirects (302) to the link's next path; a used, expired "
               "or unknown link redirects to /login?error=link_invalid_or_expired.",
               {Query("token", "from the mail")}, nullptr, {{302, "signed in, or back to /login", nullptr, "application/json"}}});
  e.push_back({"GET", "/auth/oidc/login", kPublic, "Sign-in", "Start single sign-on",
               "302 to the provider (authorization code with PKCE). 404 when DA_OIDC_ISSUER is not set.",
               {Query("next", "same-origin path to open after sign-in")}, nullptr,
               {{302, "to the provider", nullptr, "application/json"}, Err(404, "not configured")}});
  e.push_back({"GET", "/auth/oidc/callback", kPublic, "Sign-in", "Single sign-on callback",
               "Checks the ID token (signature against the provider's JWKS, issuer, audience, nonce, "
               "expiry), finds or creates the user by email, syncs groups from DA_OIDC_GROUPS_CLAIM, "
               "sets the session cookies and redirects (302) to next; failures redirect to "
               "/login?error=oidc_failed.",
               {Query("code", "authorization code"), Query("state", "the login's state")}, nullptr,
               {{302, "signed in, or back to /login", nullptr, "application/json"}, Err(404, "not configured"), k429}});
  e.push_back({"POST", "/auth/tokens", kAuth, "Sign-in", "Create a personal access token",
               "The token is shown once. A PAT cannot create PATs (403): use a session.", {},
               Object({{"name", S()}, {"expires_in_days", Integer("1..3650; absent = never")}}, {"name"}),
               {Ok(201, "created", Object({{"id", S()}, {"name", S()}, {"prefix", S()}, {"token", S()},
                                           {"expires_at", S("null = never")}})),
                k401, Err(403, "the caller is a PAT"), k422}});
  e.push_back({"GET", "/auth/tokens", kAuth, "Sign-in", "List your personal access tokens", "", {}, nullptr,
               {Ok(200, "tokens", Object({{"tokens", ArrayOf(Object({{"id", S()}, {"name", S()}, {"prefix", S()},
                                                                     {"created_at", S()}, {"expires_at", S()},
                                                                     {"last_used_at", S()},
                                                                     {"last_used_from", S("IP address")},
                                                                     {"revoked", Boolean()}}))}})),
                k401}});
  e.push_back({"DELETE", "/auth/tokens/{id}", kAuth, "Sign-in", "Revoke one of your tokens",
               "Refused at once on every later request.", {Path("id", "token id")}, nullptr,
               {Ok(200, "revoked", Object({{"revoked", S()}})), k401, k404}});
  e.push_back({"GET", "/auth/cli/authorize", kPublic, "Sign-in", "Approval page of `da login`",
               "HTML. Without a browser session: 302 to /login?next=... .",
               {Query("port", "the CLI's loopback port"), Query("state", "the CLI's state value")}, nullptr,
               {{200, "approval form", S(), "text/html"}, {302, "sign in first", nullptr, "application/json"},
                Err(422, "bad port or state")}});
  e.push_back({"POST", "/auth/cli/authorize", kAuth, "Sign-in", "Approve `da login`",
               "Form post (port, state, csrf_token) from a browser session: creates a PAT and "
               "redirects (302) to the CLI's loopback callback with it.",
               {}, nullptr, {{302, "to the CLI", nullptr, "application/json"}, k401, k403, k422}});
}

}  // namespace da::server
