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
namespace {

constexpr size_t kMaxDescriptionChars = 4096;
constexpr size_t kMaxSourceTableChars = 4096;
constexpr size_t kMaxScheduleChars = 256;
constexpr size_t kMaxSourceQueryBytes = 1 << 20;

/// Fields the server sets itself; accepted in bodies (a GET → edit → PUT round trip carries
/// them) and ignored.
const std::set<std::string> kServerManaged = {"registered_by", "registered_at", "updated_at"};

constexpr const char* kSelectColumns =
    "id, name, description, source_type, bucket, source_table, source_query, query_mode, "
    "sync_strategy, sync_schedule, primary_key, incremental_column, partition_by, "
    "partition_granularity, registered_by, epoch_us(registered_at), epoch_us(updated_at), "
    "version, schema_policy";

/// Counts UTF-8 code points (bytes that are not continuation bytes).
size_t Utf8Length(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool HasControlChars(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

/// The value as shown in messages: at most 80 bytes, control characters replaced by '?'.
std::string Shown(const std::string& s) {
  std::string out = s.substr(0, 80);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  if (s.size() > 80) out += "...";
  return out;
}

Status OneOf(const char* field, const std::string& value, std::initializer_list<const char*> ok) {
  std::string list;
  for (const char* v : ok) {
    if (value == v) return Status::Ok();
    list += list.empty() ? v : std::string(", ") + v;
  }
  return InvalidArgument(std::string(field) + " '" + Shown(value) + "' must be one of " + list);
}

Status ValidateRecord(const TableRecord& t, const SourceTypeCheck& is_known_source,
                      bool check_source_known) {
  if (t.name.empty()) return InvalidArgument("name is required");
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("name", t.name));
  if (t.id.empty()) return InvalidArgument("id is required");
  DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("id", t.id));
  if (t.source_type.empty()) return InvalidArgument("source_type is required");
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("source_type", t.source_type));
  if (check_source_known && is_known_source && !is_known_source(t.source_type)) {
    return InvalidArgument("source_type '" + t.source_type + "' is not a known connector");
  }
  DA_RETURN_IF_ERROR(OneOf("query_mode", t.query_mode, {"local", "materialized", "remote"}));
  DA_RETURN_IF_ERROR(
      OneOf("sync_strategy", t.sync_strategy, {"full_refresh", "incremental", "partitioned"}));
  DA_RETURN_IF_ERROR(OneOf("schema_policy", t.schema_policy, {"evolve", "freeze"}));
  if (!t.bucket.empty()) DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("bucket", t.bucket));
  if (Utf8Length(t.description) > kMaxDescriptionChars) {
    return InvalidArgument("description is " + std::to_string(Utf8Length(t.description)) +
                           " characters long; the limit is " +
                           std::to_string(kMaxDescriptionChars));
  }
  if (HasControlChars(t.source_table)) {
    return InvalidArgument("source_table '" + Shown(t.source_table) +
                           "' contains control characters");
  }
  if (Utf8Length(t.source_table) > kMaxSourceTableChars) {
    return InvalidArgument("source_table '" + Shown(t.source_table) + "' is longer than " +
                           std::to_string(kMaxSourceTableChars) + " characters");
  }
  if (t.source_query.size() > kMaxSourceQueryBytes) {
    return InvalidArgument("source_query is longer than " + std::to_string(kMaxSourceQueryBytes) +
                           " bytes");
  }
  if (t.source_query.find('\0') != std::string::npos) {
    return InvalidArgument("source_query contains a NUL character");
  }
  if (!t.source_query.empty() && t.query_mode != "materialized") {
    return InvalidArgument("source_query is only allowed with query_mode 'materialized', not '" +
                           t.query_mode + "'");
  }
  if (HasControlChars(t.sync_schedule) || t.sync_schedule.size() > kMaxScheduleChars) {
    return InvalidArgument("sync_schedule '" + Shown(t.sync_schedule) +
                           "' contains control characters or is longer than " +
                           std::to_string(kMaxScheduleChars) + " characters");
  }
  if (!t.sync_schedule.empty()) DA_RETURN_IF_ERROR(ParseSchedule(t.sync_schedule).status());
  std::set<std::string> seen;
  for (const std::string& col : t.primary_key) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("primary_key entry", col));
    if (!seen.insert(col).second) {
      return InvalidArgument("primary_key entry '" + col + "' appears twice");
    }
  }
  if (!t.incremental_column.empty()) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("incremental_column", t.incremental_column));
  }
  if (!t.partition_by.empty()) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("partition_by", t.partition_by));
  }
  if (!t.partition_granularity.empty()) {
    DA_RETURN_IF_ERROR(
        OneOf("partition_granularity", t.partition_granularity, {"day", "month", "year"}));
  }
  if (t.sync_strategy == "partitioned") {
    if (t.partition_by.empty()) {
      return InvalidArgument("partition_by is required when sync_strategy is 'partitioned'");
    }
    if (t.query_mode == "remote") {
      return InvalidArgument(
          "sync_strategy 'partitioned' is not allowed with query_mode 'remote' (remote tables "
          "are not stored)");
    }
  }
  return Status::Ok();
}

