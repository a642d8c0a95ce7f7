#include "state/sync_runs.h"

#include <set>

#include <nlohmann/json.hpp>

#include "common/time_util.h"
#include "state/internal.h"

namespace da::state {
namespace {

constexpr const char* kRunColumns =
    "id, epoch_us(started_at), epoch_us(finished_at), status, trigger, requested_by, "
    "tables_requested, message";
constexpr const char* kTableColumns =
    "run_id, table_id, status, reason, rows, size_bytes, duration_ms, epoch_us(started_at), "
    "epoch_us(finished_at)";

db::Value NullIfEmpty(const std::string& s) {
  if (s.empty()) return std::monostate{};
  return s;
}

SyncRunRow RowToRun(const db::QueryResult& r, size_t row) {
  SyncRunRow run;
  run.id = r.GetString(0, row);
  run.started_at = internal::IsoCell(r, 1, row);
  run.finished_at = internal::IsoCell(r, 2, row);
  if (!r.IsNull(2, row)) run.duration_ms = (r.GetInt64(2, row) - r.GetInt64(1, row)) / 1000;
  run.status = r.GetString(3, row);
  run.trigger = r.GetString(4, row);
  run.requested_by = r.GetString(5, row);
  try {
    auto ids = nlohmann::json::parse(r.GetString(6, row));
    for (const auto& id : ids) {
      if (id.is_string()) run.tables_requested.push_back(id.get<std::string>());
    }
  } catch (const nlohmann::json::exception&) {
    // Written only by Create as a JSON array; an unreadable value shows as no tables.
  }
  run.message = r.GetString(7, row);
  return run;
}

SyncRunTableRow RowToTable(const db::QueryResult& r, size_t row) {
  SyncRunTableRow t;
  t.run_id = r.GetString(0, row);
  t.table_id = r.GetString(1, row);
  t.status = r.GetString(2, row);
  t.reason = r.GetString(3, row);
  t.rows = r.GetInt64(4, row);
  t.size_bytes = r.GetInt64(5, row);
  t.duration_ms = r.GetInt64(6, row);
  t.started_at = internal::IsoCell(r, 7, row);
  t.finished_at = internal::IsoCell(r, 8, row);
  return t;
}

/// Reads runs from `where_sql` (a query yielding kRunColumns in the wanted order) and attaches
/// their table outcomes. Runs with the caller's connection under the DB mutex.
Result<std::vector<SyncRunRow>> LoadRuns(db::Connection& c, const std::string& runs_sql,
                                         const std::vector<db::Value>& params) {
  DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(runs_sql, params));
  std::vector<SyncRunRow> runs;
  runs.reserve(r.RowCount());
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < r.RowCount(); ++i) {
    runs.push_back(RowToRun(r, i));
    index[runs.back().id] = i;
  }
  if (runs.empty()) return runs;
  // rowid keeps the order in which outcomes were recorded.
  std::string placeholders;
  std::vector<db::Value> ids;
  for (const auto& run : runs) {
    ids.push_back(run.id);
    placeholders += (placeholders.empty() ? "$" : ", $") + std::to_string(ids.size());
  }
  DA_ASSIGN_OR_RETURN(db::QueryResult t,
                      c.Query(std::string("SELECT ") + kTableColumns +
                                  " FROM sync_run_tables WHERE run_id IN (" + placeholders +
                                  ") ORDER BY finished_at, rowid",
                              ids));
  for (size_t i = 0; i < t.RowCount(); ++i) {
    SyncRunTableRow row = RowToTable(t, i);
    auto it = index.find(row.run_id);
    if (it != index.end()) runs[it->second].tables.push_back(std::move(row));
  }
  return runs;
}

Status CheckOneOf(const std::string& field, const std::string& value,
                  std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return Status::Ok();
    list += (list.empty() ? "" : "|") + std::string(a);
  }
  return InvalidArgument(field + " '" + value + "' must be one of " + list);
}

}  // namespace

Status SyncRunRepo::Create(const std::string& id, const std::string& trigger,
                           const std::string& requested_by,
                           const std::vector<std::string>& tables_requested) {
  if (id.empty()) return InvalidArgument("run id is required");
  DA_RETURN_IF_ERROR(CheckOneOf("trigger", trigger, {"manual", "schedule"}));
  nlohmann::json ids = tables_requested;
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query("SELECT count(*) FROM sync_runs WHERE id = $1", {id}));
    if (r.GetInt64(0, 0) > 0) return AlreadyExists("sync run '" + id + "' already exists");
    return c.Execute(
        "INSERT INTO sync_runs (id, started_at, status, trigger, requested_by, tables_requested) "
        "VALUES ($1, make_timestamp($2), 'running', $3, $4, $5)",
        {id, NowMicros(), trigger, NullIfEmpty(requested_by), ids.dump()});
  });
}

