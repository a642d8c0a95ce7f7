// HttpsClient against a real local HTTPS server (cpp-httplib SSLServer, certificates made by
// the openssl CLI at test time).
#include "net/https_client.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/status_macros.h"
#include "support/temp_dir.h"
#include "support/test_tls.h"

namespace da::net {
namespace {
namespace fs = std::filesystem;

HttpsRequest Req(std::string url, std::string method = "GET", std::string body = "",
                 std::string content_type = "") {
  HttpsRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

class HttpsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("da-net-test-");
    ASSERT_OK_AND_ASSIGN(certs_, testing::MakeTestTls(dir_->path()));
  }
  static void TearDownTestSuite() {
    delete dir_;
  }
  void SetUp() override {
    server_ = std::make_unique<httplib::SSLServer>(certs_.cert_file.c_str(),
                                                   certs_.key_file.c_str());
    server_->Get("/ok", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("{\"hello\":\"" + req.get_header_value("X-Token") + "\"}",
                      "application/json");
    });
    server_->Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
    server_->Get("/flaky", [this](const httplib::Request&, httplib::Response& res) {
      if (++hits_ <= 2) {
        res.status = hits_ == 1 ? 503 : 429;
        res.set_header("Retry-After", "1");
        res.set_content("{\"status\":\"maintenance\",\"reason\":\"busy\"}", "application/json");
        return;
      }
      res.set_content("done", "text/plain");
    });
    server_->Get("/always500", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.status = 500;
      res.set_content("{\"error\":\"boom\"}", "application/json");
    });
    server_->Get("/missing", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.status = 404;
      res.set_content(
          "{\"error\":\"The table was not found (token secret-token-123)\",\"code\":"
          "\"storage.tables.notFound\"}",
          "application/json");
    });
    server_->Get("/unauth", [](const httplib::Request&, httplib::Response& res) {
      res.status = 401;
      res.set_content("{\"error\":\"Invalid access token\",\"code\":\"storage.tokenInvalid\"}",
                      "application/json");
    });
    server_->Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(3 << 20, 'x'), "application/octet-stream");
    });
    server_->Get("/breaks-once", [this](const httplib::Request&, httplib::Response& res) {
      const bool fail = ++hits_ == 1;
      res.set_content_provider(
          1 << 20, "application/octet-stream",
          [fail](size_t offset, size_t, httplib::DataSink& sink) {
            if (fail && offset >= (256u << 10)) return false;  // drop the connection midway
            std::string chunk(64 << 10, 'y');
            sink.write(chunk.data(), chunk.size());
            return true;
          });
    });
    server_->Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::seconds(3));
      res.set_content("late", "text/plain");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  HttpsClientOptions Trusting() const {
    HttpsClientOptions o;
    o.ca_file = certs_.ca_file;
    o.retry.initial_backoff_ms = 20;
    o.retry.max_backoff_ms = 50;
    return o;
  }

  static testing::TempDir* dir_;
  static testing::TestTls certs_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> hits_{0};
};
testing::TempDir* HttpsClientTest::dir_ = nullptr;
testing::TestTls HttpsClientTest::certs_;

TEST_F(HttpsClientTest, GetWithTrustedCa) {
  HttpsClient client(Trusting());
  auto r = client.Send([&] { auto q = Req(Url("/ok")); q.headers = {{"X-Token", "abc"}}; return q; }());
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"hello\":\"abc\"}");
  EXPECT_EQ(r->headers["content-type"], "application/json");
}

