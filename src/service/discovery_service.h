#pragma once
/// Discover-and-register (admin only), generic over connectors: the source's connector lists
/// its tables, each is classed against the registry (connectors/keboola/register_plan.h:
/// new, existing_match, existing_drift, invalid) and only the new ones are registered (none
/// on a dry run), or only the picked ones among the new. Drift is reported with both sides,
/// never overwritten.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"

namespace da::service {

/// POST /api/admin/discover-and-register?source=&dry_run= with an optional {"tables": [ids]}.
struct DiscoverRequest {
  /// The source (connector name). Empty: kDefaultDiscoverySource (docs/api.md).
  std::string source;
  bool dry_run = false;
  /// Register only these of the new tables; nullopt = every new table.
  std::optional<std::set<std::string>> picked;
};

struct DiscoverAnswer {
  std::string source;
  bool dry_run = false;
  nlohmann::json summary;  ///< {new, existing_match, existing_drift, invalid}: counts
  nlohmann::json plan;     ///< [PlanEntryToJson...] in discovery order
  std::vector<std::string> registered;
  nlohmann::json errors;   ///< [{id, error}]: picked tables that were not registered
};
/// {source, dry_run, summary, plan, registered, errors}
nlohmann::json ToJson(const DiscoverAnswer& a);

/// The source discovered when the request names none, as the API documents it (docs/api.md).
/// The CLI (`--source`) and the web UI always name one.
inline constexpr const char* kDefaultDiscoverySource = "keboola";

class DiscoveryService {
 public:
  explicit DiscoveryService(const ServiceContext& ctx) : ctx_(ctx) {}

  /// Errors: permission_denied (not an admin), invalid_argument (source not an identifier),
  /// not_found (unknown connector), failed_precondition (the
  /// connector cannot discover), unavailable "source_error: discovery of '<source>' failed:
  /// ..." when the source refuses or cannot be reached (errors.h).
  Result<DiscoverAnswer> DiscoverAndRegister(const Caller& caller, const DiscoverRequest& request);

 private:
  ServiceContext ctx_;
};

}  // namespace da::service
