#include "common/process_spawn.h"

#include <algorithm>
#include <string_view>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

extern char** environ;

namespace da {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    Close();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

void UniqueFd::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

/// Both ends of a pipe (O_CLOEXEC), owned.
struct PipePair {
  UniqueFd read, write;
  Status Open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
    read = UniqueFd(fds[0]);
    write = UniqueFd(fds[1]);
    return Status::Ok();
  }
};

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

/// The name of a "KEY=VALUE" entry.
std::string_view EnvName(std::string_view entry) {
  return entry.substr(0, std::min(entry.find('='), entry.size()));
}

bool NameAllowed(std::string_view name, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (!a.empty() && a.back() == '*') {
      if (name.starts_with(std::string_view(a).substr(0, a.size() - 1))) return true;
    } else if (name == a) {
      return true;
    }
  }
  return false;
}

}  // namespace

const std::vector<std::string>& BaseChildEnvironment() {
  static const std::vector<std::string> kBase = {
      "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR",
      "TEMP", "TMP", "TERM", "SSL_CERT_FILE", "SSL_CERT_DIR",
      // sanitizer settings of test and debug builds
      "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"};
  return kBase;
}

std::vector<std::string> ChildEnvironment(const SpawnRequest& request) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = EnvName(entry);
    if (request.inherit_only && !NameAllowed(name, *request.inherit_only)) continue;
    bool overridden = false;
    for (const auto& x : request.extra_env) {
      if (EnvName(x) == name) overridden = true;
    }
    if (!overridden) out.emplace_back(entry);
  }
  for (const auto& e : request.extra_env) out.push_back(e);
  return out;
}

Result<SpawnedProcess> SpawnProcessGroup(const SpawnRequest& request) {
  if (request.argv.empty()) return InvalidArgument("empty argv");
  const std::string& program = request.argv[0];
  PipePair in, out, err, exec_err;
  if (request.with_stdin) DA_RETURN_IF_ERROR(in.Open());
  DA_RETURN_IF_ERROR(out.Open());
  DA_RETURN_IF_ERROR(err.Open());
  DA_RETURN_IF_ERROR(exec_err.Open());

  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = ChildEnvironment(request);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwd = request.working_dir.string();

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    if (request.kill_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    }
    if (request.with_stdin) {
      ::dup2(in.read.get(), 0);
    } else {
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, 0);
    }
    ::dup2(out.write.get(), 1);
    ::dup2(err.write.get(), 2);
    int code = 0;
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      code = errno;
    } else {
      ::execve(argv[0], argv.data(), envp.data());
      code = errno;
    }
    ssize_t ignored = ::write(exec_err.write.get(), &code, sizeof(code));
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before any kill
  in.read.Close();
  out.write.Close();
  err.write.Close();
  exec_err.write.Close();

  // The exec-error pipe closes on a successful exec (O_CLOEXEC) or carries errno.
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_err.read.get(), &exec_errno, sizeof(exec_errno));
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof(exec_errno))) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return Unavailable("cannot start '" + program + "': " + std::strerror(exec_errno));
  }

  SpawnedProcess child;
  child.pid = pid;
  child.stdin_w = std::move(in.write);
  child.stdout_r = std::move(out.read);
  child.stderr_r = std::move(err.read);
  if (child.stdin_w.open()) SetNonBlocking(child.stdin_w.get());
  SetNonBlocking(child.stdout_r.get());
  SetNonBlocking(child.stderr_r.get());
  return child;
}

}  // namespace da
