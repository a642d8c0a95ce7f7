#pragma once
/// Session helpers shared by the sign-in routes (password, magic link, OIDC).
#include <cstdint>
#include <string>

#include "http/message.h"
#include <nlohmann/json.hpp>

#include "server/app.h"
#include "server/router.h"
#include "service/users_service.h"
#include "state/users.h"

namespace da::server {

/// Browser/API session lifetime (service/users_service.h).
using service::SessionTtlSeconds;
/// `next` when it is a same-origin path ("/..." but not "//..." and no control characters or
/// backslashes), else "/".
std::string SameOriginPath(const std::string& next);
/// Sets `da_session` (HttpOnly) and a fresh `da_csrf` cookie (SameSite=Lax, Path=/, Secure
/// behind TLS); returns the CSRF value.
std::string SetSessionCookies(const http::Request& req, http::Response& res,
                              const std::string& session_token, int64_t ttl_seconds);
/// Expires both cookies.
void ClearSessionCookies(const http::Request& req, http::Response& res);
/// Counts a sign-in attempt of the client; when over DA_AUTH_RATE_LIMIT writes 429 with
/// Retry-After (and audits it) and returns true.
bool SignInRateLimited(AppContext& ctx, const RequestContext& rc, http::Response& res);
/// Creates a session token for `user` and audits `sign_in` with `method`
/// (service::UsersService::StartSession).
Result<state::IssuedToken> StartSession(AppContext& ctx, const RequestContext& rc,
                                        const state::User& user, const std::string& method);
/// {id, email, name, is_admin}
nlohmann::json SessionUserJson(const state::User& u);
/// GET /auth/config: {password, magic_link, oidc, oidc_name}.
nlohmann::json SignInOptionsJson(const AppContext& ctx);

}  // namespace da::server
