#include "kit/line_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "common/process_spawn.h"

namespace da::kit {
namespace {
using Clock = std::chrono::steady_clock;

constexpr size_t kStderrLineMax = 4096;
constexpr size_t kStderrTailMax = 4096;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

/// Splits a byte stream into lines.
class LineSplitter {
 public:
  /// Feeds bytes; calls `emit` per complete line. Stops at the first non-ok Status.
  template <typename Emit>
  Status Feed(const char* data, size_t n, size_t max_line, Emit&& emit) {
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      if (data[i] != '\n') continue;
      Status st;
      if (pending_.empty()) {
        st = emit(std::string_view(data + start, i - start));
      } else {
        pending_.append(data + start, i - start);
        st = emit(std::string_view(pending_));
        pending_.clear();
      }
      if (!st.ok()) return st;
      start = i + 1;
    }
    pending_.append(data + start, n - start);
    if (pending_.size() > max_line) {
      return ResourceExhausted("a line longer than " + std::to_string(max_line) + " bytes");
    }
    return Status::Ok();
  }
  /// The unterminated rest, if any.
  template <typename Emit>
  Status Finish(Emit&& emit) {
    if (pending_.empty()) return Status::Ok();
    std::string last = std::move(pending_);
    pending_.clear();
    return emit(std::string_view(last));
  }

 private:
  std::string pending_;
};

}  // namespace

Result<LineProcessResult> RunLineProcess(const LineProcessOptions& options) {
  const auto start = Clock::now();
  SpawnRequest request;
  request.argv = options.argv;
  request.extra_env = options.extra_env;
  request.inherit_only = options.inherit_only;
  request.working_dir = options.working_dir;
  DA_ASSIGN_OR_RETURN(SpawnedProcess child, SpawnProcessGroup(request));
  const pid_t pid = child.pid;
  UniqueFd& out = child.stdout_r;
  UniqueFd& err = child.stderr_r;

  LineProcessResult result;
  LineSplitter out_lines, err_lines;
  std::string err_tail;
  Status stop;  // set when a callback (or an over-long line) ends the run early
  bool term_sent = false;
  bool kill_sent = false;
  Clock::time_point term_at{};
  bool exited = false;
  Clock::time_point exited_at{};
  int status = 0;
  std::vector<char> buf(size_t{1} << 16);

  auto kill_group = [&](int sig) { ::kill(-pid, sig); };
  auto emit_stdout = [&](std::string_view line) -> Status {
    ++result.stdout_lines;
    if (!options.on_stdout_line) return Status::Ok();
    return options.on_stdout_line(line);
  };
  auto emit_stderr = [&](std::string_view line) -> Status {
    if (line.size() > kStderrLineMax) line = line.substr(0, kStderrLineMax);
    if (options.on_stderr_line) options.on_stderr_line(line);
    return Status::Ok();
  };
  auto stop_with = [&](Status st) {
    if (stop.ok()) stop = std::move(st);
    if (!term_sent) {
      kill_group(SIGKILL);  // its output is no longer wanted: no grace
      term_sent = kill_sent = true;
      term_at = Clock::now();
    }
  };

  while (out.open() || err.open() || !exited) {
    pollfd pfds[2];
    nfds_t n = 0;
    if (out.open()) pfds[n++] = {out.get(), POLLIN, 0};
    if (err.open()) pfds[n++] = {err.get(), POLLIN, 0};
    ::poll(n > 0 ? pfds : nullptr, n, 50);
    for (nfds_t i = 0; i < n; ++i) {
      if (pfds[i].revents == 0) continue;
      const bool is_out = pfds[i].fd == out.get();
      // Drain what is there now; bounded so a chatty stream cannot starve the other checks.
      for (int round = 0; round < 64; ++round) {
        ssize_t r = ::read(pfds[i].fd, buf.data(), buf.size());
        if (r > 0) {
          const auto len = static_cast<size_t>(r);
          if (is_out) {
            if (!stop.ok()) continue;  // discard after a stop
            Status st = out_lines.Feed(buf.data(), len, options.max_line_bytes, emit_stdout);
            if (!st.ok()) {
              if (st.code() == StatusCode::kResourceExhausted) {
                st = ResourceExhausted("stdout line " + std::to_string(result.stdout_lines + 1) +
                                       " is " + st.message());
              }
              stop_with(st);
            }
          } else {
            err_tail.append(buf.data(), len);
            if (err_tail.size() > 4 * kStderrTailMax) {
              err_tail.erase(0, err_tail.size() - kStderrTailMax);
            }
            (void)err_lines.Feed(buf.data(), len, size_t{1} << 20, emit_stderr);
          }
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          if (is_out) {
            out.Close();
            if (stop.ok()) {
              Status st = out_lines.Finish(emit_stdout);
              if (!st.ok()) stop_with(st);
            }
          } else {
            err.Close();
            (void)err_lines.Finish(emit_stderr);
          }
        }
        break;
      }
    }

    if (!exited) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        exited_at = Clock::now();
        // Grandchildren may still hold the pipes open; they go with the group.
        kill_group(SIGKILL);
      }
    }
    if (!term_sent && options.timeout_ms > 0 && MsSince(start) > options.timeout_ms) {
      result.timed_out = true;
      kill_group(SIGTERM);
      term_sent = true;
      term_at = Clock::now();
    }
    if (term_sent && !kill_sent && MsSince(term_at) > options.grace_ms) {
      kill_group(SIGKILL);
      kill_sent = true;
    }
    // A descendant that left the group (setsid) could hold a pipe forever: stop waiting for
    // EOF a little after the child itself is gone.
    if (exited && MsSince(exited_at) > options.grace_ms + 1000) break;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  result.stderr_tail = err_tail.size() > kStderrTailMax
                           ? err_tail.substr(err_tail.size() - kStderrTailMax)
                           : err_tail;
  result.duration_ms = MsSince(start);
  if (!stop.ok()) return stop;
  return result;
}

}  // namespace da::kit
