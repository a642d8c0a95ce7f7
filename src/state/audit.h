#pragma once
/// Reading the audit log (rows are written by state::Audit, see users.h).
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "state/state_db.h"

namespace da::state {

struct AuditEntry {
  std::string id;
  std::string timestamp;  ///< ISO-8601 UTC
  std::string actor;      ///< user id (or "" / "anonymous")
  std::string actor_email;
  std::string action;
  std::string resource;
  std::string params;  ///< JSON text
  std::string result;
};

struct AuditFilter {
  std::string user;    ///< actor user id or email; "" = any
  std::string action;  ///< exact action name; "" = any
  int64_t since_us = 0;  ///< inclusive; 0 = unbounded
  int64_t until_us = 0;  ///< exclusive; 0 = unbounded
  int64_t limit = 100;   ///< 1..1000
};

/// Newest first. invalid_argument when limit is outside 1..1000.
Result<std::vector<AuditEntry>> ListAudit(StateDb& db, const AuditFilter& filter);

}  // namespace da::state
