#include "sync/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>

namespace da::sync {
namespace {
using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() { CloseAll(); }
  void CloseAll() {
    for (int& f : fds) {
      if (f >= 0) ::close(f);
      f = -1;
    }
  }
  void Close(int i) {
    if (fds[i] >= 0) ::close(fds[i]);
    fds[i] = -1;
  }
};
}  // namespace

std::string SelfExecutablePath() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "da";
  return std::string(buf, static_cast<size_t>(n));
}

Result<ChildResult> RunChild(const ChildOptions& options) {
  if (options.argv.empty()) return InvalidArgument("empty argv");
  Pipe in, out, err;
  if (::pipe2(in.fds, O_CLOEXEC) != 0 || ::pipe2(out.fds, O_CLOEXEC) != 0 ||
      ::pipe2(err.fds, O_CLOEXEC) != 0) {
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (const auto& e : options.extra_env) env_storage.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  auto start = Clock::now();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    if (options.kill_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    }
    ::dup2(in.fds[0], 0);
    ::dup2(out.fds[1], 1);
    ::dup2(err.fds[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    const char msg[] = "exec failed\n";
    ssize_t ignored = ::write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also in the parent, so the group exists before any kill
  in.Close(0);
  out.Close(1);
  err.Close(1);
  SetNonBlocking(in.fds[1]);
  SetNonBlocking(out.fds[0]);
  SetNonBlocking(err.fds[0]);

  ChildResult result;
  size_t stdin_off = 0;
  if (options.stdin_data.empty()) in.Close(1);
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
    if (in.fds[1] >= 0) pfds.push_back({in.fds[1], POLLOUT, 0});
    if (out.fds[0] >= 0) pfds.push_back({out.fds[0], POLLIN, 0});
    if (err.fds[0] >= 0) pfds.push_back({err.fds[0], POLLIN, 0});
    if (pfds.empty() && exited) break;
    if (!pfds.empty()) ::poll(pfds.data(), pfds.size(), 50);
    else std::this_thread::sleep_for(std::chrono::milliseconds(10));

    for (const auto& p : pfds) {
      if (p.revents == 0) continue;
      if (p.fd == in.fds[1]) {
        ssize_t n = ::write(p.fd, options.stdin_data.data() + stdin_off,
                            options.stdin_data.size() - stdin_off);
        if (n > 0) stdin_off += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN) || stdin_off >= options.stdin_data.size()) in.Close(1);
      } else {
        ssize_t n = ::read(p.fd, buf, sizeof(buf));
        if (n > 0) {
          if (p.fd == out.fds[0]) {
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
          if (p.fd == out.fds[0]) out.Close(0);
          else err.Close(0);
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
      if (out.fds[0] < 0 && err.fds[0] < 0) break;
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
