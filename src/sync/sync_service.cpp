#include "sync/sync_service.h"

#include <chrono>
#include <map>
#include <set>

#include "common/hash.h"
#include "common/log.h"
#include "common/process_spawn.h"
#include "common/time_util.h"
#include "state/users.h"
#include "sync/child_process.h"

namespace da::sync {
namespace {

constexpr const char* kCancelledReason = "cancelled";
constexpr const char* kShutdownReason = "interrupted: the server shut down during the run";
constexpr const char* kRestartReason = "interrupted: the server stopped during the run";

/// The extraction report is the last non-empty line of the child's stdout.
std::map<std::string, nlohmann::json> ParseReport(const std::string& stdout_data) {
  std::string out = stdout_data;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  auto nl = out.rfind('\n');
  auto report = nlohmann::json::parse(nl == std::string::npos ? out : out.substr(nl + 1));
  std::map<std::string, nlohmann::json> reported;
  for (const auto& t : report.at("tables")) reported[t.at("table_id").get<std::string>()] = t;
  return reported;
}

}  // namespace

std::string_view TriggerKindName(TriggerKind kind) {
  return kind == TriggerKind::kSchedule ? "schedule" : "manual";
}

RunSummary RunSummary::FromRow(const state::SyncRunRow& row) {
  RunSummary s;
  s.run_id = row.id;
  s.started_at = row.started_at;
  s.finished_at = row.finished_at;
  s.duration_ms = row.duration_ms;
  s.status = row.status;
  s.trigger = row.trigger;
  s.requested_by = row.requested_by;
  s.tables_requested = row.tables_requested;
  s.message = row.message;
  for (const auto& t : row.tables) {
    s.tables.push_back({t.table_id, t.status, t.reason, t.rows, t.size_bytes, t.duration_ms,
                        t.started_at, t.finished_at});
  }
  return s;
}

nlohmann::json RunSummary::ToJson(bool with_tables) const {
  int64_t synced = 0, skipped = 0, errors = 0;
  std::set<std::string> done;
  nlohmann::json tables_json = nlohmann::json::array();
  for (const auto& t : tables) {
    done.insert(t.table_id);
    if (t.status == "synced") ++synced;
    if (t.status == "skipped") ++skipped;
    if (t.status == "error") ++errors;
    if (!with_tables) continue;
    tables_json.push_back({{"table_id", t.table_id},
                           {"status", t.status},
                           {"reason", t.reason},
                           {"rows", t.rows},
                           {"size_bytes", t.size_bytes},
                           {"duration_ms", t.duration_ms},
                           {"started_at", t.started_at},
                           {"finished_at", t.finished_at}});
  }
  int64_t pending = 0;
  for (const auto& id : tables_requested) pending += done.count(id) ? 0 : 1;
  nlohmann::json j = {{"run_id", run_id},
                      {"status", status},
                      {"trigger", trigger},
                      {"requested_by", requested_by},
                      {"started_at", started_at},
                      {"finished_at", finished_at},
                      {"duration_ms", duration_ms},
                      {"tables_requested", tables_requested},
                      {"message", message},
                      {"counts",
                       {{"synced", synced}, {"skipped", skipped}, {"error", errors},
                        {"pending", status == "running" ? pending : 0}}}};
  if (with_tables) j["tables"] = std::move(tables_json);
  return j;
}

SyncService::SyncService(const InstanceConfig& config, state::StateDb& db,
                         state::Registry& registry, orchestrator::Orchestrator& orchestrator,
                         std::string da_executable)
    : config_(config),
      db_(db),
      registry_(registry),
      sync_state_(db),
      runs_(db),
      orchestrator_(orchestrator),
      da_executable_(std::move(da_executable)) {}

SyncService::~SyncService() { Shutdown(); }

Status SyncService::RecoverInterruptedRuns() {
  DA_ASSIGN_OR_RETURN(auto marked, runs_.MarkRunningInterrupted(kRestartReason));
  for (const auto& id : marked) {
    spdlog::warn("sync run {} was still running when the server stopped; marked interrupted", id);
  }
  return Status::Ok();
}

Result<RunSummary> SyncService::Trigger(const std::optional<std::vector<std::string>>& table_ids,
                                        const std::string& actor, TriggerKind kind) {
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> all, registry_.List());
  std::vector<model::TableSpec> selected;
  if (table_ids && !table_ids->empty()) {
    std::map<std::string, const model::TableSpec*> by_id;
    for (const auto& t : all) by_id[t.id] = &t;
    std::vector<std::string> unknown;
    std::set<std::string> seen;
    for (const auto& id : *table_ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) {
        unknown.push_back(id);
      } else if (seen.insert(id).second) {
        selected.push_back(*it->second);
      }
    }
    if (!unknown.empty()) {
      std::string list;
      for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
      return NotFound("unknown table id(s): " + list);
    }
  } else {
    selected = all;
  }

  std::lock_guard<std::mutex> worker_lock(worker_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return Unavailable("the server is shutting down; no new sync runs");
  }
  bool expected = false;
  if (!running_.compare_exchange_strong(expected, true)) {
    return FailedPrecondition("sync_already_in_progress");
  }
  if (worker_.joinable()) worker_.join();
  const std::string run_id = RandomHex(8);
  std::vector<std::string> ids;
  for (const auto& t : selected) ids.push_back(t.id);
  {
    // Before the row exists, so a Cancel racing with the start already finds the run.
    std::lock_guard<std::mutex> lock(mu_);
    current_run_id_ = run_id;
    cancelled_by_.clear();
    cancel_ = false;
  }
  Status created = runs_.Create(run_id, std::string(TriggerKindName(kind)), actor, ids);
  if (!created.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = false;
    }
    idle_cv_.notify_all();
    return Internal("cannot record the sync run: " + created.message());
  }
  state::Audit(db_, actor, "sync_trigger", run_id,
               nlohmann::json{{"tables", ids}, {"trigger", TriggerKindName(kind)}}.dump());
  spdlog::info("sync run {} started ({}, {} tables, by {})", run_id, TriggerKindName(kind),
               ids.size(), actor);
  worker_ = std::thread([this, run_id, selected]() { RunInBackground(run_id, selected); });

  RunSummary summary;
  summary.run_id = run_id;
  summary.started_at = IsoFromMicros(NowMicros());
  summary.status = "running";
  summary.trigger = std::string(TriggerKindName(kind));
  summary.requested_by = actor;
  summary.tables_requested = ids;
  return summary;
}

