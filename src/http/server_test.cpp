// The engine (Beast event loop) over real HTTP on loopback, driven by a Beast test client.
#include "http/server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/testing/serving.h"
#include "http/testing/test_client.h"

namespace da::http {
namespace {

using testing::TestClient;

std::string Payload(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = std::make_shared<std::string>(Payload(100000));
    server_.Get("/items/{id}/parts/{part}", [](const Request& req, Response& res) {
      res.SetContent(req.PathParam("id") + ":" + req.PathParam("part"), "text/plain");
    });
    server_.Get("/items/{id}", [](const Request& req, Response& res) {
      res.SetContent("item " + req.PathParam("id"), "text/plain");
    });
    server_.Get("/alt/{which}", [](const Request& req, Response& res) {
      res.SetContent("alt " + req.PathParam("which"), "text/plain");
    });
    server_.Get("/other", [](const Request& req, Response& res) {
      res.SetContent("alt " + req.PathParam("which"), "text/plain");
    });
    for (const char* t : {"/opt/ac", "/opt/abc"}) {
      server_.Get(t, [](const Request&, Response& res) { res.SetContent("opt", "text/plain"); });
    }
    server_.Get("/query", [](const Request& req, Response& res) {
      res.SetContent(req.Query("q") + "|" + req.Query("name") + "|" +
                         std::to_string(req.QueryValues("x").size()),
                     "text/plain");
    });
    server_.Post("/echo", [](const Request& req, Response& res) {
      res.status = 201;
      res.SetHeader("X-Len", std::to_string(req.body.size()));
      res.SetContent(req.body, "application/octet-stream");
    });
    server_.Get("/teapot", [](const Request&, Response& res) {
      res.status = 418;  // empty body: the error handler fills it
    });
    server_.Get("/file", [this](const Request&, Response& res) {
      res.SetHeader("ETag", "\"abc\"");
      res.SetBodyView(data_, *data_, "application/octet-stream");
    });
    server_.Get("/slow", [](const Request&, Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      res.SetContent("slow", "text/plain");
    });
    server_.SetErrorHandler([](const Request& req, Response& res) {
      res.SetContent("{\"error\":" + std::to_string(res.status) + ",\"path\":\"" + req.path + "\"}",
                     "application/json");
    });
    server_.SetPayloadMaxLength(1024);
    serving_.emplace(server_);
    ASSERT_TRUE(serving_->ok());
    port_ = serving_->port();
  }
  void TearDown() override {
    serving_.reset();
    EXPECT_FALSE(server_.IsRunning());
  }
  TestClient Client() { return TestClient(port_); }

