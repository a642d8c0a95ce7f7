#pragma once
/// Sync use cases: start a run (admin), the lock status, and the run history (latest for any
/// signed-in caller, cut to the tables they may see; list, one run and cancel for admins). The
/// runs themselves are sync::SyncService's.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"
#include "service/table_access.h"
#include "sync/sync_service.h"

namespace da::service {

/// POST /api/sync/trigger: the tables to sync; nullopt = all.
struct TriggerRequest {
  std::optional<std::vector<std::string>> tables;
};
struct TriggerAnswer {
  std::string run_id;
  std::optional<std::vector<std::string>> tables;
};
/// {status: "triggered", run_id, tables: [ids] | "all", message}
nlohmann::json ToJson(const TriggerAnswer& a);

struct SyncStatusAnswer {
  bool locked = false;  ///< a run is in progress
};
/// {locked}
nlohmann::json ToJson(const SyncStatusAnswer& a);

/// One run; `with_tables` includes the per-table outcomes.
struct RunAnswer {
  sync::RunSummary run;
  bool with_tables = true;
};
/// RunSummary::ToJson
nlohmann::json ToJson(const RunAnswer& a);

/// GET /api/sync/runs?limit=: 1..500 (default 20).
struct ListRunsRequest {
  int limit = 20;
};
struct RunList {
  std::vector<sync::RunSummary> runs;  ///< newest first
};
/// {runs: [run without `tables`]}
nlohmann::json ToJson(const RunList& a);

/// A run addressed by its id.
struct RunIdRequest {
  std::string id;
};

inline constexpr int kMaxRunLimit = 500;

/// A run as `caller` may see it. An admin sees it whole. Anyone else sees only the tables they
/// may see (TableAccess) in `tables_requested` and `tables` (so `counts` count only those), no
/// other user's email in `requested_by` (""; their own stays), and `message` (which may name
/// views, tables or the admin who cancelled) replaced by a fixed sentence when it is not empty.
sync::RunSummary RunAsSeenBy(const Caller& caller, const TableAccess& access,
                             sync::RunSummary run);

class SyncService {
 public:
  explicit SyncService(const ServiceContext& ctx) : ctx_(ctx), access_(ctx.registry, ctx.access) {}

  /// Starts a run in the background. Errors: permission_denied (not an admin), not_found
  /// (unknown ids; nothing started), failed_precondition "sync_already_in_progress: a sync run
  /// is already in progress" (errors.h).
  Result<TriggerAnswer> Trigger(const Caller& caller, const TriggerRequest& request);
  /// Whether a run is in progress (public: no caller).
  SyncStatusAnswer LockStatus() const;
  /// The newest run with its outcomes, as the caller may see it (RunAsSeenBy); not_found "no
  /// sync run yet".
  Result<RunAnswer> LatestRun(const Caller& caller);
  /// Admin: the newest `limit` runs, without outcomes.
  Result<RunList> ListRuns(const Caller& caller, const ListRunsRequest& request);
  /// Admin: one run with its outcomes; not_found for an unknown id.
  Result<RunAnswer> GetRun(const Caller& caller, const RunIdRequest& request);
  /// Admin: kills the run's extraction; the run as it ended. not_found for an unknown run,
  /// failed_precondition when it already finished.
  Result<RunAnswer> Cancel(const Caller& caller, const RunIdRequest& request);

 private:
  ServiceContext ctx_;
  TableAccess access_;
};

}  // namespace da::service