Result<RunSummary> SyncService::Cancel(const std::string& run_id, const std::string& actor) {
  bool is_current = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ && current_run_id_ == run_id) {
      is_current = true;
      if (cancelled_by_.empty()) cancelled_by_ = actor.empty() ? "unknown" : actor;
      cancel_ = true;
    }
  }
  if (!is_current) {
    DA_ASSIGN_OR_RETURN(auto run, runs_.Get(run_id));
    if (!run) return NotFound("sync run '" + run_id + "' not found");
    return FailedPrecondition("sync run '" + run_id + "' already finished with status " +
                              run->status + "; only a running run can be cancelled");
  }
  state::Audit(db_, actor, "sync_cancel", run_id, "{}");
  spdlog::info("sync run {}: cancel requested by {}", run_id, actor);
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait_for(lock, std::chrono::seconds(60),
                      [&] { return !running_.load() || current_run_id_ != run_id; });
  }
  DA_ASSIGN_OR_RETURN(auto run, runs_.Get(run_id));
  if (!run) return Internal("sync run '" + run_id + "' vanished");
  return RunSummary::FromRow(*run);
}

std::optional<RunSummary> SyncService::LastRun() const {
  auto latest = LatestRun();
  if (!latest.ok()) {
    spdlog::error("cannot read the latest sync run: {}", latest.status().ToString());
    return std::nullopt;
  }
  return *latest;
}

Result<std::optional<RunSummary>> SyncService::LatestRun() const {
  DA_ASSIGN_OR_RETURN(auto latest, runs_.Latest());
  if (!latest) return std::optional<RunSummary>();
  return std::optional<RunSummary>(RunSummary::FromRow(*latest));
}

Result<std::optional<RunSummary>> SyncService::GetRun(const std::string& run_id) const {
  DA_ASSIGN_OR_RETURN(auto run, runs_.Get(run_id));
  if (!run) return std::optional<RunSummary>();
  return std::optional<RunSummary>(RunSummary::FromRow(*run));
}

Result<std::vector<RunSummary>> SyncService::ListRuns(int limit) const {
  DA_ASSIGN_OR_RETURN(auto rows, runs_.List(limit));
  std::vector<RunSummary> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(RunSummary::FromRow(r));
  return out;
}

void SyncService::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return !running_.load(); });
}

void SyncService::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    cancel_ = true;
  }
  std::lock_guard<std::mutex> worker_lock(worker_mu_);
  if (worker_.joinable()) worker_.join();
}

