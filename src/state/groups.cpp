#include "state/groups.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "common/hash.h"
#include "common/time_util.h"
#include "state/internal.h"

namespace da::state {
namespace {

constexpr size_t kMaxGroupNameChars = 128;
constexpr const char* kGroupSelect =
    "SELECT g.id, g.name, coalesce(g.description, ''), g.is_system, epoch_us(g.created_at), "
    "CASE WHEN g.id = 'everyone' THEN (SELECT count(*) FROM users WHERE active) "
    "ELSE (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) END FROM user_groups g ";

Group GroupAt(const db::QueryResult& r, size_t row) {
  Group g;
  g.id = r.GetString(0, row);
  g.name = r.GetString(1, row);
  g.description = r.GetString(2, row);
  g.is_system = r.GetBool(3, row);
  g.created_at = internal::IsoCell(r, 4, row);
  g.member_count = r.GetInt64(5, row);
  return g;
}

Result<std::optional<Group>> FindGroup(db::Connection& c, const std::string& id) {
  DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(std::string(kGroupSelect) + "WHERE g.id = $1", {id}));
  if (r.RowCount() == 0) return std::optional<Group>();
  return std::optional<Group>(GroupAt(r, 0));
}

constexpr const char* kGrantSelect =
    "SELECT r.id, r.group_id, coalesce(g.name, ''), r.resource_type, r.resource_id, "
    "coalesce(r.created_by, ''), epoch_us(r.created_at) FROM resource_grants r "
    "LEFT JOIN user_groups g ON g.id = r.group_id ";

Grant GrantAt(const db::QueryResult& r, size_t row) {
  Grant g;
  g.id = r.GetString(0, row);
  g.group_id = r.GetString(1, row);
  g.group_name = r.GetString(2, row);
  g.resource_type = r.GetString(3, row);
  g.resource_id = r.GetString(4, row);
  g.created_by = r.GetString(5, row);
  g.created_at = internal::IsoCell(r, 6, row);
  return g;
}

bool HasControl(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    auto u = static_cast<unsigned char>(ch);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

Result<std::vector<Group>> GroupRepo::ListGroups() {
  return db_.Read([&](db::Connection& c) -> Result<std::vector<Group>> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r,
                        c.Query(std::string(kGroupSelect) + "ORDER BY g.is_system DESC, lower(g.name)"));
    std::vector<Group> out;
    for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(GroupAt(r, i));
    return out;
  });
}

Result<std::optional<Group>> GroupRepo::GetGroup(const std::string& id) {
  return db_.Read([&](db::Connection& c) { return FindGroup(c, id); });
}

Result<Group> GroupRepo::CreateGroup(const std::string& name, const std::string& description) {
  size_t b = name.find_first_not_of(" \t");
  std::string trimmed = b == std::string::npos ? "" : name.substr(b, name.find_last_not_of(" \t") - b + 1);
  if (trimmed.empty()) return InvalidArgument("group name is required");
  if (trimmed.size() > kMaxGroupNameChars || HasControl(trimmed) || HasControl(description)) {
    return InvalidArgument("group name must be at most 128 characters without control characters");
  }
  return db_.Write([&](db::Connection& c) -> Result<Group> {
    DA_ASSIGN_OR_RETURN(db::QueryResult dup,
                        c.Query("SELECT count(*) FROM user_groups WHERE lower(name) = lower($1)",
                                {trimmed}));
    if (dup.GetInt64(0, 0) > 0) return AlreadyExists("a group named '" + trimmed + "' already exists");
    std::string id = RandomHex(8);
    DA_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO user_groups (id, name, description, is_system, created_at) "
        "VALUES ($1, $2, $3, FALSE, make_timestamp($4))",
        {id, trimmed, description, NowMicros()}));
    DA_ASSIGN_OR_RETURN(std::optional<Group> g, FindGroup(c, id));
    return *g;
  });
}

Status GroupRepo::DeleteGroup(const std::string& id) {
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(std::optional<Group> g, FindGroup(c, id));
    if (!g) return NotFound("group '" + id + "' not found");
    if (g->is_system) return FailedPrecondition("system group '" + g->name + "' cannot be deleted");
    Status txn = [&]() -> Status {
      DA_RETURN_IF_ERROR(c.Execute("DELETE FROM group_members WHERE group_id = $1", {id}));
      DA_RETURN_IF_ERROR(c.Execute("DELETE FROM resource_grants WHERE group_id = $1", {id}));
      return c.Execute("DELETE FROM user_groups WHERE id = $1", {id});
    }();
    if (!txn.ok()) return txn;
    return Status::Ok();
  });
}

Result<std::vector<User>> GroupRepo::Members(const std::string& group_id) {
  return db_.Read([&](db::Connection& c) -> Result<std::vector<User>> {
    DA_ASSIGN_OR_RETURN(std::optional<Group> g, FindGroup(c, group_id));
    if (!g) return NotFound("group '" + group_id + "' not found");
    std::string sql = std::string("SELECT ") + internal::kUserColumns + " FROM users u ";
    sql += group_id == kEveryoneGroupId
               ? "WHERE u.active AND $1 = $1"
               : "JOIN group_members m ON m.user_id = u.id WHERE m.group_id = $1";
    DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(sql + " ORDER BY u.email", {group_id}));
    std::vector<User> out;
    for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(internal::UserAt(r, i));
    return out;
  });
}

