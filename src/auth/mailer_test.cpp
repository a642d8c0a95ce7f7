// SendMail against a real SMTP server (npm smtp-server) started by the test.
#include "auth/mailer.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

#include "support/smtp_test_server.h"
#include "support/status_macros.h"

namespace da::auth {
namespace {

using testing::SmtpTestServer;

constexpr const char* kPassword = "p@ss w0rd/secret";

// A loopback port nobody listens on (bound to 0, then closed).
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// An IPv4 address of this machine that is not loopback, "" when there is none.
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) found = text;
  }
  ::freeifaddrs(list);
  return found;
}

class MailerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SmtpTestServer::Options options;
    options.user = "mailer";
    options.password = kPassword;
    auto s = SmtpTestServer::Start(options);
    ASSERT_OK(s);
    server_ = std::move(s).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static SmtpTestServer* server_;
};
SmtpTestServer* MailerTest::server_ = nullptr;

TEST_F(MailerTest, DeliversHeadersAndBodyBytes) {
  size_t before = server_->Mails().size();
  SmtpConfig config{server_->Url(), "da <noreply@da.example.test>"};
  Status s = SendMail(config, "ann@example.test", "Your sign-in link",
                      "Hello Ann,\nopen https://da.example.test/auth/email/verify?token=abc\n.\nBye\n");
  ASSERT_OK(s);
  auto mail = server_->WaitForMail(before + 1);
  ASSERT_OK(mail) << mail.status().ToString() << server_->server_log();
  EXPECT_EQ(mail->mail_from, "noreply@da.example.test");
  EXPECT_EQ(mail->rcpt_to, std::vector<std::string>{"ann@example.test"});
  EXPECT_EQ(mail->auth_user, "mailer");
  EXPECT_EQ(mail->Header("From"), "da <noreply@da.example.test>");
  EXPECT_EQ(mail->Header("To"), "ann@example.test");
  EXPECT_EQ(mail->Header("Subject"), "Your sign-in link");
  EXPECT_EQ(mail->Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_NE(mail->Header("Date").find("+0000"), std::string::npos);
  std::string id = mail->Header("Message-ID");
  EXPECT_EQ(id.front(), '<');
  EXPECT_NE(id.find("@da.example.test>"), std::string::npos);
  // LF → CRLF; the lone "." line survives SMTP dot-stuffing.
  EXPECT_EQ(mail->Body(), "Hello Ann,\r\nopen https://da.example.test/auth/email/verify?token=abc\r\n.\r\nBye\r\n");
}

TEST_F(MailerTest, NonAsciiSubjectIsEncodedAndBodyIsUtf8) {
  size_t before = server_->Mails().size();
  ASSERT_OK(SendMail({server_->Url(), "noreply@da.example.test"}, "bo@example.test", "Grüße", "Grüße, Bø"));
  auto mail = server_->WaitForMail(before + 1);
  ASSERT_OK(mail);
  EXPECT_EQ(mail->Header("Subject"), "=?UTF-8?B?R3LDvMOfZQ==?=");
  EXPECT_EQ(mail->Body(), "Grüße, Bø\r\n");
}

TEST_F(MailerTest, WrongPasswordIsUnavailableWithoutThePassword) {
  std::string url = server_->Url();
  std::string wrong = "smtp://mailer:Wr0ngSecret@127.0.0.1:" + std::to_string(server_->port());
  Status s = SendMail({wrong, "noreply@da.example.test"}, "ann@example.test", "s", "b");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message().find("Wr0ngSecret"), std::string::npos) << s.message();
}

TEST(MailerNoServerTest, RefusedConnectionIsUnavailableWithoutThePassword) {
  std::string url = "smtp://mailer:TopSecret99@127.0.0.1:" + std::to_string(ClosedPort());
  Status s = SendMail({url, "noreply@da.example.test"}, "ann@example.test", "s", "b");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("smtp://127.0.0.1:"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("TopSecret99"), std::string::npos) << s.message();
}

TEST(MailerNoServerTest, HeaderInjectionAndBadAddressesAreRefused) {
  SmtpConfig config{"smtp://127.0.0.1:1", "noreply@da.example.test"};
  EXPECT_EQ(SendMail(config, "a@example.test\r\nBcc: x@evil.test", "s", "b").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SendMail(config, "a@example.test", "s\r\nBcc: x@evil.test", "b").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SendMail(config, "not-an-address", "s", "b").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SendMail(config, "a@b@c", "s", "b").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SendMail({"http://127.0.0.1:1", "noreply@da.example.test"}, "a@example.test", "s", "b").code(),
            StatusCode::kInvalidArgument);
}

TEST(MailerNetworkTest, PasswordNeverCrossesANetworkWithoutTls) {
  std::string ip = NonLoopbackAddress();
  if (ip.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  SmtpTestServer::Options options;  // offers no STARTTLS
  options.user = "mailer";
  options.password = "Net-Secret-5";
  options.listen_host = "0.0.0.0";
  auto smtp = SmtpTestServer::Start(options);
  ASSERT_OK(smtp);
  Status s = SendMail({(*smtp)->Url(ip), "da@example.test"}, "ann@example.test", "s", "b");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message().find("Net-Secret-5"), std::string::npos) << s.message();
  EXPECT_TRUE((*smtp)->Mails().empty());
  // The same server over loopback: no network in between, so no TLS needed.
  ASSERT_OK(SendMail({(*smtp)->Url(), "da@example.test"}, "ann@example.test", "s", "b"));
  auto mail = (*smtp)->WaitForMail(1);
  ASSERT_OK(mail);
  EXPECT_FALSE(mail->secure);
}

TEST(SmtpConfigTest, FromEnvironment) {
  ::unsetenv("DA_SMTP_URL");
  ::unsetenv("DA_SMTP_FROM");
  auto none = SmtpConfigFromEnv();
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  ::setenv("DA_SMTP_URL", "smtps://u:Hidden42@mail.example.test:465", 1);
  auto no_from = SmtpConfigFromEnv();
  EXPECT_EQ(no_from.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_from.status().message().find("DA_SMTP_FROM"), std::string::npos);
  ::setenv("DA_SMTP_FROM", "da <da@example.test>", 1);
  auto ok = SmtpConfigFromEnv();
  ASSERT_TRUE(ok.ok() && ok->has_value());
  EXPECT_EQ((*ok)->from, "da <da@example.test>");
  ::setenv("DA_SMTP_URL", "ftp://u:Hidden42@mail.example.test", 1);
  auto bad = SmtpConfigFromEnv();
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().find("Hidden42"), std::string::npos);
  ::unsetenv("DA_SMTP_URL");
  ::unsetenv("DA_SMTP_FROM");
}

}  // namespace
}  // namespace da::auth
