// da admin users | groups | grants — thin clients of /api/users, /api/admin/groups and
// /api/admin/grants.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "common/status.h"

namespace da::cli {
namespace {

using nlohmann::json;

/// Runs `fn(http)` with the saved client; failures get the login hint.
template <typename Fn>
void WithClient(int* exit_code, Fn fn) {
  auto http = MakeClient();
  Status st = http.ok() ? fn(*http) : http.status();
  if (!st.ok()) Fail(WithLoginHint(st), exit_code);
}

/// Prints `j` as JSON or as the columns `keys` of the array `j[list_key]`.
void PrintList(const json& j, const char* list_key, const std::vector<std::string>& header,
               const std::vector<const char*>& keys, bool as_json) {
  if (as_json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : j[list_key]) {
    std::vector<std::string> row;
    for (const char* k : keys) row.push_back(Str(item, k));
    rows.push_back(std::move(row));
  }
  PrintColumns(header, rows);
}

/// The user id for an email or id argument (looked up in GET /api/users).
Result<std::string> UserIdFor(const client::HttpClient& http, const std::string& who) {
  DA_ASSIGN_OR_RETURN(json users, http.GetJson("/api/users"));
  for (const auto& u : users["users"]) {
    if (Str(u, "id") == who || Str(u, "email") == who) return Str(u, "id");
  }
  return NotFound("no user '" + who + "'");
}

/// The group id for a name or id argument (looked up in GET /api/admin/groups).
Result<std::string> GroupIdFor(const client::HttpClient& http, const std::string& which) {
  DA_ASSIGN_OR_RETURN(json groups, http.GetJson("/api/admin/groups"));
  for (const auto& g : groups["groups"]) {
    if (Str(g, "id") == which || Str(g, "name") == which) return Str(g, "id");
  }
  return NotFound("no group '" + which + "'");
}

void AddUserCommands(CLI::App* admin, int* exit_code) {
  auto* users = admin->add_subcommand("users", "Users: list | create | set-password | activate | deactivate | rename");
  users->require_subcommand(1);
  {
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = users->add_subcommand("list", "List users");
    cmd->add_flag("--json", *as_json, "Print as JSON");
    cmd->callback([as_json, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(json j, http.GetJson("/api/users"));
        for (auto& u : j["users"]) {
          u["admin"] = u.value("is_admin", false) ? "yes" : "";
          u["status"] = u.value("active", true) ? "active" : "inactive";
        }
        PrintList(j, "users", {"ID", "EMAIL", "NAME", "ADMIN", "STATUS"},
                  {"id", "email", "name", "admin", "status"}, *as_json);
        return Status::Ok();
      });
    });
  }
  {
    auto email = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto* cmd = users->add_subcommand("create", "Create a user");
    cmd->add_option("email", *email, "Email address")->required();
    cmd->add_option("--name", *name, "Display name");
    cmd->callback([email, name, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(json u, http.PostJson("/api/users", {{"email", *email}, {"name", *name}}));
        std::printf("Created user %s (id %s)\n", Str(u, "email").c_str(), Str(u, "id").c_str());
        return Status::Ok();
      });
    });
  }
  {
    auto who = std::make_shared<std::string>();
    auto* cmd = users->add_subcommand("set-password", "Set a user's password (read from stdin or DA_PASSWORD)");
    cmd->add_option("user", *who, "Email or user id")->required();
    cmd->callback([who, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(std::string id, UserIdFor(http, *who));
        std::string password;
        if (const char* env = std::getenv("DA_PASSWORD")) password = env;
        if (password.empty()) {
          if (::isatty(STDIN_FILENO)) std::fputs("New password: ", stderr);
          std::getline(std::cin, password);
          while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) password.pop_back();
        }
        DA_RETURN_IF_ERROR(
            http.PostJson("/api/users/" + id + "/set-password", {{"password", password}}).status());
        std::printf("Password set for %s\n", who->c_str());
        return Status::Ok();
      });
    });
  }
  for (const auto& [verb, active] : {std::pair{"activate", true}, std::pair{"deactivate", false}}) {
    auto who = std::make_shared<std::string>();
    auto* cmd = users->add_subcommand(verb, active ? "Let a user sign in again" : "Stop a user (their tokens stop working)");
    cmd->add_option("user", *who, "Email or user id")->required();
    cmd->callback([who, exit_code, active = active] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(std::string id, UserIdFor(http, *who));
        json body = {{"active", active}};
        DA_RETURN_IF_ERROR(CallJson(http, "PATCH", "/api/users/" + id, &body).status());
        std::printf("%s %s\n", active ? "Activated" : "Deactivated", who->c_str());
        return Status::Ok();
      });
    });
  }
}

