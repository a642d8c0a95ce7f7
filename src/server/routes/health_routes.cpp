// GET /api/health — liveness plus the state DB schema check (decisions.md §6: 503 when unhealthy).
#include "server/app.h"

namespace da::server {

void RegisterHealthRoutes(Router& r, AppContext& ctx) {
  r.Get("/api/health", AccessLevel::kPublic,
        [&ctx](const RequestContext&, const http::Request&, http::Response& res) {
          int expected = state::StateDb::ExpectedSchemaVersion();
          nlohmann::json body = {{"expected", expected}};
          auto current = ctx.db->RecentSchemaVersion();
          if (!current.ok()) {
            body["db_schema"] = "unreachable";
            body["detail"] = current.status().message();
          } else {
            body["current"] = *current;
            body["db_schema"] = *current == expected ? "ok" : "mismatch";
          }
          bool healthy = body["db_schema"] == "ok";
          body["status"] = healthy ? "ok" : "unhealthy";
          WriteJson(res, healthy ? 200 : 503, body);
        });
}

}  // namespace da::server
