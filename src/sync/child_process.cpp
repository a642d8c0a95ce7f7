#include "sync/child_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>

#include "common/process_spawn.h"

namespace da::sync {
namespace {
using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

std::string SelfExecutablePath() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "da";
  return std::string(buf, static_cast<size_t>(n));
}

Result<ChildResult> RunChild(const ChildOptions& options) {
  auto start = Clock::now();
  SpawnRequest request;
  request.argv = options.argv;
  request.extra_env = options.extra_env;
  request.inherit_only = options.inherit_only;
  request.with_stdin = true;
  request.kill_with_parent = options.kill_with_parent;
  auto spawned = SpawnProcessGroup(request);
  if (!spawned.ok()) {
    // A program that cannot be executed is a child that failed (exit 127, as a shell says),
    // not an error of RunChild; pipes or fork failing are.
    if (spawned.status().code() != StatusCode::kUnavailable) return spawned.status();
    ChildResult failed;
    failed.exit_code = 127;
    failed.stderr_tail = spawned.status().message();
    if (options.on_stderr_line) options.on_stderr_line(failed.stderr_tail);
    failed.duration_ms = MsSince(start);
    return failed;
  }
  SpawnedProcess& child = *spawned;
  const pid_t pid = child.pid;
  UniqueFd& in = child.stdin_w;
  UniqueFd& out = child.stdout_r;
  UniqueFd& err = child.stderr_r;

  ChildResult result;
  size_t stdin_off = 0;
  if (options.stdin_data.empty()) in.Close();
  std::string err_line;
  std::string err_all;
  bool term_sent = false;
  Clock::time_point term_at{};
  int status = 0;
  bool exited = false;
  char buf[65536];

  auto kill_group = [&](int sig) { ::kill(-pid, sig); };

  while (true) {
    std::vector<pollfd> pfds;
    if (in.open()) pfds.push_back({in.get(), POLLOUT, 0});
    if (out.open()) pfds.push_back({out.get(), POLLIN, 0});
    if (err.open()) pfds.push_back({err.get(), POLLIN, 0});
    if (pfds.empty() && exited) break;
    if (!pfds.empty()) ::poll(pfds.data(), pfds.size(), 50);
    else std::this_thread::sleep_for(std::chrono::milliseconds(10));

    for (const auto& p : pfds) {
      if (p.revents == 0) continue;
      if (p.fd == in.get()) {
        ssize_t n = ::write(p.fd, options.stdin_data.data() + stdin_off,
                            options.stdin_data.size() - stdin_off);
        if (n > 0) stdin_off += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN) || stdin_off >= options.stdin_data.size()) in.Close();
      } else {
        ssize_t n = ::read(p.fd, buf, sizeof(buf));
        if (n > 0) {
          if (p.fd == out.get()) {
            result.stdout_data.append(buf, static_cast<size_t>(n));
          } else {
            err_all.append(buf, static_cast<size_t>(n));
            if (err_all.size() > 16384) err_all.erase(0, err_all.size() - 8192);
            err_line.append(buf, static_cast<size_t>(n));
            size_t nl;
            while ((nl = err_line.find('\n')) != std::string::npos) {
              if (options.on_stderr_line) options.on_stderr_line(err_line.substr(0, nl));
              err_line.erase(0, nl + 1);
            }
          }
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          if (p.fd == out.get()) out.Close();
          else err.Close();
        }
      }
    }

    if (!exited) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        // The group may still hold the pipes open (grandchildren); make sure it is gone.
        kill_group(SIGKILL);
      }
    }
    bool want_kill = false;
    if (!term_sent && MsSince(start) > options.timeout_ms) {
      result.timed_out = true;
      want_kill = true;
    }
    if (!term_sent && options.cancel != nullptr && options.cancel->load()) {
      result.cancelled = true;
      want_kill = true;
    }
    if (want_kill) {
      kill_group(SIGTERM);
      term_sent = true;
      term_at = Clock::now();
    }
    if (term_sent && MsSince(term_at) > options.grace_ms) kill_group(SIGKILL);
    if (exited && (term_sent || pfds.empty())) {
      // Drain what is left without blocking for long.
      if (!out.open() && !err.open()) break;
      if (MsSince(start) > options.timeout_ms + options.grace_ms + 2000) break;
    }
  }
  if (!err_line.empty() && options.on_stderr_line) options.on_stderr_line(err_line);
  result.stderr_tail = err_all.size() > 8192 ? err_all.substr(err_all.size() - 8192) : err_all;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  result.duration_ms = MsSince(start);
  return result;
}

}  // namespace da::sync
