// Email magic links and OpenID Connect sign-in (issue 6): /auth/email/send-link,
// /auth/email/verify, /auth/oidc/login, /auth/oidc/callback. Both end in a browser session
// (cookies) and a 302 to the `next` path.
#include <cctype>
#include <cstdlib>
#include <optional>
#include <thread>

#include "auth/mailer.h"
#include "auth/oidc.h"
#include "common/log.h"
#include "server/app.h"
#include "server/routes/auth_json.h"
#include "server/routes/auth_support.h"
#include "state/magic_links.h"

namespace da::server {
namespace {

/// Holds the state of the OIDC login started in this browser (Path=/auth/oidc, 10 minutes).
constexpr char kOidcStateCookie[] = "da_oidc_state";

/// The raw value of query parameter `name` in `url` ("" when absent). State values are
/// URL-safe base64/hex, so no decoding is needed.
std::string QueryParam(const std::string& url, const std::string& name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return "";
  size_t pos = q + 1;
  while (pos < url.size()) {
    size_t end = url.find('&', pos);
    if (end == std::string::npos) end = url.size();
    const std::string pair = url.substr(pos, end - pos);
    if (pair.compare(0, name.size() + 1, name + "=") == 0) return pair.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

/// Magic link lifetime: DA_MAGIC_LINK_TTL_SEC (default 900 = 15 minutes).
int64_t MagicLinkTtlSeconds() {
  const char* v = std::getenv("DA_MAGIC_LINK_TTL_SEC");
  if (v != nullptr && *v != '\0') {
    char* end = nullptr;
    long s = std::strtol(v, &end, 10);
    if (end != nullptr && *end == '\0' && s > 0 && s <= 86400) return s;
  }
  return 900;
}

/// Whether `token` has the shape of a magic link token (CreateMagicLink: "ml_" + 40 hex), so
/// it can go into a page unescaped.
bool MagicLinkTokenShape(const std::string& token) {
  if (token.size() != 43 || token.rfind("ml_", 0) != 0) return false;
  for (size_t i = 3; i < token.size(); ++i) {
    if (!isxdigit(static_cast<unsigned char>(token[i]))) return false;
  }
  return true;
}

/// The page a magic link opens: one button that POSTs the token back. Opening the link (a
/// mail scanner's GET, a link preview) never signs in or uses the link up.
std::string MagicLinkPage(const std::string& token) {
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>Sign in to da</title></head><body style=\"font-family:sans-serif;max-width:36em;"
         "margin:3em auto\"><h1>Sign in to da</h1><p>Continue to sign in with the link from your mail. "
         "The link works once.</p><form method=\"post\" action=\"/auth/email/verify\">"
         "<input type=\"hidden\" name=\"token\" value=\"" + token + "\">"
         "<button type=\"submit\">Sign in</button></form></body></html>";
}

/// A browser-facing failure: back to the sign-in page with an error code.
void RedirectToLogin(http::Response& res, const std::string& error) {
  res.status = 302;
  res.SetHeader("Cache-Control", "no-store");
  res.SetHeader("Location", "/login?error=" + error);
}

void FinishBrowserSignIn(AppContext& ctx, const RequestContext& rc, const http::Request& req,
                         http::Response& res, const state::User& user, const std::string& method,
                         const std::string& next) {
  auto token = StartSession(ctx, rc, user, method);
  if (!token.ok()) return WriteError(res, token.status(), rc.request_id);
  SetSessionCookies(ctx, req, res, token->token, SessionTtlSeconds());
  res.status = 302;
  res.SetHeader("Cache-Control", "no-store");
  res.SetHeader("Location", SameOriginPath(next));
}

void RegisterMagicLinkRoutes(Router& r, AppContext& ctx) {
  r.Post("/auth/email/send-link", AccessLevel::kPublic, Execution::kWorker,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           if (!ctx.smtp) {
             return WriteError(res, NotFound("email sign-in is not configured (DA_SMTP_URL)"), rc.request_id);
           }
           if (!ctx.public_url) {
             return WriteError(res,
                               FailedPrecondition("email sign-in links are off: set DA_PUBLIC_URL (the "
                                                  "address users open da at) to turn them on"),
                               rc.request_id);
           }
           if (SignInRateLimited(ctx, rc, res)) return;
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           if (!body->is_object() || !body->value("email", nlohmann::json()).is_string()) {
             return WriteError(res, Malformed("body must be {email, next?}"), rc.request_id);
           }
           const std::string email = (*body)["email"].get<std::string>();
           // Per target address too: nobody floods one mailbox from many clients.
           if (KeyRateLimited(ctx, rc, *ctx.email_limiter, LimitKey(email), "address", true, res)) return;
           std::string next = body->value("next", nlohmann::json()).is_string()
                                  ? SameOriginPath((*body)["next"].get<std::string>())
                                  : "/";
           auto user = ctx.users->FindByEmail(email);
           if (!user.ok()) return WriteError(res, user.status(), rc.request_id);
           const bool known = user->has_value() && (*user)->active;
           if (known) {
             auto token = state::CreateMagicLink(*ctx.db, (*user)->id, next, MagicLinkTtlSeconds());
             if (!token.ok()) return WriteError(res, token.status(), rc.request_id);
             std::string link = ctx.public_url->base + "/auth/email/verify?token=" + *token;
             std::string text =
                 "Hello,\r\n\r\nopen this link to sign in to da (valid for " +
                 std::to_string(MagicLinkTtlSeconds() / 60) + " minutes, once):\r\n\r\n" + link +
                 "\r\n\r\nIf you did not ask for it, ignore this mail.\r\n";
             // Sent off the request thread: the answer takes the same time for unknown addresses.
             std::thread([config = *ctx.smtp, to = (*user)->email, text]() {
               Status sent = auth::SendMail(config, to, "Your da sign-in link", text);
               if (!sent.ok()) spdlog::error("magic link mail to {} failed: {}", to, sent.message());
             }).detach();
           }
           AuditRequest(*ctx.db, rc, "magic_link_requested", known ? (*user)->id : "",
                        {{"email", email.substr(0, 320)}, {"known", known}});
           WriteJson(res, 200, {{"ok", true},
                                {"message", "If the address belongs to an account, a sign-in link is on its way."}});
         });

  // Opening the link shows a page; only its POST (below) uses the link up.
  r.Get("/auth/email/verify", AccessLevel::kPublic,
        [](const RequestContext&, const http::Request& req, http::Response& res) {
          const std::string token = req.Query("token");
          if (!MagicLinkTokenShape(token)) return RedirectToLogin(res, "link_invalid_or_expired");
          res.status = 200;
          res.SetHeader("Cache-Control", "no-store");
          res.SetHeader("X-Frame-Options", "DENY");
          // The POST keeps its Origin; no Referer carrying the token leaves for other sites.
          res.SetHeader("Referrer-Policy", "same-origin");
          res.SetHeader("Content-Security-Policy",
                        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                        "frame-ancestors 'none'; base-uri 'none'");
          res.SetContent(MagicLinkPage(token), "text/html; charset=utf-8");
        });

  r.Post("/auth/email/verify", AccessLevel::kPublic,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           // Only the page above may use a link up: a form posted from another site would sign
           // the victim's browser into the attacker's account (login CSRF).
           if (!FromOwnPages(ctx, req, /*allow_json_without_headers=*/false)) {
             AuditRequest(*ctx.db, rc, "sign_in_failed", "",
                          {{"method", "magic_link"}, {"reason", "not posted from this server's page"}},
                          "refused");
             return WriteError(res, 403, "csrf_failed",
                               "sign-in refused: the request does not come from this server's pages "
                               "(Origin/Referer is not the public URL)",
                               rc.request_id);
           }
           if (SignInRateLimited(ctx, rc, res)) return;
           auto form = FormFields(req);
           auto field = form.find("token");
           auto grant = state::ConsumeMagicLink(*ctx.db, field == form.end() ? "" : field->second);
           std::optional<state::User> user;
           if (grant.ok()) {
             auto found = ctx.users->FindById(grant->user_id);
             if (found.ok() && found->has_value() && (*found)->active) user = **found;
           }
           if (!user) {
             AuditRequest(*ctx.db, rc, "sign_in_failed", grant.ok() ? grant->user_id : "",
                          {{"method", "magic_link"}}, "refused");
             return RedirectToLogin(res, "link_invalid_or_expired");
           }
           FinishBrowserSignIn(ctx, rc, req, res, *user, "magic_link", grant->next);
         });
}

void RegisterOidcRoutes(Router& r, AppContext& ctx) {
  r.Get("/auth/oidc/login", AccessLevel::kPublic, Execution::kWorker,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          if (!ctx.oidc) {
            return WriteError(res, NotFound("single sign-on is not configured (DA_OIDC_ISSUER)"), rc.request_id);
          }
          if (SignInRateLimited(ctx, rc, res)) return;
          auto url = ctx.oidc->BeginLogin(SameOriginPath(req.Query("next")));
          if (!url.ok()) return WriteError(res, url.status(), rc.request_id);
          res.status = 302;
          res.SetHeader("Cache-Control", "no-store");
          res.SetHeader("Location", *url);
          // Binds the login to this browser: the callback must come back with the same state
          // in this cookie, so nobody can make a victim's browser finish their login (login CSRF).
          res.AddHeader("Set-Cookie", std::string(kOidcStateCookie) + "=" + QueryParam(*url, "state") +
                                           "; HttpOnly; SameSite=Lax; Path=/auth/oidc; Max-Age=600" +
                                           (BrowserUsesHttps(ctx, req) ? "; Secure" : ""));
        });

