#pragma once
/// Registry use cases (admin only): register, list, get, update and unregister tables.
///
/// Owns what follows a registry change: the connector's check of a source query before it is
/// stored, the audit rows, and republishing the source (its extract.duckdb and the master
/// views) after a rename, a new description or an unregistration; the unregistered table's
/// Parquet files are removed.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"
#include "service/requests.h"
#include "state/sync_state.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::service {

/// A registry row with its sync state, as the admin API shows it.
struct RegistryEntry {
  model::TableSpec table;
  std::optional<state::SyncStateRow> sync_state;  ///< nullopt: never synced
  /// Only for RegistryService::Get: the newest recorded column change {added, removed,
  /// retyped, synced_at, run_id, status}, or null when the columns never changed.
  std::optional<nlohmann::json> last_schema_change;
};
/// TableSpecToJson + `sync_state` ({last_sync, rows, size_bytes, md5, status, error} or
/// null) + `last_schema_change` when set.
nlohmann::json ToJson(const RegistryEntry& e);

struct RegistryList {
  std::vector<RegistryEntry> tables;
};
/// {"tables": [RegistryEntry...]}
nlohmann::json ToJson(const RegistryList& l);

/// POST /api/admin/register-table: the table to register, decoded from its body at the edge
/// (model::DecodeRegistration).
struct RegisterTableRequest {
  model::TableSpec spec;
};
/// PUT /api/admin/registry/{id}: the fields to change (model::DecodePatch; `version` optional).
struct UpdateTableRequest {
  std::string id;
  model::TableSpecPatch patch;
};
struct UnregisterAnswer {
  std::string deleted;  ///< the table id
};
/// {"deleted": id}
nlohmann::json ToJson(const UnregisterAnswer& a);

class RegistryService {
 public:
  explicit RegistryService(const ServiceContext& ctx) : ctx_(ctx) {}

  /// Registers a table. Errors: permission_denied (not an admin), invalid_argument
  /// ("source_query: ..." when the connector refuses the query; a field failing validation,
  /// an unknown connector), already_exists.
  Result<RegistryEntry> Register(const Caller& caller, const RegisterTableRequest& request);
  /// Every registered table with its sync state, ordered by id.
  Result<RegistryList> List(const Caller& caller);
  /// One table with its sync state and last schema change; not_found for an unknown id.
  Result<RegistryEntry> Get(const Caller& caller, const TableIdRequest& request);
  /// Changes the given fields; a rename or new description republishes the source's views
  /// (a failure there is logged, the change stands). Errors as Register, plus not_found and
  /// conflict (version mismatch).
  Result<RegistryEntry> Update(const Caller& caller, const UpdateTableRequest& request);
  /// Removes the table, its sync state, its grants (in the registry row's transaction; the
  /// audit row `registry_table_unregistered` lists them as `grants_removed`: [{id, group_id}]),
  /// its Parquet files and its view. Errors:
  /// failed_precondition "sync_already_in_progress: ..." while a sync runs (errors.h),
  /// not_found.
  Result<UnregisterAnswer> Unregister(const Caller& caller, const TableIdRequest& request);

  /// Rebuilds one source's extract.duckdb from the registry (dropping unregistered tables,
  /// applying renames) and republishes the master views.
  Status RepublishSource(const std::string& source);

 private:
  RegistryEntry WithState(model::TableSpec t);

  ServiceContext ctx_;
};

}  // namespace da::service