void SyncService::Record(const std::string& run_id, const TableOutcome& o) {
  Status st = runs_.RecordTable({run_id, o.table_id, o.status, o.reason, o.rows, o.size_bytes,
                                 o.duration_ms, o.started_at, o.finished_at});
  if (!st.ok()) spdlog::error("cannot record the outcome of {}: {}", o.table_id, st.ToString());
}

void SyncService::RunInBackground(const std::string& run_id,
                                  std::vector<model::TableSpec> tables) {
  std::set<std::string> recorded;
  std::vector<std::string> synced;
  int64_t n_synced = 0, n_error = 0, n_interrupted = 0;
  auto record = [&](const TableOutcome& o) {
    Record(run_id, o);
    recorded.insert(o.table_id);
    if (o.reason == kShutdownReason) ++n_interrupted;
    if (o.status == "synced") {
      ++n_synced;
      synced.push_back(o.table_id);
    } else if (o.status == "error") {
      ++n_error;
    }
  };
  std::string failure;  // a whole-run problem, for the run message
  try {
    auto all = registry_.List();
    std::map<std::string, std::vector<model::TableSpec>> selected_by_source;
    for (const auto& t : tables) selected_by_source[t.source_type].push_back(t);
    for (const auto& [source, selected] : selected_by_source) {
      if (cancel_) break;
      std::vector<model::TableSpec> all_of_source;
      if (all.ok()) {
        for (const auto& t : *all) {
          if (t.source_type == source) all_of_source.push_back(t);
        }
      }
      for (const auto& o : ExtractSource(run_id, source, selected, all_of_source)) record(o);
    }
    auto rebuilt = orchestrator_.Rebuild();
    if (!rebuilt.ok()) {
      spdlog::error("view rebuild failed: {}", rebuilt.status().ToString());
      failure = "view rebuild failed: " + rebuilt.status().message();
    }
    if (!synced.empty() && on_tables_synced) on_tables_synced(synced);
  } catch (const std::exception& e) {
    spdlog::error("sync run {} failed: {}", run_id, e.what());
    failure = std::string("sync run failed: ") + e.what();
  }

  std::string cancelled_by;
  bool shutting_down = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_by = cancelled_by_;
    shutting_down = shutting_down_;
  }
  // Tables that never reached an outcome (a later source when the run stopped early).
  const std::string not_run_reason =
      !cancelled_by.empty() ? kCancelledReason
                            : (shutting_down ? kShutdownReason
                                             : (failure.empty() ? "not run" : failure));
  for (const auto& t : tables) {
    if (recorded.count(t.id)) continue;
    record({t.id, "error", not_run_reason, 0, 0, 0, "", ""});
  }
  std::string status;
  std::string message = failure;
  if (!cancelled_by.empty()) {
    status = "cancelled";
    message = "cancelled by " + cancelled_by;
  } else if (shutting_down && n_interrupted > 0) {
    status = "interrupted";
    message = kShutdownReason;
  } else if (n_error == 0) {
    status = "ok";
  } else {
    status = n_synced == 0 ? "error" : "partial";
  }
  Status st = runs_.Finish(run_id, status, message);
  if (!st.ok()) spdlog::error("cannot finish sync run {}: {}", run_id, st.ToString());
  spdlog::info("sync run {} finished: {} ({} synced, {} failed)", run_id, status, n_synced,
               n_error);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
  }
  idle_cv_.notify_all();
}

std::vector<std::string> ExtractChildEnvironment(const std::vector<std::string>& source_variables) {
  std::vector<std::string> out = BaseChildEnvironment();
  for (const char* name :
       {"DA_CONFIG", "DA_DATA_DIR", "DA_LOG_LEVEL", "DA_EXTRACT_TIMEOUT_SEC",
        "DA_EXTRACT_MEMORY_LIMIT", "DA_FILES_ROOTS", "DA_CONNECTORS_DIR", "DA_CA_FILE",
        "DA_TEMP_DIR", "DA_GCS_ENDPOINT"}) {
    out.emplace_back(name);
  }
  out.insert(out.end(), source_variables.begin(), source_variables.end());
  return out;
}

