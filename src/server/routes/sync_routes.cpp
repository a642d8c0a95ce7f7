// Sync trigger, lock status and the distribution manifest.
#include "common/time_util.h"
#include "server/app.h"

namespace da::server {
namespace {

/// Parses the trigger body: absent/null → all; ["id", ...]; {"tables": [...]} ({} → all).
/// Source: upstream-inventory.md §3.2.
Result<std::optional<std::vector<std::string>>> ParseTriggerBody(const nlohmann::json& body) {
  using Ids = std::optional<std::vector<std::string>>;
  const nlohmann::json* list = nullptr;
  if (body.is_null()) return Ids{};
  if (body.is_array()) {
    list = &body;
  } else if (body.is_object()) {
    // A misspelt key must not turn into "sync everything".
    for (const auto& [key, value] : body.items()) {
      if (key != "tables") {
        return InvalidArgument("unknown field `" + key.substr(0, 64) + "`; the body takes `tables`");
      }
    }
    if (!body.contains("tables") || body["tables"].is_null()) return Ids{};
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
  if (ids.empty()) return Ids{};
  return Ids{std::move(ids)};
}

}  // namespace

void RegisterSyncRoutes(Router& r, AppContext& ctx) {
  r.Post("/api/sync/trigger", AccessLevel::kAdmin, Execution::kWorker,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           auto ids = ParseTriggerBody(*body);
           if (!ids.ok()) return WriteError(res, ids.status(), rc.request_id);
           auto run = ctx.sync->Trigger(*ids, rc.principal.email);
           if (!run.ok()) {
             if (run.status().message() == "sync_already_in_progress") {
               return WriteError(res, 409, "sync_already_in_progress",
                                 "a sync run is already in progress", rc.request_id);
             }
             return WriteError(res, run.status(), rc.request_id);
           }
           nlohmann::json tables = "all";
           if (ids->has_value()) tables = **ids;
           WriteJson(res, 202,
                     {{"status", "triggered"}, {"run_id", run->run_id}, {"tables", tables},
                      {"message", "sync started; poll GET /api/sync/status"}});
         });

  r.Get("/api/sync/status", AccessLevel::kPublic,
        [&ctx](const RequestContext&, const http::Request&, http::Response& res) {
          WriteJson(res, 200, {{"locked", ctx.sync->IsRunning()}});
        });

  r.Get("/api/sync/runs/latest", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto run = ctx.sync->LatestRun();
          if (!run.ok()) return WriteError(res, run.status(), rc.request_id);
          if (!run->has_value()) return WriteError(res, NotFound("no sync run yet"), rc.request_id);
          WriteJson(res, 200, (*run)->ToJson());
        });

  r.Get("/api/sync/manifest", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto all = ctx.registry->List();
          if (!all.ok()) return WriteError(res, all.status(), rc.request_id);
          nlohmann::json tables = nlohmann::json::array();
          for (const auto& t : *all) {
            if (!ctx.access.CanSeeTable(rc.principal, t)) continue;
            auto st = ctx.sync_state->Get(t.id);
            if (!st.ok()) return WriteError(res, st.status(), rc.request_id);
            bool is_remote = !t.IsStored();
            // Partitioned and streamed tables are several files (decisions.md §4).
            std::vector<DataFile> files;
            if (!is_remote) files = ListDataFiles(ctx.PartitionDir(t), ctx.digests);
            bool synced = st->has_value() && !(*st)->last_sync.empty();
            bool has_data = files.empty() ? st->has_value() && !(*st)->md5.empty() : true;
            if (!is_remote && !has_data) continue;
            std::string md5 = has_data && st->has_value() ? (*st)->md5 : "";
            int64_t size = has_data && st->has_value() ? (*st)->size_bytes : 0;
            if (!files.empty()) {
              md5 = CombinedMd5(files);
              size = 0;
              for (const auto& f : files) size += f.size_bytes;
            }
            nlohmann::json e = {{"id", t.id},
                                {"name", t.name},
                                {"query_mode", t.query_mode},
                                {"source_type", t.source_type},
                                {"md5", md5},
                                {"size_bytes", size},
                                {"rows", synced ? (*st)->rows : 0},
                                {"updated", synced ? nlohmann::json((*st)->last_sync)
                                                   : nlohmann::json(nullptr)}};
            if (!files.empty()) {
              nlohmann::json list = nlohmann::json::array();
              for (const auto& f : files) {
                list.push_back({{"name", f.name},
                                {"md5", f.md5},
                                {"size_bytes", f.size_bytes},
                                {"download_url", "/api/data/" + t.id + "/files/" + f.name}});
              }
              e["files"] = std::move(list);
            } else if (!is_remote) {
              e["download_url"] = "/api/data/" + t.id + "/download";
            }
            tables.push_back(std::move(e));
          }
          WriteJson(res, 200, {{"server_time", NowIso()}, {"tables", tables}});
        });
}

}  // namespace da::server