Result<User> GroupRepo::AddMember(const std::string& group_id, const std::string& email) {
  DA_ASSIGN_OR_RETURN(std::optional<User> user, users_.FindByEmail(email));
  if (!user) return NotFound("no user with email '" + email.substr(0, 120) + "'");
  return db_.Write([&](db::Connection& c) -> Result<User> {
    DA_ASSIGN_OR_RETURN(std::optional<Group> g, FindGroup(c, group_id));
    if (!g) return NotFound("group '" + group_id + "' not found");
    if (group_id == kEveryoneGroupId) {
      return FailedPrecondition("every active user is in Everyone; members cannot be added");
    }
    Status txn = [&]() -> Status {
      DA_RETURN_IF_ERROR(c.Execute(
          "INSERT INTO group_members (group_id, user_id, added_at) "
          "VALUES ($1, $2, make_timestamp($3)) ON CONFLICT DO NOTHING",
          {group_id, user->id, NowMicros()}));
      if (group_id != kAdminGroupId) return Status::Ok();
      return c.Execute("UPDATE users SET is_admin = TRUE WHERE id = $1", {user->id});
    }();
    if (!txn.ok()) return txn;
    if (group_id == kAdminGroupId) {
      user->is_admin = true;
      users_.ForgetCachedTokens();
    }
    return *user;
  });
}

Status GroupRepo::RemoveMember(const std::string& group_id, const std::string& user_id) {
  return db_.Write([&](db::Connection& c) -> Status {
    DA_ASSIGN_OR_RETURN(std::optional<Group> g, FindGroup(c, group_id));
    if (!g) return NotFound("group '" + group_id + "' not found");
    if (group_id == kEveryoneGroupId) {
      return FailedPrecondition("Everyone's membership is implicit; deactivate the user instead");
    }
    DA_ASSIGN_OR_RETURN(
        db::QueryResult m,
        c.Query("SELECT count(*) FROM group_members WHERE group_id = $1 AND user_id = $2",
                {group_id, user_id}));
    if (m.GetInt64(0, 0) == 0) return NotFound("user '" + user_id + "' is not a member");
    if (group_id == kAdminGroupId) {
      DA_ASSIGN_OR_RETURN(
          db::QueryResult n,
          c.Query("SELECT count(*) FROM users WHERE is_admin AND active AND id <> $1", {user_id}));
      if (n.GetInt64(0, 0) == 0) return FailedPrecondition("cannot remove the last active admin");
    }
    Status txn = [&]() -> Status {
      DA_RETURN_IF_ERROR(c.Execute("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
                                   {group_id, user_id}));
      if (group_id != kAdminGroupId) return Status::Ok();
      return c.Execute("UPDATE users SET is_admin = FALSE WHERE id = $1", {user_id});
    }();
    if (!txn.ok()) return txn;
    if (group_id == kAdminGroupId) users_.ForgetCachedTokens();
    return Status::Ok();
  });
}

Result<std::pair<std::vector<std::string>, std::vector<std::string>>> GroupRepo::SyncMemberships(
    const std::string& user_id, const std::vector<std::string>& names) {
  std::set<std::string> wanted;
  for (const auto& n : names) {
    std::string lower = n;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    wanted.insert(lower);
  }
  using Out = std::pair<std::vector<std::string>, std::vector<std::string>>;
  return db_.Write([&](db::Connection& c) -> Result<Out> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("SELECT g.id, g.name, lower(g.name), m.user_id IS NOT NULL FROM user_groups g "
                "LEFT JOIN group_members m ON m.group_id = g.id AND m.user_id = $1 "
                "WHERE NOT g.is_system",
                {user_id}));
    Out changed;
    Status st = [&]() -> Status {
      for (size_t i = 0; i < r.RowCount(); ++i) {
        bool member = r.GetBool(3, i);
        bool want = wanted.count(r.GetString(2, i)) > 0;
        if (want && !member) {
          DA_RETURN_IF_ERROR(c.Execute(
              "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, make_timestamp($3))",
              {r.GetString(0, i), user_id, NowMicros()}));
          changed.first.push_back(r.GetString(1, i));
        } else if (!want && member) {
          DA_RETURN_IF_ERROR(c.Execute("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
                                       {r.GetString(0, i), user_id}));
          changed.second.push_back(r.GetString(1, i));
        }
      }
      return Status::Ok();
    }();
    if (!st.ok()) return st;
    return changed;
  });
}

