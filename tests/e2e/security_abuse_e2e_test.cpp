// Issue 13, items 7 and 15: the sign-in's rate limits and the engine under abuse. Each test names
// the attack it blocks, through the real server (and the OIDC emulator for SSO).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/free_port.h"
#include "support/oidc_test_provider.h"
#include "support/server_process.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
using nlohmann::json;

constexpr char kAdminEmail[] = "root@example.test";
constexpr char kAdminPassword[] = "correct horse battery staple";

json Body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

/// A password sign-in (POST /auth/token) as the client `forwarded_for` names ("" = no header).
int SignIn(ServerProcess& server, const std::string& email, const std::string& password,
           const std::string& forwarded_for) {
  httplib::Headers headers;
  if (!forwarded_for.empty()) headers.emplace("X-Forwarded-For", forwarded_for);
  auto r = server.Send("POST", "/auth/token", json{{"email", email}, {"password", password}}.dump(), headers);
  return r ? r->status : -1;
}

/// The `ip` of the newest audit entry with `action`.
std::string LastAuditIp(ServerProcess& server, const std::string& action) {
  json entries = Body(server.Get("/api/admin/audit?action=" + action))["entries"];
  if (!entries.is_array() || entries.empty()) return "";
  return entries[0]["params"].value("ip", "");
}

