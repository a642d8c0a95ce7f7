#include "service/sync_service.h"

#include <set>

#include "common/log.h"
#include "service/errors.h"

namespace da::service {

nlohmann::json ToJson(const TriggerAnswer& a) {
  nlohmann::json tables = "all";
  if (a.tables) tables = *a.tables;
  return {{"status", "triggered"},
          {"run_id", a.run_id},
          {"tables", tables},
          {"message", "sync started; poll GET /api/sync/status"}};
}

nlohmann::json ToJson(const SyncStatusAnswer& a) { return {{"locked", a.locked}}; }

nlohmann::json ToJson(const RunAnswer& a) { return a.run.ToJson(a.with_tables); }

nlohmann::json ToJson(const RunList& a) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& run : a.runs) list.push_back(run.ToJson(/*with_tables=*/false));
  return {{"runs", list}};
}

Result<TriggerAnswer> SyncService::Trigger(const Caller& caller, const TriggerRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  auto run = ctx_.sync.Trigger(request.tables, caller.principal.email);
  if (!run.ok()) {
    if (run.status().message() == kSyncAlreadyInProgress) {
      return SyncAlreadyInProgress("a sync run is already in progress");
    }
    return run.status();
  }
  return TriggerAnswer{run->run_id, request.tables};
}

SyncStatusAnswer SyncService::LockStatus() const { return {ctx_.sync.IsRunning()}; }

sync::RunSummary RunAsSeenBy(const Caller& caller, const TableAccess& access,
                             sync::RunSummary run) {
  if (caller.principal.is_admin) return run;
  std::set<std::string> visible;
  auto tables = access.VisibleTables(caller.principal);
  if (tables.ok()) {
    for (const auto& t : *tables) visible.insert(t.id);
  } else {
    // Failing closed: without the registry nothing is known to be visible.
    spdlog::warn("sync run view: listing visible tables failed: {}", tables.status().ToString());
  }
  std::vector<std::string> requested;
  for (auto& id : run.tables_requested) {
    if (visible.count(id) > 0) requested.push_back(std::move(id));
  }
  run.tables_requested = std::move(requested);
  std::vector<sync::TableOutcome> outcomes;
  for (auto& o : run.tables) {
    if (visible.count(o.table_id) > 0) outcomes.push_back(std::move(o));
  }
  run.tables = std::move(outcomes);
  if (run.requested_by != caller.principal.email) run.requested_by.clear();
  if (!run.message.empty()) run.message = "the run reported a problem; an admin sees the details";
  return run;
}

Result<RunAnswer> SyncService::LatestRun(const Caller& caller) {
  DA_ASSIGN_OR_RETURN(auto run, ctx_.sync.LatestRun());
  if (!run.has_value()) return NotFound("no sync run yet");
  return RunAnswer{RunAsSeenBy(caller, access_, std::move(*run))};
}

Result<RunList> SyncService::ListRuns(const Caller& caller, const ListRunsRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  if (request.limit < 1 || request.limit > kMaxRunLimit) {
    return InvalidArgument("limit must be an integer from 1 to " + std::to_string(kMaxRunLimit) +
                           ", got '" + std::to_string(request.limit) + "'");
  }
  DA_ASSIGN_OR_RETURN(auto runs, ctx_.sync.ListRuns(request.limit));
  return RunList{std::move(runs)};
}

Result<RunAnswer> SyncService::GetRun(const Caller& caller, const RunIdRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(auto run, ctx_.sync.GetRun(request.id));
  if (!run.has_value()) {
    return NotFound("sync run '" + request.id.substr(0, 64) + "' not found");
  }
  return RunAnswer{std::move(*run)};
}

Result<RunAnswer> SyncService::Cancel(const Caller& caller, const RunIdRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  DA_ASSIGN_OR_RETURN(auto run, ctx_.sync.Cancel(request.id, caller.principal.email));
  return RunAnswer{std::move(run)};
}

}  // namespace da::service
