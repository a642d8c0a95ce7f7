#pragma once
/// The audit log: appending a row (Audit) and reading rows back (ListAudit).
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

/// Appends an audit_log row in a Write of its own, after the change it records committed;
/// failures are logged, never returned (auditing never blocks the audited operation).
void Audit(StateDb& db, const std::string& actor, const std::string& action,
           const std::string& resource, const std::string& params_json,
           const std::string& result = "ok");

/// Newest first. invalid_argument when limit is outside 1..1000.
Result<std::vector<AuditEntry>> ListAudit(StateDb& db, const AuditFilter& filter);

}  // namespace da::state
