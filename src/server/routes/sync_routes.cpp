// Sync trigger, lock status, the latest run (service/sync_service.h) and the distribution
// manifest (service/distribution_service.h).
#include "server/app.h"
#include "server/json_route.h"

namespace da::server {
namespace {

/// The trigger body: absent/null → all; ["id", ...]; {"tables": [...]} ({} → all).
/// Source: upstream-inventory.md §3.2.
Result<service::TriggerRequest> DecodeTrigger(const nlohmann::json& body) {
  const nlohmann::json* list = nullptr;
  if (body.is_null()) return service::TriggerRequest{};
  if (body.is_array()) {
    list = &body;
  } else if (body.is_object()) {
    // A misspelt key must not turn into "sync everything".
    for (const auto& [key, value] : body.items()) {
      if (key != "tables") {
        return InvalidArgument("unknown field `" + key.substr(0, 64) + "`; the body takes `tables`");
      }
    }
    if (!body.contains("tables") || body["tables"].is_null()) return service::TriggerRequest{};
    if (!body["tables"].is_array()) return InvalidArgument("`tables` must be a list of strings");
    list = &body["tables"];
  } else {
    return InvalidArgument(
        "body must be a list of table ids, an object with a `tables` list, or null");
  }
  std::vector<std::string> ids;
  for (const auto& v : *list) {
    if (!v.is_string()) return InvalidArgument("all entries in `tables` must be strings");
    ids.push_back(v.get<std::string>());
  }
  if (ids.empty()) return service::TriggerRequest{};
  return service::TriggerRequest{std::move(ids)};
}

}  // namespace

void RegisterSyncRoutes(Router& r, AppContext& ctx) {
  service::SyncService& sync = ctx.services->sync;
  service::DistributionService& distribution = ctx.services->distribution;
  JsonRoutes routes(r);
  routes.Post("/api/sync/trigger", AccessLevel::kAdmin, Execution::kWorker, [&sync](const RouteInput& in)
      -> Result<service::TriggerAnswer> {
    DA_ASSIGN_OR_RETURN(auto body, in.Body());
    DA_ASSIGN_OR_RETURN(auto request, DecodeTrigger(body));
    return sync.Trigger(in.caller(), request);
  }, 202);
  routes.Get("/api/sync/status", AccessLevel::kPublic, [&sync](const RouteInput&) {
    return Result<service::SyncStatusAnswer>(sync.LockStatus());
  });
  routes.Get("/api/sync/runs/latest", AccessLevel::kAuthenticated,
             [&sync](const RouteInput& in) { return sync.LatestRun(in.caller()); });
  routes.Get("/api/sync/manifest", AccessLevel::kAuthenticated,
             [&distribution](const RouteInput& in) { return distribution.Manifest(in.caller()); });
}

}  // namespace da::server