std::vector<TableOutcome> SyncService::ExtractSource(
    const std::string& run_id, const std::string& source,
    const std::vector<model::TableSpec>& selected,
    const std::vector<model::TableSpec>& all_of_source) {
  std::vector<TableOutcome> outcomes;
  std::vector<model::TableSpec> to_extract;
  for (const auto& t : selected) {
    if (!t.IsStored()) {
      outcomes.push_back({t.id, "skipped", "remote tables keep their data in the source", 0, 0, 0,
                          "", IsoFromMicros(NowMicros())});
      continue;
    }
    to_extract.push_back(t);
  }
  if (to_extract.empty()) return outcomes;

  nlohmann::json registry_json = {{"tables", nlohmann::json::array()}};
  for (const auto& t : all_of_source) registry_json["tables"].push_back(model::TableSpecToJson(t));
  std::string ids;
  for (const auto& t : to_extract) ids += (ids.empty() ? "" : ",") + t.id;

  ChildOptions opts;
  opts.argv = {da_executable_, "extract", source, "--data-dir", config_.data_dir.string(),
               "--tables", ids, "--registry-json", "-", "--memory-limit",
               std::to_string(config_.ExtractMemoryLimitBytes())};
  opts.stdin_data = registry_json.dump();
  opts.timeout_ms = config_.extract_timeout_sec * 1000;
  opts.cancel = &cancel_;
  opts.kill_with_parent = true;
  // The child gets its own source's credentials, never the server's other secrets.
  opts.inherit_only = ExtractChildEnvironment(
      source_environment ? source_environment(source) : std::vector<std::string>{});
  opts.on_stderr_line = [source](const std::string& line) {
    spdlog::info("[extract {}] {}", source, line);
  };
  spdlog::info("sync run {}: extracting source {} ({} tables)", run_id, source, to_extract.size());
  const std::string started_at = IsoFromMicros(NowMicros());
  auto child = RunChild(opts);

  bool stopped = false;  // cancelled or shut down: not a failure of the tables themselves
  std::map<std::string, nlohmann::json> reported;
  std::string failure;
  if (!child.ok()) {
    failure = "cannot start extraction: " + child.status().message();
  } else if (child->timed_out) {
    failure = "extraction timed out after " + std::to_string(config_.extract_timeout_sec) + " s";
  } else if (child->cancelled) {
    stopped = true;
    std::lock_guard<std::mutex> lock(mu_);
    failure = !cancelled_by_.empty() ? kCancelledReason : kShutdownReason;
  } else {
    try {
      reported = ParseReport(child->stdout_data);
    } catch (const std::exception&) {
      failure = "extraction process failed (exit " + std::to_string(child->exit_code) +
                (child->term_signal ? ", signal " + std::to_string(child->term_signal) : "") +
                ")";
      std::string tail = child->stderr_tail;
      if (auto p = tail.find_last_not_of("\n "); p != std::string::npos) tail.resize(p + 1);
      if (auto nl = tail.rfind('\n'); nl != std::string::npos) tail = tail.substr(nl + 1);
      if (!tail.empty()) failure += ": " + tail.substr(0, 500);
    }
  }

  const std::string finished_at = IsoFromMicros(NowMicros());
  for (const auto& t : to_extract) {
    TableOutcome o{t.id, "error", failure, 0, 0, child.ok() ? child->duration_ms : 0,
                   started_at, finished_at};
    auto it = reported.find(t.id);
    if (failure.empty() && it == reported.end()) {
      o.reason = "table missing from the extraction report";
    } else if (it != reported.end()) {
      const auto& r = it->second;
      const bool ok = r.value("status", std::string("error")) == "ok";
      o.status = ok ? "synced" : "error";
      o.rows = r.value("rows", int64_t{0});
      o.size_bytes = r.value("size_bytes", int64_t{0});
      o.duration_ms = r.value("duration_ms", int64_t{0});
      o.reason = ok ? "" : r.value("error", std::string("unknown error"));
    }
    const bool ok = o.status == "synced";
    if (!stopped) {
      Status st = ok ? sync_state_.RecordSuccess(t.id, o.rows, o.size_bytes,
                                                 it->second.value("md5", std::string()))
                     : sync_state_.RecordError(t.id, o.reason);
      if (!st.ok()) spdlog::error("cannot record sync state of {}: {}", t.id, st.ToString());
    }
    state::SyncHistoryRow h{run_id, t.id, finished_at, ok ? "ok" : "error", o.rows,
                            o.size_bytes, o.duration_ms, o.reason, ""};
    if (it != reported.end()) {
      auto change = it->second.find("schema_change");
      if (change != it->second.end() && change->is_object()) h.schema_change = change->dump();
    }
    Status st = sync_state_.AppendHistory(h);
    if (!st.ok()) spdlog::error("cannot record sync history of {}: {}", t.id, st.ToString());
    if (!ok) spdlog::warn("sync run {}: table {} failed: {}", run_id, t.id, o.reason);
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace da::sync
