// Admin registry endpoints: register, list, get, update, unregister (service/registry_service.h).
#include "model/table_spec_json.h"
#include "server/app.h"
#include "server/json_route.h"

namespace da::server {

void RegisterRegistryRoutes(Router& r, AppContext& ctx) {
  service::RegistryService& registry = ctx.services->registry;
  JsonRoutes routes(r);
  routes.Post("/api/admin/register-table", AccessLevel::kAdmin, Execution::kWorker,
              [&registry](const RouteInput& in)
      -> Result<service::RegistryEntry> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    DA_ASSIGN_OR_RETURN(auto spec, model::DecodeRegistration(body));
    return registry.Register(in.caller(), {std::move(spec)});
  }, 201);
  routes.Get("/api/admin/registry", AccessLevel::kAdmin,
             [&registry](const RouteInput& in) { return registry.List(in.caller()); });
  routes.Get("/api/admin/registry/{id}", AccessLevel::kAdmin, [&registry](const RouteInput& in) {
    return registry.Get(in.caller(), {in.Path("id")});
  });
  routes.Put("/api/admin/registry/{id}", AccessLevel::kAdmin, [&registry](const RouteInput& in)
      -> Result<service::RegistryEntry> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    if (!body.is_object()) return Malformed("body must be a JSON object of fields to change");
    // Type and unknown-field errors first, so they win over not_found.
    DA_ASSIGN_OR_RETURN(auto patch, model::DecodePatch(body));
    return registry.Update(in.caller(), {in.Path("id"), std::move(patch)});
  });
  routes.Delete("/api/admin/registry/{id}", AccessLevel::kAdmin, [&registry](const RouteInput& in) {
    return registry.Unregister(in.caller(), {in.Path("id")});
  });
}

}  // namespace da::server
