#include "service/table_access.h"

#include "common/identifiers.h"

namespace da::service {

Result<model::TableSpec> TableAccess::Visible(const state::Principal& who,
                                                const std::string& id) const {
  if (!IsQuotedIdentifier(id)) {
    return NotFound("table '" + PrintableForMessage(id) + "' not found");
  }
  DA_ASSIGN_OR_RETURN(model::TableSpec t, registry_.Get(id));
  // The refusal does not repeat the id: an answer to a caller names no table they may not see.
  if (!policy_.CanSeeTable(who, t)) return PermissionDenied("access denied: the table is not granted to you");
  return t;
}

Result<std::vector<model::TableSpec>> TableAccess::VisibleTables(
    const state::Principal& who) const {
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> all, registry_.List());
  std::vector<model::TableSpec> out;
  out.reserve(all.size());
  for (auto& t : all) {
    if (policy_.CanSeeTable(who, t)) out.push_back(std::move(t));
  }
  return out;
}

}  // namespace da::service
