#include "state/registry.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "common/identifiers.h"
#include "common/log.h"
#include "common/schedule.h"
#include "common/time_util.h"
#include "state/audit.h"
#include "state/internal.h"

namespace da::state {

using model::TableSpec;
namespace {

constexpr const char* kSelectColumns =
    "id, name, description, source_type, bucket, source_table, source_query, query_mode, "
    "sync_strategy, sync_schedule, primary_key, incremental_column, partition_by, "
    "partition_granularity, registered_by, epoch_us(registered_at), epoch_us(updated_at), "
    "version, schema_policy";

Status ValidateRecord(const TableSpec& t, const SourceTypeCheck& is_known_source,
                      bool check_source_known) {
  DA_RETURN_IF_ERROR(model::Validate(t));
  if (check_source_known && is_known_source && !is_known_source(t.source_type)) {
    return InvalidArgument("source_type '" + t.source_type + "' is not a known connector");
  }
  return Status::Ok();
}

/// An enum's stored name.
template <typename E>
std::string Name(E v) {
  return std::string(model::ToString(v));
}

db::Value Nullable(const std::string& s) {
  if (s.empty()) return std::monostate{};
  return s;
}

/// A stored enum column parsed back; a value no version of da wrote → internal.
template <typename E>
Result<E> StoredEnum(Result<E> (*parse)(std::string_view), const std::string& id,
                     const std::string& text) {
  Result<E> v = parse(text);
  if (!v.ok()) return Internal("table '" + id + "': stored " + v.status().message());
  return v;
}

Result<TableSpec> RowToRecord(const db::QueryResult& r, size_t row) {
  TableSpec t;
  t.id = r.GetString(0, row);
  t.name = r.GetString(1, row);
  t.description = r.GetString(2, row);
  t.source_type = r.GetString(3, row);
  t.bucket = r.GetString(4, row);
  t.source_table = r.GetString(5, row);
  t.source_query = r.GetString(6, row);
  DA_ASSIGN_OR_RETURN(t.query_mode, StoredEnum(model::ParseQueryMode, t.id, r.GetString(7, row)));
  DA_ASSIGN_OR_RETURN(t.sync_strategy,
                      StoredEnum(model::ParseSyncStrategy, t.id, r.GetString(8, row)));
  t.sync_schedule = r.GetString(9, row);
  std::string pk = r.GetString(10, row);
  if (!pk.empty()) {
    nlohmann::json j = nlohmann::json::parse(pk, nullptr, /*allow_exceptions=*/false);
    if (!j.is_array())
      return Internal("table '" + t.id + "': stored primary_key is not a JSON array");
    for (const auto& e : j) {
      if (!e.is_string()) {
        return Internal("table '" + t.id + "': stored primary_key holds a non-string entry");
      }
      t.primary_key.push_back(e.get<std::string>());
    }
  }
  t.incremental_column = r.GetString(11, row);
  t.partition_by = r.GetString(12, row);
  DA_ASSIGN_OR_RETURN(t.partition_granularity,
                      StoredEnum(model::ParsePartitionGranularity, t.id, r.GetString(13, row)));
  t.registered_by = r.GetString(14, row);
  t.registered_at = internal::IsoCell(r, 15, row);
  t.updated_at = internal::IsoCell(r, 16, row);
  t.version = r.GetInt64(17, row);
  DA_ASSIGN_OR_RETURN(t.schema_policy,
                      StoredEnum(model::ParseSchemaPolicy, t.id,
                                 r.IsNull(18, row) ? std::string() : r.GetString(18, row)));
  return t;
}

Result<std::optional<TableSpec>> Load(db::Connection& c, const std::string& id) {
  DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(std::string("SELECT ") + kSelectColumns +
                                                     " FROM table_registry WHERE id = $1",
                                                 {id}));
  if (r.RowCount() == 0) return std::optional<TableSpec>();
  DA_ASSIGN_OR_RETURN(TableSpec t, RowToRecord(r, 0));
  return std::optional<TableSpec>(std::move(t));
}

/// already_exists when another row (id != `self_id`) uses `name` as its view name.
Status CheckNameFree(db::Connection& c, const std::string& name, const std::string& self_id) {
  DA_ASSIGN_OR_RETURN(db::QueryResult r,
                      c.Query("SELECT id FROM table_registry WHERE name = $1 AND id <> $2 LIMIT 1",
                              {name, self_id}));
  if (r.RowCount() > 0) {
    return AlreadyExists("view name '" + name + "' is already in use by table id '" +
                         r.GetString(0, 0) + "'");
  }
  return Status::Ok();
}

std::string PrimaryKeyJson(const TableSpec& t) { return nlohmann::json(t.primary_key).dump(); }

}  // namespace