  r.Get("/auth/oidc/callback", AccessLevel::kPublic, Execution::kWorker,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          if (!ctx.oidc) {
            return WriteError(res, NotFound("single sign-on is not configured (DA_OIDC_ISSUER)"), rc.request_id);
          }
          if (SignInRateLimited(ctx, rc, res)) return;
          const std::string state = req.Query("state");
          if (state.empty() || CookieValue(req, kOidcStateCookie) != state) {
            AuditRequest(*ctx.db, rc, "sign_in_failed", "",
                         {{"method", "oidc"}, {"reason", "state not started in this browser"}}, "refused");
            return RedirectToLogin(res, "oidc_failed");
          }
          res.AddHeader("Set-Cookie", std::string(kOidcStateCookie) + "=; HttpOnly; SameSite=Lax; Path=/auth/oidc; Max-Age=0");
          auto login = ctx.oidc->CompleteLogin(req.Query("code"), req.Query("state"));
          if (!login.ok()) {
            spdlog::warn("[{}] OIDC sign-in refused: {}", rc.request_id, login.status().message());
            AuditRequest(*ctx.db, rc, "sign_in_failed", "",
                         {{"method", "oidc"}, {"reason", login.status().message()}}, "refused");
            return RedirectToLogin(res, "oidc_failed");
          }
          const auth::OidcIdentity& id = login->identity;
          if (id.email.empty()) {
            AuditRequest(*ctx.db, rc, "sign_in_failed", "", {{"method", "oidc"}, {"reason", "no email claim"}},
                         "refused");
            return RedirectToLogin(res, "oidc_no_email");
          }
          service::ExternalIdentity identity;
          identity.issuer = id.issuer;
          identity.subject = id.subject;
          identity.email = id.email;
          identity.email_verified = id.email_verified;
          identity.hosted_domain = id.hosted_domain;
          identity.name = id.name;
          identity.groups = id.groups;
          identity.sync_groups = ctx.oidc_sync_groups;
          identity.policy = ctx.oidc->config().signup;
          auto user = ctx.services->users.ExternalUser({rc.principal, rc.client_ip}, identity);
          if (!user.ok() && user.status().code() == StatusCode::kPermissionDenied) {
            // The service's refusals are fixed reason codes (UsersService::ExternalUser).
            const std::string& reason = user.status().message();
            return RedirectToLogin(res, reason == "inactive" ? "account_inactive" : "oidc_" + reason);
          }
          if (!user.ok()) return WriteError(res, user.status(), rc.request_id);
          FinishBrowserSignIn(ctx, rc, req, res, *user, "oidc", login->next);
        });
}

}  // namespace

void RegisterExternalSignInRoutes(Router& r, AppContext& ctx) {
  RegisterMagicLinkRoutes(r, ctx);
  RegisterOidcRoutes(r, ctx);
}

}  // namespace da::server
