// GET /api/catalog/tables — the tables the caller may see, with their sync state.
#include "server/app.h"

namespace da::server {

void RegisterCatalogRoutes(Router& r, AppContext& ctx) {
  r.Get("/api/catalog/tables", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const httplib::Request&, httplib::Response& res) {
          auto all = ctx.registry->List();
          if (!all.ok()) return WriteError(res, all.status(), rc.request_id);
          auto views = ctx.orchestrator->PublishedViews();
          nlohmann::json tables = nlohmann::json::array();
          for (const auto& t : *all) {
            if (!ctx.access.CanSeeTable(rc.principal, t)) continue;
            auto st = ctx.sync_state->Get(t.id);
            if (!st.ok()) return WriteError(res, st.status(), rc.request_id);
            nlohmann::json e = {{"id", t.id},
                                {"name", t.name},
                                {"description", t.description},
                                {"source_type", t.source_type},
                                {"query_mode", t.query_mode},
                                {"published", views.count(t.name) > 0},
                                {"rows", nullptr},
                                {"size_bytes", nullptr},
                                {"updated", nullptr},
                                {"status", "never_synced"},
                                {"error", ""}};
            if (st->has_value()) {
              const auto& s = **st;
              e["rows"] = s.rows;
              e["size_bytes"] = s.size_bytes;
              e["updated"] = s.last_sync.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_sync);
              e["status"] = s.status;
              e["error"] = s.error;
            }
            tables.push_back(std::move(e));
          }
          WriteJson(res, 200, {{"tables", tables}});
        });
}

}  // namespace da::server