/// A raw TCP connection to the server on loopback, with a receive timeout.
class RawConnection {
 public:
  RawConnection(int port, int timeout_sec = 15) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{timeout_sec, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  /// Reads until the peer closes, the timeout, or `enough` bytes containing "\r\n\r\n" plus a
  /// complete small body: what arrived.
  std::string ReadAnswer() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      size_t head_end = out.find("\r\n\r\n");
      size_t cl = out.find("Content-Length: ");
      if (head_end != std::string::npos && cl != std::string::npos && cl < head_end) {
        size_t length = std::stoul(out.substr(cl + 16));
        if (out.size() >= head_end + 4 + length) break;
      }
    }
    return out;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// Item 7, spoofed client address: without DA_TRUSTED_PROXIES a client that sends
// `X-Forwarded-For: <another address>` with each attempt stays in its own (the socket's) bucket
// and is recorded under its real address; with the proxy trusted, the header names the client.
TEST(SecurityAbuseE2E, SpoofedForwardedForIsIgnoredUnlessThePeerIsATrustedProxy) {
  TempDir tmp;
  {
    ServerProcess server(tmp.path() / "untrusted", {"DA_AUTH_RATE_LIMIT=3/600"});
    EXPECT_EQ(SignIn(server, "a@example.test", "wrong password!", "198.51.100.1"), 401);
    EXPECT_EQ(SignIn(server, "b@example.test", "wrong password!", "198.51.100.2"), 401);
    EXPECT_EQ(SignIn(server, "c@example.test", "wrong password!", "198.51.100.3"), 401);
    // Many accounts from one client: the fourth attempt is limited, whatever the header says.
    EXPECT_EQ(SignIn(server, "d@example.test", "wrong password!", "198.51.100.4"), 429);
    EXPECT_EQ(LastAuditIp(server, "sign_in_failed"), "127.0.0.1");
    EXPECT_EQ(LastAuditIp(server, "sign_in_rate_limited"), "127.0.0.1");
  }
  {
    ServerProcess server(tmp.path() / "trusted",
                         {"DA_AUTH_RATE_LIMIT=3/600", "DA_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1/32"});
    for (int i = 0; i < 3; ++i) EXPECT_EQ(SignIn(server, "a@example.test", "wrong password!", "198.51.100.1"), 401);
    EXPECT_EQ(SignIn(server, "a@example.test", "wrong password!", "198.51.100.1"), 429);
    // A spoofed entry prepended by the client does not move it: the proxy's (right-most) one counts.
    EXPECT_EQ(SignIn(server, "a@example.test", "wrong password!", "203.0.113.9, 198.51.100.1"), 429);
    EXPECT_EQ(LastAuditIp(server, "sign_in_rate_limited"), "198.51.100.1");
    // Another client behind the same proxy has its own bucket (an inner proxy hop is skipped).
    EXPECT_EQ(SignIn(server, "b@example.test", "wrong password!", "198.51.100.2, 10.1.2.3"), 401);
    EXPECT_EQ(LastAuditIp(server, "sign_in_failed"), "198.51.100.2");
  }
}

// Item 7, one flooded account locks out everyone: failures against one account delay that
// account's password sign-in (from any client, by design: docs/security.md), while another
// account signs in at once from another client.
TEST(SecurityAbuseE2E, FloodingOneAccountDoesNotLockOutOthers) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_AUTH_RATE_LIMIT=50/600", "DA_AUTH_ACCOUNT_RATE_LIMIT=5/600",
                        "DA_TRUSTED_PROXIES=127.0.0.1/32", std::string("DA_BOOTSTRAP_ADMIN_EMAIL=") + kAdminEmail,
                        std::string("DA_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword});
  auto bob = server.Post("/api/users", json{{"email", "bob@example.test"}, {"name", "Bob"}}.dump());
  ASSERT_EQ(bob->status, 201) << bob->body;
  const std::string bob_id = Body(bob)["id"];
  ASSERT_EQ(server.Post("/api/users/" + bob_id + "/set-password", json{{"password", kAdminPassword}}.dump())->status,
            200);
  // The attacker (one client) floods bob's account with wrong passwords.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(SignIn(server, "bob@example.test", "guess " + std::to_string(i) + "!!!", "198.51.100.66"), 401);
  EXPECT_EQ(SignIn(server, "bob@example.test", "guess again!!!", "198.51.100.66"), 429);
  EXPECT_EQ(SignIn(server, "BOB@example.test", "guess again!!!", "198.51.100.67"), 429);  // same account
  // Everyone else is untouched: the admin signs in from another client, and from the same one.
  EXPECT_EQ(SignIn(server, kAdminEmail, kAdminPassword, "198.51.100.10"), 200);
  EXPECT_EQ(SignIn(server, kAdminEmail, kAdminPassword, "198.51.100.66"), 200);
  json limited = Body(server.Get("/api/admin/audit?action=sign_in_rate_limited"))["entries"];
  ASSERT_FALSE(limited.empty());
  EXPECT_EQ(limited[0]["params"].value("limit", ""), "account");
}

// Item 7, a session left open: guessing the current password through set-password (which needs
// it) counts against the account's limit like a sign-in, so it is not an unlimited oracle.
TEST(SecurityAbuseE2E, GuessingTheCurrentPasswordThroughSetPasswordIsLimited) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_AUTH_RATE_LIMIT=50/600", "DA_AUTH_ACCOUNT_RATE_LIMIT=3/600",
                        std::string("DA_BOOTSTRAP_ADMIN_EMAIL=") + kAdminEmail,
                        std::string("DA_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword});
  const std::string me = Body(server.Get("/api/me"))["id"];
  auto change = [&](const std::string& current) {
    auto r = server.Post("/api/users/" + me + "/set-password",
                         json{{"password", "a new password 12345"}, {"current_password", current}}.dump());
    return r ? r->status : -1;
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(change("wrong guess " + std::to_string(i)), 403);
  EXPECT_EQ(change(kAdminPassword), 429);  // even the right one waits for the window
  EXPECT_EQ(SignIn(server, kAdminEmail, kAdminPassword, ""), 429);  // one budget per account
}

// Item 7, mail bombing and link floods: magic links for one address are limited per address
// (whatever client asks), and /auth/oidc/login counts against the client's sign-in budget.
TEST(SecurityAbuseE2E, SendLinkIsLimitedPerAddressAndOidcLoginPerClient) {
  TempDir tmp;
  {
    // The mail server is unreachable: mails fail in the background, the answers do not change.
    ServerProcess server(tmp.path() / "mail",
                         {"DA_AUTH_RATE_LIMIT=50/600", "DA_AUTH_EMAIL_RATE_LIMIT=2/600", "DA_TRUSTED_PROXIES=127.0.0.1",
                          "DA_SMTP_URL=smtp://127.0.0.1:1", "DA_SMTP_FROM=da@example.test",
                          "DA_PUBLIC_URL=http://127.0.0.1:1"});
    auto send = [&](const std::string& email, const std::string& client) {
      auto r = server.Send("POST", "/auth/email/send-link", json{{"email", email}}.dump(),
                           {{"X-Forwarded-For", client}});
      return r ? r->status : -1;
    };
    EXPECT_EQ(send("victim@example.test", "198.51.100.1"), 200);
    EXPECT_EQ(send("Victim@example.test", "198.51.100.2"), 200);
    EXPECT_EQ(send("victim@example.test", "198.51.100.3"), 429);  // a third client, same mailbox
    EXPECT_EQ(send("other@example.test", "198.51.100.3"), 200);
  }
  const int port = FreeLocalPort();
  ASSERT_GT(port, 0);
  const std::string redirect = "http://127.0.0.1:" + std::to_string(port) + "/auth/oidc/callback";
  auto idp = OidcTestProvider::Start({OidcTestClient{"da", "s3cret", redirect}});
  ASSERT_OK(idp);
  ServerProcess server(tmp.path() / "oidc",
                       {"DA_OIDC_ISSUER=" + (*idp)->issuer(), "DA_OIDC_CLIENT_ID=da", "DA_OIDC_CLIENT_SECRET=s3cret",
                        "DA_OIDC_REDIRECT_URI=" + redirect, "DA_AUTH_RATE_LIMIT=3/600"},
                       port);
  std::string none;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(server.Get("/auth/oidc/login", &none)->status, 302) << i;
  auto limited = server.Get("/auth/oidc/login", &none);
  EXPECT_EQ(limited->status, 429);
  EXPECT_FALSE(limited->get_header_value("Retry-After").empty());
}

// Item 7, SSO blocked by a flood: 10,001 cheap GETs of /auth/oidc/login filled the pending-login
// table and every later SSO sign-in was refused. The oldest are evicted; a login started after
// the flood completes.
TEST(SecurityAbuseE2E, PendingOidcFloodDoesNotBlockALaterLogin) {
  const int port = FreeLocalPort();
  ASSERT_GT(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string redirect = base + "/auth/oidc/callback";
  auto idp = OidcTestProvider::Start({OidcTestClient{"da", "s3cret", redirect}});
  ASSERT_OK(idp);
  TempDir tmp;
  ServerProcess server(tmp.path() / "data",
                       {"DA_OIDC_ISSUER=" + (*idp)->issuer(), "DA_OIDC_CLIENT_ID=da", "DA_OIDC_CLIENT_SECRET=s3cret",
                        "DA_OIDC_REDIRECT_URI=" + redirect, "DA_OIDC_SIGNUP=open", "DA_AUTH_RATE_LIMIT=off"},
                       port);
  httplib::Client flood("127.0.0.1", port);
  flood.set_keep_alive(true);
  for (int i = 0; i < 10'001; ++i) {
    auto r = flood.Get("/auth/oidc/login");
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->status, 302) << i << " " << r->body;
  }
  std::string none;
  auto start = server.Get("/auth/oidc/login?next=/catalog", &none);
  ASSERT_EQ(start->status, 302) << start->body;
  std::string location = start->get_header_value("Location");
  for (size_t at = location.find(' '); at != std::string::npos; at = location.find(' ', at)) location.replace(at, 1, "%20");
  auto callback = BrowserSignIn(location, "alice", redirect);
  ASSERT_OK(callback);
  std::string state_cookie = start->get_header_value("Set-Cookie");
  state_cookie = state_cookie.substr(0, state_cookie.find(';'));
  auto done = server.Get(callback->substr(base.size()), &none, {{"Cookie", state_cookie}});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 302);
  EXPECT_EQ(done->get_header_value("Location"), "/catalog");
}

// Item 15, memory held by anonymous bodies: a client without credentials announces a 1 MiB body.
// It is refused with 413 from the head alone, before a byte of the body is sent; with a valid
// token the same body is read.
TEST(SecurityAbuseE2E, LargeUnauthenticatedBodyIsRefusedBeforeItIsRead) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data", {"DA_AUTH_RATE_LIMIT=off"});
  const size_t kMiB = 1024 * 1024;
  for (const std::string& credentials : {std::string(), std::string("Authorization: Bearer da_not_a_valid_token\r\n")}) {
    RawConnection c(server.port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send("POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + credentials +
                       "Content-Length: " + std::to_string(kMiB) + "\r\n\r\n"));
    std::string answer = c.ReadAnswer();  // the body was never sent: only a refusal can come back
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 413") << answer;
    EXPECT_NE(answer.find("payload_too_large"), std::string::npos) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  }
  // Small public bodies still work; an authenticated caller may send the 1 MiB body.
  EXPECT_EQ(SignIn(server, "nobody@example.test", "wrong password!", ""), 401);
  RawConnection c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer " +
                     server.admin_token() + "\r\nContent-Length: " + std::to_string(kMiB) + "\r\n\r\n"));
  std::string body = json{{"sql", "SELECT 1 AS x"}}.dump();
  body.resize(kMiB, ' ');  // JSON allows trailing whitespace
  ASSERT_TRUE(c.Send(body));
  std::string answer = c.ReadAnswer();
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 200") << answer.substr(0, 300);
}

