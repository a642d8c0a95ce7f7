#pragma once
/// Sync runs: one at a time, in the background. A run groups the selected tables by source,
/// extracts each source in a child process (`da extract <source> --registry-json -`) under a
/// time limit, records sync_state / sync_history per table from the child's report and
/// re-publishes the views through the orchestrator.
///
/// Source: upstream-inventory.md §1.6 (singleton lock → 409, trigger body shapes), decisions §3
/// ("last synced" = last successful extraction).
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/status.h"
#include "orchestrator/orchestrator.h"
#include "state/registry.h"
#include "state/sync_state.h"

namespace da::sync {

struct TableOutcome {
  std::string table_id;
  std::string status;   ///< ok | error | skipped
  std::string reason;   ///< skip reason or error message
  int64_t rows = 0;
  int64_t size_bytes = 0;
  int64_t duration_ms = 0;
};

struct RunSummary {
  std::string run_id;
  std::string started_at;
  std::string finished_at;   ///< "" while running
  std::string status;        ///< running | ok | partial | error
  std::vector<TableOutcome> tables;
  nlohmann::json ToJson() const;
};

class SyncService {
 public:
  /// `da_executable` is the binary run as `da extract`; usually SelfExecutablePath().
  SyncService(const InstanceConfig& config, state::StateDb& db, state::Registry& registry,
              orchestrator::Orchestrator& orchestrator, std::string da_executable);
  ~SyncService();

  /// Starts a run in the background over `table_ids` (nullopt = every registered table).
  /// Errors: failed_precondition "sync_already_in_progress" while a run is going;
  /// not_found naming unknown ids (nothing is started).
  Result<RunSummary> Trigger(const std::optional<std::vector<std::string>>& table_ids,
                             const std::string& actor);
  bool IsRunning() const { return running_.load(); }
  /// The current or last run (nullopt before the first).
  std::optional<RunSummary> LastRun() const;
  /// Blocks until no run is going.
  void WaitIdle();
  /// Asks a running extraction to stop (kills its process group) and waits for the run to end.
  void Shutdown();

 private:
  void RunInBackground(std::vector<state::TableRecord> tables);
  void ExtractSource(const std::string& source, const std::vector<state::TableRecord>& selected,
                     const std::vector<state::TableRecord>& all_of_source);

  InstanceConfig config_;
  state::StateDb& db_;
  state::Registry& registry_;
  state::SyncStateRepo sync_state_;
  orchestrator::Orchestrator& orchestrator_;
  std::string da_executable_;

  std::atomic<bool> running_{false};
  std::atomic<bool> cancel_{false};
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::optional<RunSummary> last_run_;
  std::thread worker_;
};

}  // namespace da::sync