/// Defaults that the reference applies to empty values.
void Normalize(TableRecord* t) {
  if (t->query_mode.empty()) t->query_mode = "local";
  if (t->sync_strategy.empty()) t->sync_strategy = "full_refresh";
  if (t->schema_policy.empty()) t->schema_policy = "evolve";
  if (t->sync_strategy == "partitioned" && t->partition_granularity.empty()) {
    t->partition_granularity = "month";
  }
}

/// Parses a patch/body into `*t`, rejecting unknown fields (invalid_argument naming them) and
/// wrong JSON types (malformed). Keys in `skip` are not applied.
Status ApplyBody(const nlohmann::json& body, const std::set<std::string>& skip, TableRecord* t) {
  if (!body.is_object()) {
    return Malformed("request body must be a JSON object, got " + std::string(body.type_name()));
  }
  nlohmann::json filtered = nlohmann::json::object();
  for (const auto& [key, value] : body.items()) {
    if (skip.count(key) == 0) filtered[key] = value;
  }
  std::vector<std::string> unknown;
  DA_RETURN_IF_ERROR(internal::ApplyRecordJson(filtered, t, &unknown));
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "'" : ", '") + Shown(u) + "'";
    return InvalidArgument("unknown field(s): " + list);
  }
  return Status::Ok();
}

db::Value Nullable(const std::string& s) {
  if (s.empty()) return std::monostate{};
  return s;
}

Result<TableRecord> RowToRecord(const db::QueryResult& r, size_t row) {
  TableRecord t;
  t.id = r.GetString(0, row);
  t.name = r.GetString(1, row);
  t.description = r.GetString(2, row);
  t.source_type = r.GetString(3, row);
  t.bucket = r.GetString(4, row);
  t.source_table = r.GetString(5, row);
  t.source_query = r.GetString(6, row);
  t.query_mode = r.GetString(7, row);
  t.sync_strategy = r.GetString(8, row);
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
  t.partition_granularity = r.GetString(13, row);
  t.registered_by = r.GetString(14, row);
  t.registered_at = internal::IsoCell(r, 15, row);
  t.updated_at = internal::IsoCell(r, 16, row);
  t.version = r.GetInt64(17, row);
  t.schema_policy = r.IsNull(18, row) ? "evolve" : r.GetString(18, row);
  return t;
}

Result<std::optional<TableRecord>> Load(db::Connection& c, const std::string& id) {
  DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(std::string("SELECT ") + kSelectColumns +
                                                     " FROM table_registry WHERE id = $1",
                                                 {id}));
  if (r.RowCount() == 0) return std::optional<TableRecord>();
  DA_ASSIGN_OR_RETURN(TableRecord t, RowToRecord(r, 0));
  return std::optional<TableRecord>(std::move(t));
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

std::string PrimaryKeyJson(const TableRecord& t) { return nlohmann::json(t.primary_key).dump(); }

}  // namespace

Registry::Registry(StateDb& db, SourceTypeCheck is_known_source)
    : db_(db), is_known_source_(std::move(is_known_source)) {}

Status Registry::Validate(const TableRecord& t) const {
  return ValidateRecord(t, is_known_source_, /*check_source_known=*/true);
}

Result<TableRecord> Registry::Register(const nlohmann::json& body, const std::string& actor) {
  TableRecord t;
  std::set<std::string> skip = kServerManaged;
  skip.insert("version");
  DA_RETURN_IF_ERROR(ApplyBody(body, skip, &t));
  if (t.name.empty()) return InvalidArgument("name is required");
  if (t.id.empty()) t.id = DeriveTableId(t.name);
  Normalize(&t);
  DA_RETURN_IF_ERROR(Validate(t));

  int64_t now = NowMicros();
  t.registered_by = actor;
  t.registered_at = IsoFromMicros(now);
  t.updated_at = t.registered_at;
  t.version = 1;

  Result<TableRecord> registered = db_.Write([&](db::Connection& c) -> Result<TableRecord> {
    DA_ASSIGN_OR_RETURN(std::optional<TableRecord> existing, Load(c, t.id));
    if (existing) return AlreadyExists("table '" + t.id + "' is already registered");
    DA_RETURN_IF_ERROR(CheckNameFree(c, t.name, t.id));
    DA_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO table_registry (id, name, description, source_type, bucket, source_table, "
        "source_query, query_mode, sync_strategy, sync_schedule, primary_key, "
        "incremental_column, partition_by, partition_granularity, registered_by, registered_at, "
        "updated_at, version, schema_policy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11, $12, $13, $14, $15, make_timestamp($16), make_timestamp($16), 1, $17)",
        {t.id, t.name, Nullable(t.description), t.source_type, Nullable(t.bucket),
         Nullable(t.source_table), Nullable(t.source_query), t.query_mode, t.sync_strategy,
         Nullable(t.sync_schedule), PrimaryKeyJson(t), Nullable(t.incremental_column),
         Nullable(t.partition_by), Nullable(t.partition_granularity), t.registered_by, now,
         t.schema_policy}));
    return t;
  });
  // Audited after the commit, in a transaction of its own: auditing never blocks the change.
  if (registered.ok()) Audit(db_, actor, "register_table", t.id, TableRecordToJson(t).dump());
  return registered;
}

