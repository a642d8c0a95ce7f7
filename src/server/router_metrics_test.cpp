// Router::Wrap records every request in the router's metrics, over real HTTP on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include "http/testing/serving.h"
#include "http/testing/test_client.h"
#include "server/router.h"

namespace da::server {
namespace {

class RouterMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_ = std::make_unique<Router>(server_, [](const std::string& token, const std::string&) -> Result<state::Principal> {
      if (token == "good") return state::Principal{"u1", "u@x", false, "t1", "pat", ""};
      return Unauthenticated("invalid token");
    });
    router_->Get("/items/{id}", AccessLevel::kAuthenticated,
                 [](const RequestContext& rc, const http::Request& req, http::Response& res) {
                   if (req.PathParam("id") == "missing") {
                     return WriteError(res, NotFound("no such item"), rc.request_id);
                   }
                   WriteJson(res, 200, {{"id", req.PathParam("id")}});
                 });
    router_->Get("/pub", AccessLevel::kPublic,
                 [](const RequestContext&, const http::Request&, http::Response& res) {
                   res.SetContent("ok", "text/plain");  // status left unset: the engine sends 200
                 });
    router_->Get("/admin", AccessLevel::kAdmin,
                 [](const RequestContext&, const http::Request&, http::Response& res) {
                   res.SetContent("secret", "text/plain");
                 });
    router_->Post("/boom", AccessLevel::kPublic,
                  [](const RequestContext&, const http::Request&, http::Response&) {
                    throw std::runtime_error("kaboom");
                  });
    serving_.emplace(server_);
    ASSERT_TRUE(serving_->ok());
    port_ = serving_->port();
  }
  void TearDown() override {
    serving_.reset();
  }

  uint64_t Requests(const std::string& route, const std::string& method, const std::string& status) {
    uint64_t value = 0;
    for (const auto& f : router_->metrics().Collect()) {
      if (f.name != "da_http_requests_total") continue;
      for (const auto& m : f.metric) {
        if (m.label == std::vector<prometheus::ClientMetric::Label>{
                           {"route", route}, {"method", method}, {"status", status}}) {
          value = static_cast<uint64_t>(m.counter.value);
        }
      }
    }
    return value;
  }
  uint64_t DurationCount(const std::string& route) {
    for (const auto& f : router_->metrics().Collect()) {
      if (f.name != "da_http_request_duration_seconds") continue;
      for (const auto& m : f.metric) {
        if (m.label.at(0).value == route) return m.histogram.sample_count;
      }
    }
    return 0;
  }

  http::Server server_;
  std::unique_ptr<Router> router_;
  std::optional<http::testing::Serving> serving_;
  int port_ = 0;
};

TEST_F(RouterMetricsTest, CountsByPatternMethodAndStatus) {
  http::testing::TestClient c(port_);
  const std::vector<std::pair<std::string, std::string>> good = {{"Authorization", "Bearer good"}};
  for (const char* id : {"a", "b", "c"}) {
    auto r = c.Get(std::string("/items/") + id, good);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  auto missing = c.Get("/items/missing", good);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto no_token = c.Get("/items/a");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  auto bad_token = c.Get("/items/a", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(bad_token);
  EXPECT_EQ(bad_token->status, 401);
  auto not_admin = c.Get("/admin", good);
  ASSERT_TRUE(not_admin);
  EXPECT_EQ(not_admin->status, 403);
  auto boom = c.Post("/boom", "", "application/json");
  ASSERT_TRUE(boom);
  EXPECT_EQ(boom->status, 500);
  auto pub = c.Get("/pub");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->status, 200);
  auto unrouted = c.Get("/nowhere");
  ASSERT_TRUE(unrouted);
  EXPECT_EQ(unrouted->status, 404);

  // Labelled by the route template, never the raw path.
  EXPECT_EQ(Requests("/items/{id}", "GET", "200"), 3u);
  EXPECT_EQ(Requests("/items/{id}", "GET", "404"), 1u);
  EXPECT_EQ(Requests("/items/{id}", "GET", "401"), 2u);
  EXPECT_EQ(Requests("/admin", "GET", "403"), 1u);
  EXPECT_EQ(Requests("/boom", "POST", "500"), 1u);
  EXPECT_EQ(Requests("/pub", "GET", "200"), 1u);
  EXPECT_EQ(DurationCount("/items/{id}"), 6u);
  EXPECT_EQ(DurationCount("/boom"), 1u);
  for (const auto& f : router_->metrics().Collect()) {
    for (const auto& m : f.metric) {
      for (const auto& l : m.label) {
        EXPECT_EQ(l.value.find("/items/a"), std::string::npos) << "raw path leaked into " << f.name;
        EXPECT_NE(l.value, "/nowhere");
      }
    }
  }
}

TEST_F(RouterMetricsTest, ConcurrentRequestsAreCountedExactly) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, &ok] {
      http::testing::TestClient c(port_);
      for (int i = 0; i < kPerThread; ++i) {
        auto r = c.Get("/pub");
        if (r && r->status == 200) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(Requests("/pub", "GET", "200"), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(DurationCount("/pub"), uint64_t{kThreads * kPerThread});
}

}  // namespace
}  // namespace da::server
