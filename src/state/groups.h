#pragma once
/// Groups, memberships and resource grants (issue 6).
///
/// System groups: `admin` ("Admin": full access; membership mirrors users.is_admin) and
/// `everyone` ("Everyone": every active user, implicitly — its membership is never stored).
/// A grant `(group, resource_type "table", table id)` lets the group's members see the table.
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "state/state_db.h"
#include "state/users.h"

namespace da::state {

inline constexpr const char* kAdminGroupId = "admin";
inline constexpr const char* kEveryoneGroupId = "everyone";

struct Group {
  std::string id;
  std::string name;
  std::string description;
  bool is_system = false;
  int64_t member_count = 0;  ///< Everyone: active users
  std::string created_at;
};

struct Grant {
  std::string id;
  std::string group_id;
  std::string group_name;
  std::string resource_type;  ///< "table"
  std::string resource_id;
  std::string created_by;
  std::string created_at;
};

/// A user's way to a table: the groups that grant it (Admin when the user is an admin).
struct TableAccessEntry {
  User user;
  std::vector<std::string> via_groups;  ///< group names
};

/// Thread-safe (every call goes through StateDb::Read or StateDb::Write; a committed Write moves
/// the generation every read cache compares). Writes clear UserRepo's principal cache when admin
/// membership changes.
class GroupRepo {
 public:
  GroupRepo(StateDb& db, UserRepo& users) : db_(db), users_(users) {}

  /// Every group with its member count, system groups first, then by name.
  Result<std::vector<Group>> ListGroups();
  /// nullopt when unknown.
  Result<std::optional<Group>> GetGroup(const std::string& id);
  /// invalid_argument for an empty name (or > 128 chars / control characters); already_exists
  /// for a name used by another group (case-insensitively).
  Result<Group> CreateGroup(const std::string& name, const std::string& description);
  /// Deletes a group with its memberships and grants. failed_precondition for a system group.
  Status DeleteGroup(const std::string& id);

  /// Members of a group (Everyone: every active user), by email.
  Result<std::vector<User>> Members(const std::string& group_id);
  /// Adds the user with `email`. not_found for an unknown group or email; failed_precondition
  /// for Everyone; already a member → ok (idempotent). Returns the user.
  Result<User> AddMember(const std::string& group_id, const std::string& email);
  /// Removes a member. failed_precondition for Everyone or for the last active admin;
  /// not_found when the user is not a member.
  Status RemoveMember(const std::string& group_id, const std::string& user_id);
  /// Group sync from an identity provider: makes the user a member of exactly the non-system
  /// groups whose names (case-insensitively) are in `names`; unknown names are ignored and the
  /// system groups are never touched. Returns the names of the groups joined and left.
  Result<std::pair<std::vector<std::string>, std::vector<std::string>>> SyncMemberships(
      const std::string& user_id, const std::vector<std::string>& names);
  /// Groups the user belongs to (Everyone included when active), by name.
  Result<std::vector<Group>> GroupsOf(const std::string& user_id);

  /// Grants filtered by group id and resource type ("" = any).
  Result<std::vector<Grant>> ListGrants(const std::string& group_id,
                                        const std::string& resource_type);
  /// invalid_argument for a resource_type other than "table"; not_found for an unknown group.
  /// (The caller checks that the table exists.) A duplicate returns the existing grant.
  Result<Grant> CreateGrant(const std::string& group_id, const std::string& resource_type,
                            const std::string& resource_id, const std::string& created_by);
  /// not_found for an unknown id. Returns the deleted grant.
  Result<Grant> DeleteGrant(const std::string& id);

  /// Table ids granted to `user_id` through their groups (Everyone included).
  Result<std::vector<std::string>> GrantedTableIds(const std::string& user_id);
  /// Who can see table `table_id`: active admins (via Admin) and members of granted groups.
  Result<std::vector<TableAccessEntry>> TableAccess(const std::string& table_id);

 private:
  StateDb& db_;
  UserRepo& users_;
};

}  // namespace da::state
