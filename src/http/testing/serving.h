#pragma once
/// Serves an http::Server on a free loopback port from a thread of its own, for as long as the
/// Serving lives (tests only): the constructor returns once the server accepts connections.
#include <chrono>
#include <thread>

#include "http/server.h"

namespace da::http::testing {

class Serving {
 public:
  /// Binds 127.0.0.1 on a free port and starts listening; ok() is false when binding failed or
  /// the server did not start within 10 s. Register routes on `server` before.
  explicit Serving(Server& server) : server_(server) {
    port_ = server_.BindToAnyPort("127.0.0.1");
    if (port_ <= 0) return;
    thread_ = std::thread([this] { server_.ListenAfterBind(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.IsRunning() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
  /// Stops the server and joins its thread.
  ~Serving() {
    server_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  Serving(const Serving&) = delete;
  Serving& operator=(const Serving&) = delete;

  bool ok() const { return port_ > 0 && server_.IsRunning(); }
  /// The bound port (0 when binding failed).
  int port() const { return port_; }

 private:
  Server& server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace da::http::testing
