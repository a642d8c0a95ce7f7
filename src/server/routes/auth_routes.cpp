// Sign-in and credentials (issue 6): POST /auth/token, POST /auth/login, POST /auth/logout,
// GET /auth/config, personal access tokens (/auth/tokens) and the browser approval step of
// `da login` (/auth/cli/authorize).
#include <cctype>
#include <cstdlib>
#include <string>

#include "auth/password.h"
#include "common/hash.h"
#include "common/time_util.h"
#include "server/app.h"
#include "server/openapi.h"
#include "server/routes/auth_json.h"
#include "server/routes/auth_support.h"

namespace da::server {

int64_t SessionTtlSeconds() {
  const char* v = std::getenv("DA_SESSION_TTL_HOURS");
  if (v != nullptr && *v != '\0') {
    char* end = nullptr;
    long hours = std::strtol(v, &end, 10);
    if (end != nullptr && *end == '\0' && hours > 0 && hours <= 24 * 365) return hours * 3600;
  }
  return 12 * 3600;
}

std::string SameOriginPath(const std::string& next) {
  if (next.empty() || next[0] != '/' || next.size() > 2048) return "/";
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";
  for (char c : next) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return "/";
  }
  return next;
}

std::string SetSessionCookies(const http::Request& req, http::Response& res,
                              const std::string& session_token, int64_t ttl_seconds) {
  std::string csrf = RandomHex(16);
  std::string attrs = "; SameSite=Lax; Path=/; Max-Age=" + std::to_string(ttl_seconds);
  if (RequestIsHttps(req)) attrs += "; Secure";
  res.AddHeader("Set-Cookie", std::string(kSessionCookie) + "=" + session_token + "; HttpOnly" + attrs);
  res.AddHeader("Set-Cookie", std::string(kCsrfCookie) + "=" + csrf + attrs);
  return csrf;
}

void ClearSessionCookies(const http::Request& req, http::Response& res) {
  std::string attrs = "=; SameSite=Lax; Path=/; Max-Age=0";
  if (RequestIsHttps(req)) attrs += "; Secure";
  res.AddHeader("Set-Cookie", std::string(kSessionCookie) + attrs + "; HttpOnly");
  res.AddHeader("Set-Cookie", std::string(kCsrfCookie) + attrs);
}

bool SignInRateLimited(AppContext& ctx, const RequestContext& rc, http::Response& res) {
  int64_t wait = ctx.sign_in_limiter->Hit(rc.client_ip);
  if (wait == 0) return false;
  res.SetHeader("Retry-After", std::to_string(wait));
  AuditRequest(*ctx.db, rc, "sign_in_rate_limited", "", nlohmann::json::object(), "refused");
  WriteError(res, ResourceExhausted("too many sign-in attempts; retry in " + std::to_string(wait) + " s"),
             rc.request_id);
  return true;
}

Result<state::IssuedToken> StartSession(AppContext& ctx, const RequestContext& rc,
                                        const state::User& user, const std::string& method) {
  auto token = ctx.users->CreateToken(user.id, "session (" + method + ")", SessionTtlSeconds(),
                                      state::kTokenKindSession);
  if (token.ok()) {
    RequestContext as_user = rc;
    as_user.principal.user_id = user.id;
    AuditRequest(*ctx.db, as_user, "sign_in", user.id, {{"method", method}, {"email", user.email}});
  }
  return token;
}

nlohmann::json SessionUserJson(const state::User& u) {
  return {{"id", u.id}, {"email", u.email}, {"name", u.name}, {"is_admin", u.is_admin}};
}

nlohmann::json SignInOptionsJson(const AppContext& ctx) {
  return {{"password", true},
          {"magic_link", ctx.smtp.has_value()},
          {"oidc", ctx.oidc != nullptr},
          {"oidc_name", ctx.oidc ? ctx.oidc->config().display_name : ""}};
}

