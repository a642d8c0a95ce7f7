#pragma once
/// Runs a child process in its own process group with a time limit.
///
/// The child gets `stdin_data` on stdin; stdout is captured whole (the extract report is one
/// JSON line), stderr is forwarded line by line to `on_stderr_line` (the run log) and its tail
/// kept. On timeout or cancel the whole group gets SIGTERM, then SIGKILL after `grace_ms`.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace da::sync {

struct ChildOptions {
  std::vector<std::string> argv;               ///< argv[0] is the program path (no shell)
  std::string stdin_data;
  int64_t timeout_ms = 3600 * 1000;
  int64_t grace_ms = 5000;                     ///< SIGTERM → SIGKILL delay
  const std::atomic<bool>* cancel = nullptr;   ///< set to true to kill the group early
  std::function<void(const std::string&)> on_stderr_line;
  std::vector<std::string> extra_env;          ///< "KEY=VALUE" added to the inherited environment
  /// When set, only the parent's variables named here are inherited (SpawnRequest::inherit_only).
  std::optional<std::vector<std::string>> inherit_only;
  /// When true the child gets SIGKILL if the thread that started it dies (Linux
  /// PR_SET_PDEATHSIG), so a server killed mid-run leaves no extraction behind.
  bool kill_with_parent = false;
};

struct ChildResult {
  int exit_code = -1;        ///< exit status when exited normally, else -1
  int term_signal = 0;       ///< signal number when killed by a signal
  bool timed_out = false;
  bool cancelled = false;
  std::string stdout_data;
  std::string stderr_tail;   ///< last ~8 KiB of stderr
  int64_t duration_ms = 0;
};

/// Spawns and waits. Errors only when the process cannot be started (internal); a child
/// that fails, times out or crashes is a successful RunChild with the fields set.
Result<ChildResult> RunChild(const ChildOptions& options);

/// Path of the running executable (/proc/self/exe), for re-invoking `da` as a child.
std::string SelfExecutablePath();

}  // namespace da::sync
