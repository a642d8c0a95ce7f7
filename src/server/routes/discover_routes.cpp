// POST /api/admin/discover-and-register?source=<connector>&dry_run=true|false with an optional
// body {"tables": [ids]}: service/discovery_service.h.
#include "server/app.h"
#include "server/json_route.h"

namespace da::server {
namespace {

Result<service::DiscoverRequest> DecodeDiscover(const RouteInput& in) {
  service::DiscoverRequest request;
  const std::string dry = in.HasQuery("dry_run") ? in.Query("dry_run") : "false";
  if (dry != "true" && dry != "false" && dry != "1" && dry != "0") {
    return InvalidArgument("dry_run must be true or false");
  }
  request.dry_run = dry == "true" || dry == "1";
  request.source = in.Query("source");
  DA_ASSIGN_OR_RETURN(auto body, in.Body());
  if (body.is_null()) return request;
  if (!body.is_object()) return InvalidArgument("body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "tables") return InvalidArgument("unknown field '" + key + "' (accepted: tables)");
    if (!value.is_array()) return InvalidArgument("tables must be an array of table ids");
    request.picked.emplace();
    for (const auto& id : value) {
      if (!id.is_string()) return InvalidArgument("tables must be an array of table ids");
      request.picked->insert(id.get<std::string>());
    }
  }
  return request;
}

}  // namespace

void RegisterDiscoverRoutes(Router& r, AppContext& ctx) {
  service::DiscoveryService& discovery = ctx.services->discovery;
  JsonRoutes(r).Post("/api/admin/discover-and-register", AccessLevel::kAdmin, Execution::kWorker,
                     [&discovery](const RouteInput& in) -> Result<service::DiscoverAnswer> {
                       DA_ASSIGN_OR_RETURN(auto request, DecodeDiscover(in));
                       return discovery.DiscoverAndRegister(in.caller(), request);
                     });
}

}  // namespace da::server
