#pragma once
/// The API description table: one EndpointDoc per route, rendered as an OpenAPI 3.0 document
/// (`GET /openapi.json`) and as a self-contained HTML reference (`GET /docs`).
///
/// The table is kept true by CompareWithRoutes (tests compare it with Router::routes()): every
/// registered route must be documented with the same access level, and nothing undocumented is
/// claimed. Route patterns are regexes (`/api/data/([^/]+)/download`); documented paths use
/// OpenAPI templates (`/api/data/{id}/download`); both normalise to `/api/data/{}/download`.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/router.h"

namespace da::server {

/// A path, query or header parameter.
struct ParamDoc {
  std::string name;
  std::string in;           ///< path | query | header
  std::string type;         ///< JSON Schema type: string | integer | boolean | number
  bool required = false;
  std::string description;
};

/// One response of an endpoint.
struct ResponseDoc {
  int status = 200;
  std::string description;
  nlohmann::json schema;  ///< JSON Schema of the body; null = no body
  std::string content_type = "application/json";
};

/// One endpoint: method + OpenAPI path template + access level + shapes.
struct EndpointDoc {
  std::string method;  ///< GET | POST | PUT | DELETE
  std::string path;    ///< OpenAPI template, e.g. "/api/data/{id}/download"
  AccessLevel access = AccessLevel::kAuthenticated;
  std::string tag;  ///< group on /docs: Health, Registry, Sync, Data, Catalog, Query, Operations
  std::string summary;
  std::string description;
  std::vector<ParamDoc> params;
  nlohmann::json request_body;  ///< JSON Schema of the request body; null = none
  std::vector<ResponseDoc> responses;
  bool request_body_required = true;  ///< false when an absent body has a meaning
};

/// `s` with & < > " ' as HTML entities.
std::string HtmlEscape(const std::string& s);

/// Appends the access-control and sign-in endpoints (auth_openapi.cpp).
void AppendAuthEndpoints(std::vector<EndpointDoc>* endpoints);

/// Every endpoint da serves, in /docs order.
const std::vector<EndpointDoc>& ApiEndpoints();

/// The OpenAPI 3.0.3 document for `endpoints`: info (title, `version`), a bearer security
/// scheme, one operation per endpoint with parameters, request body, responses (the shared
/// Error schema for error statuses), `x-access` (public | authenticated | admin), and
/// `security: []` on public operations.
nlohmann::json BuildOpenApi(const std::vector<EndpointDoc>& endpoints, const std::string& version);

/// A self-contained HTML page (inline CSS, no scripts, no network) listing `endpoints` by tag
/// with method, path, access, parameters and schemas. All text is HTML-escaped.
std::string RenderDocsHtml(const std::vector<EndpointDoc>& endpoints, const std::string& version);

/// Canonical form of a route pattern or path template: every regex group `( ... )` and every
/// `{name}` becomes `{}` (so `/api/data/([^/]+)/download` == `/api/data/{id}/download`).
std::string NormalizeRoutePath(const std::string& path);

/// Differences between the description table and the registered routes, as "METHOD path"
/// strings (normalised paths).
struct DocDrift {
  std::vector<std::string> undocumented;     ///< registered, not in the table
  std::vector<std::string> not_registered;   ///< in the table, not registered
  std::vector<std::string> access_mismatch;  ///< both, with different access levels
  std::vector<std::string> duplicates;       ///< documented more than once
  bool ok() const {
    return undocumented.empty() && not_registered.empty() && access_mismatch.empty() &&
           duplicates.empty();
  }
};
DocDrift CompareWithRoutes(const std::vector<EndpointDoc>& endpoints,
                           const std::vector<RouteInfo>& routes);

/// "public" | "authenticated" | "admin".
std::string AccessName(AccessLevel access);

}  // namespace da::server