  Server server_;
  std::shared_ptr<std::string> data_;
  int port_ = -1;
  std::optional<testing::Serving> serving_;
};

TEST_F(HttpServerTest, RoutesWithTemplateParamsFirstMatchWins) {
  auto c = Client();
  auto r = c.Get("/items/abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "item abc");
  EXPECT_EQ(r->Header("Content-Type"), "text/plain");
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
  r = c.Get("/items/a/parts/42/more");  // whole-path match only
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Get("/items/a/");  // a trailing slash is one more (empty) segment
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(HttpServerTest, DecodesQueryParameters) {
  auto c = Client();
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
  EXPECT_EQ(r->Header("Content-Type"), "application/json");
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
  EXPECT_EQ(r->Header("X-Len"), "5");
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
  // A target that is not an origin-form URL (a bad percent-escape) → 400 as well.
  reply = RawExchange(port_, "GET /items/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "",
                      false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << reply;
  // HTTP/1.0 without keep-alive: answered, then closed.
  reply = RawExchange(port_, "GET /items/a HTTP/1.0\r\n\r\n", "", false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("Connection: close\r\n"), std::string::npos) << reply;
}

TEST_F(HttpServerTest, KeepAliveReusesOneConnection) {
  auto c = Client();
  for (int i = 0; i < 200; ++i) {
    auto r = c.Get("/items/" + std::to_string(i));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->body, "item " + std::to_string(i));
  }
  EXPECT_EQ(c.connects(), 1);
}

TEST_F(HttpServerTest, BodyViewWholeAndRange) {
  const std::string& data = *data_;
  auto c = Client();
  auto r = c.Get("/file");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, data);
  EXPECT_EQ(r->Header("ETag"), "\"abc\"");

  r = c.Get("/file", {{"Range", "bytes=10-19"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data.substr(10, 10));
  EXPECT_EQ(r->Header("Content-Range"), "bytes 10-19/100000");

  r = c.Get("/file", {{"Range", "bytes=99990-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data.substr(99990));
  EXPECT_EQ(r->Header("Content-Range"), "bytes 99990-99999/100000");

  r = c.Get("/file", {{"Range", "bytes=-5"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data.substr(data.size() - 5));

  r = c.Get("/file", {{"Range", "bytes=5000-200000"}});  // end clamped to the size
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data.substr(5000));

  r = c.Get("/file", {{"Range", "bytes=0-1, 5-6"}});  // several ranges: the whole body
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, data);
}

TEST_F(HttpServerTest, HeadAnswersLikeGetWithoutBody) {
  auto c = Client();
  auto r = c.Head("/items/abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Length"), "8");
  EXPECT_TRUE(r->body.empty());
  r = c.Head("/file");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Length"), "100000");
  EXPECT_TRUE(r->body.empty());
  r = c.Get("/items/abc");  // the connection is still in step
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "item abc");
  EXPECT_EQ(c.connects(), 1);
}

TEST_F(HttpServerTest, UnsatisfiableRangeIs416) {
  const std::string& data = *data_;
  auto c = Client();
  auto r = c.Get("/file", {{"Range", "bytes=100000-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->Header("Content-Range"), "bytes */100000");
  EXPECT_EQ(r->body, "{\"error\":416,\"path\":\"/file\"}");
  r = c.Get("/file", {{"Range", "pages=1-2"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  // Still usable afterwards.
  r = c.Get("/file", {{"Range", "bytes=0-0"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, data.substr(0, 1));
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  auto c = Client();
  auto r = c.Get("/items/a", {{"Connection", "close"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Connection"), "close");
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

/// A loopback connection to `port` whose reads give up after 10 s; -1 on failure.
int ConnectWithReadLimit(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval limit{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Reads until `s` holds a whole answer to GET /x (body "x"); false on EOF or error.
bool ReadAnswer(int fd, std::string& s) {
  char buf[4096];
  while (s.find("\r\n\r\nx") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    s.append(buf, static_cast<size_t>(n));
  }
  return true;
}

/// Seconds until the server closes `fd` (recv returns 0); -1 on an error or the 10 s limit.
double SecondsUntilClosed(int fd) {
  const auto start = std::chrono::steady_clock::now();
  char buf[256];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
  }
  if (n < 0) return -1;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(HttpServerStandalone, IdleKeepAliveConnectionsCloseAfterTheTimeoutCountedFromTheLastAnswer) {
  Server server;
  server.Get("/x", [](const Request&, Response& res) { res.SetContent("x", "text/plain"); });
  server.Get("/slow", [](const Request&, Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // longer than the timeout
    res.SetContent("x", "text/plain");
  });
  server.SetKeepAliveTimeout(1);
  int port = server.BindToAnyPort("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread th([&] { server.ListenAfterBind(); });
  while (!server.IsRunning()) std::this_thread::yield();

  // Requests 0.6 s apart keep the connection for longer than one timeout in all.
  int fd = ConnectWithReadLimit(port);
  ASSERT_GE(fd, 0);
  const std::string get = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(600));
    ASSERT_EQ(::send(fd, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
    std::string answer;
    ASSERT_TRUE(ReadAnswer(fd, answer)) << "request " << i << ": " << answer;
    EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  }
  // Then idle: closed about one timeout after the last answer.
  double idle = SecondsUntilClosed(fd);
  EXPECT_GE(idle, 0.8);
  EXPECT_LT(idle, 3.0);
  ::close(fd);

  // A connection that never sends anything is closed after the timeout too.
  fd = ConnectWithReadLimit(port);
  ASSERT_GE(fd, 0);
  idle = SecondsUntilClosed(fd);
  EXPECT_GE(idle, 0.8);
  EXPECT_LT(idle, 3.0);
  ::close(fd);

  // A handler running longer than the timeout is not cut off.
  fd = ConnectWithReadLimit(port);
  ASSERT_GE(fd, 0);
  const std::string slow = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, slow.data(), slow.size(), MSG_NOSIGNAL), static_cast<ssize_t>(slow.size()));
  std::string answer;
  EXPECT_TRUE(ReadAnswer(fd, answer)) << answer;
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  ::close(fd);

  server.Stop();
  th.join();
}

TEST(HttpServerStandalone, StopBeforeListenReturnsAndBindFailureIsReported) {
  Server a;
  int port = a.BindToAnyPort("127.0.0.1");
  ASSERT_GT(port, 0);
  Server b;
  EXPECT_FALSE(b.BindToPort("127.0.0.1", port));  // in use
  a.Stop();
  EXPECT_TRUE(a.ListenAfterBind());  // returns at once
  EXPECT_FALSE(a.IsRunning());
}

}  // namespace
}  // namespace da::http

namespace da::http {
namespace {

/// A server with POST /echo whose body-limit hook allows 1 MiB with `X-Key: good`, else 16
/// bytes, counting its calls.
struct HookedServer {
  Server server;
  std::atomic<int> hook_calls{0};
  std::optional<testing::Serving> serving;
  HookedServer() {
    server.Post("/echo", [](const Request& req, Response& res) {
      res.status = 201;
      res.SetContent(req.body, "text/plain");
    });
    server.Get("/ping", [](const Request&, Response& res) { res.SetContent("pong", "text/plain"); });
    server.SetErrorHandler([](const Request&, Response& res) {
      res.SetContent("{\"error\":" + std::to_string(res.status) + "}", "application/json");
    });
    server.SetPayloadMaxLength(1024 * 1024);
    server.SetBodyLimitHook([this](const RequestHead& head) -> size_t {
      ++hook_calls;
      return head.Header("x-key") == "good" && head.Method() == "POST" && head.Target() == "/echo" &&
                     head.PeerAddress() == "127.0.0.1"
                 ? 1024 * 1024
                 : 16;
    });
    serving.emplace(server);
  }
};

// Attack: an anonymous client announces a large body (or streams one) to make the server buffer
// it. The hook decides from the head; over its limit → 413 before any body byte is read.
TEST(HttpBodyLimitHook, RefusesFromTheHeadBeforeReadingTheBody) {
  HookedServer h;
  ASSERT_TRUE(h.serving->ok());
  const int port = h.serving->port();
  // The body is never sent: the answer can only come from the head.
  std::string reply = RawExchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", "", false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("{\"error\":413}"), std::string::npos) << reply;
  // Expect: 100-continue is answered 413, never 100 Continue.
  reply = RawExchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\nExpect: 100-continue\r\n\r\n", "",
                      false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply;
  // Chunked: cut at the limit.
  reply = RawExchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                      "20\r\n" + std::string(32, 'c') + "\r\n0\r\n\r\n", false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply;
  // Within the small limit, and with the key the big one (capped by the payload max).
  TestClient c(port);
  auto r = c.Post("/echo", std::string(16, 'a'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  reply = RawExchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nX-Key: good\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n",
                      std::string(5000, 'b'), false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 201 ", 0), 0u) << reply.substr(0, 200);
  reply = RawExchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nX-Key: good\r\nContent-Length: 2000000\r\n\r\n", "", false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply;
  // Requests without a body never reach the hook.
  const int calls = h.hook_calls.load();
  for (int i = 0; i < 3; ++i) {
    auto g = c.Get("/ping");
    ASSERT_TRUE(g);
    EXPECT_EQ(g->status, 200);
  }
  EXPECT_EQ(h.hook_calls.load(), calls);
}

/// A connected loopback socket to `port` (or -1).
int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Sends GET /ping on `fd` and returns the first bytes answered ("" on EOF).
std::string Ping(int fd) {
  const std::string req = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  char buf[1024];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Attack: one address opens connections until the server runs out of descriptors or threads.
// Past the cap a new connection is answered 503 and closed; an exempt address is not counted.
TEST(HttpConnectionCap, RefusesConnectionsPastThePerClientCap) {
  for (bool exempt : {false, true}) {
    Server server;
    server.Get("/ping", [](const Request&, Response& res) { res.SetContent("pong", "text/plain"); });
    TrustedProxies proxies;
    if (exempt) proxies = *ParseTrustedProxies("127.0.0.0/8");
    server.SetMaxConnectionsPerClient(2, proxies);
    testing::Serving serving(server);
    ASSERT_TRUE(serving.ok());
    int a = Connect(serving.port()), b = Connect(serving.port());
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    EXPECT_EQ(Ping(a).rfind("HTTP/1.1 200", 0), 0u);
    EXPECT_EQ(Ping(b).rfind("HTTP/1.1 200", 0), 0u);
    int c = Connect(serving.port());
    ASSERT_GE(c, 0);
    if (exempt) {
      EXPECT_EQ(Ping(c).rfind("HTTP/1.1 200", 0), 0u) << exempt;
    } else {
      char buf[1024];
      ssize_t n = ::recv(c, buf, sizeof buf, 0);  // the refusal comes unasked
      std::string third = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      EXPECT_EQ(third.rfind("HTTP/1.1 503", 0), 0u) << third;
      EXPECT_NE(third.find("Connection: close"), std::string::npos) << third;
      // After one closes, the address is served again (polled until the server noticed).
      ::close(a);
      a = -1;
      bool served = false;
      for (int i = 0; i < 200 && !served; ++i) {
        int d = Connect(serving.port());
        served = d >= 0 && Ping(d).rfind("HTTP/1.1 200", 0) == 0;
        if (d >= 0) ::close(d);
        if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      EXPECT_TRUE(served);
    }
    for (int fd : {a, b, c}) {
      if (fd >= 0) ::close(fd);
    }
  }
}

}  // namespace
}  // namespace da::http
