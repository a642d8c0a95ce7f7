// The CLI's client of the da server over HTTPS: it trusts DA_CA_FILE (or ca_file) like every
// outgoing call of da, and refuses a server its trust store cannot verify.
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "client/http_client.h"
#include "support/files.h"
#include "support/scoped_env.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"
#include "support/test_tls.h"

namespace da::client {
namespace {

using testing::ReadBytes;
using testing::ScopedEnv;
using testing::TempDir;

class HttpClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(certs_, testing::MakeTestTls(dir_.path()));
    server_ = std::make_unique<httplib::SSLServer>(certs_.cert_file.c_str(),
                                                   certs_.key_file.c_str());
    server_->Get("/api/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
    server_->Get("/api/file", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("parquet-bytes", "application/octet-stream");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  TempDir dir_;
  testing::TestTls certs_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HttpClientTlsTest, TrustsDaCaFileForJsonAndDownloads) {
  ScopedEnv ca("DA_CA_FILE", certs_.ca_file);
  HttpClient client({url(), "tok"});
  auto health = client.GetJson("/api/health");
  ASSERT_OK(health);
  EXPECT_EQ((*health)["status"], "ok");

  auto d = client.Download("/api/file", dir_.path() / "f.parquet");
  ASSERT_OK(d);
  EXPECT_EQ(ReadBytes(dir_.path() / "f.parquet"), "parquet-bytes");
}

TEST_F(HttpClientTlsTest, CaFileOptionWorksWithoutTheEnvironment) {
  ScopedEnv ca("DA_CA_FILE", std::nullopt);
  HttpClientOptions options{url(), "tok"};
  options.ca_file = certs_.ca_file;
  auto health = HttpClient(options).GetJson("/api/health");
  ASSERT_OK(health);
}

TEST_F(HttpClientTlsTest, UntrustedServerIsRefusedWithoutTheToken) {
  ScopedEnv ca("DA_CA_FILE", std::nullopt);
  HttpClient client({url(), "s3cret-token-xyz"});
  auto r = client.GetJson("/api/health");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("certificate"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("s3cret-token-xyz"), std::string::npos);
}

TEST_F(HttpClientTlsTest, MissingCaFileIsAClearError) {
  ScopedEnv ca("DA_CA_FILE", (dir_.path() / "nope.pem").string());
  auto r = HttpClient({url(), "tok"}).GetJson("/api/health");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("DA_CA_FILE"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace da::client
