#include "client/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "support/files.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::client {
namespace {

using testing::ReadBytes;
using testing::TempDir;

constexpr const char* kToken = "s3cr3t-t0ken-value";

std::string ErrorBody(const std::string& code, const std::string& message) {
  return nlohmann::json({{"error", {{"code", code}, {"message", message}, {"request_id", "req42"}}}})
      .dump();
}

/// A real HTTP server on a loopback port, in its own thread.
class TestServer {
 public:
  TestServer() {
    svr_.set_tcp_nodelay(true);
    auto authed = [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != std::string("Bearer ") + kToken) {
        res.status = 401;
        res.set_content(ErrorBody("unauthenticated", "missing or invalid token"), "application/json");
        return false;
      }
      return true;
    };
    svr_.Get("/api/ok", [=](const httplib::Request& req, httplib::Response& res) {
      if (!authed(req, res)) return;
      res.set_content(R"({"hello":"world"})", "application/json");
    });
    svr_.Post("/api/echo", [=](const httplib::Request& req, httplib::Response& res) {
      if (!authed(req, res)) return;
      auto j = nlohmann::json::parse(req.body);
      res.status = 201;
      res.set_content(nlohmann::json({{"got", j}, {"method", req.method}}).dump(), "application/json");
    });
    svr_.Put("/api/echo", [=](const httplib::Request& req, httplib::Response& res) {
      if (!authed(req, res)) return;
      res.set_content(nlohmann::json({{"got", nlohmann::json::parse(req.body)}, {"method", req.method}}).dump(),
                      "application/json");
    });
    svr_.Delete("/api/echo", [=](const httplib::Request& req, httplib::Response& res) {
      if (!authed(req, res)) return;
      res.set_content(R"({"deleted":"x"})", "application/json");
    });
    svr_.Get(R"(/api/status/(\d+)/([a-z_]+))", [](const httplib::Request& req, httplib::Response& res) {
      res.status = std::stoi(req.matches[1]);
      res.set_content(ErrorBody(req.matches[2], "server says " + std::string(req.matches[2])),
                      "application/json");
    });
    svr_.Get("/api/html500", [](const httplib::Request&, httplib::Response& res) {
      res.status = 502;
      res.set_content("<html>bad gateway</html>", "text/html");
    });
    svr_.Get("/api/file", [this](const httplib::Request& req, httplib::Response& res) {
      last_range_ = req.get_header_value("Range");
      if (req.get_header_value("If-None-Match") == "\"etag-md5\"") {
        res.status = 304;
        return;
      }
      res.set_header("ETag", "\"etag-md5\"");
      res.set_header("Accept-Ranges", "bytes");
      res.set_content(kFileBody, "application/octet-stream");  // httplib serves Range as 206
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestServer() {
    svr_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string last_range_;
  static constexpr const char* kFileBody = "0123456789abcdefghijklmnopqrstuvwxyz";

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
};

/// A loopback port nobody listens on.
int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

TEST(HttpClientTest, JsonVerbsSendTokenAndBody) {
  TestServer server;
  HttpClient client({server.url() + "/", kToken});
  EXPECT_EQ(client.base_url(), server.url());
  auto get = client.GetJson("/api/ok");
  ASSERT_OK(get);
  EXPECT_EQ((*get)["hello"], "world");

  auto post = client.PostJson("/api/echo", {{"name", "flights"}, {"primary_key", {"a", "b"}}});
  ASSERT_OK(post);
  EXPECT_EQ((*post)["method"], "POST");
  EXPECT_EQ((*post)["got"]["primary_key"][1], "b");

  auto put = client.PutJson("/api/echo", {{"version", 3}});
  ASSERT_OK(put);
  EXPECT_EQ((*put)["method"], "PUT");
  EXPECT_EQ((*put)["got"]["version"], 3);

  auto post_null = client.PostJson("/api/echo", nullptr);
  ASSERT_OK(post_null);
  EXPECT_TRUE((*post_null)["got"].is_null());

  auto del = client.DeleteJson("/api/echo");
  ASSERT_OK(del);
  EXPECT_EQ((*del)["deleted"], "x");
}

TEST(HttpClientTest, HttpErrorsMapToCodesWithServerMessage) {
  TestServer server;
  HttpClient client({server.url(), kToken});
  struct Case {
    std::string path;
    StatusCode code;
  };
  std::vector<Case> cases = {
      {"/api/status/400/malformed", StatusCode::kMalformed},
      {"/api/status/401/unauthenticated", StatusCode::kUnauthenticated},
      {"/api/status/403/permission_denied", StatusCode::kPermissionDenied},
      {"/api/status/404/not_found", StatusCode::kNotFound},
      {"/api/status/409/sync_already_in_progress", StatusCode::kFailedPrecondition},
      {"/api/status/409/already_exists", StatusCode::kAlreadyExists},
      {"/api/status/409/conflict", StatusCode::kAborted},
      {"/api/status/422/invalid_argument", StatusCode::kInvalidArgument},
      {"/api/status/429/resource_exhausted", StatusCode::kResourceExhausted},
      {"/api/status/500/internal", StatusCode::kInternal},
      {"/api/status/503/unavailable", StatusCode::kUnavailable},
  };
  for (const auto& c : cases) {
    auto r = client.GetJson(c.path);
    ASSERT_FALSE(r.ok()) << c.path;
    EXPECT_EQ(r.status().code(), c.code) << c.path << " → " << r.status().ToString();
    std::string code_name = c.path.substr(c.path.rfind('/') + 1);
    EXPECT_NE(r.status().message().find("server says " + code_name), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("req42"), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find(kToken), std::string::npos);
  }
  auto html = client.GetJson("/api/html500");
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.status().code(), StatusCode::kInternal);
  EXPECT_NE(html.status().message().find("HTTP 502"), std::string::npos) << html.status().message();
}

TEST(HttpClientTest, WrongTokenIsUnauthenticatedAndNeverEchoed) {
  TestServer server;
  HttpClient client({server.url(), "wrong-token-value"});
  auto r = client.GetJson("/api/ok");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message().find("wrong-token-value"), std::string::npos);
  EXPECT_NE(r.status().message().find("missing or invalid token"), std::string::npos);
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort());
  HttpClient client({url, kToken});
  auto r = client.GetJson("/api/health");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("cannot reach server " + url), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find(kToken), std::string::npos);

