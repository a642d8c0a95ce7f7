// Admin registry endpoints: register, list, get, update, unregister.
#include "common/fs_util.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "connectors/builtin.h"
#include "kit/runtime.h"
#include "server/app.h"
#include "server/routes/auth_json.h"

namespace da::server {
namespace {

nlohmann::json WithState(AppContext& ctx, const model::TableSpec& t) {
  nlohmann::json j = model::TableSpecToJson(t);
  auto st = ctx.sync_state->Get(t.id);
  if (st.ok() && st->has_value()) {
    const auto& s = **st;
    j["sync_state"] = {{"last_sync", s.last_sync}, {"rows", s.rows}, {"size_bytes", s.size_bytes},
                       {"md5", s.md5}, {"status", s.status}, {"error", s.error}};
  } else {
    j["sync_state"] = nullptr;
  }
  return j;
}

// Rebuilds one source's extract.duckdb from the registry (dropping unregistered tables,
// applying renames) and republishes the master views.
Status RepublishSource(AppContext& ctx, const std::string& source) {
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> all, ctx.registry->List());
  std::vector<model::TableSpec> of_source;
  for (auto& t : all) {
    if (t.source_type == source) of_source.push_back(std::move(t));
  }
  if (std::filesystem::exists(ctx.config.ExtractsDir() / source / "extract.duckdb")) {
    kit::ExtractRuntime runtime(kit::RuntimeOptions::FromConfig(ctx.config),
                               connectors::BuiltinConnectors());
    DA_RETURN_IF_ERROR(runtime.RebuildExtractDb(source, of_source));
  }
  return ctx.orchestrator->Rebuild().status();
}

// Lets the table's connector check its source_query (e.g. a Keboola export filter) before the
// registry stores it. Unknown source types are left to the registry's own validation.
Status CheckSourceQuery(const std::string& source_type, const std::string& source_query) {
  if (source_query.empty()) return Status::Ok();
  auto connector = connectors::BuiltinConnectors().Create(source_type);
  if (!connector.ok()) return Status::Ok();
  Status st = (*connector)->ValidateSourceQuery(source_query);
  if (!st.ok()) return InvalidArgument("source_query: " + st.message());
  return Status::Ok();
}

/// The string field `key` of a JSON object body, or `fallback` when absent or not a string.
std::string StringField(const nlohmann::json& body, const char* key, const std::string& fallback) {
  if (!body.is_object()) return fallback;
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

void RegisterRegistryRoutes(Router& r, AppContext& ctx) {
  r.Post("/api/admin/register-table", AccessLevel::kAdmin, Execution::kWorker,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           if (Status st = CheckSourceQuery(StringField(*body, "source_type", ""),
                                            StringField(*body, "source_query", ""));
               !st.ok()) {
             return WriteError(res, st, rc.request_id);
           }
           auto spec = model::DecodeRegistration(*body);
           if (!spec.ok()) return WriteError(res, spec.status(), rc.request_id);
           auto t = ctx.registry->Register(std::move(*spec), rc.principal.email);
           if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
           AuditRequest(*ctx.db, rc, "registry_table_registered", t->id,
                        {{"name", t->name}, {"source_type", t->source_type}});
           WriteJson(res, 201, WithState(ctx, *t));
         });

  r.Get("/api/admin/registry", AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto all = ctx.registry->List();
          if (!all.ok()) return WriteError(res, all.status(), rc.request_id);
          nlohmann::json tables = nlohmann::json::array();
          for (const auto& t : *all) tables.push_back(WithState(ctx, t));
          WriteJson(res, 200, {{"tables", tables}});
        });

  const std::string kItem = "/api/admin/registry/{id}";
  r.Get(kItem, AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          auto t = ctx.registry->Get(req.PathParam("id"));
          if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
          nlohmann::json out = WithState(ctx, *t);
          // The newest recorded column change: {synced_at, run_id, status, added, removed,
          // retyped}, or null when the columns never changed.
          auto change = ctx.sync_state->LastSchemaChange(t->id);
          if (!change.ok()) return WriteError(res, change.status(), rc.request_id);
          out["last_schema_change"] = nullptr;
          if (change->has_value()) {
            auto diff = nlohmann::json::parse((*change)->schema_change, nullptr, false);
            if (diff.is_object()) {
              diff["synced_at"] = (*change)->synced_at;
              diff["run_id"] = (*change)->run_id;
              diff["status"] = (*change)->status;
              out["last_schema_change"] = std::move(diff);
            }
          }
          WriteJson(res, 200, out);
        });

  r.Put(kItem, AccessLevel::kAdmin,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          auto body = ParseJsonBody(req);
          if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
          if (!body->is_object()) {
            return WriteError(res, Malformed("body must be a JSON object of fields to change"),
                              rc.request_id);
          }
          // Type and unknown-field errors first, so they win over not_found.
          auto patch = model::DecodePatch(*body);
          if (!patch.ok()) return WriteError(res, patch.status(), rc.request_id);
          auto before = ctx.registry->Get(req.PathParam("id"));
          if (!before.ok()) return WriteError(res, before.status(), rc.request_id);
          if (body->contains("source_query") || body->contains("source_type")) {
            if (Status st = CheckSourceQuery(StringField(*body, "source_type", before->source_type),
                                             StringField(*body, "source_query", before->source_query));
                !st.ok()) {
              return WriteError(res, st, rc.request_id);
            }
          }
          auto t = ctx.registry->Update(req.PathParam("id"), *patch, rc.principal.email);
          if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
          AuditRequest(*ctx.db, rc, "registry_table_updated", t->id, {{"fields", *body}});
          // A renamed table or changed description republishes its source's views.
          if (t->name != before->name || t->description != before->description) {
            Status st = RepublishSource(ctx, t->source_type);
            if (!st.ok()) spdlog::error("republishing {} failed: {}", t->id, st.ToString());
          }
          WriteJson(res, 200, WithState(ctx, *t));
        });

  r.Delete(kItem, AccessLevel::kAdmin,
           [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
             if (ctx.sync->IsRunning()) {
               return WriteError(res, 409, "sync_already_in_progress",
                                 "cannot unregister while a sync runs; retry when it ends",
                                 rc.request_id);
             }
             auto t = ctx.registry->Unregister(req.PathParam("id"), rc.principal.email);
             if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
             AuditRequest(*ctx.db, rc, "registry_table_unregistered", t->id, {{"name", t->name}});
             Status st = RemoveIfExists(ctx.ParquetPath(*t));
             if (st.ok()) st = RemoveTreeIfExists(ctx.PartitionDir(*t));
             if (st.ok()) st = RepublishSource(ctx, t->source_type);
             if (!st.ok()) spdlog::error("cleanup of {} failed: {}", t->id, st.ToString());
             WriteJson(res, 200, {{"deleted", t->id}});
           });
}

}  // namespace da::server
