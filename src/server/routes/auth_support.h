#pragma once
/// Session helpers shared by the sign-in routes (password, magic link, OIDC).
#include <cstdint>
#include <string>

#include "auth/same_origin.h"
#include "http/message.h"
#include <nlohmann/json.hpp>

#include "server/app.h"
#include "server/router.h"
#include "service/users_service.h"
#include "state/users.h"

namespace da::server {

/// Browser/API session lifetime (service/users_service.h).
using service::SessionTtlSeconds;
/// `next` when it is a same-origin path, else "/": the one rule (auth/same_origin.h) that every
/// redirect after sign-in and the web UI (GET /auth/config?next=) use.
using auth::SameOriginPath;
/// True when the browser talks https to us: DA_PUBLIC_URL is https, or a proxy says
/// `X-Forwarded-Proto: https`. Cookies are then `Secure` and the CSRF cookie is `__Host-da_csrf`.
bool BrowserUsesHttps(const AppContext& ctx, const http::Request& req);
/// True when a sign-in POST comes from our own pages (auth::FromOwnOrigin against DA_PUBLIC_URL,
/// else the Host header). `allow_json_without_headers`: a request with neither Origin nor Referer
/// passes when its body is application/json (a CLI or script; a cross-site HTML form cannot send
/// one, and a cross-site fetch of JSON needs a CORS preflight this server never grants).
bool FromOwnPages(const AppContext& ctx, const http::Request& req, bool allow_json_without_headers);
/// Sets `da_session` (HttpOnly) and a fresh CSRF cookie (`da_csrf`, or `__Host-da_csrf` on
/// https; SameSite=Lax, Path=/, Secure on https); returns the CSRF value.
std::string SetSessionCookies(const AppContext& ctx, const http::Request& req, http::Response& res,
                              const std::string& session_token, int64_t ttl_seconds);
/// Expires the session cookie and both CSRF cookie names.
void ClearSessionCookies(const AppContext& ctx, const http::Request& req, http::Response& res);
/// Counts a sign-in attempt of the client; when over DA_AUTH_RATE_LIMIT writes 429 with
/// Retry-After (and audits it) and returns true.
bool SignInRateLimited(AppContext& ctx, const RequestContext& rc, http::Response& res);
/// When `key` has used up `limiter`'s window (counting this attempt when `count`), writes 429
/// with Retry-After, audits `sign_in_rate_limited` with {"limit": what} and returns true.
/// Keys: a lower-cased email (per account, per target address).
bool KeyRateLimited(AppContext& ctx, const RequestContext& rc, auth::RateLimiter& limiter,
                    const std::string& key, const std::string& what, bool count, http::Response& res);
/// `email` lower-cased (ASCII), the key of the per-account and per-address limits.
std::string LimitKey(const std::string& email);
/// Creates a session token for `user` and audits `sign_in` with `method`
/// (service::UsersService::StartSession).
Result<state::IssuedToken> StartSession(AppContext& ctx, const RequestContext& rc,
                                        const state::User& user, const std::string& method);
/// {id, email, name, is_admin}
nlohmann::json SessionUserJson(const state::User& u);
/// GET /auth/config: {password, magic_link, oidc, oidc_name}.
nlohmann::json SignInOptionsJson(const AppContext& ctx);

}  // namespace da::server