  TempDir tmp;
  auto d = client.Download("/api/file", tmp.path() / "f");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "f"));
}

TEST(HttpClientTest, DownloadStreamsResumesAndHonoursIfNoneMatch) {
  TestServer server;
  HttpClient client({server.url(), kToken});
  TempDir tmp;
  auto dest = tmp.path() / "file.bin";
  std::atomic<int64_t> progressed{0};
  DownloadOptions opts;
  opts.progress = [&](int64_t n) { progressed += n; };
  auto full = client.Download("/api/file", dest, opts);
  ASSERT_OK(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->etag, "etag-md5");
  EXPECT_TRUE(full->accepts_ranges);
  EXPECT_EQ(full->bytes_written, 36);
  EXPECT_EQ(progressed.load(), 36);
  EXPECT_EQ(ReadBytes(dest), TestServer::kFileBody);

  // Resume: keep the first 10 bytes, fetch the rest with Range.
  std::filesystem::resize_file(dest, 10);
  DownloadOptions resume;
  resume.resume_from_bytes = 10;
  auto part = client.Download("/api/file", dest, resume);
  ASSERT_OK(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(server.last_range_, "bytes=10-");
  EXPECT_EQ(part->bytes_written, 26);
  EXPECT_EQ(ReadBytes(dest), TestServer::kFileBody);

  // 304 leaves the file untouched.
  std::filesystem::resize_file(dest, 3);
  DownloadOptions inm;
  inm.if_none_match = "etag-md5";
  auto nm = client.Download("/api/file", dest, inm);
  ASSERT_OK(nm);
  EXPECT_TRUE(nm->not_modified);
  EXPECT_EQ(nm->status, 304);
  EXPECT_EQ(ReadBytes(dest), "012");
}

TEST(HttpClientTest, DownloadErrorStatusDoesNotCreateTheFile) {
  TestServer server;
  HttpClient client({server.url(), kToken});
  TempDir tmp;
  auto dest = tmp.path() / "missing.bin";
  auto r = client.Download("/api/status/404/not_found", dest);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("server says not_found"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dest));
}

}  // namespace
}  // namespace da::client
