#include "service/registry_service.h"

#include <filesystem>

#include "common/fs_util.h"
#include "common/log.h"
#include "connectors/builtin.h"
#include "kit/runtime.h"
#include "service/data_files.h"
#include "service/errors.h"

namespace da::service {
namespace {

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

// Lets the table's connector check its source_table against the source's config, e.g. that a
// files table stays inside the files roots (DA_FILES_ROOTS).
Status CheckSourceTable(const InstanceConfig& config, const model::TableSpec& table) {
  auto connector = connectors::BuiltinConnectors().Create(table.source_type);
  if (!connector.ok()) return Status::Ok();
  auto it = config.sources.find(table.source_type);
  const kit::ConnectorConfig source_config =
      it == config.sources.end() ? kit::ConnectorConfig{} : it->second;
  Status st = (*connector)->ValidateSourceTable(table.source_table, source_config);
  if (!st.ok()) return InvalidArgument("source_table: " + st.message());
  return Status::Ok();
}

}  // namespace

nlohmann::json ToJson(const RegistryEntry& e) {
  nlohmann::json j = model::TableSpecToJson(e.table);
  if (e.sync_state) {
    const auto& s = *e.sync_state;
    j["sync_state"] = {{"last_sync", s.last_sync}, {"rows", s.rows}, {"size_bytes", s.size_bytes},
                       {"md5", s.md5}, {"status", s.status}, {"error", s.error}};
  } else {
    j["sync_state"] = nullptr;
  }
  if (e.last_schema_change) j["last_schema_change"] = *e.last_schema_change;
  return j;
}

nlohmann::json ToJson(const RegistryList& l) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& e : l.tables) tables.push_back(ToJson(e));
  return {{"tables", tables}};
}

nlohmann::json ToJson(const UnregisterAnswer& a) { return {{"deleted", a.deleted}}; }

RegistryEntry RegistryService::WithState(model::TableSpec t) {
  RegistryEntry e;
  auto st = ctx_.sync_state.Get(t.id);
  if (st.ok() && st->has_value()) e.sync_state = **st;
  e.table = std::move(t);
  return e;
}

Result<RegistryEntry> RegistryService::Register(const Caller& caller,
                                                const RegisterTableRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_RETURN_IF_ERROR(CheckSourceQuery(request.spec.source_type, request.spec.source_query));
  DA_RETURN_IF_ERROR(CheckSourceTable(ctx_.config, request.spec));
  DA_ASSIGN_OR_RETURN(model::TableSpec t,
                      ctx_.registry.Register(request.spec, caller.principal.email));
  AuditCall(ctx_.db, caller, "registry_table_registered", t.id,
            {{"name", t.name}, {"source_type", t.source_type}});
  return WithState(std::move(t));
}

Result<RegistryList> RegistryService::List(const Caller& caller) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> all, ctx_.registry.List());
  RegistryList out;
  for (auto& t : all) out.tables.push_back(WithState(std::move(t)));
  return out;
}

Result<RegistryEntry> RegistryService::Get(const Caller& caller, const TableIdRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(model::TableSpec t, ctx_.registry.Get(request.id));
  DA_ASSIGN_OR_RETURN(auto change, ctx_.sync_state.LastSchemaChange(t.id));
  RegistryEntry e = WithState(std::move(t));
  e.last_schema_change = nlohmann::json(nullptr);
  if (change.has_value()) {
    auto diff = nlohmann::json::parse(change->schema_change, nullptr, false);
    if (diff.is_object()) {
      diff["synced_at"] = change->synced_at;
      diff["run_id"] = change->run_id;
      diff["status"] = change->status;
      e.last_schema_change = std::move(diff);
    }
  }
  return e;
}

Result<RegistryEntry> RegistryService::Update(const Caller& caller,
                                              const UpdateTableRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  const model::TableSpecPatch& patch = request.patch;
  DA_ASSIGN_OR_RETURN(model::TableSpec before, ctx_.registry.Get(request.id));
  if (patch.Has("source_query") || patch.Has("source_type") || patch.Has("source_table")) {
    model::TableSpec after = before;
    model::ApplyPatch(patch, &after);
    DA_RETURN_IF_ERROR(CheckSourceQuery(after.source_type, after.source_query));
    DA_RETURN_IF_ERROR(CheckSourceTable(ctx_.config, after));
  }
  DA_ASSIGN_OR_RETURN(model::TableSpec t,
                      ctx_.registry.Update(request.id, patch, caller.principal.email));
  AuditCall(ctx_.db, caller, "registry_table_updated", t.id,
            {{"fields", model::PatchToJson(patch)}});
  // A renamed table or changed description republishes its source's views.
  if (t.name != before.name || t.description != before.description) {
    Status st = RepublishSource(t.source_type);
    if (!st.ok()) spdlog::error("republishing {} failed: {}", t.id, st.ToString());
  }
  return WithState(std::move(t));
}

Result<UnregisterAnswer> RegistryService::Unregister(const Caller& caller,
                                                     const TableIdRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  if (ctx_.sync.IsRunning()) {
    return SyncAlreadyInProgress("cannot unregister while a sync runs; retry when it ends");
  }
  std::vector<state::Registry::RemovedGrant> grants;
  DA_ASSIGN_OR_RETURN(model::TableSpec t,
                      ctx_.registry.Unregister(request.id, caller.principal.email, &grants));
  // The grants went in the same transaction as the row (state::Registry::Unregister).
  nlohmann::json removed = nlohmann::json::array();
  for (const auto& g : grants) removed.push_back({{"id", g.id}, {"group_id", g.group_id}});
  AuditCall(ctx_.db, caller, "registry_table_unregistered", t.id,
            {{"name", t.name}, {"grants_removed", std::move(removed)}});
  Status st = RemoveIfExists(ParquetPath(ctx_.config, t));
  if (st.ok()) st = RemoveTreeIfExists(PartitionDir(ctx_.config, t));
  if (st.ok()) st = RepublishSource(t.source_type);
  if (!st.ok()) spdlog::error("cleanup of {} failed: {}", t.id, st.ToString());
  return UnregisterAnswer{t.id};
}

Status RegistryService::RepublishSource(const std::string& source) {
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> all, ctx_.registry.List());
  std::vector<model::TableSpec> of_source;
  for (auto& t : all) {
    if (t.source_type == source) of_source.push_back(std::move(t));
  }
  if (std::filesystem::exists(ctx_.config.ExtractsDir() / source / "extract.duckdb")) {
    kit::ExtractRuntime runtime(kit::RuntimeOptions::FromConfig(ctx_.config),
                                connectors::BuiltinConnectors());
    DA_RETURN_IF_ERROR(runtime.RebuildExtractDb(source, of_source));
  }
  return ctx_.orchestrator.Rebuild().status();
}

}  // namespace da::service
