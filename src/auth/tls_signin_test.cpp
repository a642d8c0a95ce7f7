// OIDC over https and mail over STARTTLS / smtps with a test CA: certificates are verified for
// real, DA_CA_FILE adds the CA, and without it the same servers are refused.
#include <gtest/gtest.h>

#include <cstdlib>

#include "auth/mailer.h"
#include "auth/oidc.h"
#include "support/oidc_test_provider.h"
#include "support/smtp_test_server.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"
#include "support/test_tls.h"

namespace da::auth {
namespace {

using testing::SmtpTestServer;

constexpr const char* kRedirect = "https://da.example.test/auth/oidc/callback";

class TlsSigninTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new da::testing::TempDir("da-tls-");
    auto tls = testing::MakeTestTls(dir_->path());
    ASSERT_OK(tls);
    tls_ = new testing::TestTls(*tls);
  }
  static void TearDownTestSuite() {
    delete tls_;
    delete dir_;
  }
  void SetUp() override { ::setenv("DA_CA_FILE", tls_->ca_file.c_str(), 1); }
  void TearDown() override { ::unsetenv("DA_CA_FILE"); }

  static da::testing::TempDir* dir_;
  static testing::TestTls* tls_;
};
da::testing::TempDir* TlsSigninTest::dir_ = nullptr;
testing::TestTls* TlsSigninTest::tls_ = nullptr;

TEST_F(TlsSigninTest, OidcSignInOverHttpsTrustsOnlyTheAddedCa) {
  auto idp = testing::OidcTestProvider::Start({{"da", "tls-secret", kRedirect, "client_secret_basic", "ES256"}},
                                              tls_->cert_file, tls_->key_file);
  ASSERT_OK(idp);
  ASSERT_EQ((*idp)->issuer().rfind("https://127.0.0.1:", 0), 0u) << (*idp)->issuer();
  OidcConfig config;
  config.issuer = (*idp)->issuer();
  config.client_id = "da";
  config.client_secret = "tls-secret";
  config.redirect_uri = kRedirect;

  ::unsetenv("DA_CA_FILE");  // the system trust store does not know the test CA
  auto untrusted = OidcClient(config).BeginLogin("/");
  EXPECT_EQ(untrusted.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(untrusted.status().message().find("certificate"), std::string::npos) << untrusted.status().message();

  ::setenv("DA_CA_FILE", tls_->ca_file.c_str(), 1);
  OidcClient client(config);
  auto url = client.BeginLogin("/done");
  ASSERT_OK(url);
  auto callback = testing::BrowserSignIn(*url, "erin", kRedirect);
  ASSERT_OK(callback);
  auto result = client.CompleteLogin(testing::QueryParam(*callback, "code"), testing::QueryParam(*callback, "state"));
  ASSERT_OK(result) << result.status().ToString() << (*idp)->server_log();
  EXPECT_EQ(result->identity.email, "erin@example.test");
  EXPECT_EQ(result->next, "/done");
}

TEST_F(TlsSigninTest, MailUsesStartTlsWhenOfferedAndVerifiesTheServer) {
  SmtpTestServer::Options options;
  options.user = "mailer";
  options.password = "Tls-Secret-7";
  options.tls_cert_file = tls_->cert_file;
  options.tls_key_file = tls_->key_file;
  auto smtp = SmtpTestServer::Start(options);
  ASSERT_OK(smtp);
  ASSERT_OK(SendMail({(*smtp)->Url(), "da@example.test"}, "fay@example.test", "over tls", "hi"));
  auto mail = (*smtp)->WaitForMail(1);
  ASSERT_OK(mail);
  EXPECT_TRUE(mail->secure);  // STARTTLS happened before AUTH and DATA
  EXPECT_EQ(mail->auth_user, "mailer");
  EXPECT_EQ(mail->Body(), "hi\r\n");

  ::unsetenv("DA_CA_FILE");
  Status refused = SendMail({(*smtp)->Url(), "da@example.test"}, "fay@example.test", "s", "b");
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.message().find("Tls-Secret-7"), std::string::npos) << refused.message();
  EXPECT_EQ((*smtp)->Mails().size(), 1u);
}

TEST_F(TlsSigninTest, MailOverImplicitTls) {
  SmtpTestServer::Options options;
  options.tls_cert_file = tls_->cert_file;
  options.tls_key_file = tls_->key_file;
  options.implicit_tls = true;
  auto smtp = SmtpTestServer::Start(options);
  ASSERT_OK(smtp);
  ASSERT_EQ((*smtp)->Url().rfind("smtps://", 0), 0u);
  Status s = SendMail({(*smtp)->Url("localhost"), "da@example.test"}, "gus@example.test", "smtps", "body");
  ASSERT_OK(s);
  auto mail = (*smtp)->WaitForMail(1);
  ASSERT_OK(mail);
  EXPECT_TRUE(mail->secure);
  EXPECT_EQ(mail->Header("Subject"), "smtps");
}

TEST_F(TlsSigninTest, MissingCaFileIsAClearError) {
  ::setenv("DA_CA_FILE", "/nonexistent/ca.pem", 1);
  Status s = SendMail({"smtps://127.0.0.1:1", "da@example.test"}, "a@example.test", "s", "b");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("DA_CA_FILE"), std::string::npos);
}

}  // namespace
}  // namespace da::auth
