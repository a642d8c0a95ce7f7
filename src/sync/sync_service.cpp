#include "sync/sync_service.h"

#include <map>
#include <set>

#include "common/hash.h"
#include "common/log.h"
#include "common/time_util.h"
#include "state/users.h"
#include "sync/child_process.h"

namespace da::sync {

nlohmann::json RunSummary::ToJson() const {
  nlohmann::json tables_json = nlohmann::json::array();
  for (const auto& t : tables) {
    tables_json.push_back({{"table_id", t.table_id}, {"status", t.status}, {"reason", t.reason},
                           {"rows", t.rows}, {"size_bytes", t.size_bytes},
                           {"duration_ms", t.duration_ms}});
  }
  return {{"run_id", run_id},   {"started_at", started_at}, {"finished_at", finished_at},
          {"status", status},   {"tables", tables_json}};
}

SyncService::SyncService(const InstanceConfig& config, state::StateDb& db,
                         state::Registry& registry, orchestrator::Orchestrator& orchestrator,
                         std::string da_executable)
    : config_(config),
      db_(db),
      registry_(registry),
      sync_state_(db),
      orchestrator_(orchestrator),
      da_executable_(std::move(da_executable)) {}

SyncService::~SyncService() { Shutdown(); }

Result<RunSummary> SyncService::Trigger(const std::optional<std::vector<std::string>>& table_ids,
                                        const std::string& actor) {
  DA_ASSIGN_OR_RETURN(std::vector<state::TableRecord> all, registry_.List());
  std::vector<state::TableRecord> selected;
  if (table_ids && !table_ids->empty()) {
    std::map<std::string, const state::TableRecord*> by_id;
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

  bool expected = false;
  if (!running_.compare_exchange_strong(expected, true)) {
    return FailedPrecondition("sync_already_in_progress");
  }
  if (worker_.joinable()) worker_.join();
  RunSummary summary;
  summary.run_id = RandomHex(8);
  summary.started_at = NowIso();
  summary.status = "running";
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_run_ = summary;
  }
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& t : selected) ids.push_back(t.id);
  state::Audit(db_, actor, "sync_trigger", summary.run_id, nlohmann::json{{"tables", ids}}.dump());
  cancel_ = false;
  worker_ = std::thread([this, selected]() { RunInBackground(selected); });
  return summary;
}

std::optional<RunSummary> SyncService::LastRun() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_run_;
}

void SyncService::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return !running_.load(); });
}

void SyncService::Shutdown() {
  cancel_ = true;
  if (worker_.joinable()) worker_.join();
}

void SyncService::RunInBackground(std::vector<state::TableRecord> tables) {
  try {
    auto all = registry_.List();
    std::map<std::string, std::vector<state::TableRecord>> selected_by_source;
    for (const auto& t : tables) selected_by_source[t.source_type].push_back(t);
    for (const auto& [source, selected] : selected_by_source) {
      if (cancel_) break;
      std::vector<state::TableRecord> all_of_source;
      if (all.ok()) {
        for (const auto& t : *all) {
          if (t.source_type == source) all_of_source.push_back(t);
        }
      }
      ExtractSource(source, selected, all_of_source);
    }
    auto rebuilt = orchestrator_.Rebuild();
    if (!rebuilt.ok()) spdlog::error("view rebuild failed: {}", rebuilt.status().ToString());
  } catch (const std::exception& e) {
    spdlog::error("sync run failed: {}", e.what());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_run_) {
      last_run_->finished_at = NowIso();
      size_t ok = 0, err = 0;
      for (const auto& t : last_run_->tables) {
        if (t.status == "ok") ++ok;
        if (t.status == "error") ++err;
      }
      last_run_->status = err == 0 ? "ok" : (ok == 0 ? "error" : "partial");
      spdlog::info("sync run {} finished: {} ok, {} failed", last_run_->run_id, ok, err);
    }
    running_ = false;
  }
  idle_cv_.notify_all();
}