Registry::Registry(StateDb& db, SourceTypeCheck is_known_source)
    : db_(db), is_known_source_(std::move(is_known_source)) {}

Status Registry::Validate(const TableSpec& t) const {
  return ValidateRecord(t, is_known_source_, /*check_source_known=*/true);
}

Result<TableSpec> Registry::Register(TableSpec t, const std::string& actor) {
  if (t.name.empty()) return InvalidArgument("name is required");
  if (t.id.empty()) t.id = DeriveTableId(t.name);
  model::Normalize(&t);
  DA_RETURN_IF_ERROR(Validate(t));

  int64_t now = NowMicros();
  t.registered_by = actor;
  t.registered_at = IsoFromMicros(now);
  t.updated_at = t.registered_at;
  t.version = 1;

  Result<TableSpec> registered = db_.Write([&](db::Connection& c) -> Result<TableSpec> {
    DA_ASSIGN_OR_RETURN(std::optional<TableSpec> existing, Load(c, t.id));
    if (existing) return AlreadyExists("table '" + t.id + "' is already registered");
    DA_RETURN_IF_ERROR(CheckNameFree(c, t.name, t.id));
    DA_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO table_registry (id, name, description, source_type, bucket, source_table, "
        "source_query, query_mode, sync_strategy, sync_schedule, primary_key, "
        "incremental_column, partition_by, partition_granularity, registered_by, registered_at, "
        "updated_at, version, schema_policy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11, $12, $13, $14, $15, make_timestamp($16), make_timestamp($16), 1, $17)",
        {t.id, t.name, Nullable(t.description), t.source_type, Nullable(t.bucket),
         Nullable(t.source_table), Nullable(t.source_query), Name(t.query_mode), Name(t.sync_strategy),
         Nullable(t.sync_schedule), PrimaryKeyJson(t), Nullable(t.incremental_column),
         Nullable(t.partition_by), Nullable(Name(t.partition_granularity)), t.registered_by, now,
         Name(t.schema_policy)}));
    return t;
  });
  // Audited after the commit, in a transaction of its own: auditing never blocks the change.
  if (registered.ok()) Audit(db_, actor, "register_table", t.id, model::TableSpecToJson(t).dump());
  return registered;
}

Result<TableSpec> Registry::Update(const std::string& id, const model::TableSpecPatch& patch,
                                     const std::string& actor) {
  if (patch.id && *patch.id != id) {
    return InvalidArgument("id cannot change (path id '" + model::Shown(id) + "', body id '" +
                           model::Shown(*patch.id) + "')");
  }
  const std::optional<int64_t>& expected_version = patch.version;

  Result<TableSpec> updated = db_.Write([&](db::Connection& c) -> Result<TableSpec> {
    DA_ASSIGN_OR_RETURN(std::optional<TableSpec> stored, Load(c, id));
    if (!stored) return NotFound("table '" + id + "' is not registered");
    if (expected_version && *expected_version != stored->version) {
      return Aborted("version mismatch: expected " + std::to_string(*expected_version) +
                     ", stored " + std::to_string(stored->version));
    }
    TableSpec t = *stored;
    model::ApplyPatch(patch, &t);
    // Leaving materialized drops the source query unless the patch sets one explicitly.
    if (stored->query_mode == model::QueryMode::kMaterialized &&
        t.query_mode != model::QueryMode::kMaterialized && !patch.Has("source_query")) {
      t.source_query.clear();
    }
    model::Normalize(&t);
    // A connector that was uninstalled must not block unrelated edits of its tables.
    DA_RETURN_IF_ERROR(ValidateRecord(t, is_known_source_,
                                      /*check_source_known=*/t.source_type != stored->source_type));
    if (t.name != stored->name) DA_RETURN_IF_ERROR(CheckNameFree(c, t.name, t.id));

    int64_t now = NowMicros();
    t.version = stored->version + 1;
    t.updated_at = IsoFromMicros(now);
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("UPDATE table_registry SET name = $1, description = $2, source_type = $3, "
                "bucket = $4, source_table = $5, source_query = $6, query_mode = $7, "
                "sync_strategy = $8, sync_schedule = $9, primary_key = $10, "
                "incremental_column = $11, partition_by = $12, partition_granularity = $13, "
                "updated_at = make_timestamp($14), version = $15, schema_policy = $18 "
                "WHERE id = $16 AND version = $17",
                {t.name, Nullable(t.description), t.source_type, Nullable(t.bucket),
                 Nullable(t.source_table), Nullable(t.source_query), Name(t.query_mode), Name(t.sync_strategy),
                 Nullable(t.sync_schedule), PrimaryKeyJson(t), Nullable(t.incremental_column),
                 Nullable(t.partition_by), Nullable(Name(t.partition_granularity)), now, t.version, t.id,
                 stored->version, Name(t.schema_policy)}));
    if (r.RowsChanged() != 1) {
      return Aborted("table '" + id + "' changed concurrently; reload and retry");
    }
    return t;
  });
  if (updated.ok()) Audit(db_, actor, "update_table", id, model::PatchToJson(patch).dump());
  return updated;
}

