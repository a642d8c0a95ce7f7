#pragma once
/// A Node.js emulator process (tests/emulators/*/server.js) started for a test.
///
///   auto emu = da::testing::NodeEmulator::Start(
///       DA_SOURCE_DIR "/tests/emulators/smtp/server.js", {dir}, {"SMTP_USER=u"});
///   ASSERT_OK(emu);
///   int port = (*emu)->ready()["port"];
///
/// The script must print one JSON object line on stdout when it is ready. Start waits for it
/// (bounded, default 60 s; no fixed sleeps); afterwards a thread drains stdout/stderr so the child
/// never blocks on a full pipe. Stop() (also the destructor) sends SIGTERM to the process group,
/// waits up to 5 s, then SIGKILLs. The npm packages must be installed (scripts/bootstrap.sh).
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/process_spawn.h"
#include "common/status.h"

namespace da::testing {

/// Absolute path of `program` found on PATH, or "" when absent.
inline std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::filesystem::path candidate = std::filesystem::path(dir) / program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

class NodeEmulator {
 public:
  /// Starts `node <script> <args...>` with `extra_env` ("K=V") and waits for its ready line.
  /// unavailable when node is missing, the script exits early or the line does not come in time
  /// (the message carries the child's stderr).
  static Result<std::unique_ptr<NodeEmulator>> Start(const std::string& script, const std::vector<std::string>& args,
                                                     const std::vector<std::string>& extra_env,
                                                     std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    std::string node = FindOnPath("node");
    if (node.empty()) return Unavailable("node is not on PATH");
    if (!std::filesystem::exists(std::filesystem::path(script).parent_path() / "node_modules")) {
      return Unavailable("npm packages of " + script + " are not installed; run scripts/bootstrap.sh");
    }
    SpawnRequest request;
    request.argv = {node, script};
    request.argv.insert(request.argv.end(), args.begin(), args.end());
    request.extra_env = extra_env;
    DA_ASSIGN_OR_RETURN(SpawnedProcess child, SpawnProcessGroup(request));
    std::unique_ptr<NodeEmulator> emu(new NodeEmulator(std::move(child)));
    DA_RETURN_IF_ERROR(emu->WaitReady(timeout));
    emu->drain_ = std::thread([e = emu.get()] { e->Drain(-1); });
    return emu;
  }

  ~NodeEmulator() { Stop(); }
  NodeEmulator(const NodeEmulator&) = delete;
  NodeEmulator& operator=(const NodeEmulator&) = delete;

  /// The ready line.
  const nlohmann::json& ready() const { return ready_; }
  /// What the child wrote to stderr so far.
  std::string stderr_text() {
    std::lock_guard lock(mu_);
    return err_;
  }

  void Stop() {
    if (child_.pid <= 0) return;
    ::kill(-child_.pid, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::waitpid(child_.pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(-child_.pid, SIGKILL);
        ::waitpid(child_.pid, &status, 0);
        break;
      }
      ::poll(nullptr, 0, 20);
    }
    ::kill(-child_.pid, SIGKILL);  // stragglers of the group, if any
    child_.pid = -1;
    if (drain_.joinable()) drain_.join();
  }

 private:
  explicit NodeEmulator(SpawnedProcess child) : child_(std::move(child)) {}

  // Reads both pipes until the deadline (ms, -1 = until both close); returns false at EOF of stdout.
  bool Drain(int timeout_ms) {
    pollfd fds[2] = {{child_.stdout_r.get(), POLLIN, 0}, {child_.stderr_r.get(), POLLIN, 0}};
    bool open[2] = {true, true};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (open[0] || open[1]) {
      int wait = 200;
      if (timeout_ms >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return true;
        wait = static_cast<int>(std::min<long>(left.count(), 200));
      }
      for (int i = 0; i < 2; ++i) fds[i].fd = open[i] ? (i == 0 ? child_.stdout_r.get() : child_.stderr_r.get()) : -1;
      if (::poll(fds, 2, wait) < 0) return true;
      for (int i = 0; i < 2; ++i) {
        if (!open[i] || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          if (n == 0 || (errno != EAGAIN && errno != EINTR)) open[i] = false;
          continue;
        }
        std::lock_guard lock(mu_);
        (i == 0 ? out_ : err_).append(buf, static_cast<size_t>(n));
      }
      if (timeout_ms >= 0) {
        std::lock_guard lock(mu_);
        if (out_.find('\n') != std::string::npos) return true;
      }
      if (timeout_ms >= 0 && !open[0]) return false;
    }
    return false;
  }

  Status WaitReady(std::chrono::milliseconds timeout) {
    Drain(static_cast<int>(timeout.count()));
    std::lock_guard lock(mu_);
    size_t nl = out_.find('\n');
    if (nl != std::string::npos) {
      ready_ = nlohmann::json::parse(out_.substr(0, nl), nullptr, false);
      if (ready_.is_object()) return Status::Ok();
    }
    return Unavailable("emulator did not become ready; stdout: " + out_.substr(0, 500) + " stderr: " + err_.substr(0, 2000));
  }

  SpawnedProcess child_;
  std::thread drain_;
  std::mutex mu_;
  std::string out_, err_;
  nlohmann::json ready_;
};

}  // namespace da::testing
