// `da login` through the browser (service/cli_login.h): the approval page, the approval POST
// that sends a one-time code to the CLI's loopback listener, and the code exchange.
#include <string>

#include "common/hash.h"
#include "net/url.h"
#include "server/app.h"
#include "server/json_route.h"
#include "server/openapi.h"
#include "server/routes/auth_support.h"
#include "service/cli_login.h"

namespace da::server {
namespace {

/// The CLI's loopback port, 1..65535; 0 when `s` is not one.
int ValidPort(const std::string& s) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) return 0;
  const int p = std::stoi(s);
  return p >= 1 && p <= 65535 ? p : 0;
}

/// The approval request's fields, from the query (GET) or the form (POST).
template <typename Field>
service::CliApproval ApprovalFrom(Field field) {
  return {field("state"), field("code_challenge"), field("code_challenge_method")};
}

/// The approval page: who approves, for which loopback port, and a form that POSTs it back.
std::string ApprovalPage(const std::string& email, int port, const service::CliApproval& a,
                         const std::string& csrf) {
  auto hidden = [](const char* name, const std::string& value) {
    return std::string("<input type=\"hidden\" name=\"") + name + "\" value=\"" + HtmlEscape(value) +
           "\">";
  };
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>Approve da CLI sign-in</title></head><body style=\"font-family:sans-serif;"
         "max-width:36em;margin:3em auto\"><h1>Sign in the da CLI?</h1>"
         "<p>Signed in as <strong>" + HtmlEscape(email) + "</strong>.</p>"
         "<p>Approving sends a one-time code to the <code>da</code> program listening on "
         "<code>http://127.0.0.1:" + std::to_string(port) + "/</code>, which trades it for a "
         "personal access token. Approve only if you just ran <code>da login</code>.</p>"
         "<form method=\"post\" action=\"/auth/cli/authorize\">" +
         hidden("port", std::to_string(port)) + hidden("state", a.state) +
         hidden("code_challenge", a.code_challenge) +
         hidden("code_challenge_method", a.code_challenge_method) + hidden("csrf_token", csrf) +
         "<button type=\"submit\">Approve</button></form></body></html>";
}

}  // namespace

void RegisterCliLoginRoutes(Router& r, AppContext& ctx) {
  r.Get("/auth/cli/authorize", AccessLevel::kPublic,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          const int port = ValidPort(req.Query("port"));
          const auto approval = ApprovalFrom([&](const char* k) { return req.Query(k); });
          Status valid = port == 0 ? InvalidArgument("port (1..65535) is required")
                                   : service::CliLoginService::CheckApproval(approval);
          if (!valid.ok()) return WriteError(res, valid, rc.request_id);
          if (!rc.authenticated || !rc.via_cookie) {
            const std::string self = "/auth/cli/authorize?port=" + std::to_string(port) +
                                     "&state=" + approval.state +
                                     "&code_challenge=" + approval.code_challenge +
                                     "&code_challenge_method=S256";
            res.status = 302;
            res.SetHeader("Location", "/login?next=" + net::UrlEncode(self));
            return;
          }
          std::string csrf = CsrfCookieValue(req);
          if (csrf.empty()) {  // a session without the CSRF cookie (cleared by hand): issue one
            csrf = RandomHex(16);
            const bool https = BrowserUsesHttps(ctx, req);
            res.AddHeader("Set-Cookie", std::string(https ? kCsrfCookieHttps : kCsrfCookie) + "=" +
                                            csrf + "; SameSite=Lax; Path=/" +
                                            (https ? "; Secure" : ""));
          }
          res.status = 200;
          res.SetHeader("Cache-Control", "no-store");
          res.SetHeader("X-Frame-Options", "DENY");
          res.SetContent(ApprovalPage(rc.principal.email, port, approval, csrf),
                         "text/html; charset=utf-8");
        });

  // The router checks the CSRF form field of this cookie-authenticated POST.
  r.Post("/auth/cli/authorize", AccessLevel::kAuthenticated,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           if (!rc.via_cookie) {
             return WriteError(res, PermissionDenied("approve in a signed-in browser"), rc.request_id);
           }
           const auto form = FormFields(req);
           auto field = [&](const char* k) {
             auto it = form.find(k);
             return it == form.end() ? std::string() : it->second;
           };
           const int port = ValidPort(field("port"));
           if (port == 0) {
             return WriteError(res, InvalidArgument("port (1..65535) is required"), rc.request_id);
           }
           const auto approval = ApprovalFrom(field);
           auto code = ctx.services->cli_login.Approve({rc.principal, rc.client_ip}, approval);
           if (!code.ok()) return WriteError(res, code.status(), rc.request_id);
           // The code is useless without the verifier only the waiting CLI holds.
           res.status = 302;
           res.SetHeader("Cache-Control", "no-store");
           res.SetHeader("Referrer-Policy", "no-referrer");
           res.SetHeader("Location", "http://127.0.0.1:" + std::to_string(port) +
                                         "/callback?state=" + approval.state + "&code=" + *code);
         });

  service::CliLoginService& cli_login = ctx.services->cli_login;
  JsonRoutes(r).Post("/auth/cli/token", AccessLevel::kPublic, [&cli_login](const RouteInput& in)
      -> Result<service::CliTokenAnswer> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    DA_ASSIGN_OR_RETURN(auto code, ReqString(body, "code"));
    DA_ASSIGN_OR_RETURN(auto state, ReqString(body, "state"));
    DA_ASSIGN_OR_RETURN(auto verifier, ReqString(body, "code_verifier"));
    return cli_login.Exchange(in.caller(), {code, state, verifier});
  });
}

}  // namespace da::server
