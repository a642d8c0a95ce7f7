// da sync (alias pull) | query — the analyst side (src/client). `da login` is in auth_commands.cpp.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "client/client_config.h"
#include "client/http_client.h"
#include "client/local_query.h"
#include "client/puller.h"
#include "client/remote_query.h"
#include "client/workspace.h"
#include "common/status.h"

namespace da::cli {
namespace {

/// A one-line byte progress bar on stderr, redrawn at most every 100 ms; thread-safe.
class ProgressBar {
 public:
  void SetTotal(int64_t total) { total_ = total; }
  void Add(int64_t delta) {
    int64_t done = done_.fetch_add(delta) + delta;
    std::lock_guard<std::mutex> g(mu_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    Draw(done);
  }
  void Finish() {
    std::lock_guard<std::mutex> g(mu_);
    if (drawn_) std::fputs("\r\033[K", stderr);
  }

 private:
  void Draw(int64_t done) {
    constexpr int kWidth = 30;
    int64_t total = std::max<int64_t>(total_.load(), done);
    int filled = total > 0 ? static_cast<int>(kWidth * done / total) : kWidth;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    int pct = total > 0 ? static_cast<int>(100 * done / total) : 100;
    std::fprintf(stderr, "\r[%s] %3d%% %s / %s\033[K", bar.c_str(), pct, HumanBytes(done).c_str(),
                 HumanBytes(total).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  std::atomic<int64_t> total_{0};
  std::atomic<int64_t> done_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

// ---------------------------------------------------------------------------- sync

struct SyncFlags {
  std::string workspace;
  bool dry_run = false;
  bool json = false;
  bool quiet = false;
};

int RunSync(const SyncFlags& flags) {
  auto config = client::LoadClientConfig();
  if (!config.ok()) {
    int code = 0;
    Fail(config.status(), &code);
    return code;
  }
  auto ws = client::ResolveWorkspace(flags.workspace);
  if (!ws.ok()) {
    int code = 0;
    Fail(ws.status(), &code);
    return code;
  }
  client::HttpClient http({config->server, config->token});
  client::PullOptions options;
  options.dry_run = flags.dry_run;
  bool human = !flags.json && !flags.quiet;
  auto bar = std::make_shared<ProgressBar>();
  bool show_bar = human && !flags.dry_run && ::isatty(STDERR_FILENO);
  if (show_bar) {
    options.on_plan = [bar](int64_t total) { bar->SetTotal(total); };
    options.progress = [bar](int64_t delta) { bar->Add(delta); };
  }
  auto report = client::Pull(http, *ws, options);
  if (show_bar) bar->Finish();
  if (!report.ok()) {
    Status st = report.status();
    if (st.code() == StatusCode::kUnauthenticated) {
      st = {st.code(), st.message() + "; run `da login`"};
    }
    int code = 0;
    Fail(st, &code);
    return code;
  }
  if (flags.json) {
    std::printf("%s\n", report->ToJson().dump(2).c_str());
  }
  for (const auto& t : report->tables) {
    switch (t.action) {
      case client::TableAction::kFailed:
        std::fprintf(stderr, "error: %s: %s\n", t.name.c_str(), t.detail.c_str());
        break;
      case client::TableAction::kRemoved:
        if (human) std::printf("Removed %s (%s)\n", t.name.c_str(), t.detail.c_str());
        break;
      case client::TableAction::kDownloaded:
        if (human) std::printf("Downloaded %s (%s)\n", t.name.c_str(), HumanBytes(t.bytes).c_str());
        break;
      case client::TableAction::kWouldDownload:
        if (human) std::printf("Would download %s (%s)\n", t.name.c_str(), HumanBytes(t.bytes).c_str());
        break;
      case client::TableAction::kWouldRemove:
        if (human) std::printf("Would remove %s (%s)\n", t.name.c_str(), t.detail.c_str());
        break;
      default:
        break;
    }
  }
  if (human) {
    for (const auto& w : report->view_warnings) std::fprintf(stderr, "warning: no view for %s\n", w.c_str());
    if (report->dry_run) {
      std::printf("Dry run: would update %d tables (%d total); nothing changed\n", report->updated,
                  report->total);
    } else {
      std::printf("Updated %d tables (%d total)\n", report->updated, report->total);
    }
  }
  return report->ok() ? 0 : 1;
}

// ---------------------------------------------------------------------------- query

struct QueryFlags {
  std::string workspace;
  std::string format = "table";
  bool remote = false;
  int64_t limit = 1000;
  std::string sql;
};

/// `da query --remote`: POST /api/query on the logged-in server, printed like a local query.
Status RunQueryOnServer(const std::string& sql, client::OutputFormat format, int64_t limit) {
  DA_ASSIGN_OR_RETURN(client::ClientConfig config, client::LoadClientConfig());
  client::HttpClientOptions options{config.server, config.token};
  options.request_timeout_ms = 0;  // the server enforces its own query time limit
  client::HttpClient http(options);
  bool truncated = false;
  Status st = client::PrintRemoteQuery(http, sql, limit, format, std::cout, &truncated);
  std::cout.flush();
  if (st.ok() && truncated) {
    std::fprintf(stderr, "note: result truncated to %lld rows (use --limit, at most 100000)\n",
                 static_cast<long long>(limit));
  }
  if (st.code() == StatusCode::kUnauthenticated) return {st.code(), st.message() + "; run `da login`"};
  return st;
}

Status RunQuery(const QueryFlags& flags) {
  DA_ASSIGN_OR_RETURN(auto format, client::ParseOutputFormat(flags.format));
  std::string sql = flags.sql;
  if (sql == "-") sql.assign(std::istreambuf_iterator<char>(std::cin), {});
  if (sql.find_first_not_of(" \t\r\n") == std::string::npos) return InvalidArgument("empty SQL");
  if (flags.remote) return RunQueryOnServer(sql, format, flags.limit);
  DA_ASSIGN_OR_RETURN(auto ws, client::ResolveWorkspace(flags.workspace));
  Status st = client::RunLocalQuery(ws, sql, format, std::cout);
  std::cout.flush();
  return st;
}

}  // namespace

void AddClientCommands(CLI::App& app, int* exit_code) {
  {
    auto flags = std::make_shared<SyncFlags>();
    auto* cmd = app.add_subcommand("sync", "Download changed tables and rebuild the local views");
    cmd->alias("pull");
    cmd->add_option("--workspace", flags->workspace, "Workspace directory (default $DA_WORKSPACE, else cwd)");
    cmd->add_flag("--dry-run", flags->dry_run, "Show what would be downloaded or removed; change nothing");
    cmd->add_flag("--json", flags->json, "Print a JSON summary on stdout");
    cmd->add_flag("--quiet,-q", flags->quiet, "Print nothing but errors");
    cmd->callback([flags, exit_code]() { *exit_code = RunSync(*flags); });
  }
  {
    auto flags = std::make_shared<QueryFlags>();
    auto* cmd = app.add_subcommand("query", "Run SQL on the local workspace database (or on the server with --remote)");
    cmd->add_option("--workspace", flags->workspace, "Workspace directory (default $DA_WORKSPACE, else cwd)");
    cmd->add_option("--format,-f", flags->format, "table | json | csv")
        ->check(CLI::IsMember({"table", "json", "csv"}));
    cmd->add_flag("--remote", flags->remote, "Run on the server (POST /api/query) instead of the workspace");
    cmd->add_option("--limit", flags->limit, "With --remote: at most this many rows (default 1000, max 100000)")
        ->check(CLI::Range(int64_t{1}, int64_t{100000}));
    cmd->add_option("sql", flags->sql, "The SQL to run ('-' reads it from stdin)")->required();
    cmd->callback([flags, exit_code]() {
      Status st = RunQuery(*flags);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
}

}  // namespace da::cli
