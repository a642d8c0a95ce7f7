// da login | logout | whoami | tokens list|create|revoke — signing the CLI in and managing
// personal access tokens over the server's /auth API.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>

#include "auth/pkce.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "client/client_config.h"
#include "client/http_client.h"
#include "common/hash.h"
#include "common/status.h"

namespace da::cli {
namespace {

struct LoginFlags {
  std::string server;
  std::string token;
  bool browser = false;
  int timeout_sec = 300;
};

std::string TrimLine(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// Tries to open `url` in the desktop browser (xdg-open / open), detached; failures ignored.
void TryOpenBrowser(const std::string& url) {
  if (std::getenv("DA_NO_BROWSER") != nullptr) return;
  pid_t pid = ::fork();
  if (pid != 0) {
    if (pid > 0) {
      // Reaped by a detached thread so the opener never blocks the login.
      std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();
    }
    return;
  }
  int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
  }
#ifdef __APPLE__
  ::execlp("open", "open", url.c_str(), static_cast<char*>(nullptr));
#else
  ::execlp("xdg-open", "xdg-open", url.c_str(), static_cast<char*>(nullptr));
#endif
  ::_exit(127);
}

/// The browser flow (service/cli_login.h on the server): a loopback listener on 127.0.0.1:0
/// receives a one-time code once the signed-in browser approves
/// /auth/cli/authorize?port=P&state=S&code_challenge=C; the code, the state and the PKCE
/// verifier that only this process knows are then traded for a token by a POST.
Result<std::string> TokenFromBrowser(const std::string& server, int timeout_sec) {
  httplib::Server listener;
  const std::string state = RandomHex(16);
  const std::string verifier = auth::NewPkceVerifier();
  std::mutex mu;
  std::condition_variable cv;
  std::string code;
  bool done = false;
  listener.Get("/callback", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("state") != state || req.get_param_value("code").empty()) {
      res.status = 400;
      res.set_content("This sign-in link does not belong to the waiting `da login`.\n", "text/plain");
      return;
    }
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_content(
        "<!doctype html><meta charset=\"utf-8\"><title>da CLI approved</title>"
        "<p>Approved. The da CLI finishes signing in; you can close this tab.</p>",
        "text/html; charset=utf-8");
    std::lock_guard<std::mutex> lock(mu);
    if (done) return;
    code = req.get_param_value("code");
    done = true;
    cv.notify_all();
  });
  int port = listener.bind_to_any_port("127.0.0.1");
  if (port <= 0) return Unavailable("cannot listen on 127.0.0.1 for the browser callback");
  std::thread serving([&] { listener.listen_after_bind(); });
  const std::string url = server + "/auth/cli/authorize?port=" + std::to_string(port) +
                          "&state=" + state + "&code_challenge=" + auth::PkceS256(verifier) +
                          "&code_challenge_method=S256";
  std::fprintf(stderr, "Open this URL in a browser where you are signed in to approve:\n  %s\n",
               url.c_str());
  std::fflush(stderr);
  TryOpenBrowser(url);
  std::unique_lock<std::mutex> lock(mu);
  bool got = cv.wait_for(lock, std::chrono::seconds(timeout_sec), [&] { return done; });
  lock.unlock();
  // Give the callback's response a moment to leave before the listener stops.
  if (got) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  listener.stop();
  serving.join();
  if (!got) {
    return DeadlineExceeded("no approval from the browser within " + std::to_string(timeout_sec) +
                            " s (use `da login --token` instead)");
  }
  client::HttpClient http({server, ""});
  DA_ASSIGN_OR_RETURN(nlohmann::json answer,
                      http.PostJson("/auth/cli/token", {{"code", code},
                                                        {"state", state},
                                                        {"code_verifier", verifier}}));
  std::string token = answer.is_object() ? Str(answer, "token") : std::string();
  if (token.empty()) return Unavailable("the server's answer to /auth/cli/token has no token");
  return token;
}

