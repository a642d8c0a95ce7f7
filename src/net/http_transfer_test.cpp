// Transfer() against real local servers: plain http on loopback (cpp-httplib Server) and
// HTTPS with a throw-away CA (tests/support/test_tls.h).
#include "net/http_transfer.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "net/url.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"
#include "support/test_tls.h"

namespace da::net {
namespace {
namespace fs = std::filesystem;

/// Runs `server` on a free loopback port for the scope.
class Running {
 public:
  explicit Running(httplib::Server& server) : server_(server) {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Running() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server& server_;
  int port_ = 0;
  std::thread thread_;
};

class CollectSink : public BodySink {
 public:
  Result<bool> Begin(long status) override {
    began_with = status;
    return status == 200;
  }
  Status Write(std::string_view bytes) override {
    data.append(bytes);
    return Status::Ok();
  }
  long began_with = 0;
  std::string data;
};

HttpRequest Get(std::string url) {
  HttpRequest r;
  r.url = std::move(url);
  return r;
}

TEST(UrlTest, PartsLoopbackAndMessageForm) {
  auto p = ParseUrl("https://user:p%40ss@example.com:8443/a/b?token=x#f");
  ASSERT_OK(p);
  EXPECT_EQ(p->scheme, "https");
  EXPECT_EQ(p->host, "example.com");
  EXPECT_EQ(p->port, "8443");
  EXPECT_EQ(p->password, "p@ss");
  EXPECT_EQ(p->path, "/a/b");
  EXPECT_EQ(UrlForMessage("https://user:pw@example.com:8443/a/b?token=x"),
            "https://example.com:8443/a/b");
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.example.com"));
  EXPECT_FALSE(ParseUrl("zz-unknown://x").ok());
  EXPECT_OK(ParseUrl("zz-unknown://x", true));
}

TEST(TransferTest, SchemePoliciesAreEnforcedBeforeAnyConnection) {
  auto https_only = Transfer(Get("http://127.0.0.1:1/x"), TransferOptions{});
  EXPECT_EQ(https_only.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(https_only.status().message().find("only https://"), std::string::npos);

  TransferOptions loopback;
  loopback.schemes = SchemePolicy::kHttpsOrLoopbackHttp;
  auto remote = Transfer(Get("http://example.com/x"), loopback);
  EXPECT_EQ(remote.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(remote.status().message().find("loopback"), std::string::npos);

  TransferOptions any;
  any.schemes = SchemePolicy::kHttpOrHttps;
  EXPECT_EQ(Transfer(Get("ftp://127.0.0.1/x"), any).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TransferTest, RefusedConnectionIsAReportedRetryableFailure) {
  TransferOptions o;
  o.schemes = SchemePolicy::kHttpsOrLoopbackHttp;
  auto r = Transfer(Get("http://127.0.0.1:1/x"), o);
  ASSERT_OK(r);
  EXPECT_EQ(r->failure, TransferFailure::kCannotConnect);
  EXPECT_TRUE(r->retryable);
  EXPECT_FALSE(r->error.empty());
  EXPECT_EQ(r->response.status, 0);
}

TEST(TransferTest, BodiesAreCappedTruncatedOrStreamedByStatus) {
  httplib::Server server;
  server.Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(5000, 'x'), "text/plain");
  });
  server.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("{\"error\":\"no such thing\"}", "application/json");
  });
  server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Seen-Type", req.get_header_value("Content-Type"));
    res.set_content(req.method + ":" + req.body, "text/plain");
  });
  Running running(server);
  const std::string base = "http://127.0.0.1:" + std::to_string(running.port());
  TransferOptions o;
  o.schemes = SchemePolicy::kHttpOrHttps;

  o.max_body_bytes = 100;
  auto too_big = Transfer(Get(base + "/big"), o);
  ASSERT_OK(too_big);
  EXPECT_EQ(too_big->failure, TransferFailure::kTooLarge);

  o.truncate_body = true;
  auto cut = Transfer(Get(base + "/big"), o);
  ASSERT_OK(cut);
  ASSERT_TRUE(cut->ok()) << cut->error;
  EXPECT_EQ(cut->response.body.size(), 100u);
  EXPECT_EQ(cut->body_bytes, 5000);

  o = TransferOptions{};
  o.schemes = SchemePolicy::kHttpOrHttps;
  CollectSink sink;
  auto streamed = Transfer(Get(base + "/big"), o, &sink);
  ASSERT_TRUE(streamed.ok() && streamed->ok());
  EXPECT_TRUE(streamed->sink_accepted);
  EXPECT_EQ(sink.data.size(), 5000u);
  EXPECT_TRUE(streamed->response.body.empty());

  CollectSink refused;
  auto missing = Transfer(Get(base + "/missing"), o, &refused);
  ASSERT_TRUE(missing.ok() && missing->ok());
  EXPECT_EQ(missing->response.status, 404);
  EXPECT_EQ(refused.began_with, 404);
  EXPECT_TRUE(refused.data.empty());
  EXPECT_EQ(ApiErrorMessage(missing->response.body), "no such thing");

  HttpRequest post = Get(base + "/echo");
  post.method = "POST";
  post.body = "a=1";
  post.content_type = "application/x-www-form-urlencoded";
  auto echoed = Transfer(post, o);
  ASSERT_TRUE(echoed.ok() && echoed->ok());
  EXPECT_EQ(echoed->response.body, "POST:a=1");
  EXPECT_EQ(echoed->response.headers["x-seen-type"], "application/x-www-form-urlencoded");
}

TEST(TransferTest, HttpsTrustsTheCaFileAndRefusesAMissingOne) {
  testing::TempDir dir("da-transfer-test-");
  ASSERT_OK_AND_ASSIGN(testing::TestTls certs, testing::MakeTestTls(dir.path()));
  httplib::SSLServer server(certs.cert_file.c_str(), certs.key_file.c_str());
  server.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("trusted", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/ok";

  ::unsetenv("DA_CA_FILE");
  auto untrusted = Transfer(Get(url), TransferOptions{});
  ASSERT_OK(untrusted);
  EXPECT_FALSE(untrusted->ok());
  EXPECT_FALSE(untrusted->retryable);

  ::setenv("DA_CA_FILE", certs.ca_file.c_str(), 1);
  auto trusted = Transfer(Get(url), TransferOptions{});
  ASSERT_TRUE(trusted.ok() && trusted->ok()) << (trusted.ok() ? trusted->error : "");
  EXPECT_EQ(trusted->response.body, "trusted");

  ::setenv("DA_CA_FILE", (dir.path() / "missing.pem").c_str(), 1);
  auto missing = Transfer(Get(url), TransferOptions{});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("DA_CA_FILE"), std::string::npos);
  ::unsetenv("DA_CA_FILE");

  server.stop();
  thread.join();
}

}  // namespace
}  // namespace da::net
