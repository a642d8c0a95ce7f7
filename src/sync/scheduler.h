#pragma once
/// The in-process scheduler: every `tick` it finds the tables whose `sync_schedule` is due
/// (IsDue against sync_state.last_sync, the last successful extraction) and starts one sync run
/// of exactly those, triggered as `schedule` by "scheduler". A pass while a run is going starts
/// nothing (the next pass looks again). Tables without a schedule run only when triggered
/// explicitly or by a manual "all"; remote tables are never scheduled (nothing to extract).
///
/// Source: upstream-inventory.md §1.7 (due logic) and §7.1 (the reference's HTTP sidecar, which
/// this thread replaces).
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "state/registry.h"
#include "state/state_db.h"
#include "sync/sync_service.h"

namespace da::sync {

/// The ids of `tables` due at `now_micros`, in the order given: a non-empty schedule that
/// parses, query_mode other than remote, and IsDue against `last_success_micros` (table id →
/// µs of its last successful extraction; absent = never synced). A schedule that does not parse
/// (stored before validation existed) is skipped with a warning.
std::vector<std::string> SelectDueTables(const std::vector<model::TableSpec>& tables,
                                         const std::map<std::string, int64_t>& last_success_micros,
                                         int64_t now_micros);

class Scheduler {
 public:
  /// `tick_sec` = seconds between passes (InstanceConfig::scheduler_tick_sec); 0 = disabled.
  Scheduler(SyncService& sync, state::Registry& registry, state::StateDb& db, int64_t tick_sec);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Starts the thread (first pass after one tick). No-op when disabled or already started.
  void Start();
  /// Stops the thread promptly (wakes it from its wait) and joins it. Idempotent.
  void Stop();
  bool IsStarted() const;

  /// One pass at `now_micros`: triggers a `schedule` run of the due tables. Returns the ids it
  /// started (empty when nothing is due or a run is already going). Errors: reading the
  /// registry or sync_state failed, or the trigger failed for another reason than a run
  /// already going.
  Result<std::vector<std::string>> RunOnce(int64_t now_micros);

 private:
  void Loop();

  SyncService& sync_;
  state::Registry& registry_;
  state::StateDb& db_;
  int64_t tick_sec_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace da::sync