namespace {

/// Email + password from a JSON or form-urlencoded body.
Status ReadCredentials(const http::Request& req, std::string* email, std::string* password,
                       std::string* next) {
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
  if (email->empty() || password->empty()) return InvalidArgument("email and password are required");
  return Status::Ok();
}

/// Checks email + password. The same unauthenticated answer for an unknown email, a user
/// without password, an inactive user and a wrong password.
Result<state::User> CheckPassword(AppContext& ctx, const RequestContext& rc,
                                  const std::string& email, const std::string& password) {
  DA_ASSIGN_OR_RETURN(auto found, ctx.users->PasswordHashFor(email));
  bool ok = false;
  if (password.size() <= auth::kMaxPasswordBytes) {
    ok = auth::VerifyPassword(password, found ? found->second : std::string());
  }
  if (!ok || !found || !found->first.active) {
    AuditRequest(*ctx.db, rc, "sign_in_failed", found ? found->first.id : "",
                 {{"method", "password"}, {"email", email.substr(0, 320)}}, "refused");
    return Unauthenticated("wrong email or password");
  }
  return found->first;
}

bool ValidCliState(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

int ValidPort(const std::string& s) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) return 0;
  int p = std::stoi(s);
  return p >= 1 && p <= 65535 ? p : 0;
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string UrlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

/// Rate limit, credentials, password check and a new session: the user and session token, or
/// nullopt after writing the error.
std::optional<std::pair<state::User, state::IssuedToken>> PasswordSignIn(
    AppContext& ctx, const RequestContext& rc, const http::Request& req, http::Response& res,
    std::string* next) {
  if (SignInRateLimited(ctx, rc, res)) return std::nullopt;
  std::string email, password;
  Status st = ReadCredentials(req, &email, &password, next);
  if (!st.ok()) {
    WriteError(res, st, rc.request_id);
    return std::nullopt;
  }
  auto user = CheckPassword(ctx, rc, email, password);
  if (!user.ok()) {
    WriteError(res, user.status(), rc.request_id);
    return std::nullopt;
  }
  auto token = StartSession(ctx, rc, *user, "password");
  if (!token.ok()) {
    WriteError(res, token.status(), rc.request_id);
    return std::nullopt;
  }
  return std::make_pair(*user, *token);
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
           std::string next;
           auto signed_in = PasswordSignIn(ctx, rc, req, res, &next);
           if (!signed_in) return;
           const state::User* user = &signed_in->first;
           SetSessionCookies(req, res, signed_in->second.token, SessionTtlSeconds());
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
           if (rc.authenticated && rc.principal.token_kind == state::kTokenKindSession) {
             Status st = ctx.users->RevokeToken(rc.principal.token_id);
             if (!st.ok()) return WriteError(res, st, rc.request_id);
             AuditRequest(*ctx.db, rc, "sign_out", rc.principal.user_id);
           }
           ClearSessionCookies(req, res);
           WriteJson(res, 200, {{"ok", true}});
         });

  r.Get("/auth/config", AccessLevel::kPublic,
        [&ctx](const RequestContext&, const http::Request&, http::Response& res) {
          WriteJson(res, 200, SignInOptionsJson(ctx));
        });
}

void RegisterTokenRoutes(Router& r, AppContext& ctx) {
  r.Post("/auth/tokens", AccessLevel::kAuthenticated,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           if (rc.principal.token_kind == state::kTokenKindPat) {
             return WriteError(res, PermissionDenied("a personal access token cannot create tokens; "
                                                     "sign in with a password or browser session"),
                               rc.request_id);
           }
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           if (!body->is_object() || !body->value("name", nlohmann::json()).is_string()) {
             return WriteError(res, Malformed("body must be {name, expires_in_days?}"), rc.request_id);
           }
           std::string name = (*body)["name"].get<std::string>();
           if (name.empty()) return WriteError(res, InvalidArgument("'name' is required"), rc.request_id);
           int64_t ttl = 0;
           auto days = body->value("expires_in_days", nlohmann::json());
           if (!days.is_null()) {
             if (!days.is_number_integer() || days.get<int64_t>() < 1 || days.get<int64_t>() > 3650) {
               return WriteError(res, InvalidArgument("expires_in_days must be a whole number 1..3650"),
                                 rc.request_id);
             }
             ttl = days.get<int64_t>() * 86400;
           }
           auto t = ctx.users->CreateToken(rc.principal.user_id, name, ttl, state::kTokenKindPat);
           if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
           AuditRequest(*ctx.db, rc, "token_created", t->id, {{"name", name}, {"prefix", t->prefix}});
           WriteJson(res, 201, {{"id", t->id}, {"name", name}, {"prefix", t->prefix},
                                {"token", t->token},
                                {"expires_at", t->expires_at.empty() ? nlohmann::json() : nlohmann::json(t->expires_at)}});
         });

  r.Get("/auth/tokens", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto tokens = ctx.users->ListTokens(rc.principal.user_id, state::kTokenKindPat);
          if (!tokens.ok()) return WriteError(res, tokens.status(), rc.request_id);
          auto opt = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
          nlohmann::json out = nlohmann::json::array();
          for (const auto& t : *tokens) {
            out.push_back({{"id", t.id}, {"name", t.name}, {"prefix", t.prefix},
                           {"created_at", t.created_at}, {"expires_at", opt(t.expires_at)},
                           {"last_used_at", opt(t.last_used_at)},
                           {"last_used_from", opt(t.last_used_ip)}, {"revoked", t.revoked}});
          }
          WriteJson(res, 200, {{"tokens", out}});
        });

  r.Delete("/auth/tokens/{id}", AccessLevel::kAuthenticated,
           [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
             const std::string id = req.PathParam("id");
             Status st = ctx.users->RevokeOwnToken(rc.principal.user_id, id);
             if (!st.ok()) return WriteError(res, st, rc.request_id);
             AuditRequest(*ctx.db, rc, "token_revoked", id);
             WriteJson(res, 200, {{"revoked", id}});
           });
}

