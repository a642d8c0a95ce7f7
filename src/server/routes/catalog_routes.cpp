// GET /api/catalog/tables — the tables the caller may see, with their sync state
// (service/catalog_service.h; the answer is cached per caller there).
#include "server/app.h"
#include "server/json_route.h"

namespace da::server {

void RegisterCatalogRoutes(Router& r, AppContext& ctx) {
  service::CatalogService& catalog = ctx.services->catalog;
  JsonRoutes(r).Get("/api/catalog/tables", AccessLevel::kAuthenticated,
                    [&catalog](const RouteInput& in) { return catalog.Tables(in.caller()); });
}

}  // namespace da::server
