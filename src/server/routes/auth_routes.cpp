// Sign-in and credentials (issue 6): POST /auth/token, POST /auth/login, POST /auth/logout,
// GET /auth/config, personal access tokens (/auth/tokens) and the browser approval step of
// `da login` (/auth/cli/authorize).
#include <cctype>
#include <cstdlib>
#include <string>

#include "common/hash.h"
#include "common/time_util.h"
#include "server/app.h"
#include "server/openapi.h"
#include "server/json_route.h"
#include "server/routes/auth_support.h"

namespace da::server {

bool BrowserUsesHttps(const AppContext& ctx, const http::Request& req) {
  return (ctx.public_url && ctx.public_url->is_https) || RequestIsHttps(req);
}

bool FromOwnPages(const AppContext& ctx, const http::Request& req, bool allow_json_without_headers) {
  const bool json_body = req.Header("Content-Type").rfind("application/json", 0) == 0;
  return auth::FromOwnOrigin(req.Header("Origin"), req.Header("Referer"),
                             ctx.public_url ? ctx.public_url->origin : "", req.Header("Host"),
                             allow_json_without_headers && json_body);
}

std::string SetSessionCookies(const AppContext& ctx, const http::Request& req, http::Response& res,
                              const std::string& session_token, int64_t ttl_seconds) {
  const bool https = BrowserUsesHttps(ctx, req);
  std::string csrf = RandomHex(16);
  std::string attrs = "; SameSite=Lax; Path=/; Max-Age=" + std::to_string(ttl_seconds);
  if (https) attrs += "; Secure";
  res.AddHeader("Set-Cookie", std::string(kSessionCookie) + "=" + session_token + "; HttpOnly" + attrs);
  res.AddHeader("Set-Cookie", std::string(https ? kCsrfCookieHttps : kCsrfCookie) + "=" + csrf + attrs);
  return csrf;
}

void ClearSessionCookies(const AppContext& ctx, const http::Request& req, http::Response& res) {
  const bool https = BrowserUsesHttps(ctx, req);
  std::string attrs = "=; SameSite=Lax; Path=/; Max-Age=0";
  if (https) attrs += "; Secure";
  res.AddHeader("Set-Cookie", std::string(kSessionCookie) + attrs + "; HttpOnly");
  res.AddHeader("Set-Cookie", std::string(kCsrfCookie) + attrs);
  if (https) res.AddHeader("Set-Cookie", std::string(kCsrfCookieHttps) + attrs);
}

bool SignInRateLimited(AppContext& ctx, const RequestContext& rc, http::Response& res) {
  int64_t wait = ctx.sign_in_limiter->Hit(rc.client_ip);
  if (wait == 0) return false;
  res.SetHeader("Retry-After", std::to_string(wait));
  service::AuditCall(*ctx.db, {rc.principal, rc.client_ip}, "sign_in_rate_limited", "",
                     nlohmann::json::object(), "refused");
  WriteError(res, ResourceExhausted("too many sign-in attempts; retry in " + std::to_string(wait) + " s"),
             rc.request_id);
  return true;
}

bool KeyRateLimited(AppContext& ctx, const RequestContext& rc, auth::RateLimiter& limiter,
                    const std::string& key, const std::string& what, bool count, http::Response& res) {
  int64_t wait = count ? limiter.Hit(key) : limiter.Peek(key);
  if (wait == 0) return false;
  res.SetHeader("Retry-After", std::to_string(wait));
  service::AuditCall(*ctx.db, {rc.principal, rc.client_ip}, "sign_in_rate_limited", "",
                     {{"limit", what}}, "refused");
  WriteError(res, ResourceExhausted("too many sign-in attempts for this " + what + "; retry in " +
                                    std::to_string(wait) + " s"),
             rc.request_id);
  return true;
}

std::string LimitKey(const std::string& email) {
  std::string key = email.substr(0, 320);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

Result<state::IssuedToken> StartSession(AppContext& ctx, const RequestContext& rc,
                                        const state::User& user, const std::string& method) {
  return ctx.services->users.StartSession({rc.principal, rc.client_ip}, user, method);
}

nlohmann::json SessionUserJson(const state::User& u) {
  return {{"id", u.id}, {"email", u.email}, {"name", u.name}, {"is_admin", u.is_admin}};
}

nlohmann::json SignInOptionsJson(const AppContext& ctx) {
  return {{"password", true},
          {"magic_link", ctx.smtp.has_value() && ctx.public_url.has_value()},
          {"oidc", ctx.oidc != nullptr},
          {"oidc_name", ctx.oidc ? ctx.oidc->config().display_name : ""}};
}

namespace {

/// Email + password from a JSON or form-urlencoded body.
Status ReadCredentials(const http::Request& req, service::PasswordSignInRequest* credentials,
                       std::string* next) {
  std::string* email = &credentials->email;
  std::string* password = &credentials->password;
  auto form = FormFields(req);
  if (!form.empty()) {
    auto get = [&](const char* k) {
      auto it = form.find(k);
      return it == form.end() ? std::string() : it->second;
    };
    *email = get("email");
    *password = get("password");
    *next = get("next");
  } else {
    DA_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(req));
    if (!body.is_object()) return Malformed("request body must be a JSON object {email, password}");
    if (!body.value("email", nlohmann::json()).is_string() ||
        !body.value("password", nlohmann::json()).is_string()) {
      return Malformed("'email' and 'password' must be strings");
    }
    *email = body["email"].get<std::string>();
    *password = body["password"].get<std::string>();
  }
  return Status::Ok();
}

/// Rate limit, credentials, password check and a new session: the user and session token, or
/// nullopt after writing the error.
std::optional<std::pair<state::User, state::IssuedToken>> PasswordSignIn(
    AppContext& ctx, const RequestContext& rc, const http::Request& req, http::Response& res,
    std::string* next) {
  if (SignInRateLimited(ctx, rc, res)) return std::nullopt;
  service::PasswordSignInRequest credentials;
  Status st = ReadCredentials(req, &credentials, next);
  if (!st.ok()) {
    WriteError(res, st, rc.request_id);
    return std::nullopt;
  }
  // Failures are also counted per account (any client): a flood against one account delays
  // that account's password sign-in only.
  const std::string account = LimitKey(credentials.email);
  if (KeyRateLimited(ctx, rc, *ctx.account_limiter, account, "account", false, res)) return std::nullopt;
  auto session = ctx.services->users.PasswordSignIn({rc.principal, rc.client_ip}, credentials);
  if (!session.ok() && session.status().code() == StatusCode::kUnauthenticated) {
    ctx.account_limiter->Hit(account);
  }
  if (!session.ok()) {
    WriteError(res, session.status(), rc.request_id);
    return std::nullopt;
  }
  return std::make_pair(session->user, session->token);
}

void RegisterPasswordRoutes(Router& r, AppContext& ctx) {
  r.Post("/auth/token", AccessLevel::kPublic,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           std::string next;
           auto signed_in = PasswordSignIn(ctx, rc, req, res, &next);
           if (!signed_in) return;
           const state::IssuedToken* token = &signed_in->second;
           WriteJson(res, 200, {{"access_token", token->token}, {"token_type", "bearer"},
                                {"expires_at", token->expires_at}});
         });

  r.Post("/auth/login", AccessLevel::kPublic, Execution::kWorker,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           // Login CSRF: another site must not sign a victim's browser into an account it chose.
           if (!FromOwnPages(ctx, req, /*allow_json_without_headers=*/true)) {
             return WriteError(res, 403, "csrf_failed",
                               "sign-in refused: the request does not come from this server's pages "
                               "(Origin/Referer is not the public URL)",
                               rc.request_id);
           }
           std::string next;
           auto signed_in = PasswordSignIn(ctx, rc, req, res, &next);
           if (!signed_in) return;
           const state::User* user = &signed_in->first;
           SetSessionCookies(ctx, req, res, signed_in->second.token, SessionTtlSeconds());
           if (!next.empty()) {  // a plain HTML form post: continue where the user was going
             res.status = 302;
             res.SetHeader("Location", SameOriginPath(next));
             return;
           }
           WriteJson(res, 200, {{"user", SessionUserJson(*user)}});
         });