void AddGroupCommands(CLI::App* admin, int* exit_code) {
  auto* groups = admin->add_subcommand("groups", "Groups: list | create | delete | members | add-member | remove-member");
  groups->require_subcommand(1);
  {
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = groups->add_subcommand("list", "List groups");
    cmd->add_flag("--json", *as_json, "Print as JSON");
    cmd->callback([as_json, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(json j, http.GetJson("/api/admin/groups"));
        PrintList(j, "groups", {"ID", "NAME", "MEMBERS", "DESCRIPTION"},
                  {"id", "name", "member_count", "description"}, *as_json);
        return Status::Ok();
      });
    });
  }
  {
    auto name = std::make_shared<std::string>();
    auto description = std::make_shared<std::string>();
    auto* cmd = groups->add_subcommand("create", "Create a group");
    cmd->add_option("name", *name, "Group name")->required();
    cmd->add_option("--description", *description, "Description");
    cmd->callback([name, description, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(json g, http.PostJson("/api/admin/groups",
                                                  {{"name", *name}, {"description", *description}}));
        std::printf("Created group %s (id %s)\n", Str(g, "name").c_str(), Str(g, "id").c_str());
        return Status::Ok();
      });
    });
  }
  {
    auto group = std::make_shared<std::string>();
    auto* cmd = groups->add_subcommand("delete", "Delete a group with its memberships and grants");
    cmd->add_option("group", *group, "Group name or id")->required();
    cmd->callback([group, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(std::string id, GroupIdFor(http, *group));
        DA_RETURN_IF_ERROR(http.DeleteJson("/api/admin/groups/" + id).status());
        std::printf("Deleted group %s\n", group->c_str());
        return Status::Ok();
      });
    });
  }
  {
    auto group = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = groups->add_subcommand("members", "List a group's members");
    cmd->add_option("group", *group, "Group name or id")->required();
    cmd->add_flag("--json", *as_json, "Print as JSON");
    cmd->callback([group, as_json, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(std::string id, GroupIdFor(http, *group));
        DA_ASSIGN_OR_RETURN(json j, http.GetJson("/api/admin/groups/" + id + "/members"));
        PrintList(j, "members", {"ID", "EMAIL", "NAME"}, {"id", "email", "name"}, *as_json);
        return Status::Ok();
      });
    });
  }
  for (bool add : {true, false}) {
    auto group = std::make_shared<std::string>();
    auto who = std::make_shared<std::string>();
    auto* cmd = groups->add_subcommand(add ? "add-member" : "remove-member",
                                       add ? "Add a user to a group" : "Remove a user from a group");
    cmd->add_option("group", *group, "Group name or id")->required();
    cmd->add_option("user", *who, "Email (or user id to remove)")->required();
    cmd->callback([group, who, add, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(std::string id, GroupIdFor(http, *group));
        if (add) {
          DA_RETURN_IF_ERROR(
              http.PostJson("/api/admin/groups/" + id + "/members", {{"email", *who}}).status());
        } else {
          DA_ASSIGN_OR_RETURN(std::string user_id, UserIdFor(http, *who));
          DA_RETURN_IF_ERROR(http.DeleteJson("/api/admin/groups/" + id + "/members/" + user_id).status());
        }
        std::printf("%s %s %s %s\n", add ? "Added" : "Removed", who->c_str(), add ? "to" : "from",
                    group->c_str());
        return Status::Ok();
      });
    });
  }
}

void AddGrantCommands(CLI::App* admin, int* exit_code) {
  auto* grants = admin->add_subcommand("grants", "Table grants: list | create | delete");
  grants->require_subcommand(1);
  {
    auto group = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = grants->add_subcommand("list", "List grants");
    cmd->add_option("--group", *group, "Only this group (name or id)");
    cmd->add_flag("--json", *as_json, "Print as JSON");
    cmd->callback([group, as_json, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        std::string path = "/api/admin/grants?resource_type=table";
        if (!group->empty()) {
          DA_ASSIGN_OR_RETURN(std::string id, GroupIdFor(http, *group));
          path += "&group_id=" + id;
        }
        DA_ASSIGN_OR_RETURN(json j, http.GetJson(path));
        PrintList(j, "grants", {"ID", "GROUP", "TABLE"}, {"id", "group_name", "resource_id"}, *as_json);
        return Status::Ok();
      });
    });
  }
  {
    auto group = std::make_shared<std::string>();
    auto table = std::make_shared<std::string>();
    auto* cmd = grants->add_subcommand("create", "Let a group see a table");
    cmd->add_option("group", *group, "Group name or id")->required();
    cmd->add_option("table", *table, "Table id")->required();
    cmd->callback([group, table, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_ASSIGN_OR_RETURN(std::string id, GroupIdFor(http, *group));
        DA_ASSIGN_OR_RETURN(json g, http.PostJson("/api/admin/grants", {{"group_id", id},
                                                                        {"resource_type", "table"},
                                                                        {"resource_id", *table}}));
        std::printf("Granted %s to %s (grant %s)\n", table->c_str(), group->c_str(), Str(g, "id").c_str());
        return Status::Ok();
      });
    });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* cmd = grants->add_subcommand("delete", "Revoke a grant by id");
    cmd->add_option("id", *id, "Grant id (see `da admin grants list`)")->required();
    cmd->callback([id, exit_code] {
      WithClient(exit_code, [&](const client::HttpClient& http) -> Status {
        DA_RETURN_IF_ERROR(http.DeleteJson("/api/admin/grants/" + *id).status());
        std::printf("Revoked grant %s\n", id->c_str());
        return Status::Ok();
      });
    });
  }
}

}  // namespace

void AddAccessAdminCommands(CLI::App* admin, int* exit_code) {
  AddUserCommands(admin, exit_code);
  AddGroupCommands(admin, exit_code);
  AddGrantCommands(admin, exit_code);
}

}  // namespace da::cli