TEST_F(HttpsClientTest, DaCaFileEnvironmentAddsTheCa) {
  setenv("DA_CA_FILE", certs_.ca_file.c_str(), 1);
  HttpsClient client;
  auto r = client.Send(Req(Url("/ok")));
  unsetenv("DA_CA_FILE");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsClientTest, UntrustedCertificateIsRefusedWithoutRetry) {
  unsetenv("DA_CA_FILE");
  HttpsClient client;  // the system store does not know the test CA
  auto r = client.Send(Req(Url("/ok")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("certificate"), std::string::npos) << r.status().message();
}

TEST_F(HttpsClientTest, PlainHttpIsRefused) {
  HttpsClient client(Trusting());
  auto r = client.Send(Req("http://127.0.0.1:1/ok"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpsClientTest, PostBody) {
  HttpsClient client(Trusting());
  auto r = client.Send(Req(Url("/echo"), "POST", "a=1&b=%20", "application/x-www-form-urlencoded"));
  ASSERT_OK(r);
  EXPECT_EQ(r->body, "a=1&b=%20");
}

TEST_F(HttpsClientTest, RetriesOn503And429HonouringRetryAfter) {
  HttpsClient client(Trusting());
  auto start = std::chrono::steady_clock::now();
  auto r = client.Send(Req(Url("/flaky")));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start).count();
  ASSERT_OK(r);
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(hits_.load(), 3);
  EXPECT_GE(ms, 1900);  // two Retry-After: 1 waits, not the 20 ms backoff
}

TEST_F(HttpsClientTest, GivesUpAfterMaxAttempts) {
  auto o = Trusting();
  o.retry.max_attempts = 3;
  HttpsClient client(o);
  auto r = client.Send(Req(Url("/always500")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(hits_.load(), 3);
  EXPECT_NE(r.status().message().find("HTTP 500: boom"), std::string::npos) << r.status().message();
}

TEST_F(HttpsClientTest, FourXxFailsFastWithTheApiMessageRedacted) {
  auto o = Trusting();
  o.secrets = {"secret-token-123"};
  HttpsClient client(o);
  auto r = client.Send(Req(Url("/missing?token=secret-token-123")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(hits_.load(), 1);
  EXPECT_NE(r.status().message().find("The table was not found"), std::string::npos);
  EXPECT_EQ(r.status().message().find("secret-token-123"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("***"), std::string::npos);

  auto u = client.Send(Req(Url("/unauth")));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(u.status().message().find("Invalid access token"), std::string::npos);
}

TEST_F(HttpsClientTest, DownloadStreamsToFile) {
  HttpsClient client(Trusting());
  fs::path dest = dir_->path() / "big.bin";
  auto r = client.Download(Req(Url("/big")), dest);
  ASSERT_OK(r);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(fs::file_size(dest), 3u << 20);
  fs::remove(dest);
}

TEST_F(HttpsClientTest, DownloadBrokenMidwayIsRetriedWhole) {
  HttpsClient client(Trusting());
  fs::path dest = dir_->path() / "broken.bin";
  auto r = client.Download(Req(Url("/breaks-once")), dest);
  ASSERT_OK(r);
  EXPECT_EQ(hits_.load(), 2);
  EXPECT_EQ(fs::file_size(dest), 1u << 20);
  fs::remove(dest);
}

TEST_F(HttpsClientTest, CancellationAbortsATransfer) {
  auto o = Trusting();
  auto start = std::chrono::steady_clock::now();
  o.cancelled = [start] { return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(300); };
  HttpsClient client(o);
  auto r = client.Send(Req(Url("/slow")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(RedactTest, ReplacesPlainAndUrlEncodedForms) {
  EXPECT_EQ(Redact("a tok/en+1 b tok%2Fen%2B1 c", {"tok/en+1"}), "a *** b *** c");
  EXPECT_EQ(Redact("abc", {"", "ab"}), "abc");
}

TEST(ApiErrorMessageTest, Shapes) {
  EXPECT_EQ(ApiErrorMessage("{\"error\":\"Invalid access token\"}"), "Invalid access token");
  EXPECT_EQ(ApiErrorMessage("{\"error\":{\"message\":\"m\"}}"), "m");
  EXPECT_EQ(ApiErrorMessage("{\"status\":\"maintenance\",\"reason\":\"r\"}"), "r");
  EXPECT_EQ(ApiErrorMessage("plain\ntext"), "plain?text");
}

}  // namespace
}  // namespace da::net
