#include "kit/line_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

extern char** environ;

namespace da::kit {
namespace {
using Clock = std::chrono::steady_clock;

constexpr size_t kStderrLineMax = 4096;
constexpr size_t kStderrTailMax = 4096;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

/// Both ends of a pipe, closed by the destructor.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    Close(0);
    Close(1);
  }
  void Close(int i) {
    if (fds[i] >= 0) ::close(fds[i]);
    fds[i] = -1;
  }
};

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
  if (options.argv.empty()) return InvalidArgument("empty argv");
  const std::string& program = options.argv[0];
  Pipe out, err, exec_err;
  if (::pipe2(out.fds, O_CLOEXEC) != 0 || ::pipe2(err.fds, O_CLOEXEC) != 0 ||
      ::pipe2(exec_err.fds, O_CLOEXEC) != 0) {
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (const auto& e : options.extra_env) env_storage.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwd = options.working_dir.string();

  const auto start = Clock::now();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out.fds[1], 1);
    ::dup2(err.fds[1], 2);
    int code = 0;
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      code = errno;
    } else {
      ::execve(argv[0], argv.data(), envp.data());
      code = errno;
    }
    ssize_t ignored = ::write(exec_err.fds[1], &code, sizeof(code));
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before any kill
  out.Close(1);
  err.Close(1);
  exec_err.Close(1);

  // The exec-error pipe closes on a successful exec (O_CLOEXEC) or carries errno.
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_err.fds[0], &exec_errno, sizeof(exec_errno));
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof(exec_errno))) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return Unavailable("cannot start '" + program + "': " + std::strerror(exec_errno));
  }

  ::fcntl(out.fds[0], F_SETFL, ::fcntl(out.fds[0], F_GETFL) | O_NONBLOCK);
  ::fcntl(err.fds[0], F_SETFL, ::fcntl(err.fds[0], F_GETFL) | O_NONBLOCK);

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

  while (out.fds[0] >= 0 || err.fds[0] >= 0 || !exited) {
    pollfd pfds[2];
    nfds_t n = 0;
    if (out.fds[0] >= 0) pfds[n++] = {out.fds[0], POLLIN, 0};
    if (err.fds[0] >= 0) pfds[n++] = {err.fds[0], POLLIN, 0};
    ::poll(n > 0 ? pfds : nullptr, n, 50);
    for (nfds_t i = 0; i < n; ++i) {
      if (pfds[i].revents == 0) continue;
      const bool is_out = pfds[i].fd == out.fds[0];
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
            out.Close(0);
            if (stop.ok()) {
              Status st = out_lines.Finish(emit_stdout);
              if (!st.ok()) stop_with(st);
            }
          } else {
            err.Close(0);
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
