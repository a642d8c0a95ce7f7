// HttpServer (Beast event loop) over real HTTP on loopback, driven by cpp-httplib clients.
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace da::server {
namespace {

std::string Payload(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = Payload(100000);
    server_.Get(R"(/items/([^/]+)/parts/(\d+))",
                [](const httplib::Request& req, httplib::Response& res) {
                  res.set_content(std::string(req.matches[1]) + ":" + std::string(req.matches[2]),
                                  "text/plain");
                });
    server_.Get(R"(/items/([^/]+))", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("item " + std::string(req.matches[1]), "text/plain");
    });
    server_.Get(R"(/alt/(one|two)|/other)", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("alt " + std::string(req.matches[1]), "text/plain");
    });
    server_.Get(R"(/opt/ab?c)", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("opt", "text/plain");
    });
    server_.Get("/query", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_param_value("q") + "|" + req.get_param_value("name") + "|" +
                          std::to_string(req.get_param_value_count("x")),
                      "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_header("X-Len", std::to_string(req.body.size()));
      res.set_content(req.body, "application/octet-stream");
    });
    server_.Get("/teapot", [](const httplib::Request&, httplib::Response& res) {
      res.status = 418;  // empty body: the error handler fills it
    });
    server_.Get("/file", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("ETag", "\"abc\"");
      res.set_content_provider(data_.size(), "application/octet-stream",
                               [this](size_t offset, size_t length, httplib::DataSink& sink) {
                                 size_t n = std::min<size_t>(length, 4096);
                                 return sink.write(data_.data() + offset, n);
                               });
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      res.set_content("slow", "text/plain");
    });
    server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      res.set_content("{\"error\":" + std::to_string(res.status) + ",\"path\":\"" + req.path + "\"}",
                      "application/json");
    });
    server_.set_payload_max_length(1024);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_TRUE(server_.is_running());
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_FALSE(server_.is_running());
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c;
  }

  HttpServer server_;
  std::string data_;
  int port_ = -1;
  std::thread thread_;
};

TEST_F(HttpServerTest, RoutesWithRegexCapturesFirstMatchWins) {
  auto c = Client();
  auto r = c.Get("/items/abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "item abc");
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain");
  r = c.Get("/items/x%20y/parts/42");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "x y:42");
  r = c.Get("/alt/two");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "alt two");
  r = c.Get("/other");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "alt ");
  r = c.Get("/opt/ac");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "opt");
  r = c.Get("/opt/abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "opt");
  r = c.Get("/items/a/parts/notanumber");  // whole-path match only
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(HttpServerTest, DecodesQueryParameters) {
  auto c = Client();
  c.set_url_encode(false);  // send the target verbatim ('+' would become %2B)
  auto r = c.Get("/query?q=a+b%26c&name=%C3%A9t%C3%A9&x=1&x=2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "a b&c|\xC3\xA9t\xC3\xA9|2");
}

TEST_F(HttpServerTest, NoRouteIs404ThroughTheErrorHandler) {
  auto c = Client();
  auto r = c.Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "{\"error\":404,\"path\":\"/nope\"}");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  r = c.Post("/items/abc", "x", "text/plain");  // wrong method
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Get("/teapot");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 418);
  EXPECT_EQ(r->body, "{\"error\":418,\"path\":\"/teapot\"}");
}

