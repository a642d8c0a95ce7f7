#include "kit/line_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::kit {
namespace {
namespace fs = std::filesystem;

/// True while the process exists and is not a zombie (a killed child reparented to init may
/// linger as a zombie until reaped; it is dead for our purpose).
bool Running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

TEST(LineProcess, StreamsStdoutLinesAndStderrAndExitCode) {
  std::vector<std::string> out, err;
  LineProcessOptions o;
  o.argv = {"/bin/sh", "-c", "printf 'a\\nbb\\n\\nlast'; echo oops >&2; exit 4"};
  o.on_stdout_line = [&](std::string_view l) {
    out.emplace_back(l);
    return Status::Ok();
  };
  o.on_stderr_line = [&](std::string_view l) { err.emplace_back(l); };
  auto r = RunLineProcess(o);
  ASSERT_OK(r);
  EXPECT_EQ(out, (std::vector<std::string>{"a", "bb", "", "last"}));
  EXPECT_EQ(err, std::vector<std::string>{"oops"});
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->stdout_lines, 4);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->stderr_tail, "oops\n");
}

TEST(LineProcess, HandlesManyLinesWithoutHoldingThem) {
  int64_t n = 0;
  size_t max_len = 0;
  LineProcessOptions o;
  o.argv = {"/bin/sh", "-c", "seq 1 200000"};
  o.on_stdout_line = [&](std::string_view l) {
    ++n;
    max_len = std::max(max_len, l.size());
    return Status::Ok();
  };
  auto r = RunLineProcess(o);
  ASSERT_OK(r);
  EXPECT_TRUE(r->succeeded());
  EXPECT_EQ(n, 200000);
  EXPECT_EQ(max_len, 6u);
}

TEST(LineProcess, ACallbackErrorStopsAndKillsTheChild) {
  LineProcessOptions o;
  o.argv = {"/bin/sh", "-c", "echo one; echo two; exec sleep 1000"};
  int seen = 0;
  o.on_stdout_line = [&](std::string_view l) -> Status {
    ++seen;
    if (l == "two") return InvalidArgument("line 2 is bad");
    return Status::Ok();
  };
  auto r = RunLineProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "line 2 is bad");
  EXPECT_EQ(seen, 2);
}

TEST(LineProcess, TimeLimitKillsTheWholeProcessGroup) {
  da::testing::TempDir dir;
  const fs::path pid_file = dir.path() / "pid";
  LineProcessOptions o;
  o.argv = {"/bin/sh", "-c", "sleep 1000 & echo $! > \"$0\"; echo started; wait", pid_file.string()};
  // Long enough for the shell to start and record its child even on a loaded machine (ctest
  // -j2 beside DuckDB-heavy tests once took more than 300 ms); the limit is what ends it.
  o.timeout_ms = 2000;
  o.grace_ms = 500;
  bool started = false;
  o.on_stdout_line = [&](std::string_view l) {
    started = started || l == "started";
    return Status::Ok();
  };
  auto r = RunLineProcess(o);
  ASSERT_OK(r);
  EXPECT_TRUE(started);
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->succeeded());
  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  in >> grandchild;
  ASSERT_GT(grandchild, 0);
  // SIGKILL is delivered asynchronously: wait (bounded) until the kernel has ended it.
  bool alive = Running(grandchild);
  for (int i = 0; i < 250 && alive; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    alive = Running(grandchild);
  }
  EXPECT_FALSE(alive) << "the tap's child survived the time limit";
}

TEST(LineProcess, ReportsAProgramThatCannotStart) {
  LineProcessOptions o;
  o.argv = {"/nonexistent/tap"};
  auto r = RunLineProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("/nonexistent/tap"), std::string::npos);
  EXPECT_NE(r.status().message().find("No such file"), std::string::npos) << r.status().message();
}

TEST(LineProcess, RunsInTheWorkingDirWithExtraEnv) {
  da::testing::TempDir dir;
  std::vector<std::string> out;
  LineProcessOptions o;
  o.argv = {"/bin/sh", "-c", "pwd; echo \"$DA_LP_TEST\""};
  o.working_dir = dir.path();
  o.extra_env = {"DA_LP_TEST=hello"};
  o.on_stdout_line = [&](std::string_view l) {
    out.emplace_back(l);
    return Status::Ok();
  };
  auto r = RunLineProcess(o);
  ASSERT_OK(r);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(fs::canonical(out[0]), fs::canonical(dir.path()));
  EXPECT_EQ(out[1], "hello");
}

// A connector program inherits only the variables it is allowed (inherit_only, with `*` as a
// prefix wildcard) plus extra_env, which wins over an inherited variable of the same name.
TEST(LineProcess, InheritOnlyFiltersTheEnvironment) {
  ::setenv("DA_LP_SECRET", "server-secret", 1);
  ::setenv("DA_LP_KEPT", "kept", 1);
  ::setenv("DA_LP_PREFIX_ONE", "one", 1);
  ::setenv("DA_LP_OVERRIDDEN", "inherited", 1);
  std::vector<std::string> out;
  LineProcessOptions o;
  o.argv = {"/bin/sh", "-c",
            "echo \"${DA_LP_SECRET:-unset}|$DA_LP_KEPT|$DA_LP_PREFIX_ONE|$DA_LP_OVERRIDDEN|"
            "${PATH:+path}\""};
  o.inherit_only = std::vector<std::string>{"PATH", "DA_LP_KEPT", "DA_LP_PREFIX_*",
                                            "DA_LP_OVERRIDDEN"};
  o.extra_env = {"DA_LP_OVERRIDDEN=extra"};
  o.on_stdout_line = [&](std::string_view l) {
    out.emplace_back(l);
    return Status::Ok();
  };
  auto r = RunLineProcess(o);
  ASSERT_OK(r);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], "unset|kept|one|extra|path");
  // Without inherit_only everything is inherited, and extra_env still wins.
  out.clear();
  o.inherit_only.reset();
  ASSERT_OK(RunLineProcess(o));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], "server-secret|kept|one|extra|path");
  for (const char* n : {"DA_LP_SECRET", "DA_LP_KEPT", "DA_LP_PREFIX_ONE", "DA_LP_OVERRIDDEN"}) {
    ::unsetenv(n);
  }
}

TEST(LineProcess, RefusesAnOverlongLine) {
  LineProcessOptions o;
  o.argv = {"/bin/sh", "-c", "echo ok; head -c 100000 /dev/zero | tr '\\0' x; echo"};
  o.max_line_bytes = 1000;
  auto r = RunLineProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("stdout line 2"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace da::kit
