#pragma once
/// Sync runs: one at a time, in the background, each persisted in sync_runs / sync_run_tables.
///
/// A run groups the selected tables by source, extracts each source in a child process
/// (`da extract <source> --registry-json -`, its own process group) under the configured time
/// limit (`extract_timeout_sec`), records one outcome per table (synced / skipped with a reason /
/// error with the message), updates sync_state / sync_history from the child's report and
/// finally re-publishes the views through the orchestrator. The previous extract keeps serving
/// whenever an extraction fails, times out or is cancelled (the extract runtime builds in temp
/// files and renames only on success).
///
/// Run status: running → ok (no errors) | partial (some synced, some failed) | error (nothing
/// synced, something failed) | cancelled (Cancel) | interrupted (server stopped during the run;
/// on restart RecoverInterruptedRuns marks runs left `running`).
///
/// Source: upstream-inventory.md §1.6 (singleton lock → 409, trigger body shapes), decisions §3
/// ("last synced" = last successful extraction).
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/status.h"
#include "orchestrator/orchestrator.h"
#include "state/registry.h"
#include "state/sync_runs.h"
#include "state/sync_state.h"

namespace da::sync {

/// Who started a run: a person or client (`manual`) or the in-process scheduler (`schedule`).
enum class TriggerKind { kManual, kSchedule };
/// "manual" | "schedule".
std::string_view TriggerKindName(TriggerKind kind);

/// One table's outcome in a run.
struct TableOutcome {
  std::string table_id;
  std::string status;       ///< synced | skipped | error
  std::string reason;       ///< skip reason or error message; "" when synced
  int64_t rows = 0;
  int64_t size_bytes = 0;
  int64_t duration_ms = 0;
  std::string started_at;   ///< ISO-8601 UTC when its extraction process started; "" if never
  std::string finished_at;  ///< ISO-8601 UTC when the outcome was recorded
};

/// A run as the API shows it.
struct RunSummary {
  std::string run_id;
  std::string started_at;                     ///< ISO-8601 UTC
  std::string finished_at;                    ///< "" while running
  int64_t duration_ms = 0;                    ///< 0 while running
  std::string status;                         ///< running | ok | partial | error | cancelled | interrupted
  std::string trigger;                        ///< manual | schedule
  std::string requested_by;                   ///< user email or "scheduler"
  std::vector<std::string> tables_requested;  ///< ids the run handles
  std::string message;                        ///< why cancelled / interrupted
  std::vector<TableOutcome> tables;           ///< outcomes recorded so far

  static RunSummary FromRow(const state::SyncRunRow& row);
  /// `{run_id, status, trigger, requested_by, started_at, finished_at, duration_ms,
  ///   tables_requested:[ids], message, counts:{synced, skipped, error, pending},
  ///   tables:[{table_id, status, reason, rows, size_bytes, duration_ms, started_at,
  ///   finished_at}]}`; `with_tables = false` leaves out `tables`.
  nlohmann::json ToJson(bool with_tables = true) const;
};

/// Called with the ids of the tables synced in a run, after the views were rebuilt and before
/// the run is marked finished (so a caller waiting for the run sees its effects).
using TablesSyncedHook = std::function<void(const std::vector<std::string>& synced_table_ids)>;

/// Names of the environment variables the extraction of one source needs besides those of
/// ExtractChildEnvironment: its connector's declared variables (kit::DeclaredEnvVars, e.g.
/// KEBOOLA_STORAGE_TOKEN for keboola).
using SourceEnvironment = std::function<std::vector<std::string>(const std::string& source)>;

/// What a `da extract` child inherits of the server's environment (the inherit_only list):
/// BaseChildEnvironment(), the da settings an extraction reads (DA_CONFIG, DA_DATA_DIR,
/// DA_LOG_LEVEL, DA_EXTRACT_TIMEOUT_SEC, DA_EXTRACT_MEMORY_LIMIT, DA_FILES_ROOTS,
/// DA_CONNECTORS_DIR, DA_CA_FILE, DA_TEMP_DIR, DA_GCS_ENDPOINT) and `source_variables`. Never
/// the secrets of other subsystems (DA_OIDC_CLIENT_SECRET, DA_SMTP_URL,
/// DA_BOOTSTRAP_ADMIN_PASSWORD) nor other sources' credentials.
std::vector<std::string> ExtractChildEnvironment(const std::vector<std::string>& source_variables);

class SyncService {
 public:
  /// `da_executable` is the binary run as `da extract`; usually SelfExecutablePath().
  SyncService(const InstanceConfig& config, state::StateDb& db, state::Registry& registry,
              orchestrator::Orchestrator& orchestrator, std::string da_executable);
  ~SyncService();

