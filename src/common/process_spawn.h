#pragma once
/// Starting a child program in its own process group with its stdio on pipes: the one spawn
/// step behind sync/child_process (the `da extract` child) and kit/line_process (Singer taps,
/// health checks). Their read loops differ; how a child is started and killed does not.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace da {

/// A file descriptor owned by this object: closed by Close() or the destructor. Movable.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Close(); }

  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close();

 private:
  int fd_ = -1;
};

struct SpawnRequest {
  std::vector<std::string> argv;         ///< argv[0] is the program path (execve: no PATH, no shell)
  /// "KEY=VALUE" added to the inherited environment; wins over an inherited variable of the
  /// same name.
  std::vector<std::string> extra_env;
  /// When set, the child inherits only the parent's variables named here (exact names; a name
  /// ending in `*` is a prefix, e.g. `LC_*`) instead of the whole environment, so the server's
  /// secrets (tokens, client secrets, mail passwords) never reach a connector program.
  std::optional<std::vector<std::string>> inherit_only;
  std::filesystem::path working_dir;     ///< "" = the parent's
  bool with_stdin = false;               ///< a stdin pipe; otherwise stdin is /dev/null
  /// SIGKILL the child when the thread that spawned it dies (Linux PR_SET_PDEATHSIG).
  bool kill_with_parent = true;
};

/// The parent's side of a started child. The pipe ends are non-blocking.
struct SpawnedProcess {
  pid_t pid = -1;          ///< also the process group id: kill(-pid, sig) reaches the group
  UniqueFd stdin_w;        ///< open only with SpawnRequest::with_stdin
  UniqueFd stdout_r;
  UniqueFd stderr_r;
};

/// Variables any child program may inherit: PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE,
/// LC_*, TZ, TMPDIR, TEMP, TMP, TERM, SSL_CERT_FILE, SSL_CERT_DIR and the sanitizer options.
/// Never a credential; callers add the names a particular child needs.
const std::vector<std::string>& BaseChildEnvironment();

/// The environment `request` gives its child ("KEY=VALUE" entries): the parent's, filtered by
/// `inherit_only` when set, with `extra_env` added over it.
std::vector<std::string> ChildEnvironment(const SpawnRequest& request);

/// Forks and execs `request.argv` as the leader of a new process group. Returns once the exec
/// succeeded. Errors: invalid_argument for an empty argv; unavailable "cannot start '<program>':
/// <reason>" when the program cannot be executed or `working_dir` entered (the failed child is
/// reaped); internal when pipes or fork fail.
Result<SpawnedProcess> SpawnProcessGroup(const SpawnRequest& request);

}  // namespace da