void SyncService::ExtractSource(const std::string& source,
                                const std::vector<state::TableRecord>& selected,
                                const std::vector<state::TableRecord>& all_of_source) {
  auto record_outcome = [this](TableOutcome o) {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_run_) last_run_->tables.push_back(std::move(o));
  };
  std::vector<state::TableRecord> to_extract;
  for (const auto& t : selected) {
    if (t.query_mode == "remote") {
      record_outcome({t.id, "skipped", "remote tables keep their data in the source", 0, 0, 0});
      continue;
    }
    to_extract.push_back(t);
  }
  if (to_extract.empty()) return;

  nlohmann::json registry_json = {{"tables", nlohmann::json::array()}};
  for (const auto& t : all_of_source) registry_json["tables"].push_back(state::TableRecordToJson(t));
  std::string ids;
  for (const auto& t : to_extract) ids += (ids.empty() ? "" : ",") + t.id;

  ChildOptions opts;
  opts.argv = {da_executable_, "extract", source, "--data-dir", config_.data_dir.string(),
               "--tables", ids, "--registry-json", "-"};
  opts.stdin_data = registry_json.dump();
  opts.timeout_ms = config_.extract_timeout_sec * 1000;
  opts.cancel = &cancel_;
  opts.on_stderr_line = [source](const std::string& line) {
    spdlog::info("[extract {}] {}", source, line);
  };
  spdlog::info("extracting source {} ({} tables)", source, to_extract.size());
  auto child = RunChild(opts);

  std::string run_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_run_) run_id = last_run_->run_id;
  }
  std::map<std::string, nlohmann::json> reported;
  std::string failure;
  if (!child.ok()) {
    failure = "cannot start extraction: " + child.status().message();
  } else if (child->timed_out) {
    failure = "extraction timed out after " + std::to_string(config_.extract_timeout_sec) + " s";
  } else if (child->cancelled) {
    failure = "extraction cancelled";
  } else {
    try {
      // The report is the last non-empty line of stdout.
      std::string out = child->stdout_data;
      while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
      auto nl = out.rfind('\n');
      auto report = nlohmann::json::parse(nl == std::string::npos ? out : out.substr(nl + 1));
      for (const auto& t : report.at("tables")) reported[t.at("table_id").get<std::string>()] = t;
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

  for (const auto& t : to_extract) {
    TableOutcome o{t.id, "error", failure, 0, 0, child.ok() ? child->duration_ms : 0};
    state::SyncHistoryRow h{run_id, t.id, NowIso(), "error", 0, 0, o.duration_ms, failure};
    auto it = reported.find(t.id);
    if (failure.empty() && it == reported.end()) {
      o.reason = h.error = "table missing from the extraction report";
    } else if (it != reported.end()) {
      const auto& r = it->second;
      o.status = h.status = r.value("status", "error");
      o.rows = h.rows = r.value("rows", int64_t{0});
      o.size_bytes = h.size_bytes = r.value("size_bytes", int64_t{0});
      o.duration_ms = h.duration_ms = r.value("duration_ms", int64_t{0});
      o.reason = h.error = o.status == "ok" ? "" : r.value("error", std::string("unknown error"));
    }
    Status st = o.status == "ok"
                    ? sync_state_.RecordSuccess(t.id, o.rows, o.size_bytes,
                                                it->second.value("md5", std::string()))
                    : sync_state_.RecordError(t.id, o.reason);
    if (!st.ok()) spdlog::error("cannot record sync state of {}: {}", t.id, st.ToString());
    st = sync_state_.AppendHistory(h);
    if (!st.ok()) spdlog::error("cannot record sync history of {}: {}", t.id, st.ToString());
    if (o.status != "ok") spdlog::warn("table {} failed: {}", t.id, o.reason);
    record_outcome(std::move(o));
  }
}

}  // namespace da::sync
