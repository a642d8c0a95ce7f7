#pragma once
/// The Keboola Storage API emulator (tests/emulators/keboola) as a child process of a test.
/// The test defines KEBOOLA_EMULATOR (the binary) and depends on the keboola_emulator target.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace da::testing {

/// A running keboola_emulator (its own process group; killed on destruction). `extra` options
/// follow the defaults (2 polls per job, 200 kB slices) and override them, e.g.
/// {"--project", "company"}.
class KeboolaEmulatorProcess {
 public:
  explicit KeboolaEmulatorProcess(const std::filesystem::path& work, std::vector<std::string> extra = {}) {
    int out[2];
    if (pipe(out) != 0) return;
    std::vector<std::string> args = {KEBOOLA_EMULATOR, "--data-dir", DA_DATASETS_DIR,
                                     "--work-dir", work.string(), "--polls", "2",
                                     "--slice-bytes", "200000"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    // The first stdout line reports port and CA (bounded wait: loading flights-3m takes a while).
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 500) <= 0) continue;
      char buf[512];
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    auto j = nlohmann::json::parse(line.substr(0, line.find('\n')), nullptr, false);
    if (j.is_object()) {
      port_ = j["port"].get<int>();
      ca_file_ = j["ca_file"].get<std::string>();
      token_ = j["token"].get<std::string>();
    }
  }
  ~KeboolaEmulatorProcess() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return port_ > 0; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::string& token() const { return token_; }
  const std::string& ca_file() const { return ca_file_; }
  /// Env for da: stack URL (with a trailing slash, which must be tolerated), token, CA.
  std::vector<std::string> Env(const std::string& token = "") const {
    return {"KEBOOLA_STACK_URL=" + url() + "/",
            "KEBOOLA_STORAGE_TOKEN=" + (token.empty() ? token_ : token),
            "DA_CA_FILE=" + ca_file_};
  }
  /// A control call (no token): POST when body is given.
  nlohmann::json Control(const std::string& path, const std::string* body = nullptr) const {
    httplib::SSLClient c("127.0.0.1", port_);
    c.set_ca_cert_path(ca_file_.c_str());
    c.enable_server_certificate_verification(true);
    auto r = body ? c.Post(path.c_str(), *body, "application/json") : c.Get(path.c_str());
    if (!r) return nlohmann::json();
    return nlohmann::json::parse(r->body, nullptr, false);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string ca_file_, token_;
};

}  // namespace da::testing