  /// Set by the server before the first Trigger (not synchronised); runs on the run's thread.
  /// Exceptions it throws are logged and ignored. Empty = nothing to call.
  TablesSyncedHook on_tables_synced;
  /// Set by the server before the first Trigger (not synchronised): the variables a source's
  /// extraction child is given besides ExtractChildEnvironment's. Empty = none.
  SourceEnvironment source_environment;

  /// Restart recovery: marks runs left `running` by a previous process `interrupted` (their
  /// unfinished tables get an error outcome). Call once at startup before any Trigger.
  Status RecoverInterruptedRuns();

  /// Starts a run in the background. `table_ids` names the tables (schedules are ignored:
  /// an explicit list is run as given); nullopt or an empty list = every registered table.
  /// The scheduler passes the due tables with `kind = kSchedule`. Errors: failed_precondition
  /// "sync_already_in_progress" while a run is going; not_found naming unknown ids (nothing is
  /// started); internal when the run cannot be recorded.
  Result<RunSummary> Trigger(const std::optional<std::vector<std::string>>& table_ids,
                             const std::string& actor, TriggerKind kind = TriggerKind::kManual);

  /// Cancels the running run `run_id`: kills its extraction's process group, records the
  /// tables not finished as error "cancelled", marks the run `cancelled` and waits (up to
  /// ~60 s) for it to end; returns the run as it ended. The previous data keeps serving.
  /// Errors: not_found for an unknown run; failed_precondition when the run already finished.
  Result<RunSummary> Cancel(const std::string& run_id, const std::string& actor);

  bool IsRunning() const { return running_.load(); }
  /// The newest run (running or finished); nullopt before the first or on a DB error (logged).
  std::optional<RunSummary> LastRun() const;
  /// The newest run; nullopt before the first; the state DB's error when it cannot be read.
  Result<std::optional<RunSummary>> LatestRun() const;
  /// One run; nullopt when unknown.
  Result<std::optional<RunSummary>> GetRun(const std::string& run_id) const;
  /// At most `limit` runs, newest first (invalid_argument when limit ≤ 0).
  Result<std::vector<RunSummary>> ListRuns(int limit) const;

  /// Blocks until no run is going.
  void WaitIdle();
  /// Stops a running extraction (its run ends `interrupted`) and waits for the run to end.
  void Shutdown();

 private:
  void RunInBackground(const std::string& run_id, std::vector<model::TableSpec> tables);
  /// Extracts `selected` (all of `source`) and returns their outcomes.
  std::vector<TableOutcome> ExtractSource(const std::string& run_id, const std::string& source,
                                          const std::vector<model::TableSpec>& selected,
                                          const std::vector<model::TableSpec>& all_of_source);
  /// Persists one outcome (logging failures).
  void Record(const std::string& run_id, const TableOutcome& outcome);

  InstanceConfig config_;
  state::StateDb& db_;
  state::Registry& registry_;
  state::SyncStateRepo sync_state_;
  mutable state::SyncRunRepo runs_;
  orchestrator::Orchestrator& orchestrator_;
  std::string da_executable_;

  std::atomic<bool> running_{false};
  std::atomic<bool> cancel_{false};  ///< handed to the child runner: true kills the group
  mutable std::mutex mu_;            ///< guards the fields below and idle_cv_
  std::condition_variable idle_cv_;
  std::string current_run_id_;
  std::string cancelled_by_;         ///< non-empty once Cancel hit the current run
  bool shutting_down_ = false;
  std::mutex worker_mu_;             ///< serialises starting and joining worker_
  std::thread worker_;
};

}  // namespace da::sync
