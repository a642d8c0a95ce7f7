#pragma once
/// The one access decision: may this caller see this table?
///
/// Every data path (manifest, download, catalog v1/v2, schema/sample/profile, query through
/// QueryService::CheckAccess, health detail) asks the same AccessPolicy. Admins (members of the
/// system group Admin) see every table; any other user sees the tables granted to one of their
/// groups (Everyone included: every active user is implicitly a member).
///
/// Grants are read from the state DB and cached per user; the cache is dropped whenever the
/// state DB's write generation moves (every committed StateDb::Write moves it),
/// so a revoked grant takes effect on the next request.
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "state/groups.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"
#include "state/users.h"

namespace da::auth {

class AccessPolicy {
 public:
  /// Connects the policy to the state (both outlive it). Unbound, only admins see tables.
  void Bind(state::StateDb* db, state::GroupRepo* groups) {
    db_ = db;
    groups_ = groups;
  }
  /// True when `who` may read table `t` (its data, schema and metadata). A failed grant lookup
  /// denies (logged).
  bool CanSeeTable(const state::Principal& who, const model::TableSpec& t) const;
  /// True when `who` may call admin endpoints.
  bool IsAdmin(const state::Principal& who) const { return who.is_admin; }

 private:
  using TableSet = std::shared_ptr<const std::set<std::string>>;
  TableSet GrantedTables(const std::string& user_id) const;

  state::StateDb* db_ = nullptr;
  state::GroupRepo* groups_ = nullptr;
  mutable std::mutex mu_;
  mutable uint64_t cached_generation_ = 0;
  mutable std::unordered_map<std::string, TableSet> cache_;  ///< user id → granted table ids
};

}  // namespace da::auth
