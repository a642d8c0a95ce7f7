// da admin runs | run <id> | cancel <id>: thin clients of GET /api/sync/runs,
// GET /api/sync/runs/{id} and POST /api/sync/runs/{id}/cancel.
#include "cli/run_commands.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_support.h"
#include "common/identifiers.h"

namespace da::cli {
namespace {

using nlohmann::json;

/// Run ids are server-generated hex; anything else is refused before it reaches a URL.
Status CheckRunId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 64 &&
            id.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!ok) return InvalidArgument("run id '" + PrintableForMessage(id, 80) + "' is not a run id (hex)");
  return Status::Ok();
}

std::string Seconds(const json& run, const char* key) {
  auto it = run.find(key);
  if (it == run.end() || !it->is_number()) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", it->get<double>() / 1000.0);
  return buf;
}

Status RunList(int limit, bool as_json) {
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  auto r = http.GetJson("/api/sync/runs?limit=" + std::to_string(limit));
  if (!r.ok()) return WithLoginHint(r.status());
  if (as_json) {
    std::printf("%s\n", r->dump(2).c_str());
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : r->value("runs", json::array())) {
    const json counts = run.value("counts", json::object());
    rows.push_back({Str(run, "run_id"), Str(run, "status"), Str(run, "trigger"),
                    Str(run, "started_at"), Seconds(run, "duration_ms"), Str(counts, "synced"),
                    Str(counts, "skipped"), Str(counts, "error"), Str(run, "message")});
  }
  PrintColumns({"RUN", "STATUS", "TRIGGER", "STARTED", "SECONDS", "SYNCED", "SKIPPED", "ERRORS",
                "MESSAGE"},
               rows);
  return Status::Ok();
}

Status RunShow(const std::string& id, bool as_json) {
  DA_RETURN_IF_ERROR(CheckRunId(id));
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  auto r = http.GetJson("/api/sync/runs/" + id);
  if (!r.ok()) return WithLoginHint(r.status());
  if (as_json) {
    std::printf("%s\n", r->dump(2).c_str());
  } else {
    PrintRun(*r);
  }
  return Status::Ok();
}

Status RunCancel(const std::string& id, bool as_json) {
  DA_RETURN_IF_ERROR(CheckRunId(id));
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  auto r = http.PostJson("/api/sync/runs/" + id + "/cancel", json(nullptr));
  if (!r.ok()) return WithLoginHint(r.status());
  if (as_json) {
    std::printf("%s\n", r->dump(2).c_str());
  } else {
    PrintRun(*r);
  }
  return Status::Ok();
}

}  // namespace

bool RunSucceeded(const json& run) { return run.value("status", "") == "ok"; }

void PrintRun(const json& run) {
  std::string line = "Run " + Str(run, "run_id") + ": " + Str(run, "status") + " (" +
                     Str(run, "trigger") + ", started " + Str(run, "started_at");
  std::string secs = Seconds(run, "duration_ms");
  if (!Str(run, "finished_at").empty()) line += ", " + secs + " s";
  line += ")";
  if (!Str(run, "message").empty()) line += ": " + Str(run, "message");
  std::printf("%s\n", line.c_str());
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : run.value("tables", json::array())) {
    rows.push_back({Str(t, "table_id"), Str(t, "status"), Str(t, "rows"),
                    HumanBytes(t.value("size_bytes", json())), Seconds(t, "duration_ms"),
                    PrintableForMessage(Str(t, "reason"), 200)});
  }
  PrintColumns({"TABLE", "STATUS", "ROWS", "SIZE", "SECONDS", "REASON"}, rows);
}

void AddRunCommands(CLI::App* admin, int* exit_code) {
  {
    auto limit = std::make_shared<int>(20);
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = admin->add_subcommand("runs", "List recent sync runs, newest first");
    cmd->add_option("--limit", *limit, "At most this many runs (1-500, default 20)");
    cmd->add_flag("--json", *as_json, "Print the API's JSON");
    cmd->callback([limit, as_json, exit_code]() {
      Status st = RunList(*limit, *as_json);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto id = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = admin->add_subcommand("run", "Show one sync run with its per-table outcomes");
    cmd->add_option("id", *id, "Run id")->required();
    cmd->add_flag("--json", *as_json, "Print the API's JSON");
    cmd->callback([id, as_json, exit_code]() {
      Status st = RunShow(*id, *as_json);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto id = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = admin->add_subcommand(
        "cancel", "Cancel a running sync run (kills its extraction; previous data keeps serving)");
    cmd->add_option("id", *id, "Run id")->required();
    cmd->add_flag("--json", *as_json, "Print the API's JSON");
    cmd->callback([id, as_json, exit_code]() {
      Status st = RunCancel(*id, *as_json);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
}

}  // namespace da::cli
