// Sync run history and cancel: GET /api/sync/runs, GET /api/sync/runs/{id},
// POST /api/sync/runs/{id}/cancel (admin; service/sync_service.h). `/api/sync/runs/latest`
// lives in sync_routes.cpp and is registered first, so it wins over the {id} pattern.
#include "server/app.h"
#include "server/json_route.h"

namespace da::server {
namespace {

/// `?limit=` → 1..500 (default 20); invalid_argument otherwise.
Result<service::ListRunsRequest> DecodeListRuns(const RouteInput& in) {
  if (!in.HasQuery("limit")) return service::ListRunsRequest{};
  const std::string text = in.Query("limit");
  bool digits = !text.empty() && text.size() <= 6 &&
                text.find_first_not_of("0123456789") == std::string::npos;
  int limit = digits ? std::stoi(text) : 0;
  if (limit < 1 || limit > service::kMaxRunLimit) {
    return InvalidArgument("limit must be an integer from 1 to " +
                           std::to_string(service::kMaxRunLimit) + ", got '" +
                           text.substr(0, 32) + "'");
  }
  return service::ListRunsRequest{limit};
}

}  // namespace

void RegisterRunRoutes(Router& r, AppContext& ctx) {
  service::SyncService& sync = ctx.services->sync;
  JsonRoutes routes(r);
  routes.Get("/api/sync/runs", AccessLevel::kAdmin, [&sync](const RouteInput& in)
      -> Result<service::RunList> {
    DA_ASSIGN_OR_RETURN(auto request, DecodeListRuns(in));
    return sync.ListRuns(in.caller(), request);
  });
  routes.Get("/api/sync/runs/{id}", AccessLevel::kAdmin, [&sync](const RouteInput& in) {
    return sync.GetRun(in.caller(), {in.Path("id")});
  });
  routes.Post("/api/sync/runs/{id}/cancel", AccessLevel::kAdmin, [&sync](const RouteInput& in) {
    return sync.Cancel(in.caller(), {in.Path("id")});
  });
}

}  // namespace da::server