Result<TableSpec> Registry::Unregister(const std::string& id, const std::string& actor,
                                       std::vector<RemovedGrant>* removed_grants) {
  std::vector<RemovedGrant> grants;
  Result<TableSpec> removed = db_.Write([&](db::Connection& c) -> Result<TableSpec> {
    DA_ASSIGN_OR_RETURN(std::optional<TableSpec> stored, Load(c, id));
    if (!stored) return NotFound("table '" + id + "' is not registered");
    DA_RETURN_IF_ERROR(c.Execute("DELETE FROM sync_history WHERE table_id = $1", {id}));
    DA_RETURN_IF_ERROR(c.Execute("DELETE FROM sync_state WHERE table_id = $1", {id}));
    // Grants die with their table: a table registered later under the same id starts with none.
    DA_ASSIGN_OR_RETURN(db::QueryResult listed,
                        c.Query("SELECT id, group_id FROM resource_grants WHERE "
                                "resource_type = 'table' AND resource_id = $1 ORDER BY id",
                                {id}));
    for (size_t i = 0; i < listed.RowCount(); ++i) {
      grants.push_back({listed.GetString(0, i), listed.GetString(1, i)});
    }
    DA_RETURN_IF_ERROR(c.Execute(
        "DELETE FROM resource_grants WHERE resource_type = 'table' AND resource_id = $1", {id}));
    DA_RETURN_IF_ERROR(c.Execute("DELETE FROM table_registry WHERE id = $1", {id}));
    return std::move(*stored);
  });
  if (removed.ok()) {
    nlohmann::json params = model::TableSpecToJson(*removed);
    params["grants_removed"] = grants.size();
    nlohmann::json listed = nlohmann::json::array();
    for (const auto& g : grants) listed.push_back({{"id", g.id}, {"group_id", g.group_id}});
    params["grants"] = std::move(listed);
    Audit(db_, actor, "unregister_table", id, params.dump());
    if (removed_grants != nullptr) *removed_grants = std::move(grants);
  }
  return removed;
}

Result<TableSpec> Registry::Get(const std::string& id) {
  DA_ASSIGN_OR_RETURN(auto all, Cached());
  for (const auto& t : *all) {
    if (t.id == id) return t;
  }
  return NotFound("table '" + id + "' is not registered");
}

Result<std::vector<TableSpec>> Registry::List() {
  DA_ASSIGN_OR_RETURN(auto all, Cached());
  return *all;
}

Result<std::shared_ptr<const std::vector<TableSpec>>> Registry::Cached() {
  return cache_.Get(db_, [](db::Connection& c) -> Result<std::vector<TableSpec>> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(std::string("SELECT ") + kSelectColumns +
                                                   " FROM table_registry ORDER BY id"));
    std::vector<TableSpec> out;
    out.reserve(r.RowCount());
    for (size_t i = 0; i < r.RowCount(); ++i) {
      DA_ASSIGN_OR_RETURN(TableSpec t, RowToRecord(r, i));
      out.push_back(std::move(t));
    }
    return out;
  });
}

std::string DeriveTableId(const std::string& name) {
  size_t b = name.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = name.find_last_not_of(" \t\r\n");
  std::string out = name.substr(b, e - b + 1);
  for (char& c : out) {
    if (c == ' ') {
      c = '_';
    } else {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

}  // namespace da::state
