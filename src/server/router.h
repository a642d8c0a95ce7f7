#pragma once
/// The API layer over the HTTP engine (src/http: handlers see da::http::Request/Response):
/// routes with an access level, request ids, bearer-token authentication, JSON error bodies and
/// a last-resort catch per request.
///
/// Credentials: `Authorization: Bearer <token>` or, without it, the `da_session` cookie. A
/// cookie-authenticated POST/PUT/PATCH/DELETE on a non-public route must carry the CSRF token
/// (CsrfOk) or gets 403 `csrf_failed`. No or bad credentials on a non-public route → 401;
/// a non-admin on an admin route → 403.
///
/// Error body (decisions.md §11): {"error": {"code": "...", "message": "...", "request_id": "..."}}.
///
/// A route whose operation in openapi.yaml has a JSON requestBody schema gets its body checked
/// after authentication and before the handler (openapi_validator.h); a violation is answered
/// with the error body naming the field.
///
/// Every routed request is counted in the router's MetricsRegistry (see metrics.h):
/// `da_http_requests_total{route,method,status}` and `da_http_request_duration_seconds{route}`,
/// labelled with the route *template* (e.g. `/api/data/{id}/download`), never the raw path, so
/// label cardinality stays bounded. The duration is the handler's time (auth + handler); a
/// streamed body (downloads) is written after it. A request refused because the worker queue
/// is full (503) never reaches the router and is not counted.
#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "http/message.h"
#include "http/server.h"
#include "server/metrics.h"
#include "state/users.h"

namespace da::server {

class BodySchema;

enum class AccessLevel { kPublic, kAuthenticated, kAdmin };

/// What a handler knows about its request beyond the http::Request.
struct RequestContext {
  std::string request_id;
  state::Principal principal;  ///< empty for public routes without credentials
  bool authenticated = false;
  bool via_cookie = false;  ///< authenticated by the `da_session` cookie (not a bearer token)
  std::string client_ip;    ///< http::ClientAddress: the peer, or the client a trusted proxy names
};

/// Browser session cookie (an opaque session token) and the CSRF double-submit cookie, which is
/// named `__Host-da_csrf` on https (the browser then refuses it from a sibling subdomain or
/// plain http) and `da_csrf` otherwise.
inline constexpr const char* kSessionCookie = "da_session";
inline constexpr const char* kCsrfCookie = "da_csrf";
inline constexpr const char* kCsrfCookieHttps = "__Host-da_csrf";

/// The value of cookie `name` in the request's Cookie header(s); "" when absent.
std::string CookieValue(const http::Request& req, const std::string& name);
/// The CSRF cookie: `__Host-da_csrf` when sent, else `da_csrf`; "" when neither is.
std::string CsrfCookieValue(const http::Request& req);
/// True when the `X-CSRF-Token` header (or the form field `csrf_token` of a
/// form-urlencoded body) equals the non-empty CSRF cookie (CsrfCookieValue).
bool CsrfOk(const http::Request& req);
/// True when the request came over TLS as far as we can tell (`X-Forwarded-Proto: https`).
bool RequestIsHttps(const http::Request& req);
/// The fields of an application/x-www-form-urlencoded body (empty for other bodies).
std::multimap<std::string, std::string> FormFields(const http::Request& req);

using Handler =
    std::function<void(const RequestContext&, const http::Request&, http::Response&)>;
/// Where a route's handler runs (http::Execution): kWorker for long work (queries, password
/// hashing, sync triggers, registration, calls to other services), kInline otherwise.
using http::Execution;
/// Resolves a bearer token (or session cookie) to a principal (unauthenticated on failure);
/// `client_ip` is recorded as the token's last use address.
using Authenticator = std::function<Result<state::Principal>(const std::string& token,
                                                             const std::string& client_ip)>;

/// A registered route, kept for introspection (OpenAPI, /docs, metrics labels).
struct RouteInfo {
  std::string method;
  std::string pattern;  ///< the path template, e.g. `/api/data/{id}/download`
  AccessLevel access;
  Execution execution = Execution::kInline;
};

class Router {
 public:
  Router(http::Server& server, Authenticator authenticator);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  /// Registers a route on the server: `pattern` is a path template (src/http/route_table.h,
  /// e.g. `/api/data/{id}/download`; the handler reads `req.PathParam("id")`). With
  /// `Execution::kWorker` the handler (auth included) runs on the engine's worker pool.
  void Get(const std::string& pattern, AccessLevel access, Execution execution, Handler handler);
  void Post(const std::string& pattern, AccessLevel access, Execution execution, Handler handler);
  void Put(const std::string& pattern, AccessLevel access, Execution execution, Handler handler);
  void Delete(const std::string& pattern, AccessLevel access, Execution execution,
              Handler handler);
  void Patch(const std::string& pattern, AccessLevel access, Execution execution,
             Handler handler);
  /// The same, inline on the io thread (cheap handlers).
  void Get(const std::string& pattern, AccessLevel access, Handler handler) {
    Get(pattern, access, Execution::kInline, std::move(handler));
  }
  void Post(const std::string& pattern, AccessLevel access, Handler handler) {
    Post(pattern, access, Execution::kInline, std::move(handler));
  }
  void Put(const std::string& pattern, AccessLevel access, Handler handler) {
    Put(pattern, access, Execution::kInline, std::move(handler));
  }
  void Delete(const std::string& pattern, AccessLevel access, Handler handler) {
    Delete(pattern, access, Execution::kInline, std::move(handler));
  }
  void Patch(const std::string& pattern, AccessLevel access, Handler handler) {
    Patch(pattern, access, Execution::kInline, std::move(handler));
  }
  /// DA_PUBLIC_URL is https: every routed answer carries Strict-Transport-Security (as do
  /// answers to requests a proxy marks `X-Forwarded-Proto: https`). Call before serving.
  void SetPublicUrlIsHttps(bool is_https) { public_url_is_https_ = is_https; }
  /// DA_TRUSTED_PROXIES: whose X-Forwarded-For names the client (RequestContext::client_ip).
  /// Call before serving.
  void SetTrustedProxies(http::TrustedProxies proxies) { trusted_proxies_ = std::move(proxies); }
  /// Routes in registration order. Complete once the server starts; not changed afterwards.
  const std::vector<RouteInfo>& routes() const { return routes_; }
  /// The registry holding the HTTP request metrics; /metrics renders it (thread-safe).
  MetricsRegistry& metrics() { return metrics_; }

