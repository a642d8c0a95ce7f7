#pragma once
/// The real `da` binary under test: `da serve` on a free port with its own data dir and an HTTP
/// client for it (ServerProcess), and CLI commands with their own config dir (RunDa).
/// Link the test with da_test_support_e2e (DA_BINARY) and make it depend on the `da` target.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace da::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// How a ServerProcess gets its admin credential (admin_token()).
enum class AdminToken {
  /// The usual: an admin token that lasts, kept beside the data dir
  /// (`<data_dir>-admin-token`) so a restarted server on the same data dir reuses it. On the
  /// first start it is a session from DA_BOOTSTRAP_ADMIN_EMAIL/_PASSWORD when `extra_env`
  /// sets the password, else a PAT made with the bootstrap token (which that revokes).
  kLasting,
  /// The bootstrap token itself, read from <data_dir>/state/bootstrap-token and left alone
  /// (tests of the bootstrap token).
  kBootstrap,
};

/// A running `da serve` process (its own process group; killed on destruction).
class ServerProcess {
 public:
  /// Starts `da serve --port 0 --data-dir <data_dir>` with `extra_env`; waits for the
  /// "listening on" line and gets the admin token (`admin`). Aborts the test on failure.
  /// DA_FILES_ROOTS defaults to the vega datasets and `data_dir`'s parent (the test's temp
  /// dir); `extra_env` may set another.
  ServerProcess(const std::filesystem::path& data_dir, std::vector<std::string> extra_env = {},
                int port = 0, AdminToken admin = AdminToken::kLasting);
  ~ServerProcess();
  /// SIGTERM and wait; returns the exit status.
  int Stop();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& admin_token() const { return token_; }
  /// Everything the server printed so far (stdout + stderr merged).
  std::string Output();

  /// HTTP with the admin token unless `token` is given ("" = no Authorization header).
  httplib::Result Get(const std::string& path, const std::string* token = nullptr,
                      httplib::Headers headers = {});
  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string* token = nullptr);
  httplib::Result Put(const std::string& path, const std::string& body,
                      const std::string* token = nullptr);
  httplib::Result Delete(const std::string& path, const std::string* token = nullptr);
  httplib::Result Patch(const std::string& path, const std::string& body,
                        const std::string* token = nullptr);
  /// Any method with explicit headers (no token added): cookie and CSRF tests.
  httplib::Result Send(const std::string& method, const std::string& path,
                       const std::string& body, const httplib::Headers& headers,
                       const std::string& content_type = "application/json");

  /// Triggers a sync of `ids` (empty = all) and waits until the lock is released.
  nlohmann::json SyncAndWait(const std::vector<std::string>& ids = {});
  /// Polls /api/sync/status until unlocked (fails the test after 300 s).
  void WaitUnlocked();

 private:
  httplib::Headers Auth(const std::string* token) const;
  /// AdminToken::kLasting: the saved token, or a new one saved to `saved`.
  std::string LastingAdminToken(const std::filesystem::path& data_dir,
                                const std::vector<std::string>& extra_env);
  int pid_ = -1;
  int port_ = 0;
  std::string token_;
  std::filesystem::path log_path_;
  std::unique_ptr<httplib::Client> client_;
};

/// Runs `da <args>` with HOME-independent config (DA_CONFIG_DIR=<config_dir>) plus `env`.
CommandResult RunDa(const std::vector<std::string>& args, const std::filesystem::path& config_dir,
                    const std::vector<std::string>& env = {}, int64_t timeout_ms = 300000);

}  // namespace da::testing
