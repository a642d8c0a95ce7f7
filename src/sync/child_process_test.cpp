#include "sync/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/hash.h"
#include "support/status_macros.h"

namespace da::sync {
namespace {

TEST(ChildProcess, CapturesStdoutAndExitCodeAndFeedsStdin) {
  ChildOptions o;
  o.argv = {"/bin/sh", "-c", "cat; echo done; echo oops >&2; exit 3"};
  o.stdin_data = std::string(200000, 'x');  // larger than a pipe buffer
  std::vector<std::string> lines;
  o.on_stderr_line = [&](const std::string& l) { lines.push_back(l); };
  auto r = RunChild(o);
  ASSERT_OK(r);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_data.size(), 200000u + 5);
  EXPECT_EQ(r->stdout_data.substr(200000), "done\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "oops");
  EXPECT_FALSE(r->timed_out);
}

// Reads a pid written by the child and tells whether that process still exists.
bool Alive(const std::filesystem::path& pid_file) {
  std::ifstream in(pid_file);
  pid_t pid = 0;
  in >> pid;
  return pid > 0 && ::kill(pid, 0) == 0;
}

TEST(ChildProcess, TimeoutKillsTheWholeProcessGroup) {
  auto pid_file = std::filesystem::temp_directory_path() / ("da_child_" + RandomHex(6));
  ChildOptions o;
  // A grandchild that ignores SIGTERM: only the group SIGKILL can stop it.
  o.argv = {"/bin/sh", "-c",
            "sh -c 'trap \"\" TERM; echo $$ > " + pid_file.string() +
                "; while :; do sleep 1; done' & wait"};
  o.timeout_ms = 1500;  // time for the grandchild to record its pid under load
  o.grace_ms = 200;
  auto r = RunChild(o);
  ASSERT_OK(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_NE(r->exit_code, 0);
  // The grandchild must be gone (reaped by init once killed).
  bool alive = true;
  for (int i = 0; i < 100 && alive; ++i) {
    alive = Alive(pid_file);
    if (alive) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(alive);
  std::filesystem::remove(pid_file);
}

TEST(ChildProcess, CancelStopsTheChild) {
  std::atomic<bool> cancel{false};
  ChildOptions o;
  o.argv = {"/bin/sleep", "30"};
  o.cancel = &cancel;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  auto r = RunChild(o);
  t.join();
  ASSERT_OK(r);
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(r->term_signal, SIGTERM);
  EXPECT_LT(r->duration_ms, 5000);
}

TEST(ChildProcess, MissingProgramExits127) {
  ChildOptions o;
  o.argv = {"/nonexistent/program"};
  auto r = RunChild(o);
  ASSERT_OK(r);
  EXPECT_EQ(r->exit_code, 127);
}

}  // namespace
}  // namespace da::sync
