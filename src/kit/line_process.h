#pragma once
/// Runs a connector program (a Singer tap, a health-check command) and streams its output
/// line by line, in constant memory.
///
/// Unlike sync/child_process.h (which captures stdout whole: the extract report is one line),
/// stdout here may be gigabytes: every complete line goes to `on_stdout_line` as it arrives
/// and is then dropped. The child runs without a shell, in its own process group, with stdin
/// from /dev/null, and gets SIGKILL if the thread that started it dies (Linux
/// PR_SET_PDEATHSIG), so a killed `da extract` leaves no tap behind. On the time limit, on a
/// callback error and after the child exits, the whole group is killed (SIGTERM, then SIGKILL
/// after `grace_ms`), so grandchildren a tap spawned die with it.
///
/// Thread-safety: RunLineProcess is reentrant; callbacks run on the calling thread.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace da::kit {

struct LineProcessOptions {
  std::vector<std::string> argv;      ///< argv[0] is the program path (executed directly)
  std::filesystem::path working_dir;  ///< "" = inherit the caller's
  std::vector<std::string> extra_env; ///< "KEY=VALUE" added to the inherited environment
  /// When set, only the parent's variables named here are inherited (SpawnRequest::inherit_only).
  std::optional<std::vector<std::string>> inherit_only;
  int64_t timeout_ms = 0;             ///< 0 = no limit
  int64_t grace_ms = 2000;            ///< SIGTERM → SIGKILL delay
  /// Called with each stdout line (without the '\n'; a final unterminated line too). A non-ok
  /// Status stops the run: the group is killed and RunLineProcess returns that Status.
  std::function<Status(std::string_view line)> on_stdout_line;
  /// Called with each stderr line (cut to 4 KiB).
  std::function<void(std::string_view line)> on_stderr_line;
  /// A stdout line longer than this fails the run (resource_exhausted naming the line number).
  size_t max_line_bytes = size_t{256} << 20;
};

struct LineProcessResult {
  int exit_code = -1;       ///< exit status when it exited normally, else -1
  int term_signal = 0;      ///< the signal that ended it, else 0
  bool timed_out = false;   ///< killed by the time limit
  int64_t stdout_lines = 0; ///< lines handed to on_stdout_line
  std::string stderr_tail;  ///< last ~4 KiB of stderr
  int64_t duration_ms = 0;

  /// True when it exited on its own with status 0.
  bool succeeded() const { return !timed_out && term_signal == 0 && exit_code == 0; }
};

/// Spawns `options.argv[0]` and waits for it. Errors: invalid_argument for an empty argv;
/// unavailable naming the program when it cannot be started (missing, not executable — the
/// exec errno is reported back to the parent); the callback's Status when it stopped the run;
/// resource_exhausted for an over-long line. A child that fails, crashes or times out is a
/// successful call with the result fields set.
Result<LineProcessResult> RunLineProcess(const LineProcessOptions& options);

}  // namespace da::kit
