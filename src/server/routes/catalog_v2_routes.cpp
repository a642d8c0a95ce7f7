// Catalog v2: GET /api/v2/catalog, /api/v2/schema/{id}, /api/v2/sample/{id}?n= and
// GET /api/catalog/profile/{id}[?refresh=true]. Every route is authenticated and answers only for
// tables the caller may see (404 unknown id, 403 not visible).
#include "server/routes/catalog_v2_routes.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "common/identifiers.h"
#include "common/log.h"
#include "common/time_util.h"
#include "db/value_json.h"
#include "state/profiles.h"
#include "sync/profiler.h"

namespace da::server {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultSampleRows = 5;
constexpr int64_t kMaxSampleRows = 1000;

/// Like WriteJson, but invalid UTF-8 in data values cannot turn the answer into a 500.
void WriteDataJson(http::Response& res, const json& body) {
  res.status = 200;
  res.SetContent(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

/// The registry record of `id` when the caller may see it; otherwise writes 404 (unknown id)
/// or 403 (not visible) and returns nullopt.
std::optional<model::TableSpec> VisibleTable(AppContext& ctx, const RequestContext& rc,
                                               const std::string& id, http::Response& res) {
  if (!IsQuotedIdentifier(id)) {
    WriteError(res, NotFound("table '" + PrintableForMessage(id) + "' not found"), rc.request_id);
    return std::nullopt;
  }
  auto t = ctx.registry->Get(id);
  if (!t.ok()) {
    WriteError(res, t.status(), rc.request_id);
    return std::nullopt;
  }
  if (!ctx.access.CanSeeTable(rc.principal, *t)) {
    WriteError(res, PermissionDenied("access denied to table '" + id + "'"), rc.request_id);
    return std::nullopt;
  }
  return std::move(t).value();
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

json ColumnsJson(const std::vector<sync::ColumnInfo>& cols) {
  json out = json::array();
  for (const auto& c : cols) {
    out.push_back({{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}});
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

/// `n` of /api/v2/sample: absent → 5; an integer in 1..1000 otherwise (invalid_argument).
Result<int64_t> ParseSampleSize(const http::Request& req) {
  if (!req.HasQuery("n")) return kDefaultSampleRows;
  std::string text = req.Query("n");
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || n < 1 ||
      n > kMaxSampleRows) {
    return InvalidArgument("n must be an integer from 1 to " + std::to_string(kMaxSampleRows) +
                           ", got '" + PrintableForMessage(text, 40) + "'");
  }
  return n;
}

/// `refresh` of the profile route: absent/false/0 → false, true/1 → true, else invalid_argument.
Result<bool> ParseRefresh(const http::Request& req) {
  if (!req.HasQuery("refresh")) return false;
  std::string v = Lower(req.Query("refresh"));
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0" || v.empty()) return false;
  return InvalidArgument("refresh must be true or false, got '" + PrintableForMessage(v, 40) + "'");
}

using ViewColumns = std::map<std::string, std::vector<sync::ColumnInfo>>;

/// Every published view's columns (keyed by lower-cased view name), read with one reader and
/// one catalog query, and kept until the orchestrator publishes again: opening a reader costs
/// far more than the rest of GET /api/v2/catalog. A failed read is logged, answered as "no
/// columns" and not kept.
std::shared_ptr<const ViewColumns> PublishedColumns(AppContext& ctx, const RequestContext& rc) {
  static std::mutex mu;
  static uint64_t cached_generation = 0;
  static std::shared_ptr<const ViewColumns> cached;
  const uint64_t generation = ctx.orchestrator->PublishGeneration();
  if (generation != 0) {
    std::lock_guard<std::mutex> lock(mu);
    if (cached && cached_generation == generation) return cached;
  }
  auto columns = std::make_shared<ViewColumns>();
  auto reader = ctx.orchestrator->OpenReader();
  if (!reader.ok()) {
    spdlog::warn("[{}] v2 catalog: cannot open analytics reader: {}", rc.request_id,
                 reader.status().ToString());
    return columns;
  }
  auto described = sync::DescribeAllViews(reader->conn());
  if (!described.ok()) {
    spdlog::warn("[{}] v2 catalog: cannot list view columns: {}", rc.request_id,
                 described.status().ToString());
    return columns;
  }
  for (auto& [name, cols] : *described) (*columns)[Lower(name)] = std::move(cols);
  if (generation != 0) {
    std::lock_guard<std::mutex> lock(mu);
    cached = columns;
    cached_generation = generation;
  }
  return columns;
}

void HandleCatalog(AppContext& ctx, const RequestContext& rc, http::Response& res) {
  auto all = ctx.registry->List();
  if (!all.ok()) return WriteError(res, all.status(), rc.request_id);
  auto states = ctx.sync_state->List();
  if (!states.ok()) return WriteError(res, states.status(), rc.request_id);
  std::map<std::string, state::SyncStateRow> state_by_id;
  for (auto& s : *states) state_by_id[s.table_id] = std::move(s);

  const auto columns = PublishedColumns(ctx, rc);
  const auto& columns_by_view = *columns;

  json tables = json::array();
  for (const auto& t : *all) {
    if (!ctx.access.CanSeeTable(rc.principal, t)) continue;
    json e = {{"id", t.id},
              {"name", t.name},
              {"description", t.description},
              {"source_type", t.source_type},
              {"query_mode", t.query_mode},
              {"rows", nullptr},
              {"size_bytes", nullptr},
              {"updated", nullptr},
              {"status", "never_synced"},
              {"published", false},
              {"column_count", nullptr},
              {"schema_hash", nullptr}};
    if (auto it = state_by_id.find(t.id); it != state_by_id.end()) {
      const auto& s = it->second;
      if (!s.last_sync.empty()) {
        e["rows"] = s.rows;
        e["size_bytes"] = s.size_bytes;
        e["updated"] = s.last_sync;
      }
      e["status"] = s.status;
    }
    if (auto it = columns_by_view.find(Lower(t.name)); it != columns_by_view.end()) {
      e["published"] = true;
      e["column_count"] = it->second.size();
      e["schema_hash"] = sync::SchemaHash(it->second);
    }
    tables.push_back(std::move(e));
  }
  size_t count = tables.size();
  WriteDataJson(res, {{"tables", std::move(tables)}, {"count", count}, {"server_time", NowIso()}});
}

void HandleSchema(AppContext& ctx, const RequestContext& rc, const http::Request& req,
                  http::Response& res) {
  auto t = VisibleTable(ctx, rc, req.PathParam("id"), res);
  if (!t) return;
  auto reader = ctx.orchestrator->OpenReader();
  if (!reader.ok()) return WriteError(res, reader.status(), rc.request_id);
  auto cols = PublishedColumns(*reader, *t);
  if (!cols.ok()) return WriteError(res, cols.status(), rc.request_id);
  WriteDataJson(res, {{"id", t->id},
                      {"name", t->name},
                      {"query_mode", t->query_mode},
                      {"columns", ColumnsJson(*cols)},
                      {"schema_hash", sync::SchemaHash(*cols)}});
}

void HandleSample(AppContext& ctx, const RequestContext& rc, const http::Request& req,
                  http::Response& res) {
  auto n = ParseSampleSize(req);
  if (!n.ok()) return WriteError(res, n.status(), rc.request_id);
  auto t = VisibleTable(ctx, rc, req.PathParam("id"), res);
  if (!t) return;
  auto reader = ctx.orchestrator->OpenReader();
  if (!reader.ok()) return WriteError(res, reader.status(), rc.request_id);
  auto cols = PublishedColumns(*reader, *t);
  if (!cols.ok()) return WriteError(res, cols.status(), rc.request_id);
  // t->name passed ValidateStrictIdentifier in PublishedColumns.
  auto r = reader->conn().Query("SELECT * FROM " + QuoteIdent(t->name) + " LIMIT $1", {*n});
  if (!r.ok()) return WriteError(res, r.status().WithContext("sample " + t->id), rc.request_id);
  json names = json::array();
  json types = json::array();
  for (size_t c = 0; c < r->ColumnCount(); ++c) {
    names.push_back(r->ColumnName(c));
    types.push_back(r->ColumnTypeName(c));
  }
  json rows = json::array();
  for (size_t row = 0; row < r->RowCount(); ++row) {
    json cells = json::array();
    for (size_t c = 0; c < r->ColumnCount(); ++c) cells.push_back(db::CellToJson(*r, c, row));
    rows.push_back(std::move(cells));
  }
  size_t row_count = rows.size();
  WriteDataJson(res, {{"id", t->id},
                      {"name", t->name},
                      {"n", *n},
                      {"columns", std::move(names)},
                      {"types", std::move(types)},
                      {"rows", std::move(rows)},
                      {"row_count", row_count}});
}

void HandleProfile(AppContext& ctx, const RequestContext& rc, const http::Request& req,
                   http::Response& res) {
  auto refresh = ParseRefresh(req);
  if (!refresh.ok()) return WriteError(res, refresh.status(), rc.request_id);
  auto t = VisibleTable(ctx, rc, req.PathParam("id"), res);
  if (!t) return;
  state::ProfileRepo profiles(*ctx.db);
  if (*refresh) {
    if (!ctx.access.IsAdmin(rc.principal)) {
      return WriteError(res, PermissionDenied("refresh=true needs an admin"), rc.request_id);
    }
    auto fresh = sync::ProfileTable(*ctx.orchestrator, *ctx.registry, profiles, t->id);
    if (!fresh.ok()) return WriteError(res, fresh.status(), rc.request_id);
    spdlog::info("[{}] profiled {} on request ({} ms)", rc.request_id, t->id,
                 (*fresh)["duration_ms"].dump());
  }
  auto stored = profiles.Get(t->id);
  if (!stored.ok()) return WriteError(res, stored.status(), rc.request_id);
  if (!stored->has_value()) {
    return WriteError(res, NotFound("table '" + t->id + "' has not been profiled yet"),
                      rc.request_id);
  }
  json body = std::move((*stored)->profile);
  body["table_id"] = t->id;
  body["profiled_at"] = (*stored)->profiled_at;
  WriteDataJson(res, body);
}

}  // namespace

Status ProfileSyncedTables(AppContext& ctx, const std::vector<std::string>& table_ids) {
  state::ProfileRepo profiles(*ctx.db);
  return sync::ProfileTables(*ctx.orchestrator, *ctx.registry, profiles, table_ids);
}

void RegisterCatalogV2Routes(Router& r, AppContext& ctx) {
  r.Get("/api/v2/catalog", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          HandleCatalog(ctx, rc, res);
        });
  r.Get("/api/v2/schema/{id}", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          HandleSchema(ctx, rc, req, res);
        });
  r.Get("/api/v2/sample/{id}", AccessLevel::kAuthenticated, Execution::kWorker,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          HandleSample(ctx, rc, req, res);
        });
  r.Get("/api/catalog/profile/{id}", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          HandleProfile(ctx, rc, req, res);
        });
}

}  // namespace da::server