Status RunLogin(const LoginFlags& flags) {
  DA_ASSIGN_OR_RETURN(client::ClientConfig current, client::LoadClientConfig());
  client::ClientConfig config;
  config.server = flags.server.empty() ? current.server : flags.server;
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  config.token = flags.token;
  if (config.token.empty() && !flags.browser && !::isatty(STDIN_FILENO)) {
    // Keeps the token out of shell history: `da login --server URL < token.txt`.
    std::getline(std::cin, config.token);
    config.token = TrimLine(config.token);
    if (config.token.empty()) return InvalidArgument("no token on stdin (use --token, or --browser)");
  }
  if (config.token.empty()) {
    DA_ASSIGN_OR_RETURN(config.token, TokenFromBrowser(config.server, flags.timeout_sec));
  }
  client::HttpClient http({config.server, config.token});
  auto me = http.GetJson("/api/me");
  if (!me.ok()) {
    if (me.status().code() == StatusCode::kUnauthenticated) {
      return Unauthenticated("token rejected by server " + config.server);
    }
    return me.status();
  }
  auto tables = http.GetJson("/api/catalog/tables");
  size_t n_tables = tables.ok() && tables->contains("tables") && (*tables)["tables"].is_array()
                        ? (*tables)["tables"].size()
                        : 0;
  DA_ASSIGN_OR_RETURN(auto path, client::SaveClientConfig(config));
  std::printf("Logged in to %s as %s (%zu tables visible); config saved to %s\n",
              config.server.c_str(), Str(*me, "email").c_str(), n_tables, path.c_str());
  if (std::getenv("DA_SERVER") != nullptr || std::getenv("DA_TOKEN") != nullptr) {
    std::fprintf(stderr, "note: DA_SERVER / DA_TOKEN are set and override the saved config\n");
  }
  return Status::Ok();
}

/// Revokes the saved token on the server when it is one of the user's PATs (best effort),
/// then forgets it locally.
Status RunLogout() {
  DA_ASSIGN_OR_RETURN(auto path, client::ClientConfigPath());
  DA_ASSIGN_OR_RETURN(client::ClientConfig config, client::LoadClientConfigFile(path));
  if (config.token.empty()) {
    std::printf("Not logged in\n");
    return Status::Ok();
  }
  client::HttpClient http({config.server, config.token});
  bool revoked = false;
  auto tokens = http.GetJson("/auth/tokens");
  if (tokens.ok() && config.token.size() > 11) {
    const std::string prefix = config.token.substr(3, 8);
    for (const auto& t : (*tokens)["tokens"]) {
      if (Str(t, "prefix") == prefix && !t.value("revoked", false)) {
        revoked = CallJson(http, "DELETE", "/auth/tokens/" + Str(t, "id")).ok();
        break;
      }
    }
  }
  config.token.clear();
  DA_RETURN_IF_ERROR(client::SaveClientConfig(config).status());
  std::printf("Logged out of %s%s\n", config.server.c_str(),
              revoked ? " (token revoked on the server)" : "");
  return Status::Ok();
}

Status RunWhoami(bool json) {
  DA_ASSIGN_OR_RETURN(client::HttpClient http, MakeClient());
  auto me = http.GetJson("/api/me");
  if (!me.ok()) return WithLoginHint(me.status());
  if (json) {
    std::printf("%s\n", me->dump(2).c_str());
    return Status::Ok();
  }
  std::string groups;
  for (const auto& g : (*me)["groups"]) groups += (groups.empty() ? "" : ", ") + Str(g, "name");
  std::printf("%s%s on %s\n", Str(*me, "email").c_str(),
              me->value("is_admin", false) ? " (admin)" : "", http.base_url().c_str());
  std::printf("groups: %s\n", groups.c_str());
  return Status::Ok();
}

// ---------------------------------------------------------------------------- tokens

struct TokenCreateFlags {
  std::string name;
  int64_t expires_in_days = 0;
  std::string email;
};

Status RunTokensList(bool json) {
  DA_ASSIGN_OR_RETURN(client::HttpClient http, MakeClient());
  auto tokens = http.GetJson("/auth/tokens");
  if (!tokens.ok()) return WithLoginHint(tokens.status());
  if (json) {
    std::printf("%s\n", tokens->dump(2).c_str());
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : (*tokens)["tokens"]) {
    rows.push_back({Str(t, "id"), Str(t, "name"), "da_" + Str(t, "prefix") + "…",
                    Str(t, "expires_at").empty() ? "never" : Str(t, "expires_at"),
                    Str(t, "last_used_at").empty() ? "never" : Str(t, "last_used_at"),
                    Str(t, "last_used_from"), t.value("revoked", false) ? "revoked" : "active"});
  }
  PrintColumns({"ID", "NAME", "PREFIX", "EXPIRES", "LAST USED", "FROM", "STATUS"}, rows);
  return Status::Ok();
}