Result<std::vector<Group>> GroupRepo::GroupsOf(const std::string& user_id) {
  return db_.Read([&](db::Connection& c) -> Result<std::vector<Group>> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query(std::string(kGroupSelect) +
                    "WHERE g.id IN (SELECT group_id FROM group_members WHERE user_id = $1) "
                    "OR (g.id = 'everyone' AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND active)) "
                    "ORDER BY g.is_system DESC, lower(g.name)",
                {user_id}));
    std::vector<Group> out;
    for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(GroupAt(r, i));
    return out;
  });
}

Result<std::vector<Grant>> GroupRepo::ListGrants(const std::string& group_id,
                                                 const std::string& resource_type) {
  return db_.Read([&](db::Connection& c) -> Result<std::vector<Grant>> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query(std::string(kGrantSelect) +
                    "WHERE ($1 = '' OR r.group_id = $1) AND ($2 = '' OR r.resource_type = $2) "
                    "ORDER BY r.created_at, r.id",
                {group_id, resource_type}));
    std::vector<Grant> out;
    for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(GrantAt(r, i));
    return out;
  });
}

Result<Grant> GroupRepo::CreateGrant(const std::string& group_id, const std::string& resource_type,
                                     const std::string& resource_id, const std::string& created_by) {
  if (resource_type != "table") {
    return InvalidArgument("resource_type must be \"table\", got '" + resource_type.substr(0, 40) + "'");
  }
  if (resource_id.empty()) return InvalidArgument("resource_id is required");
  return db_.Write([&](db::Connection& c) -> Result<Grant> {
    DA_ASSIGN_OR_RETURN(std::optional<Group> g, FindGroup(c, group_id));
    if (!g) return NotFound("group '" + group_id + "' not found");
    DA_ASSIGN_OR_RETURN(
        db::QueryResult existing,
        c.Query(std::string(kGrantSelect) +
                    "WHERE r.group_id = $1 AND r.resource_type = $2 AND r.resource_id = $3",
                {group_id, resource_type, resource_id}));
    if (existing.RowCount() > 0) return GrantAt(existing, 0);
    std::string id = RandomHex(8);
    DA_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO resource_grants (id, group_id, resource_type, resource_id, created_by, "
        "created_at) VALUES ($1, $2, $3, $4, $5, make_timestamp($6))",
        {id, group_id, resource_type, resource_id, created_by, NowMicros()}));
    DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(std::string(kGrantSelect) + "WHERE r.id = $1", {id}));
    return GrantAt(r, 0);
  });
}

Result<Grant> GroupRepo::DeleteGrant(const std::string& id) {
  return db_.Write([&](db::Connection& c) -> Result<Grant> {
    DA_ASSIGN_OR_RETURN(db::QueryResult r, c.Query(std::string(kGrantSelect) + "WHERE r.id = $1", {id}));
    if (r.RowCount() == 0) return NotFound("grant '" + id + "' not found");
    DA_RETURN_IF_ERROR(c.Execute("DELETE FROM resource_grants WHERE id = $1", {id}));
    return GrantAt(r, 0);
  });
}

Result<std::vector<std::string>> GroupRepo::GrantedTableIds(const std::string& user_id) {
  return db_.Read([&](db::Connection& c) -> Result<std::vector<std::string>> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("SELECT DISTINCT r.resource_id FROM resource_grants r "
                "WHERE r.resource_type = 'table' AND (r.group_id IN "
                "(SELECT group_id FROM group_members WHERE user_id = $1) OR "
                "(r.group_id = 'everyone' AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND active))) "
                "ORDER BY 1",
                {user_id}));
    std::vector<std::string> out;
    for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(r.GetString(0, i));
    return out;
  });
}

Result<std::vector<TableAccessEntry>> GroupRepo::TableAccess(const std::string& table_id) {
  return db_.Read([&](db::Connection& c) -> Result<std::vector<TableAccessEntry>> {
    // (user, group name) pairs: admins via Admin, members of granted groups, everyone via
    // Everyone when it holds a grant.
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query(std::string("SELECT ") + internal::kUserColumns + ", x.group_name FROM ("
                "  SELECT id AS user_id, 'Admin' AS group_name FROM users WHERE is_admin "
                "  UNION SELECT m.user_id, g.name FROM resource_grants r "
                "    JOIN group_members m ON m.group_id = r.group_id "
                "    JOIN user_groups g ON g.id = r.group_id "
                "    WHERE r.resource_type = 'table' AND r.resource_id = $1 "
                "  UNION SELECT u2.id, 'Everyone' FROM users u2 WHERE EXISTS (SELECT 1 FROM "
                "    resource_grants r2 WHERE r2.group_id = 'everyone' AND "
                "    r2.resource_type = 'table' AND r2.resource_id = $1)"
                ") x JOIN users u ON u.id = x.user_id WHERE u.active "
                "ORDER BY u.email, x.group_name",
                {table_id}));
    std::vector<TableAccessEntry> out;
    for (size_t i = 0; i < r.RowCount(); ++i) {
      User u = internal::UserAt(r, i);
      if (out.empty() || out.back().user.id != u.id) out.push_back({u, {}});
      out.back().via_groups.push_back(r.GetString(7, i));
    }
    return out;
  });
}

}  // namespace da::state
