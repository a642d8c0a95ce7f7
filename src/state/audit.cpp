#include "state/audit.h"

#include <exception>

#include "common/log.h"
#include "state/internal.h"

namespace da::state {

Result<std::vector<AuditEntry>> ListAudit(StateDb& db, const AuditFilter& f) {
  if (f.limit < 1 || f.limit > 1000) {
    return InvalidArgument("limit must be between 1 and 1000, got " + std::to_string(f.limit));
  }
  return db.Read([&](db::Connection& c) -> Result<std::vector<AuditEntry>> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("SELECT a.id, epoch_us(a.timestamp), coalesce(a.actor, ''), coalesce(u.email, ''), "
                "a.action, coalesce(a.resource, ''), coalesce(a.params, ''), coalesce(a.result, '') "
                "FROM audit_log a LEFT JOIN users u ON u.id = a.actor "
                "WHERE ($1 = '' OR a.actor = $1 OR u.email = lower($1)) "
                "AND ($2 = '' OR a.action = $2) "
                "AND ($3 = 0 OR a.timestamp >= make_timestamp($3)) "
                "AND ($4 = 0 OR a.timestamp < make_timestamp($4)) "
                "ORDER BY a.timestamp DESC, a.id LIMIT $5",
                {f.user, f.action, f.since_us, f.until_us, f.limit}));
    std::vector<AuditEntry> out;
    for (size_t i = 0; i < r.RowCount(); ++i) {
      AuditEntry e;
      e.id = r.GetString(0, i);
      e.timestamp = internal::IsoCell(r, 1, i);
      e.actor = r.GetString(2, i);
      e.actor_email = r.GetString(3, i);
      e.action = r.GetString(4, i);
      e.resource = r.GetString(5, i);
      e.params = r.GetString(6, i);
      e.result = r.GetString(7, i);
      out.push_back(std::move(e));
    }
    return out;
  });
}

void Audit(StateDb& db, const std::string& actor, const std::string& action,
           const std::string& resource, const std::string& params_json, const std::string& result) {
  try {
    (void)db.Write([&](db::Connection& c) {
      internal::AuditOn(c, actor, action, resource, params_json, result);
      return Status::Ok();
    });
  } catch (const std::exception& e) {
    spdlog::error("audit: could not record {} on '{}': {}", action, resource, e.what());
  } catch (...) {
    spdlog::error("audit: could not record {} on '{}': unknown error", action, resource);
  }
}

}  // namespace da::state
