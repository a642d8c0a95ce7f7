#include "service/catalog_service.h"

#include <algorithm>
#include <cctype>

#include "common/identifiers.h"
#include "common/log.h"
#include "common/time_util.h"
#include "db/value_json.h"
#include "state/profiles.h"

namespace da::service {
namespace {

using nlohmann::json;

constexpr size_t kMaxCachedCallers = 4096;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

Status NotPublished(const model::TableSpec& t) {
  return NotFound("table '" + t.id + "' has no published view '" + t.name + "' (not synced yet?)");
}

/// The view's columns on `reader`; not_found naming the table when it has no published view.
Result<std::vector<sync::ColumnInfo>> PublishedColumns(orchestrator::AnalyticsReader& reader,
                                                       const model::TableSpec& t) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("view name", t.name));
  auto cols = sync::DescribeView(reader.conn(), t.name);
  if (!cols.ok() && cols.status().code() == StatusCode::kNotFound) return NotPublished(t);
  return cols;
}

}  // namespace

nlohmann::json ToJson(const CatalogAnswer& a) {
  json tables = json::array();
  for (const auto& c : a.tables) {
    const auto& t = c.table;
    json e = {{"id", t.id},
              {"name", t.name},
              {"description", t.description},
              {"source_type", t.source_type},
              {"query_mode", t.query_mode},
              {"rows", nullptr},
              {"size_bytes", nullptr},
              {"updated", nullptr},
              {"status", "never_synced"},
              {"published", c.published},
              {"column_count", nullptr},
              {"schema_hash", nullptr}};
    if (c.sync_state) {
      const auto& s = *c.sync_state;
      if (!s.last_sync.empty()) {
        e["rows"] = s.rows;
        e["size_bytes"] = s.size_bytes;
        e["updated"] = s.last_sync;
      }
      e["status"] = s.status;
    }
    if (c.column_count) e["column_count"] = *c.column_count;
    if (c.schema_hash) e["schema_hash"] = *c.schema_hash;
    tables.push_back(std::move(e));
  }
  size_t count = tables.size();
  return {{"tables", std::move(tables)}, {"count", count}, {"server_time", a.server_time}};
}

nlohmann::json ToJson(const SchemaAnswer& a) {
  json cols = json::array();
  for (const auto& c : a.columns) {
    cols.push_back({{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}});
  }
  return {{"id", a.table.id},
          {"name", a.table.name},
          {"query_mode", a.table.query_mode},
          {"columns", std::move(cols)},
          {"schema_hash", sync::SchemaHash(a.columns)}};
}

nlohmann::json ToJson(const SampleAnswer& a) {
  return {{"id", a.table.id},         {"name", a.table.name},   {"n", a.n},
          {"columns", a.column_names}, {"types", a.column_types}, {"rows", a.rows},
          {"row_count", a.rows.size()}};
}

nlohmann::json ToJson(const ProfileAnswer& a) {
  json body = a.profile;
  body["table_id"] = a.table_id;
  body["profiled_at"] = a.profiled_at;
  return body;
}

Result<EncodedJson> CatalogService::Tables(const Caller& caller) {
  const auto& who = caller.principal;
  const std::string key = who.user_id + (who.is_admin ? "#admin" : "#user");
  // Read before building: a change while building makes the stored key stale, never the
  // answer newer than its key.
  const uint64_t db_generation = ctx_.db.Generation();
  const uint64_t publish_generation = ctx_.orchestrator.PublishGeneration();
  {
    std::lock_guard<std::mutex> lock(tables_mu_);
    auto it = tables_cache_.find(key);
    if (it != tables_cache_.end() && it->second.db_generation == db_generation &&
        it->second.publish_generation == publish_generation) {
      return EncodedJson{it->second.body};
    }
  }
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> visible, access_.VisibleTables(who));
  auto views = ctx_.orchestrator.PublishedViews();
  json tables = json::array();
  for (const auto& t : visible) {
    DA_ASSIGN_OR_RETURN(auto st, ctx_.sync_state.Get(t.id));
    json e = {{"id", t.id},
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
    if (st.has_value()) {
      const auto& s = *st;
      e["rows"] = s.rows;
      e["size_bytes"] = s.size_bytes;
      e["updated"] = s.last_sync.empty() ? json(nullptr) : json(s.last_sync);
      e["status"] = s.status;
      e["error"] = s.error;
    }
    tables.push_back(std::move(e));
  }
  auto body = std::make_shared<const std::string>(json({{"tables", tables}}).dump());
  std::lock_guard<std::mutex> lock(tables_mu_);
  if (tables_cache_.size() >= kMaxCachedCallers) tables_cache_.clear();
  tables_cache_[key] = CachedTables{db_generation, publish_generation, body};
  return EncodedJson{body};
}

