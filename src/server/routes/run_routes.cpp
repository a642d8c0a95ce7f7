// Sync run history and cancel: GET /api/sync/runs, GET /api/sync/runs/{id},
// POST /api/sync/runs/{id}/cancel (admin). `/api/sync/runs/latest` lives in sync_routes.cpp and is
// registered first, so it wins over the {id} pattern.
#include "server/app.h"

namespace da::server {
namespace {

constexpr int kDefaultRunLimit = 20;
constexpr int kMaxRunLimit = 500;

/// `?limit=` → 1..500 (default 20); invalid_argument otherwise.
Result<int> ParseLimit(const http::Request& req) {
  if (!req.HasQuery("limit")) return kDefaultRunLimit;
  const std::string text = req.Query("limit");
  bool digits = !text.empty() && text.size() <= 6 &&
                text.find_first_not_of("0123456789") == std::string::npos;
  int limit = digits ? std::stoi(text) : 0;
  if (limit < 1 || limit > kMaxRunLimit) {
    return InvalidArgument("limit must be an integer from 1 to " + std::to_string(kMaxRunLimit) +
                           ", got '" + text.substr(0, 32) + "'");
  }
  return limit;
}

}  // namespace

void RegisterRunRoutes(Router& r, AppContext& ctx) {
  // {"runs": [run without `tables`, newest first]}
  r.Get("/api/sync/runs", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          auto limit = ParseLimit(req);
          if (!limit.ok()) return WriteError(res, limit.status(), rc.request_id);
          auto runs = ctx.sync->ListRuns(*limit);
          if (!runs.ok()) return WriteError(res, runs.status(), rc.request_id);
          nlohmann::json list = nlohmann::json::array();
          for (const auto& run : *runs) list.push_back(run.ToJson(/*with_tables=*/false));
          WriteJson(res, 200, {{"runs", list}});
        });

  // The run with its per-table outcomes (RunSummary::ToJson).
  r.Get("/api/sync/runs/{id}", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          const std::string id = req.PathParam("id");
          auto run = ctx.sync->GetRun(id);
          if (!run.ok()) return WriteError(res, run.status(), rc.request_id);
          if (!run->has_value()) {
            return WriteError(res, NotFound("sync run '" + id.substr(0, 64) + "' not found"),
                              rc.request_id);
          }
          WriteJson(res, 200, (*run)->ToJson());
        });

  // Kills the run's extraction and answers with the run as it ended (status cancelled).
  // 404 unknown run; 409 failed_precondition when it already finished.
  r.Post("/api/sync/runs/{id}/cancel", AccessLevel::kAdmin,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           const std::string id = req.PathParam("id");
           auto run = ctx.sync->Cancel(id, rc.principal.email);
           if (!run.ok()) return WriteError(res, run.status(), rc.request_id);
           WriteJson(res, 200, run->ToJson());
         });
}

}  // namespace da::server
