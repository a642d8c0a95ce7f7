// The worker pool alone, and through the engine: long routes off the io threads, a bounded
// queue answered 503, cheap routes served while long ones run.
#include "http/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "http/server.h"
#include "http/testing/test_client.h"

namespace da::http {
namespace {

TEST(WorkerPool, RunsTasksAndBoundsTheQueue) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1, 1);
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.set_value();
      released.wait();
      ++ran;
    }));
    started.get_future().wait();  // the one thread is busy
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));   // queued
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));  // queue full
    release.set_value();
  }  // the destructor runs what was queued, then joins
  EXPECT_EQ(ran.load(), 2);
}

class WorkerRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/cheap", [](const Request&, Response& res) { res.SetContent("cheap", "text/plain"); });
    server_.Get(
        "/long",
        [this](const Request&, Response& res) {
          if (in_long_.fetch_add(1) == 0) first_started_.set_value();
          released_.wait();
          res.SetContent("long on " + std::string(io_thread_ == std::this_thread::get_id() ? "io" : "worker"),
                         "text/plain");
        },
        Execution::kWorker);
    server_.SetErrorHandler([](const Request&, Response& res) {
      res.SetContent("{\"error\":" + std::to_string(res.status) + "}", "application/json");
    });
    server_.SetWorkers(1, 1);
    port_ = server_.BindToAnyPort("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] {
      io_thread_ = std::this_thread::get_id();
      server_.ListenAfterBind();
    });
    while (!server_.IsRunning()) std::this_thread::yield();
  }
  void TearDown() override {
    if (!released_set_) release_.set_value();
    server_.Stop();
    thread_.join();
  }

  Server server_;
  int port_ = -1;
  std::thread thread_;
  std::thread::id io_thread_;
  std::atomic<int> in_long_{0};
  std::promise<void> first_started_;
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  bool released_set_ = false;
};

TEST_F(WorkerRoutesTest, SlowLongHandlerDoesNotBlockCheapOnesAndAFullQueueIs503) {
  auto get_long = [this] { return testing::TestClient(port_).Get("/long"); };
  // 1: occupies the one worker.
  auto first = std::async(std::launch::async, get_long);
  first_started_.get_future().wait();
  // 2 and 3: one waits in the queue (bound 1), the other finds it full → 503 at once.
  auto second = std::async(std::launch::async, get_long);
  auto third = std::async(std::launch::async, get_long);
  // Cheap routes are served on the io threads meanwhile.
  testing::TestClient c(port_);
  auto cheap = c.Get("/cheap");
  ASSERT_TRUE(cheap);
  EXPECT_EQ(cheap->status, 200);
  EXPECT_EQ(cheap->body, "cheap");
  // The refused one answers without waiting for the release.
  std::optional<testing::Reply> refused;
  std::future<std::optional<testing::Reply>>* queued = nullptr;
  while (!refused) {
    if (second.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready) {
      refused = second.get();
      queued = &third;
    } else if (third.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready) {
      refused = third.get();
      queued = &second;
    }
  }
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->body, "{\"error\":503}");
  EXPECT_EQ(refused->Header("Retry-After"), "1");
  EXPECT_EQ(c.Get("/cheap")->body, "cheap");
  release_.set_value();
  released_set_ = true;
  auto r1 = first.get();
  auto r2 = queued->get();
  ASSERT_TRUE(r1);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "long on worker");
  EXPECT_EQ(r2->body, "long on worker");
}

// Attack: flooding POST /api/query to pin the threads that check passwords (both used to share
// the worker pool). Query routes (kQuery) have their own pool: with every query thread busy
// and the query queue full, a worker route (a password check) still runs at once.
TEST(QueryRoutesTest, BusyQueriesLeaveTheWorkerPoolFree) {
  Server server;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> query_started;
  std::atomic<int> queries{0};
  server.Post(
      "/query",
      [&](const Request&, Response& res) {
        if (queries.fetch_add(1) == 0) query_started.set_value();
        released.wait();
        res.SetContent("query", "text/plain");
      },
      Execution::kQuery);
  server.Post(
      "/login", [](const Request&, Response& res) { res.SetContent("login", "text/plain"); },
      Execution::kWorker);
  server.SetWorkers(1, 1);
  server.SetQueryWorkers(1, 1);
  const int port = server.BindToAnyPort("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread io([&] { server.ListenAfterBind(); });
  while (!server.IsRunning()) std::this_thread::yield();

  auto post_query = [port] { return testing::TestClient(port).Post("/query", "{}", "application/json"); };
  auto first = std::async(std::launch::async, post_query);  // occupies the query thread
  query_started.get_future().wait();
  // Of two more, one waits in the query queue (bound 1), the other finds it full: 503 at once.
  auto second = std::async(std::launch::async, post_query);
  auto third = std::async(std::launch::async, post_query);
  std::optional<testing::Reply> refused;
  std::future<std::optional<testing::Reply>>* queued = nullptr;
  while (queued == nullptr) {
    if (second.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready) {
      refused = second.get();
      queued = &third;
    } else if (third.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready) {
      refused = third.get();
      queued = &second;
    }
  }
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  // The password check runs on the worker pool meanwhile.
  auto login = testing::TestClient(port).Post("/login", "{}", "application/json");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 200);
  EXPECT_EQ(login->body, "login");
  release.set_value();
  EXPECT_EQ(first.get()->body, "query");
  EXPECT_EQ(queued->get()->body, "query");
  server.Stop();
  io.join();
}

}  // namespace
}  // namespace da::http