  /// Bucket upper bounds (seconds) of da_http_request_duration_seconds.
  static const std::vector<double>& DurationBuckets();

 private:
  /// Per-route metric children, resolved at registration so the hot path takes no lock:
  /// the counter for a status code is looked up once and cached in `by_status`.
  struct RouteMetrics {
    std::string pattern;
    std::string method;
    Histogram* duration = nullptr;
    std::array<std::atomic<Counter*>, 500> by_status{};  ///< index = HTTP status - 100
  };
  void Record(RouteMetrics& m, int status, double seconds);

  /// The request body schema of the described operation for (method, pattern), or nullptr:
  /// resolved once at registration (openapi_validator.h).
  static const BodySchema* BodySchemaFor(const std::string& method, const std::string& pattern);
  /// True when `schema` is null or accepts the request's body; otherwise writes the 422
  /// invalid_argument answer naming the field and returns false.
  static bool CheckBody(const BodySchema* schema, const http::Request& req,
                        http::Response& res, const std::string& request_id);

  http::Handler Wrap(const std::string& method, const std::string& pattern, AccessLevel access,
                     Execution execution, Handler handler);
  http::Server& server_;
  Authenticator authenticator_;
  bool public_url_is_https_ = false;
  http::TrustedProxies trusted_proxies_;
  std::vector<RouteInfo> routes_;
  MetricsRegistry metrics_;
  CounterFamily& requests_total_;
  HistogramFamily& request_duration_;
  std::deque<RouteMetrics> route_metrics_;  ///< deque: element addresses stay stable
};

/// The HSTS value sent on https answers: one year, subdomains not included (they may be other
/// services).
inline constexpr const char* kHstsValue = "max-age=31536000";

/// Writes `body` as application/json with `status`.
void WriteJson(http::Response& res, int status, const nlohmann::json& body);
/// Writes the JSON error body for `status` (HTTP status from HttpStatusFor).
void WriteError(http::Response& res, const Status& status, const std::string& request_id);
/// Writes an error with an explicit HTTP status and code name.
void WriteError(http::Response& res, int http_status, const std::string& code,
                const std::string& message, const std::string& request_id);
/// Parses a JSON request body; an empty body gives `null`. Malformed JSON → malformed.
Result<nlohmann::json> ParseJsonBody(const http::Request& req);

}  // namespace da::server
