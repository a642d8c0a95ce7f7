#pragma once
/// The table registry (model::TableSpec persisted in `table_registry`): register / update / unregister / list, with validation,
/// optimistic locking and one audit_log row per change.
///
/// Source: shared/reference/seeds/003 (registry module) and decisions.md §1.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "state/state_db.h"
#include "state/read_cache.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::state {

/// Decides whether a source_type names a known connector ("files" and installed ones).
using SourceTypeCheck = std::function<bool(const std::string&)>;

class Registry {
 public:
  Registry(StateDb& db, SourceTypeCheck is_known_source);

  /// Registers `spec` (decoded by model::DecodeRegistration): `name` and `source_type` are
  /// required; an empty `id` is derived from the name (lower-cased, spaces → `_`); the
  /// server-managed fields are set here. Errors: invalid_argument (a field fails validation;
  /// the message names the field), already_exists (same id, or same name under another id →
  /// HTTP 409).
  Result<model::TableSpec> Register(model::TableSpec spec, const std::string& actor);

  /// Updates `id` with the fields `patch` carries (omitted fields keep their values; `id`
  /// cannot change). When the patch carries `version` and it differs from the stored one →
  /// aborted (409). not_found for an unknown id.
  Result<model::TableSpec> Update(const std::string& id, const model::TableSpecPatch& patch,
                                  const std::string& actor);

  /// A grant deleted with its table: (grant id, group id).
  struct RemovedGrant {
    std::string id;
    std::string group_id;
  };
  /// Removes the row, its sync_state and sync_history rows and the table's grants, in one
  /// transaction, so a table registered later under the same id starts with no grants. The
  /// audit row (`unregister_table`) lists the deleted grants (`grants`: [{id, group_id}]) and
  /// counts them (`grants_removed`); `removed_grants`, when given, receives them too. not_found
  /// for an unknown id. (Removing Parquet files and views is the caller's job: the server knows
  /// the paths.)
  Result<model::TableSpec> Unregister(const std::string& id, const std::string& actor,
                                      std::vector<RemovedGrant>* removed_grants = nullptr);

  /// not_found for an unknown id. Get and List answer from a ReadCache (no DB round trip
  /// until the next write through a repo).
  Result<model::TableSpec> Get(const std::string& id);
  /// All rows ordered by id.
  Result<std::vector<model::TableSpec>> List();

  /// Validates a complete record (identifiers, enums, source type, and a non-empty
  /// `sync_schedule` must parse with ParseSchedule → invalid_argument naming the accepted
  /// forms); used by Register/Update and by tests.
  Status Validate(const model::TableSpec& t) const;

 private:
  Result<std::shared_ptr<const std::vector<model::TableSpec>>> Cached();

  StateDb& db_;
  SourceTypeCheck is_known_source_;
  ReadCache<std::vector<model::TableSpec>> cache_;
};

/// Derives an id from a name: trimmed, lower-cased, spaces → `_`.
std::string DeriveTableId(const std::string& name);

}  // namespace da::state