/// A PAT cannot mint PATs: with --email, signs in with the password (stdin, or DA_PASSWORD)
/// and creates the token with that session.
Status RunTokensCreate(const TokenCreateFlags& flags) {
  DA_ASSIGN_OR_RETURN(client::ClientConfig config, client::LoadClientConfig());
  nlohmann::json body = {{"name", flags.name}};
  if (flags.expires_in_days > 0) body["expires_in_days"] = flags.expires_in_days;
  std::string credential = config.token;
  if (!flags.email.empty()) {
    std::string password;
    if (const char* env = std::getenv("DA_PASSWORD")) password = env;
    if (password.empty()) {
      if (::isatty(STDIN_FILENO)) std::fputs("Password: ", stderr);
      std::getline(std::cin, password);
      password = TrimLine(password);
    }
    client::HttpClient anon({config.server, ""});
    auto session = anon.PostJson("/auth/token", {{"email", flags.email}, {"password", password}});
    if (!session.ok()) return session.status().WithContext("signing in as " + flags.email);
    credential = Str(*session, "access_token");
  }
  client::HttpClient http({config.server, credential});
  auto t = http.PostJson("/auth/tokens", body);
  if (!t.ok()) {
    if (t.status().code() == StatusCode::kPermissionDenied && flags.email.empty()) {
      return PermissionDenied(t.status().message() + "; use --email to sign in with your password");
    }
    return WithLoginHint(t.status());
  }
  std::fprintf(stderr, "Token %s created (id %s, expires %s). It is shown only once:\n",
               Str(*t, "name").c_str(), Str(*t, "id").c_str(),
               Str(*t, "expires_at").empty() ? "never" : Str(*t, "expires_at").c_str());
  std::printf("%s\n", Str(*t, "token").c_str());
  return Status::Ok();
}

Status RunTokensRevoke(const std::string& id) {
  DA_ASSIGN_OR_RETURN(client::HttpClient http, MakeClient());
  auto r = CallJson(http, "DELETE", "/auth/tokens/" + id);
  if (!r.ok()) return WithLoginHint(r.status());
  std::printf("Revoked token %s\n", id.c_str());
  return Status::Ok();
}

}  // namespace

void AddAuthCommands(CLI::App& app, int* exit_code) {
  {
    auto flags = std::make_shared<LoginFlags>();
    auto* cmd = app.add_subcommand(
        "login", "Sign the CLI in: approve in a browser, or save a given personal access token");
    cmd->add_option("--server", flags->server, "Server URL (default: saved config, else http://127.0.0.1:8000)");
    cmd->add_option("--token", flags->token,
                    "Personal access token (default: stdin when it is not a terminal, else the browser)");
    cmd->add_flag("--browser", flags->browser, "Approve in a browser even when stdin is not a terminal");
    cmd->add_option("--timeout", flags->timeout_sec, "Seconds to wait for the browser approval (default 300)")
        ->check(CLI::Range(1, 3600));
    cmd->callback([flags, exit_code]() {
      Status st = RunLogin(*flags);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto* cmd = app.add_subcommand("logout", "Revoke the saved token (when it is a PAT) and forget it");
    cmd->callback([exit_code]() {
      Status st = RunLogout();
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto json = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("whoami", "Show the signed-in user and their groups");
    cmd->add_flag("--json", *json, "Print GET /api/me as JSON");
    cmd->callback([json, exit_code]() {
      Status st = RunWhoami(*json);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  auto* tokens = app.add_subcommand("tokens", "Personal access tokens: list | create | revoke");
  tokens->require_subcommand(1);
  {
    auto json = std::make_shared<bool>(false);
    auto* cmd = tokens->add_subcommand("list", "List your personal access tokens");
    cmd->add_flag("--json", *json, "Print as JSON");
    cmd->callback([json, exit_code]() {
      Status st = RunTokensList(*json);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto flags = std::make_shared<TokenCreateFlags>();
    auto* cmd = tokens->add_subcommand("create", "Create a personal access token (printed once on stdout)");
    cmd->add_option("name", flags->name, "Token name")->required();
    cmd->add_option("--expires-in-days", flags->expires_in_days, "Expire after this many days (default never)")
        ->check(CLI::Range(int64_t{1}, int64_t{3650}));
    cmd->add_option("--email", flags->email,
                    "Sign in with this email and a password (stdin or DA_PASSWORD) first; "
                    "needed when the saved credential is itself a PAT");
    cmd->callback([flags, exit_code]() {
      Status st = RunTokensCreate(*flags);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* cmd = tokens->add_subcommand("revoke", "Revoke one of your tokens by id");
    cmd->add_option("id", *id, "Token id (see `da tokens list`)")->required();
    cmd->callback([id, exit_code]() {
      Status st = RunTokensRevoke(*id);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
}

}  // namespace da::cli