TEST_F(HttpServerTest, BodiesAndPayloadLimit) {
  auto c = Client();
  auto r = c.Post("/echo", "hello", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->get_header_value("X-Len"), "5");
  r = c.Post("/echo", std::string(5000, 'z'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, "{\"error\":413,\"path\":\"/echo\"}");
  // The server still serves after refusing a body (on a new connection).
  r = c.Post("/echo", std::string(1024, 'y'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body.size(), 1024u);
}

/// Sends `head`, then (after reading the interim answer when `expect_100`) `body`, and returns
/// everything answered until the server closes (the request says `Connection: close`).
std::string RawExchange(int port, const std::string& head, const std::string& body,
                        bool expect_100) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  char buf[4096];
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size())) {
    if (expect_100) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) out.append(buf, static_cast<size_t>(n));
    }
    ::send(fd, body.data(), body.size(), MSG_NOSIGNAL);
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_F(HttpServerTest, RawRequestsWithoutLengthOrExpectingContinue) {
  // No Content-Length: an empty body, answered at once.
  std::string reply = RawExchange(port_, "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                  "", false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 201 Created\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("X-Len: 0\r\n"), std::string::npos) << reply;
  reply = RawExchange(port_,
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                      "Expect: 100-continue\r\nConnection: close\r\n\r\n",
                      "abc", true);
  EXPECT_EQ(reply.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("\r\n\r\nabc"), std::string::npos) << reply;
  // Garbage → 400 through the error handler.
  reply = RawExchange(port_, "NOT HTTP AT ALL\r\n\r\n", "", false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("{\"error\":400"), std::string::npos) << reply;
}

TEST_F(HttpServerTest, KeepAliveReusesOneConnection) {
  auto c = Client();
  c.set_keep_alive(true);
  std::atomic<int> sockets{0};
  c.set_socket_options([&sockets](int) { ++sockets; });
  for (int i = 0; i < 200; ++i) {
    auto r = c.Get("/items/" + std::to_string(i));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->body, "item " + std::to_string(i));
  }
  EXPECT_EQ(sockets.load(), 1);
}

TEST_F(HttpServerTest, ContentProviderWholeAndRange) {
  auto c = Client();
  auto r = c.Get("/file");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, data_);
  EXPECT_EQ(r->get_header_value("ETag"), "\"abc\"");

  r = c.Get("/file", {{"Range", "bytes=10-19"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data_.substr(10, 10));
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes 10-19/100000");

  r = c.Get("/file", {{"Range", "bytes=99990-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data_.substr(99990));
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes 99990-99999/100000");

  r = c.Get("/file", {{"Range", "bytes=-5"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data_.substr(data_.size() - 5));

  r = c.Get("/file", {{"Range", "bytes=5000-200000"}});  // end clamped to the size
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data_.substr(5000));
}

TEST_F(HttpServerTest, HeadAnswersLikeGetWithoutBody) {
  auto c = Client();
  c.set_keep_alive(true);
  auto r = c.Head("/items/abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Length"), "8");
  EXPECT_TRUE(r->body.empty());
  r = c.Head("/file");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Length"), "100000");
  EXPECT_TRUE(r->body.empty());
  r = c.Get("/items/abc");  // the connection is still in step
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "item abc");
}

TEST_F(HttpServerTest, UnsatisfiableRangeIs416) {
  auto c = Client();
  auto r = c.Get("/file", {{"Range", "bytes=100000-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes */100000");
  EXPECT_EQ(r->body, "{\"error\":416,\"path\":\"/file\"}");
  r = c.Get("/file", {{"Range", "pages=1-2"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  // Still usable afterwards.
  r = c.Get("/file", {{"Range", "bytes=0-0"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data_.substr(0, 1));
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  auto c = Client();
  auto r = c.Get("/items/a", {{"Connection", "close"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Connection"), "close");
}

TEST_F(HttpServerTest, ConcurrentClientsAndSlowHandlers) {
  constexpr int kClients = 16;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  // A few slow handlers occupy io threads while the fast clients keep being served.
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([this, &ok] {
      auto c = Client();
      auto r = c.Get("/slow");
      if (r && r->body == "slow") ++ok;
    });
  }
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([this, t, &ok] {
      auto c = Client();
      c.set_keep_alive(true);
      for (int i = 0; i < kRequests; ++i) {
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        auto r = c.Get("/items/" + id);
        if (r && r->status == 200 && r->body == "item " + id) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kClients * kRequests + 2);
}

TEST(HttpServerStandalone, StopBeforeListenReturnsAndBindFailureIsReported) {
  HttpServer a;
  int port = a.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  HttpServer b;
  EXPECT_FALSE(b.bind_to_port("127.0.0.1", port));  // in use
  a.stop();
  EXPECT_TRUE(a.listen_after_bind());  // returns at once
  EXPECT_FALSE(a.is_running());
}

}  // namespace
}  // namespace da::server
