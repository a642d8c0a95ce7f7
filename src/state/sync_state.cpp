#include "state/sync_state.h"

#include "common/hash.h"
#include "common/time_util.h"
#include "state/internal.h"

namespace da::state {
namespace {

constexpr const char* kStateColumns =
    "table_id, epoch_us(last_sync), rows, size_bytes, md5, status, error";

SyncStateRow RowToState(const db::QueryResult& r, size_t row) {
  SyncStateRow s;
  s.table_id = r.GetString(0, row);
  s.last_sync = internal::IsoCell(r, 1, row);
  s.rows = r.IsNull(2, row) ? 0 : r.GetInt64(2, row);
  s.size_bytes = r.IsNull(3, row) ? 0 : r.GetInt64(3, row);
  s.md5 = r.GetString(4, row);
  s.status = r.GetString(5, row);
  s.error = r.GetString(6, row);
  return s;
}

Status RequireTableId(const std::string& table_id) {
  if (table_id.empty()) return InvalidArgument("table_id is required");
  return Status::Ok();
}

}  // namespace

Status SyncStateRepo::RecordSuccess(const std::string& table_id, int64_t rows, int64_t size_bytes,
                                    const std::string& md5) {
  DA_RETURN_IF_ERROR(RequireTableId(table_id));
  return db_.Write([&](db::Connection& c) {
    return c.Execute(
        "INSERT INTO sync_state (table_id, last_sync, rows, size_bytes, md5, status, error) "
        "VALUES ($1, make_timestamp($2), $3, $4, $5, 'ok', NULL) "
        "ON CONFLICT (table_id) DO UPDATE SET last_sync = excluded.last_sync, "
        "rows = excluded.rows, size_bytes = excluded.size_bytes, md5 = excluded.md5, "
        "status = 'ok', error = NULL",
        {table_id, NowMicros(), rows, size_bytes, md5});
  });
}

Status SyncStateRepo::RecordError(const std::string& table_id, const std::string& error) {
  DA_RETURN_IF_ERROR(RequireTableId(table_id));
  return db_.Write([&](db::Connection& c) {
    return c.Execute(
        "INSERT INTO sync_state (table_id, status, error) VALUES ($1, 'error', $2) "
        "ON CONFLICT (table_id) DO UPDATE SET status = 'error', error = excluded.error",
        {table_id, error});
  });
}

Result<std::optional<SyncStateRow>> SyncStateRepo::Get(const std::string& table_id) {
  DA_ASSIGN_OR_RETURN(auto all, Cached());
  auto it = all->find(table_id);
  if (it == all->end()) return std::optional<SyncStateRow>();
  return std::optional<SyncStateRow>(it->second);
}

Result<std::vector<SyncStateRow>> SyncStateRepo::List() {
  DA_ASSIGN_OR_RETURN(auto all, Cached());
  std::vector<SyncStateRow> out;
  out.reserve(all->size());
  for (const auto& [id, row] : *all) out.push_back(row);  // std::map: ordered by table_id
  return out;
}

Result<std::shared_ptr<const std::map<std::string, SyncStateRow>>> SyncStateRepo::Cached() {
  return cache_.Get(db_, [](db::Connection& c) -> Result<std::map<std::string, SyncStateRow>> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query(std::string("SELECT ") + kStateColumns + " FROM sync_state"));
    std::map<std::string, SyncStateRow> out;
    for (size_t i = 0; i < r.RowCount(); ++i) {
      SyncStateRow row = RowToState(r, i);
      std::string id = row.table_id;
      out.emplace(std::move(id), std::move(row));
    }
    return out;
  });
}

Status SyncStateRepo::Delete(const std::string& table_id) {
  return db_.Write([&](db::Connection& c) {
    return c.Execute("DELETE FROM sync_state WHERE table_id = $1", {table_id});
  });
}

Status SyncStateRepo::AppendHistory(const SyncHistoryRow& row) {
  DA_RETURN_IF_ERROR(RequireTableId(row.table_id));
  if (row.status != "ok" && row.status != "error") {
    return InvalidArgument("sync_history status '" + row.status + "' must be ok or error");
  }
  int64_t synced_at = 0;
  if (row.synced_at.empty()) {
    synced_at = NowMicros();
  } else {
    DA_ASSIGN_OR_RETURN(synced_at, internal::ParseIsoMicros(row.synced_at));
  }
  return db_.Write([&](db::Connection& c) {
    return c.Execute(
        "INSERT INTO sync_history (id, run_id, table_id, synced_at, status, rows, size_bytes, "
        "duration_ms, error, schema_change) "
        "VALUES ($1, $2, $3, make_timestamp($4), $5, $6, $7, $8, $9, $10)",
        {RandomHex(16), row.run_id, row.table_id, synced_at, row.status, row.rows, row.size_bytes,
         row.duration_ms, row.error.empty() ? db::Value(std::monostate{}) : db::Value(row.error),
         row.schema_change.empty() ? db::Value(std::monostate{}) : db::Value(row.schema_change)});
  });
}

namespace {
constexpr const char* kHistoryColumns =
    "SELECT run_id, table_id, epoch_us(synced_at), status, rows, size_bytes, duration_ms, error, "
    "schema_change FROM sync_history ";

std::vector<SyncHistoryRow> HistoryRows(const db::QueryResult& r) {
  std::vector<SyncHistoryRow> out;
  out.reserve(r.RowCount());
  for (size_t i = 0; i < r.RowCount(); ++i) {
    SyncHistoryRow h;
    h.run_id = r.GetString(0, i);
    h.table_id = r.GetString(1, i);
    h.synced_at = internal::IsoCell(r, 2, i);
    h.status = r.GetString(3, i);
    h.rows = r.GetInt64(4, i);
    h.size_bytes = r.GetInt64(5, i);
    h.duration_ms = r.GetInt64(6, i);
    h.error = r.GetString(7, i);
    h.schema_change = r.IsNull(8, i) ? "" : r.GetString(8, i);
    out.push_back(std::move(h));
  }
  return out;
}
}  // namespace

Result<std::vector<SyncHistoryRow>> SyncStateRepo::History(const std::string& table_id, int limit) {
  if (limit <= 0) return InvalidArgument("limit " + std::to_string(limit) + " must be positive");
  return db_.Read([&](db::Connection& c) -> Result<std::vector<SyncHistoryRow>> {
    // rowid breaks ties between rows written within the same microsecond: newest insert first.
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query(std::string(kHistoryColumns) +
                                    "WHERE $1 = '' OR table_id = $1 "
                                    "ORDER BY synced_at DESC, rowid DESC LIMIT $2",
                                {table_id, int64_t{limit}}));
    return HistoryRows(r);
  });
}

Result<std::optional<SyncHistoryRow>> SyncStateRepo::LastSchemaChange(const std::string& table_id) {
  return db_.Read([&](db::Connection& c) -> Result<std::optional<SyncHistoryRow>> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query(std::string(kHistoryColumns) +
                                    "WHERE table_id = $1 AND schema_change IS NOT NULL "
                                    "ORDER BY synced_at DESC, rowid DESC LIMIT 1",
                                {table_id}));
    auto rows = HistoryRows(r);
    if (rows.empty()) return std::optional<SyncHistoryRow>{};
    return std::optional<SyncHistoryRow>{std::move(rows.front())};
  });
}

}  // namespace da::state