  r.Post("/auth/logout", AccessLevel::kPublic,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           if (rc.authenticated && rc.via_cookie && !CsrfOk(req)) {
             return WriteError(res, 403, "csrf_failed", "missing or wrong CSRF token", rc.request_id);
           }
           if (rc.authenticated) {
             Status st = ctx.services->users.SignOut({rc.principal, rc.client_ip});
             if (!st.ok()) return WriteError(res, st, rc.request_id);
           }
           ClearSessionCookies(ctx, req, res);
           WriteJson(res, 200, {{"ok", true}});
         });

  r.Get("/auth/config", AccessLevel::kPublic,
        [&ctx](const RequestContext&, const http::Request& req, http::Response& res) {
          nlohmann::json options = SignInOptionsJson(ctx);
          // The web UI's sign-in page asks where `next` may send the browser: the same rule
          // as every server-side redirect.
          if (req.HasQuery("next")) options["next"] = SameOriginPath(req.Query("next"));
          WriteJson(res, 200, options);
        });
}

/// `{name, expires_in_days?}` of POST /auth/tokens.
Result<service::CreateTokenRequest> DecodeCreateToken(const RouteInput& in) {
  DA_ASSIGN_OR_RETURN(auto body, in.Body());
  if (!body.is_object() || !body.value("name", nlohmann::json()).is_string()) {
    return Malformed("body must be {name, expires_in_days?}");
  }
  service::CreateTokenRequest request{body["name"].get<std::string>(), std::nullopt};
  auto days = body.value("expires_in_days", nlohmann::json());
  if (!days.is_null()) {
    if (!days.is_number_integer()) {
      return InvalidArgument("expires_in_days must be a whole number 1..3650");
    }
    request.expires_in_days = days.get<int64_t>();
  }
  return request;
}

void RegisterTokenRoutes(Router& r, AppContext& ctx) {
  service::UsersService& users = ctx.services->users;
  JsonRoutes routes(r);
  routes.Post("/auth/tokens", AccessLevel::kAuthenticated, [&users](const RouteInput& in)
      -> Result<service::TokenAnswer> {
    if (in.caller().principal.token_kind == state::kTokenKindPat) {
      return users.CreateToken(in.caller(), {});  // refused before the body is read
    }
    DA_ASSIGN_OR_RETURN(auto request, DecodeCreateToken(in));
    return users.CreateToken(in.caller(), request);
  }, 201);
  routes.Get("/auth/tokens", AccessLevel::kAuthenticated,
             [&users](const RouteInput& in) { return users.ListTokens(in.caller()); });
  routes.Delete("/auth/tokens/{id}", AccessLevel::kAuthenticated, [&users](const RouteInput& in) {
    return users.RevokeToken(in.caller(), {in.Path("id")});
  });
}

}  // namespace

void RegisterAuthRoutes(Router& r, AppContext& ctx) {
  RegisterPasswordRoutes(r, ctx);
  RegisterTokenRoutes(r, ctx);
}

}  // namespace da::server
