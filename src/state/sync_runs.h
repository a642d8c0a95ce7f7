#pragma once
/// sync_runs (one row per sync run) and sync_run_tables (one row per table that reached an
/// outcome in a run): the persistent record behind `GET /api/sync/runs[/{id}]`.
///
/// Run status: running | ok | partial | error | cancelled | interrupted.
/// Table status: synced | skipped | error (a reason explains skipped and error).
/// Trigger: manual | schedule. Timestamps cross this API as ISO-8601 UTC strings
/// ("YYYY-MM-DDTHH:MM:SSZ"; "" = not set) plus microsecond values where arithmetic needs them.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "state/state_db.h"

namespace da::state {

/// One table's outcome in one run.
struct SyncRunTableRow {
  std::string run_id;
  std::string table_id;
  std::string status;       ///< synced | skipped | error
  std::string reason;       ///< why skipped / the error message; "" when synced
  int64_t rows = 0;
  int64_t size_bytes = 0;
  int64_t duration_ms = 0;
  std::string started_at;   ///< ISO-8601 UTC; "" = unknown
  std::string finished_at;  ///< ISO-8601 UTC; "" = unknown
};

/// One run with the outcomes recorded so far.
struct SyncRunRow {
  std::string id;
  std::string started_at;                     ///< ISO-8601 UTC
  std::string finished_at;                    ///< ISO-8601 UTC; "" while running
  int64_t duration_ms = 0;                    ///< finished − started; 0 while running
  std::string status = "running";             ///< see the file comment
  std::string trigger = "manual";             ///< manual | schedule
  std::string requested_by;                   ///< actor (user email, "scheduler")
  std::vector<std::string> tables_requested;  ///< table ids the run was asked to handle
  std::string message;                        ///< why cancelled / interrupted; "" otherwise
  std::vector<SyncRunTableRow> tables;        ///< outcomes, in the order they were recorded
};

class SyncRunRepo {
 public:
  explicit SyncRunRepo(StateDb& db) : db_(db) {}

  /// Inserts a new run with status running and started_at = now. Errors: invalid_argument for
  /// an empty id or a trigger other than manual|schedule; already_exists for a duplicate id.
  Status Create(const std::string& id, const std::string& trigger,
                const std::string& requested_by, const std::vector<std::string>& tables_requested);

  /// Records (or replaces) one table's outcome. `started_at`/`finished_at` may be "" (then
  /// finished_at = now). Errors: invalid_argument for a status other than synced|skipped|error;
  /// not_found for an unknown run.
  Status RecordTable(const SyncRunTableRow& row);

  /// Ends a running run: status (ok|partial|error|cancelled|interrupted), finished_at = now,
  /// message. Errors: invalid_argument for another status; not_found for an unknown run;
  /// failed_precondition when the run already finished.
  Status Finish(const std::string& run_id, const std::string& status, const std::string& message);

  /// One run with its table outcomes; nullopt when unknown.
  Result<std::optional<SyncRunRow>> Get(const std::string& run_id);
  /// The newest run (by started_at, then insertion order); nullopt before the first.
  Result<std::optional<SyncRunRow>> Latest();
  /// At most `limit` runs, newest first, each with its table outcomes. invalid_argument when
  /// limit ≤ 0.
  Result<std::vector<SyncRunRow>> List(int limit);

  /// Restart recovery: every run still `running` (its process died with it) becomes
  /// `interrupted` with `message`, and each requested table without an outcome gets an error
  /// outcome with `message` as the reason. Returns the ids of the runs it marked.
  Result<std::vector<std::string>> MarkRunningInterrupted(const std::string& message);

 private:
  StateDb& db_;
};

/// The last successful extraction of every table that has one (sync_state.last_sync), as
/// table id → microseconds since the epoch (UTC). Used by the scheduler's due check.
Result<std::map<std::string, int64_t>> LastSuccessfulSyncMicros(StateDb& db);

}  // namespace da::state