// Item 15, connection exhaustion: one address opening connection after connection. Past
// DA_HTTP_MAX_CONNECTIONS_PER_CLIENT the next one is answered 503 and closed; once one closes,
// the address is served again.
TEST(SecurityAbuseE2E, ConnectionsPerClientAreCapped) {
  TempDir tmp;
  ServerProcess server(tmp.path() / "data", {"DA_HTTP_MAX_CONNECTIONS_PER_CLIENT=4"});
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConnection>(server.port()));
    ASSERT_TRUE(held.back()->connected());
  }
  // The four are open (served: each answers a request and stays open).
  for (auto& c : held) {
    ASSERT_TRUE(c->Send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c->ReadAnswer().substr(0, 12), "HTTP/1.1 200");
  }
  RawConnection extra(server.port());
  ASSERT_TRUE(extra.connected());  // the kernel accepts; the server refuses
  std::string refused = extra.ReadAnswer();
  EXPECT_EQ(refused.substr(0, 12), "HTTP/1.1 503") << refused;
  EXPECT_NE(refused.find("too many connections"), std::string::npos) << refused;
  // One closes; the server notices, and a new connection is served (polled, not slept).
  held.front()->Close();
  bool served = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!served && std::chrono::steady_clock::now() < deadline) {
    RawConnection again(server.port());
    if (again.connected() && again.Send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")) {
      served = again.ReadAnswer().substr(0, 12) == "HTTP/1.1 200";
    }
  }
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace da::e2e
