#pragma once
/// The detailed health use case (GET /api/health/detailed): state DB schema, data freshness,
/// the last sync run and free disk space, cut to what the caller may see.
///
/// The overall status and the checks cover every table (an operator must learn that something
/// is stale), but the table lists (`stale_tables`, `never_synced`, `error_tables`), the table
/// count and the last run name only tables the caller may see (TableAccess; admins see all).
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"
#include "service/table_access.h"

namespace da::service {

/// The health detail: `status` is healthy | degraded | unhealthy (unhealthy: the state DB or
/// the registry cannot be read, or its schema is not the expected version).
struct HealthDetailAnswer {
  std::string status;
  /// {timestamp, status, checks: {schema, data, disk}, schema: {db_schema, current, expected},
  ///  data: {stale_after_hours, tables, stale_tables: [{id, last_sync, age_seconds}],
  ///  never_synced: [id], error_tables: [{id, error}]}, last_run: run without tables | null,
  ///  disk: {path, free_bytes, total_bytes, free_pct}}
  nlohmann::json body;
  bool IsUnhealthy() const { return status == "unhealthy"; }
};
/// The body.
nlohmann::json ToJson(const HealthDetailAnswer& a);

class HealthService {
 public:
  explicit HealthService(const ServiceContext& ctx) : ctx_(ctx), access_(ctx.registry, ctx.access) {}

  /// The detail as `caller` may see it (any signed-in caller). Never fails: a part that cannot
  /// be read is reported in the body (and makes the status unhealthy or degraded).
  HealthDetailAnswer Detailed(const Caller& caller);

 private:
  ServiceContext ctx_;
  TableAccess access_;
};

}  // namespace da::service