/// `da login` without --token: the CLI opens /auth/cli/authorize?port=P&state=S; a signed-in
/// browser approves, the server creates a PAT and redirects to the CLI's loopback listener.
void RegisterCliAuthorizeRoutes(Router& r, AppContext& ctx) {
  r.Get("/auth/cli/authorize", AccessLevel::kPublic,
        [](const RequestContext& rc, const http::Request& req, http::Response& res) {
          const std::string state = req.Query("state");
          const int port = ValidPort(req.Query("port"));
          if (port == 0 || !ValidCliState(state)) {
            return WriteError(res, InvalidArgument("port (1..65535) and state ([A-Za-z0-9_-], 1..128) are required"),
                              rc.request_id);
          }
          if (!rc.authenticated || !rc.via_cookie) {
            std::string self = "/auth/cli/authorize?port=" + std::to_string(port) + "&state=" + state;
            res.status = 302;
            res.SetHeader("Location", "/login?next=" + UrlEncode(self));
            return;
          }
          std::string csrf = CookieValue(req, kCsrfCookie);
          if (csrf.empty()) {  // a session without the CSRF cookie (cleared by hand): issue one
            csrf = RandomHex(16);
            res.AddHeader("Set-Cookie", std::string(kCsrfCookie) + "=" + csrf +
                                             "; SameSite=Lax; Path=/" +
                                             (RequestIsHttps(req) ? "; Secure" : ""));
          }
          std::string html =
              "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              "<title>Approve da CLI sign-in</title></head><body style=\"font-family:sans-serif;"
              "max-width:36em;margin:3em auto\"><h1>Sign in the da CLI?</h1>"
              "<p>Signed in as <strong>" + HtmlEscape(rc.principal.email) + "</strong>.</p>"
              "<p>Approving creates a personal access token for the <code>da</code> command on "
              "this computer and hands it to the program listening on "
              "<code>http://127.0.0.1:" + std::to_string(port) + "/</code>. Approve only if you "
              "just ran <code>da login</code>.</p>"
              "<form method=\"post\" action=\"/auth/cli/authorize\">"
              "<input type=\"hidden\" name=\"port\" value=\"" + std::to_string(port) + "\">"
              "<input type=\"hidden\" name=\"state\" value=\"" + HtmlEscape(state) + "\">"
              "<input type=\"hidden\" name=\"csrf_token\" value=\"" + HtmlEscape(csrf) + "\">"
              "<button type=\"submit\">Approve</button></form></body></html>";
          res.status = 200;
          res.SetHeader("Cache-Control", "no-store");
          res.SetHeader("X-Frame-Options", "DENY");
          res.SetContent(html, "text/html; charset=utf-8");
        });

  r.Post("/auth/cli/authorize", AccessLevel::kAuthenticated,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           if (!rc.via_cookie) {
             return WriteError(res, PermissionDenied("approve in a signed-in browser"), rc.request_id);
           }
           auto form = FormFields(req);
           auto field = [&](const char* k) {
             auto it = form.find(k);
             return it == form.end() ? std::string() : it->second;
           };
           const std::string state = field("state");
           const int port = ValidPort(field("port"));
           if (port == 0 || !ValidCliState(state)) {
             return WriteError(res, InvalidArgument("port and state form fields are required"),
                               rc.request_id);
           }
           auto t = ctx.users->CreateToken(rc.principal.user_id, "da CLI (" + NowIso().substr(0, 10) + ")",
                                           0, state::kTokenKindPat);
           if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
           AuditRequest(*ctx.db, rc, "token_created", t->id, {{"name", "da CLI"}, {"via", "cli_login"},
                                                               {"prefix", t->prefix}});
           res.status = 302;
           res.SetHeader("Cache-Control", "no-store");
           res.SetHeader("Location", "http://127.0.0.1:" + std::to_string(port) +
                                          "/callback?state=" + state + "&token=" + t->token);
         });
}

}  // namespace

void RegisterAuthRoutes(Router& r, AppContext& ctx) {
  RegisterPasswordRoutes(r, ctx);
  RegisterTokenRoutes(r, ctx);
  RegisterCliAuthorizeRoutes(r, ctx);
}

}  // namespace da::server
