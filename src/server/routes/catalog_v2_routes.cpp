// Catalog v2: GET /api/v2/catalog, /api/v2/schema/{id}, /api/v2/sample/{id}?n= and
// GET /api/catalog/profile/{id}[?refresh=true] (service/catalog_service.h). Every route is
// authenticated and answers only for tables the caller may see (404 unknown id, 403 not
// visible).
#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/identifiers.h"
#include "server/app.h"
#include "server/json_route.h"

namespace da::server {
namespace {

/// `n` of /api/v2/sample: absent → 5; an integer in 1..1000 otherwise (invalid_argument).
Result<service::SampleRequest> DecodeSample(const RouteInput& in) {
  service::SampleRequest request{in.Path("id"), service::kDefaultSampleRows};
  if (!in.HasQuery("n")) return request;
  const std::string text = in.Query("n");
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), request.n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || request.n < 1 ||
      request.n > service::kMaxSampleRows) {
    return InvalidArgument("n must be an integer from 1 to " +
                           std::to_string(service::kMaxSampleRows) + ", got '" +
                           PrintableForMessage(text, 40) + "'");
  }
  return request;
}

/// `refresh` of the profile route: absent/false/0 → false, true/1 → true, else invalid_argument.
Result<service::ProfileRequest> DecodeProfile(const RouteInput& in) {
  service::ProfileRequest request{in.Path("id"), false};
  if (!in.HasQuery("refresh")) return request;
  std::string v = in.Query("refresh");
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (v == "true" || v == "1") {
    request.refresh = true;
  } else if (!(v == "false" || v == "0" || v.empty())) {
    return InvalidArgument("refresh must be true or false, got '" + PrintableForMessage(v, 40) +
                           "'");
  }
  return request;
}

}  // namespace

void RegisterCatalogV2Routes(Router& r, AppContext& ctx) {
  service::CatalogService& catalog = ctx.services->catalog;
  JsonRoutes routes(r);
  routes.Get("/api/v2/catalog", AccessLevel::kAuthenticated,
             [&catalog](const RouteInput& in) { return catalog.Catalog(in.caller()); });
  routes.Get("/api/v2/schema/{id}", AccessLevel::kAuthenticated, [&catalog](const RouteInput& in) {
    return catalog.Schema(in.caller(), {in.Path("id")});
  });
  routes.Get("/api/v2/sample/{id}", AccessLevel::kAuthenticated, Execution::kWorker,
             [&catalog](const RouteInput& in)
      -> Result<service::SampleAnswer> {
    DA_ASSIGN_OR_RETURN(auto request, DecodeSample(in));
    return catalog.Sample(in.caller(), request);
  });
  routes.Get("/api/catalog/profile/{id}", AccessLevel::kAuthenticated,
             [&catalog](const RouteInput& in) -> Result<service::ProfileAnswer> {
               DA_ASSIGN_OR_RETURN(auto request, DecodeProfile(in));
               return catalog.Profile(in.caller(), request);
             });
}

}  // namespace da::server
