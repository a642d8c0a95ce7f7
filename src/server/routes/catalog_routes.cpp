// GET /api/catalog/tables — the tables the caller may see, with their sync state.
#include <map>
#include <memory>
#include <mutex>

#include "server/app.h"

namespace da::server {
namespace {

/// The serialised answer per caller, valid while neither the state DB (registry, sync state:
/// StateDb::Generation) nor the published view set (Orchestrator::PublishGeneration) changed.
/// Keyed by user id and admin flag, the inputs of today's access decision. The hottest read of
/// agents and dashboards then costs no JSON building at all.
class CatalogCache {
 public:
  struct Key {
    uint64_t db_generation = 0;
    uint64_t publish_generation = 0;
  };

  /// The cached body for `who` when it was built at `key`; nullptr otherwise.
  std::shared_ptr<const std::string> Find(const std::string& who, const Key& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(who);
    if (it == entries_.end() || it->second.key.db_generation != key.db_generation ||
        it->second.key.publish_generation != key.publish_generation) {
      return nullptr;
    }
    return it->second.body;
  }

  void Store(const std::string& who, const Key& key, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() >= kMaxCallers) entries_.clear();
    entries_[who] = Entry{key, std::make_shared<const std::string>(std::move(body))};
  }

 private:
  static constexpr size_t kMaxCallers = 4096;
  struct Entry {
    Key key;
    std::shared_ptr<const std::string> body;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace

void RegisterCatalogRoutes(Router& r, AppContext& ctx) {
  auto cache = std::make_shared<CatalogCache>();
  r.Get("/api/catalog/tables", AccessLevel::kAuthenticated,
        [&ctx, cache](const RequestContext& rc, const http::Request&, http::Response& res) {
          const std::string who = rc.principal.user_id + (rc.principal.is_admin ? "#admin" : "#user");
          // Read before building: a change while building makes the stored key stale, never
          // the answer newer than its key.
          const CatalogCache::Key key{ctx.db->Generation(), ctx.orchestrator->PublishGeneration()};
          if (auto body = cache->Find(who, key)) {
            res.status = 200;
            res.SetContent(*body, "application/json");
            return;
          }
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
          std::string body = nlohmann::json({{"tables", tables}}).dump();
          cache->Store(who, key, body);
          res.status = 200;
          res.SetContent(std::move(body), "application/json");
        });
}

}  // namespace da::server
