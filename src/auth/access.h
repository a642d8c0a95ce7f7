#pragma once
/// The one access decision: may this caller see this table?
///
/// Every data path (manifest, download, catalog, later query/schema/sample/profile) asks the
/// same AccessPolicy. For now: admins see every table, other users none; the groups and
/// grants issue replaces the body of CanSeeTable, not its callers.
#include <string>

#include "state/table_record.h"
#include "state/users.h"

namespace da::auth {

class AccessPolicy {
 public:
  /// True when `who` may read table `t` (its data, schema and metadata).
  bool CanSeeTable(const state::Principal& who, const state::TableRecord& t) const;
  /// True when `who` may call admin endpoints.
  bool IsAdmin(const state::Principal& who) const { return who.is_admin; }
};

}  // namespace da::auth
