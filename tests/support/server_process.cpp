#include "support/server_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <regex>
#include <thread>

#include "support/files.h"
#include "sync/child_process.h"

namespace da::testing {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

ServerProcess::ServerProcess(const std::filesystem::path& data_dir,
                             std::vector<std::string> extra_env, int port, AdminToken admin) {
  log_path_ = data_dir.parent_path() / (data_dir.filename().string() + "-server.log");
  std::filesystem::create_directories(data_dir);
  std::vector<std::string> args = {DA_BINARY, "serve", "--host", "127.0.0.1", "--port", std::to_string(port),
                                   "--data-dir", data_dir.string()};
  // Truncated here, before the fork: a restarted server on the same data dir must never be
  // matched against the previous server's "listening on" line.
  int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // Files tables may read the vega datasets and the test's own directory (the data dir's
    // parent); a test that needs other roots passes DA_FILES_ROOTS in extra_env.
    const std::string roots =
        std::string(DA_DATASETS_DIR) + ":" + data_dir.parent_path().string();
    ::setenv("DA_FILES_ROOTS", roots.c_str(), 1);
    for (const auto& e : extra_env) ::putenv(const_cast<char*>(strdup(e.c_str())));
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
  if (fd >= 0) ::close(fd);
  std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    std::smatch m;
    std::string log = ReadBytes(log_path_);
    if (std::regex_search(log, m, listening)) {
      port_ = std::stoi(m[1]);
      break;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "da serve exited early:\n" << log;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (port_ == 0) {
    ADD_FAILURE() << "da serve did not start:\n" << ReadBytes(log_path_);
    return;
  }
  client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  client_->set_read_timeout(120, 0);
  if (admin == AdminToken::kBootstrap) {
    token_ = ReadBytes(data_dir / "state" / "bootstrap-token");
    while (!token_.empty() && (token_.back() == '\n')) token_.pop_back();
  } else {
    token_ = LastingAdminToken(data_dir, extra_env);
  }
}

std::string ServerProcess::LastingAdminToken(const std::filesystem::path& data_dir,
                                             const std::vector<std::string>& extra_env) {
  const std::filesystem::path saved =
      data_dir.parent_path() / (data_dir.filename().string() + "-admin-token");
  std::string token = ReadBytes(saved);
  if (!token.empty()) {  // a restart on the same data dir (a fresh data dir at that path: not)
    auto me = client_->Get("/api/me", {{"Authorization", "Bearer " + token}});
    if (me && me->status == 200) return token;
  }
  std::string email = "admin@localhost", password;
  for (const auto& e : extra_env) {
    if (e.rfind("DA_BOOTSTRAP_ADMIN_EMAIL=", 0) == 0) email = e.substr(e.find('=') + 1);
    if (e.rfind("DA_BOOTSTRAP_ADMIN_PASSWORD=", 0) == 0) password = e.substr(e.find('=') + 1);
  }
  if (!password.empty()) {  // the admin has a password, so no bootstrap token: sign in
    auto r = client_->Post("/auth/token",
                           nlohmann::json{{"email", email}, {"password", password}}.dump(),
                           "application/json");
    if (!r || r->status != 200) {
      ADD_FAILURE() << "admin sign-in failed: " << (r ? r->body : "no answer");
      return "";
    }
    token = nlohmann::json::parse(r->body).value("access_token", "");
  } else {
    std::string bootstrap = ReadBytes(data_dir / "state" / "bootstrap-token");
    while (!bootstrap.empty() && bootstrap.back() == '\n') bootstrap.pop_back();
    auto r = client_->Post("/auth/tokens", {{"Authorization", "Bearer " + bootstrap}},
                           R"({"name":"test admin"})", "application/json");
    if (!r || r->status != 201) {
      ADD_FAILURE() << "exchanging the bootstrap token failed: " << (r ? r->body : "no answer");
      return "";
    }
    token = nlohmann::json::parse(r->body).value("token", "");
  }
  std::ofstream(saved) << token;
  return token;
}

ServerProcess::~ServerProcess() { Stop(); }

int ServerProcess::Stop() {
  if (pid_ <= 0) return 0;
  ::kill(-pid_, SIGTERM);
  int status = 0;
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid_, SIGKILL);  // any extraction child left in the group
  pid_ = -1;
  return status;
}

std::string ServerProcess::Output() { return ReadBytes(log_path_); }

httplib::Headers ServerProcess::Auth(const std::string* token) const {
  const std::string& t = token ? *token : token_;
  if (t.empty()) return {};
  return {{"Authorization", "Bearer " + t}};
}

httplib::Result ServerProcess::Get(const std::string& path, const std::string* token,
                                   httplib::Headers headers) {
  auto h = Auth(token);
  h.insert(headers.begin(), headers.end());
  return client_->Get(path.c_str(), h);
}
httplib::Result ServerProcess::Post(const std::string& path, const std::string& body,
                                    const std::string* token) {
  return client_->Post(path.c_str(), Auth(token), body, "application/json");
}
httplib::Result ServerProcess::Put(const std::string& path, const std::string& body,
                                   const std::string* token) {
  return client_->Put(path.c_str(), Auth(token), body, "application/json");
}
httplib::Result ServerProcess::Delete(const std::string& path, const std::string* token) {
  return client_->Delete(path.c_str(), Auth(token));
}

httplib::Result ServerProcess::Patch(const std::string& path, const std::string& body,
                                    const std::string* token) {
  return client_->Patch(path.c_str(), Auth(token), body, "application/json");
}
httplib::Result ServerProcess::Send(const std::string& method, const std::string& path,
                                   const std::string& body, const httplib::Headers& headers,
                                   const std::string& content_type) {
  if (method == "GET") return client_->Get(path.c_str(), headers);
  if (method == "DELETE") return client_->Delete(path.c_str(), headers, body, content_type);
  if (method == "PATCH") return client_->Patch(path.c_str(), headers, body, content_type);
  if (method == "PUT") return client_->Put(path.c_str(), headers, body, content_type);
  return client_->Post(path.c_str(), headers, body, content_type);
}

void ServerProcess::WaitUnlocked() {
  auto deadline = Clock::now() + std::chrono::seconds(300);
  while (Clock::now() < deadline) {
    auto r = Get("/api/sync/status");
    if (r && r->status == 200 && !nlohmann::json::parse(r->body)["locked"].get<bool>()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ADD_FAILURE() << "sync did not finish";
}

nlohmann::json ServerProcess::SyncAndWait(const std::vector<std::string>& ids) {
  nlohmann::json body = ids.empty() ? nlohmann::json(nullptr) : nlohmann::json(ids);
  auto r = Post("/api/sync/trigger", ids.empty() ? "" : body.dump());
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, 202) << r->body;
  WaitUnlocked();
  auto last = Get("/api/sync/runs/latest");
  return last ? nlohmann::json::parse(last->body) : nlohmann::json{};
}

CommandResult RunDa(const std::vector<std::string>& args, const std::filesystem::path& config_dir,
                    const std::vector<std::string>& env, int64_t timeout_ms) {
  sync::ChildOptions o;
  o.argv = {DA_BINARY};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.extra_env = env;
  o.extra_env.push_back("DA_CONFIG_DIR=" + config_dir.string());
  o.timeout_ms = timeout_ms;
  std::string err;
  o.on_stderr_line = [&err](const std::string& l) { err += l + "\n"; };
  auto r = sync::RunChild(o);
  CommandResult out;
  if (!r.ok()) {
    out.err = r.status().ToString();
    return out;
  }
  out.exit_code = r->exit_code;
  out.out = r->stdout_data;
  out.err = err;
  return out;
}

}  // namespace da::testing