Status SyncRunRepo::RecordTable(const SyncRunTableRow& row) {
  DA_RETURN_IF_ERROR(CheckOneOf("table status", row.status, {"synced", "skipped", "error"}));
  if (row.table_id.empty()) return InvalidArgument("table_id is required");
  int64_t finished = NowMicros();
  if (!row.finished_at.empty()) {
    DA_ASSIGN_OR_RETURN(finished, internal::ParseIsoMicros(row.finished_at));
  }
  db::Value started = std::monostate{};
  if (!row.started_at.empty()) {
    DA_ASSIGN_OR_RETURN(int64_t s, internal::ParseIsoMicros(row.started_at));
    started = s;
  }
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query("SELECT count(*) FROM sync_runs WHERE id = $1", {row.run_id}));
    if (r.GetInt64(0, 0) == 0) return NotFound("sync run '" + row.run_id + "' not found");
    return c.Execute(
        "INSERT OR REPLACE INTO sync_run_tables (run_id, table_id, status, reason, rows, "
        "size_bytes, duration_ms, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "make_timestamp($8::BIGINT), make_timestamp($9))",
        {row.run_id, row.table_id, row.status, NullIfEmpty(row.reason), row.rows, row.size_bytes,
         row.duration_ms, started, finished});
  });
}

Status SyncRunRepo::Finish(const std::string& run_id, const std::string& status,
                           const std::string& message) {
  DA_RETURN_IF_ERROR(CheckOneOf("run status", status,
                                {"ok", "partial", "error", "cancelled", "interrupted"}));
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query("SELECT status FROM sync_runs WHERE id = $1", {run_id}));
    if (r.RowCount() == 0) return NotFound("sync run '" + run_id + "' not found");
    if (r.GetString(0, 0) != "running") {
      return FailedPrecondition("sync run '" + run_id + "' already finished with status " +
                                r.GetString(0, 0));
    }
    return c.Execute(
        "UPDATE sync_runs SET status = $2, finished_at = make_timestamp($3), message = $4 "
        "WHERE id = $1",
        {run_id, status, NowMicros(), NullIfEmpty(message)});
  });
}

Result<std::optional<SyncRunRow>> SyncRunRepo::Get(const std::string& run_id) {
  return db_.Read([&](db::Connection& c) -> Result<std::optional<SyncRunRow>> {
    DA_ASSIGN_OR_RETURN(auto runs, LoadRuns(c,
                                            std::string("SELECT ") + kRunColumns +
                                                " FROM sync_runs WHERE id = $1",
                                            {run_id}));
    if (runs.empty()) return std::optional<SyncRunRow>();
    return std::optional<SyncRunRow>(std::move(runs.front()));
  });
}

Result<std::optional<SyncRunRow>> SyncRunRepo::Latest() {
  DA_ASSIGN_OR_RETURN(auto runs, List(1));
  if (runs.empty()) return std::optional<SyncRunRow>();
  return std::optional<SyncRunRow>(std::move(runs.front()));
}

Result<std::vector<SyncRunRow>> SyncRunRepo::List(int limit) {
  if (limit <= 0) return InvalidArgument("limit " + std::to_string(limit) + " must be positive");
  return db_.Read([&](db::Connection& c) {
    return LoadRuns(c,
                    std::string("SELECT ") + kRunColumns +
                        " FROM sync_runs ORDER BY started_at DESC, rowid DESC LIMIT $1",
                    {int64_t{limit}});
  });
}

Result<std::vector<std::string>> SyncRunRepo::MarkRunningInterrupted(const std::string& message) {
  return db_.Write([&](db::Connection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> marked;
    Status st = [&]() -> Status {
      DA_ASSIGN_OR_RETURN(auto runs,
                          LoadRuns(c,
                                   std::string("SELECT ") + kRunColumns +
                                       " FROM sync_runs WHERE status = 'running' ORDER BY rowid",
                                   {}));
      const int64_t now = NowMicros();
      for (const SyncRunRow& run : runs) {
        std::set<std::string> done;
        for (const auto& t : run.tables) done.insert(t.table_id);
        for (const auto& id : run.tables_requested) {
          if (!done.insert(id).second) continue;
          DA_RETURN_IF_ERROR(c.Execute(
              "INSERT INTO sync_run_tables (run_id, table_id, status, reason, finished_at) "
              "VALUES ($1, $2, 'error', $3, make_timestamp($4))",
              {run.id, id, message, now}));
        }
        DA_RETURN_IF_ERROR(c.Execute(
            "UPDATE sync_runs SET status = 'interrupted', finished_at = make_timestamp($2), "
            "message = $3 WHERE id = $1",
            {run.id, now, message}));
        marked.push_back(run.id);
      }
      return Status::Ok();
    }();
    if (!st.ok()) return st;
    return marked;
  });
}

Result<std::map<std::string, int64_t>> LastSuccessfulSyncMicros(StateDb& db) {
  return db.Read([](db::Connection& c) -> Result<std::map<std::string, int64_t>> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("SELECT table_id, epoch_us(last_sync) FROM sync_state WHERE last_sync IS NOT NULL"));
    std::map<std::string, int64_t> out;
    for (size_t i = 0; i < r.RowCount(); ++i) out[r.GetString(0, i)] = r.GetInt64(1, i);
    return out;
  });
}

}  // namespace da::state
