// da admin register-table | list-tables | update-table | unregister-table | sync — thin clients
// of the server's admin API (`/api/admin/*`, `/api/sync/*`).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "cli/run_commands.h"
#include "client/client_config.h"
#include "client/http_client.h"
#include "common/fs_util.h"
#include "common/identifiers.h"
#include "common/status.h"

namespace da::cli {
namespace {

/// The registry fields settable from flags; only flags actually given go into the JSON body.
struct TableFlags {
  std::map<std::string, std::string> values;   ///< JSON key → flag value
  std::map<std::string, CLI::Option*> options; ///< JSON key → its option
  std::string primary_key;
  CLI::Option* primary_key_option = nullptr;
  int64_t version = 0;
  CLI::Option* version_option = nullptr;
  bool json = false;

  void Add(CLI::App* cmd, const std::string& flag, const std::string& key, const std::string& help) {
    options[key] = cmd->add_option(flag, values[key], help);
  }

  /// The JSON body: given string flags, primary_key split on commas, version; `@file` for
  /// source_query reads the file.
  Result<nlohmann::json> ToJson() const {
    nlohmann::json body = nlohmann::json::object();
    for (const auto& [key, opt] : options) {
      if (opt->count() == 0) continue;
      std::string v = values.at(key);
      if (key == "source_query" && !v.empty() && v.front() == '@') {
        DA_ASSIGN_OR_RETURN(v, ReadFile(v.substr(1)));
      }
      body[key] = v;
    }
    if (primary_key_option != nullptr && primary_key_option->count() > 0) {
      nlohmann::json pk = nlohmann::json::array();
      size_t start = 0;
      while (start <= primary_key.size()) {
        size_t comma = primary_key.find(',', start);
        if (comma == std::string::npos) comma = primary_key.size();
        std::string part = primary_key.substr(start, comma - start);
        part.erase(0, part.find_first_not_of(" \t"));
        part.erase(part.find_last_not_of(" \t") + 1);
        if (!part.empty()) pk.push_back(part);
        start = comma + 1;
      }
      body["primary_key"] = pk;
    }
    if (version_option != nullptr && version_option->count() > 0) body["version"] = version;
    return body;
  }
};

void AddTableFlags(CLI::App* cmd, TableFlags* f, bool is_update) {
  if (is_update) f->Add(cmd, "--name", "name", "View name (strict identifier)");
  if (!is_update) f->Add(cmd, "--id", "id", "Table id (default: derived from the name)");
  f->Add(cmd, "--source-type", "source_type", "Connector / source name, e.g. files, keboola");
  if (!is_update) f->options["source_type"]->required();
  f->Add(cmd, "--source-table", "source_table", "Connector-specific locator (files: path or glob)");
  f->Add(cmd, "--bucket", "bucket", "Keboola bucket / BigQuery dataset");
  f->Add(cmd, "--description", "description", "Description");
  f->Add(cmd, "--query-mode", "query_mode", "local | materialized | remote");
  f->Add(cmd, "--sync-strategy", "sync_strategy", "full_refresh | incremental | partitioned");
  f->Add(cmd, "--sync-schedule", "sync_schedule", "every <N>m|h|d, daily HH:MM[,...] or cron");
  f->Add(cmd, "--schema-policy", "schema_policy", "evolve (record column changes) | freeze (refuse them)");
  f->Add(cmd, "--incremental-column", "incremental_column", "Column of the incremental watermark");
  f->Add(cmd, "--partition-by", "partition_by", "Date column of partitioned tables");
  f->Add(cmd, "--partition-granularity", "partition_granularity", "day | month | year");
  f->Add(cmd, "--source-query", "source_query", "Materialized source query (or @file)");
  f->primary_key_option = cmd->add_option("--primary-key", f->primary_key, "Comma-separated columns");
  if (is_update) {
    f->version_option = cmd->add_option("--version", f->version, "Expected current version (optimistic lock)");
  }
  cmd->add_flag("--json", f->json, "Print the resulting record as JSON");
}

Status CheckTableId(const std::string& id) { return ValidateQuotedIdentifier("table id", id); }

// ---------------------------------------------------------------------------- commands

Status RunRegister(const std::string& name, const TableFlags& flags) {
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  DA_ASSIGN_OR_RETURN(nlohmann::json body, flags.ToJson());
  body["name"] = name;
  auto r = http.PostJson("/api/admin/register-table", body);
  if (!r.ok()) return WithLoginHint(r.status());
  if (flags.json) {
    std::printf("%s\n", r->dump(2).c_str());
  } else {
    std::printf("Registered %s (view %s, version %s)\n", Str(*r, "id").c_str(), Str(*r, "name").c_str(),
                Str(*r, "version").c_str());
  }
  return Status::Ok();
}

Status RunList(bool json) {
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  auto r = http.GetJson("/api/admin/registry");
  if (!r.ok()) return WithLoginHint(r.status());
  if (json) {
    std::printf("%s\n", r->dump(2).c_str());
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  if (r->contains("tables") && (*r)["tables"].is_array()) {
    for (const auto& t : (*r)["tables"]) {
      rows.push_back({Str(t, "id"), Str(t, "name"), Str(t, "source_type"), Str(t, "query_mode"),
                      Str(t, "sync_strategy"), Str(t, "sync_schedule"), Str(t, "version")});
    }
  }
  PrintColumns({"ID", "NAME", "SOURCE", "MODE", "STRATEGY", "SCHEDULE", "VERSION"}, rows);
  std::printf("(%zu tables)\n", rows.size());
  return Status::Ok();
}

Status RunUpdate(const std::string& id, const TableFlags& flags) {
  DA_RETURN_IF_ERROR(CheckTableId(id));
  DA_ASSIGN_OR_RETURN(nlohmann::json body, flags.ToJson());
  if (body.empty() || (body.size() == 1 && body.contains("version"))) {
    return InvalidArgument("nothing to update: give at least one field flag");
  }
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  auto r = http.PutJson("/api/admin/registry/" + id, body);
  if (!r.ok()) return WithLoginHint(r.status());
  if (flags.json) {
    std::printf("%s\n", r->dump(2).c_str());
  } else {
    std::printf("Updated %s (version %s)\n", id.c_str(), Str(*r, "version").c_str());
  }
  return Status::Ok();
}

Status RunUnregister(const std::string& id) {
  DA_RETURN_IF_ERROR(CheckTableId(id));
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  auto r = http.DeleteJson("/api/admin/registry/" + id);
  if (!r.ok()) return WithLoginHint(r.status());
  std::printf("Unregistered %s\n", id.c_str());
  return Status::Ok();
}

struct SyncFlags {
  std::vector<std::string> ids;
  bool wait = false;
  double timeout_sec = 3600;
};

/// Triggers a run; with --wait, polls the run every 200 ms until it is no longer running and
/// prints its per-table outcomes (exit 1 unless the run ended `ok`). Returns the exit code.
int RunAdminSync(const SyncFlags& flags) {
  int code = 0;
  for (const auto& id : flags.ids) {
    if (Status st = CheckTableId(id); !st.ok()) {
      Fail(st, &code);
      return code;
    }
  }
  auto http = MakeClient();
  if (!http.ok()) {
    Fail(http.status(), &code);
    return code;
  }
  nlohmann::json body = flags.ids.empty() ? nlohmann::json(nullptr)
                                          : nlohmann::json({{"tables", flags.ids}});
  auto r = http->PostJson("/api/sync/trigger", body);
  if (!r.ok()) {
    Fail(WithLoginHint(r.status()), &code);
    return code;
  }
  std::string tables_text = "all tables";
  std::set<std::string> triggered;
  if (r->contains("tables") && (*r)["tables"].is_array()) {
    tables_text.clear();
    for (const auto& t : (*r)["tables"]) {
      if (!t.is_string()) continue;
      triggered.insert(t.get<std::string>());
      tables_text += (tables_text.empty() ? "" : ", ") + t.get<std::string>();
    }
    if (triggered.empty()) tables_text = "all tables";
  }
  std::printf("Sync triggered (run %s): %s\n", Str(*r, "run_id").c_str(), tables_text.c_str());
  if (!flags.wait) return 0;

  // Poll the run itself until it is no longer running, then print its per-table outcomes.
  const std::string run_id = Str(*r, "run_id");
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_sec * 1000));
  nlohmann::json run;
  while (true) {
    auto got = http->GetJson("/api/sync/runs/" + run_id);
    if (!got.ok()) {
      Fail(WithLoginHint(got.status()).WithContext("waiting for sync run " + run_id), &code);
      return code;
    }
    run = std::move(*got);
    if (run.value("status", "") != "running") break;
    if (std::chrono::steady_clock::now() >= deadline) {
      Fail(DeadlineExceeded("sync run " + run_id + " still running after " +
                            std::to_string(static_cast<int64_t>(flags.timeout_sec)) + " s"),
           &code);
      return code;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  PrintRun(run);
  if (!RunSucceeded(run)) {
    std::fprintf(stderr, "error: sync run %s ended %s\n", run_id.c_str(),
                 run.value("status", "").c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void AddAdminCommands(CLI::App& app, int* exit_code) {
  auto* admin = app.add_subcommand("admin", "Administer the server (registry, sync) over its API");
  admin->require_subcommand(1);
  {
    auto flags = std::make_shared<TableFlags>();
    auto name = std::make_shared<std::string>();
    auto* cmd = admin->add_subcommand("register-table", "Register a table for extraction and distribution");
    cmd->add_option("name", *name, "View name (strict identifier)")->required();
    AddTableFlags(cmd, flags.get(), false);
    cmd->callback([flags, name, exit_code]() {
      Status st = RunRegister(*name, *flags);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto json = std::make_shared<bool>(false);
    auto* cmd = admin->add_subcommand("list-tables", "List registered tables");
    cmd->add_flag("--json", *json, "Print the registry as JSON");
    cmd->callback([json, exit_code]() {
      Status st = RunList(*json);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto flags = std::make_shared<TableFlags>();
    auto id = std::make_shared<std::string>();
    auto* cmd = admin->add_subcommand("update-table", "Change fields of a registered table");
    cmd->add_option("id", *id, "Table id")->required();
    AddTableFlags(cmd, flags.get(), true);
    cmd->callback([flags, id, exit_code]() {
      Status st = RunUpdate(*id, *flags);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* cmd = admin->add_subcommand("unregister-table", "Remove a table from the registry");
    cmd->add_option("id", *id, "Table id")->required();
    cmd->callback([id, exit_code]() {
      Status st = RunUnregister(*id);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto flags = std::make_shared<SyncFlags>();
    auto* cmd = admin->add_subcommand("sync", "Trigger a server sync run (all tables or the given ids)");
    cmd->add_option("ids", flags->ids, "Table ids (default: all)");
    cmd->add_flag("--wait", flags->wait, "Wait for the run to finish and report each table's status");
    cmd->add_option("--timeout", flags->timeout_sec, "With --wait: give up after this many seconds (default 3600)");
    cmd->callback([flags, exit_code]() { *exit_code = RunAdminSync(*flags); });
  }
  AddRunCommands(admin, exit_code);
  AddAccessAdminCommands(admin, exit_code);
}

}  // namespace da::cli