Result<TableRecord> Registry::Update(const std::string& id, const nlohmann::json& patch,
                                     const std::string& actor) {
  // Type and unknown-field errors first, against a scratch record, so they win over not_found.
  {
    TableRecord scratch;
    DA_RETURN_IF_ERROR(ApplyBody(patch, kServerManaged, &scratch));
  }
  if (patch.contains("id")) {
    const auto& new_id = patch["id"];
    if (!new_id.is_null() && new_id.get<std::string>() != id) {
      return InvalidArgument("id cannot change (path id '" + Shown(id) + "', body id '" +
                             Shown(new_id.get<std::string>()) + "')");
    }
  }
  std::optional<int64_t> expected_version;
  if (patch.contains("version") && !patch["version"].is_null()) {
    expected_version = patch["version"].get<int64_t>();
  }
  std::set<std::string> skip = kServerManaged;
  skip.insert("id");
  skip.insert("version");

  Result<TableRecord> updated = db_.Write([&](db::Connection& c) -> Result<TableRecord> {
    DA_ASSIGN_OR_RETURN(std::optional<TableRecord> stored, Load(c, id));
    if (!stored) return NotFound("table '" + id + "' is not registered");
    if (expected_version && *expected_version != stored->version) {
      return Aborted("version mismatch: expected " + std::to_string(*expected_version) +
                     ", stored " + std::to_string(stored->version));
    }
    TableRecord t = *stored;
    DA_RETURN_IF_ERROR(ApplyBody(patch, skip, &t));
    // Leaving materialized drops the source query unless the patch sets one explicitly.
    if (stored->query_mode == "materialized" && t.query_mode != "materialized" &&
        !patch.contains("source_query")) {
      t.source_query.clear();
    }
    Normalize(&t);
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
                 Nullable(t.source_table), Nullable(t.source_query), t.query_mode, t.sync_strategy,
                 Nullable(t.sync_schedule), PrimaryKeyJson(t), Nullable(t.incremental_column),
                 Nullable(t.partition_by), Nullable(t.partition_granularity), now, t.version, t.id,
                 stored->version, t.schema_policy}));
    if (r.RowsChanged() != 1) {
      return Aborted("table '" + id + "' changed concurrently; reload and retry");
    }
    return t;
  });
  if (updated.ok()) Audit(db_, actor, "update_table", id, patch.dump());
  return updated;
}

Result<TableRecord> Registry::Unregister(const std::string& id, const std::string& actor) {
  int64_t grants_removed = 0;
  Result<TableRecord> removed = db_.Write([&](db::Connection& c) -> Result<TableRecord> {
    DA_ASSIGN_OR_RETURN(std::optional<TableRecord> stored, Load(c, id));
    if (!stored) return NotFound("table '" + id + "' is not registered");
    DA_RETURN_IF_ERROR(c.Execute("DELETE FROM sync_history WHERE table_id = $1", {id}));
    DA_RETURN_IF_ERROR(c.Execute("DELETE FROM sync_state WHERE table_id = $1", {id}));
    // Grants die with their table: a table registered later under the same id starts with none.
    DA_ASSIGN_OR_RETURN(db::QueryResult grants,
                        c.Query("DELETE FROM resource_grants WHERE resource_type = 'table' AND "
                                "resource_id = $1",
                                {id}));
    grants_removed = grants.RowsChanged();
    DA_RETURN_IF_ERROR(c.Execute("DELETE FROM table_registry WHERE id = $1", {id}));
    return std::move(*stored);
  });
  if (removed.ok()) {
    nlohmann::json params = TableRecordToJson(*removed);
    params["grants_removed"] = grants_removed;
    Audit(db_, actor, "unregister_table", id, params.dump());
  }
  return removed;
}

Result<TableRecord> Registry::Get(const std::string& id) {
  DA_ASSIGN_OR_RETURN(auto all, Cached());
  for (const auto& t : *all) {
    if (t.id == id) return t;
  }
  return NotFound("table '" + id + "' is not registered");
}

Result<std::vector<TableRecord>> Registry::List() {
  DA_ASSIGN_OR_RETURN(auto all, Cached());
  return *all;
}

Result<std::shared_ptr<const std::vector<TableRecord>>> Registry::Cached() {
  return cache_.Get(db_, [](db::Connection& c) -> Result<std::vector<TableRecord>> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(std::string("SELECT ") + kSelectColumns +
                                                   " FROM table_registry ORDER BY id"));
    std::vector<TableRecord> out;
    out.reserve(r.RowCount());
    for (size_t i = 0; i < r.RowCount(); ++i) {
      DA_ASSIGN_OR_RETURN(TableRecord t, RowToRecord(r, i));
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
