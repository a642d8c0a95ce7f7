#include "service/sync_service.h"

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

Result<RunAnswer> SyncService::LatestRun(const Caller&) {
  DA_ASSIGN_OR_RETURN(auto run, ctx_.sync.LatestRun());
  if (!run.has_value()) return NotFound("no sync run yet");
  return RunAnswer{std::move(*run)};
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
