#include "sync/scheduler.h"

#include <chrono>

#include "common/log.h"
#include "common/schedule.h"
#include "common/time_util.h"
#include "state/sync_runs.h"

namespace da::sync {

std::vector<std::string> SelectDueTables(const std::vector<model::TableSpec>& tables,
                                         const std::map<std::string, int64_t>& last_success_micros,
                                         int64_t now_micros) {
  std::vector<std::string> due;
  for (const auto& t : tables) {
    if (t.sync_schedule.empty() || !t.IsStored()) continue;
    auto schedule = ParseSchedule(t.sync_schedule);
    if (!schedule.ok()) {
      spdlog::warn("scheduler: table {} has an unusable schedule: {}", t.id,
                   schedule.status().message());
      continue;
    }
    std::optional<int64_t> last;
    if (auto it = last_success_micros.find(t.id); it != last_success_micros.end()) {
      last = it->second;
    }
    if (IsDue(*schedule, last, now_micros)) due.push_back(t.id);
  }
  return due;
}

Scheduler::Scheduler(SyncService& sync, state::Registry& registry, state::StateDb& db,
                     int64_t tick_sec)
    : sync_(sync), registry_(registry), db_(db), tick_sec_(tick_sec) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (tick_sec_ <= 0 || thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  spdlog::info("scheduler started (tick {} s)", tick_sec_);
}

void Scheduler::Stop() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    t = std::move(thread_);
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
}

bool Scheduler::IsStarted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return thread_.joinable();
}

Result<std::vector<std::string>> Scheduler::RunOnce(int64_t now_micros) {
  if (sync_.IsRunning()) return std::vector<std::string>{};
  DA_ASSIGN_OR_RETURN(auto tables, registry_.List());
  DA_ASSIGN_OR_RETURN(auto last, state::LastSuccessfulSyncMicros(db_));
  std::vector<std::string> due = SelectDueTables(tables, last, now_micros);
  if (due.empty()) return due;
  auto run = sync_.Trigger(due, "scheduler", TriggerKind::kSchedule);
  if (!run.ok()) {
    if (run.status().code() == StatusCode::kFailedPrecondition) return std::vector<std::string>{};
    return run.status();
  }
  spdlog::info("scheduler: run {} started for {} due table(s)", run->run_id, due.size());
  return due;
}

void Scheduler::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (cv_.wait_for(lock, std::chrono::seconds(tick_sec_), [this] { return stop_; })) return;
    lock.unlock();
    try {
      auto started = RunOnce(NowMicros());
      if (!started.ok()) spdlog::error("scheduler pass failed: {}", started.status().ToString());
    } catch (const std::exception& e) {
      spdlog::error("scheduler pass failed: {}", e.what());
    }
    lock.lock();
  }
}

}  // namespace da::sync
