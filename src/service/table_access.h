#pragma once
/// The one place that answers "may this caller use this table", for every kind of table
/// resource: catalog entries, schema, sample, profile, manifest entries, downloads and
/// query views.
///
/// The decision itself is auth::AccessPolicy::CanSeeTable (admins see every table, others the
/// tables granted to one of their groups). TableAccess adds the answer for a table id:
/// not_found when the id is not a table id or not registered, permission_denied when it is
/// registered but not visible ("we follow the reference: 404 when unknown, 403 when not
/// granted").
#include <string>
#include <vector>

#include "auth/access.h"
#include "common/status.h"
#include "state/registry.h"
#include "model/table_spec.h"
#include "state/users.h"

namespace da::service {

class TableAccess {
 public:
  TableAccess(state::Registry& registry, const auth::AccessPolicy& policy)
      : registry_(registry), policy_(policy) {}

  /// The registered table `id` when `who` may see it. Errors: not_found "table '<id>' not
  /// found" (also for ids that are not quoted identifiers; the id is shown printable and
  /// clipped), permission_denied "access denied: the table is not granted to you" (never the id: an
  /// answer names no table its caller may not see).
  Result<model::TableSpec> Visible(const state::Principal& who, const std::string& id) const;
  /// Every registered table `who` may see, ordered by id.
  Result<std::vector<model::TableSpec>> VisibleTables(const state::Principal& who) const;
  /// True when `who` may see `t` (AccessPolicy::CanSeeTable).
  bool CanSee(const state::Principal& who, const model::TableSpec& t) const {
    return policy_.CanSeeTable(who, t);
  }

 private:
  state::Registry& registry_;
  const auth::AccessPolicy& policy_;
};

}  // namespace da::service
