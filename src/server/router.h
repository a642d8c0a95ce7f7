#pragma once
/// The HTTP layer over cpp-httplib: routes with an access level, request ids, bearer-token
/// authentication, JSON error bodies and a last-resort catch per request.
///
/// Error body (decisions.md §11): {"error": {"code": "...", "message": "...", "request_id": "..."}}.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "state/users.h"

namespace da::server {

enum class AccessLevel { kPublic, kAuthenticated, kAdmin };

/// What a handler knows about its request beyond httplib's Request.
struct RequestContext {
  std::string request_id;
  state::Principal principal;  ///< empty for public routes without credentials
  bool authenticated = false;
};

using Handler =
    std::function<void(const RequestContext&, const httplib::Request&, httplib::Response&)>;
/// Resolves a bearer token to a principal (unauthenticated on failure).
using Authenticator = std::function<Result<state::Principal>(const std::string& token)>;

/// A registered route, kept for introspection (docs, OpenAPI later).
struct RouteInfo {
  std::string method;
  std::string pattern;
  AccessLevel access;
};

class Router {
 public:
  Router(httplib::Server& server, Authenticator authenticator);

  void Get(const std::string& pattern, AccessLevel access, Handler handler);
  void Post(const std::string& pattern, AccessLevel access, Handler handler);
  void Put(const std::string& pattern, AccessLevel access, Handler handler);
  void Delete(const std::string& pattern, AccessLevel access, Handler handler);
  const std::vector<RouteInfo>& routes() const { return routes_; }

 private:
  httplib::Server::Handler Wrap(const std::string& method, const std::string& pattern,
                                AccessLevel access, Handler handler);
  httplib::Server& server_;
  Authenticator authenticator_;
  std::vector<RouteInfo> routes_;
};

/// Writes `body` as application/json with `status`.
void WriteJson(httplib::Response& res, int status, const nlohmann::json& body);
/// Writes the JSON error body for `status` (HTTP status from HttpStatusFor).
void WriteError(httplib::Response& res, const Status& status, const std::string& request_id);
/// Writes an error with an explicit HTTP status and code name.
void WriteError(httplib::Response& res, int http_status, const std::string& code,
                const std::string& message, const std::string& request_id);
/// Parses a JSON request body; an empty body gives `null`. Malformed JSON → malformed.
Result<nlohmann::json> ParseJsonBody(const httplib::Request& req);

}  // namespace da::server