/// Every published view's columns (keyed by lower-cased view name), read with one reader and
/// one catalog query, and kept until the orchestrator publishes again: opening a reader costs
/// far more than the rest of GET /api/v2/catalog. A failed read is logged, answered as "no
/// columns" and not kept.
std::shared_ptr<const CatalogService::ViewColumns> CatalogService::AllPublishedColumns() {
  const uint64_t generation = ctx_.orchestrator.PublishGeneration();
  if (generation != 0) {
    std::lock_guard<std::mutex> lock(columns_mu_);
    if (columns_ && columns_generation_ == generation) return columns_;
  }
  auto columns = std::make_shared<ViewColumns>();
  auto reader = ctx_.orchestrator.OpenReader();
  if (!reader.ok()) {
    spdlog::warn("v2 catalog: cannot open analytics reader: {}", reader.status().ToString());
    return columns;
  }
  auto described = sync::DescribeAllViews(reader->conn());
  if (!described.ok()) {
    spdlog::warn("v2 catalog: cannot list view columns: {}", described.status().ToString());
    return columns;
  }
  for (auto& [name, cols] : *described) (*columns)[Lower(name)] = std::move(cols);
  if (generation != 0) {
    std::lock_guard<std::mutex> lock(columns_mu_);
    columns_ = columns;
    columns_generation_ = generation;
  }
  return columns;
}

Result<CatalogAnswer> CatalogService::Catalog(const Caller& caller) {
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> visible,
                      access_.VisibleTables(caller.principal));
  DA_ASSIGN_OR_RETURN(std::vector<state::SyncStateRow> states, ctx_.sync_state.List());
  std::map<std::string, state::SyncStateRow> state_by_id;
  for (auto& s : states) state_by_id[s.table_id] = std::move(s);
  const auto columns = AllPublishedColumns();

  CatalogAnswer out;
  out.tables.reserve(visible.size());
  for (auto& t : visible) {
    CatalogEntry e;
    if (auto it = state_by_id.find(t.id); it != state_by_id.end()) e.sync_state = it->second;
    if (auto it = columns->find(Lower(t.name)); it != columns->end()) {
      e.published = true;
      e.column_count = it->second.size();
      e.schema_hash = sync::SchemaHash(it->second);
    }
    e.table = std::move(t);
    out.tables.push_back(std::move(e));
  }
  out.server_time = NowIso();
  return out;
}

Result<SchemaAnswer> CatalogService::Schema(const Caller& caller, const TableIdRequest& request) {
  DA_ASSIGN_OR_RETURN(model::TableSpec t, access_.Visible(caller.principal, request.id));
  DA_ASSIGN_OR_RETURN(auto reader, ctx_.orchestrator.OpenReader());
  DA_ASSIGN_OR_RETURN(std::vector<sync::ColumnInfo> cols, PublishedColumns(reader, t));
  return SchemaAnswer{std::move(t), std::move(cols)};
}

Result<SampleAnswer> CatalogService::Sample(const Caller& caller, const SampleRequest& request) {
  if (request.n < 1 || request.n > kMaxSampleRows) {
    return InvalidArgument("n must be an integer from 1 to " + std::to_string(kMaxSampleRows) +
                           ", got '" + std::to_string(request.n) + "'");
  }
  DA_ASSIGN_OR_RETURN(model::TableSpec t, access_.Visible(caller.principal, request.id));
  DA_ASSIGN_OR_RETURN(auto reader, ctx_.orchestrator.OpenReader());
  DA_RETURN_IF_ERROR(PublishedColumns(reader, t).status());
  // t.name passed ValidateStrictIdentifier in PublishedColumns.
  auto r = reader.conn().Query("SELECT * FROM " + QuoteIdent(t.name) + " LIMIT $1", {request.n});
  if (!r.ok()) return r.status().WithContext("sample " + t.id);
  SampleAnswer out;
  out.n = request.n;
  for (size_t c = 0; c < r->ColumnCount(); ++c) {
    out.column_names.push_back(r->ColumnName(c));
    out.column_types.push_back(r->ColumnTypeName(c));
  }
  out.rows = json::array();
  for (size_t row = 0; row < r->RowCount(); ++row) {
    json cells = json::array();
    for (size_t c = 0; c < r->ColumnCount(); ++c) cells.push_back(db::CellToJson(*r, c, row));
    out.rows.push_back(std::move(cells));
  }
  out.table = std::move(t);
  return out;
}

Result<ProfileAnswer> CatalogService::Profile(const Caller& caller, const ProfileRequest& request) {
  DA_ASSIGN_OR_RETURN(model::TableSpec t, access_.Visible(caller.principal, request.id));
  state::ProfileRepo profiles(ctx_.db);
  if (request.refresh) {
    if (!caller.principal.is_admin) return PermissionDenied("refresh=true needs an admin");
    DA_ASSIGN_OR_RETURN(json fresh,
                        sync::ProfileTable(ctx_.orchestrator, ctx_.registry, profiles, t.id));
    spdlog::info("profiled {} on request ({} ms)", t.id, fresh["duration_ms"].dump());
  }
  DA_ASSIGN_OR_RETURN(auto stored, profiles.Get(t.id));
  if (!stored.has_value()) return NotFound("table '" + t.id + "' has not been profiled yet");
  return ProfileAnswer{t.id, stored->profiled_at, std::move(stored->profile)};
}

Status CatalogService::ProfileSyncedTables(const std::vector<std::string>& table_ids) {
  state::ProfileRepo profiles(ctx_.db);
  return sync::ProfileTables(ctx_.orchestrator, ctx_.registry, profiles, table_ids);
}

}  // namespace da::service
