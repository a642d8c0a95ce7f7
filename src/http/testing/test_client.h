#pragma once
/// A small blocking HTTP/1.1 client over Boost.Beast for the engine's tests: keep-alive on one
/// socket (reconnecting after `Connection: close` or an error), counting its connections.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/message.h"

namespace da::http::testing {

struct Reply {
  int status = 0;
  std::string body;
  Headers headers;
  std::string Header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestClient {
 public:
  explicit TestClient(int port) : port_(port) {}

  /// Sends one request; nullopt on a network error. `headers` are added as given.
  std::optional<Reply> Send(const std::string& method, const std::string& target,
                            std::vector<std::pair<std::string, std::string>> headers = {},
                            const std::string& body = "",
                            const std::string& content_type = "") {
    namespace bhttp = boost::beast::http;
    for (int attempt = 0; attempt < 2; ++attempt) {
      boost::beast::error_code ec;
      if (!socket_ || !socket_->is_open()) {
        socket_.emplace(ioc_);
        socket_->connect({boost::asio::ip::make_address("127.0.0.1"),
                          static_cast<unsigned short>(port_)}, ec);
        if (ec) return std::nullopt;
        ++connects_;
        buffer_.clear();
      }
      bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
      req.set(bhttp::field::host, "127.0.0.1");
      for (auto& [k, v] : headers) req.insert(k, v);
      if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
      req.body() = body;
      if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
      bhttp::write(*socket_, req, ec);
      if (ec) {
        socket_.reset();
        continue;  // the server closed an idle connection: once more on a new one
      }
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(1 << 30);
      if (method == "HEAD") parser.skip(true);
      bhttp::read(*socket_, buffer_, parser, ec);
      if (ec) {
        socket_.reset();
        if (attempt == 0 && (ec == bhttp::error::end_of_stream)) continue;
        return std::nullopt;
      }
      auto& msg = parser.get();
      Reply r;
      r.status = static_cast<int>(msg.result_int());
      r.body = std::move(msg.body());
      for (const auto& f : msg) r.headers.emplace(std::string(f.name_string()), std::string(f.value()));
      if (!msg.keep_alive()) socket_.reset();
      return r;
    }
    return std::nullopt;
  }

  std::optional<Reply> Get(const std::string& target,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Send("GET", target, std::move(headers));
  }
  std::optional<Reply> Head(const std::string& target) { return Send("HEAD", target); }
  std::optional<Reply> Post(const std::string& target, const std::string& body,
                            const std::string& content_type) {
    return Send("POST", target, {}, body, content_type);
  }

  /// TCP connections opened so far.
  int connects() const { return connects_; }

 private:
  int port_;
  boost::asio::io_context ioc_;
  std::optional<boost::asio::ip::tcp::socket> socket_;
  boost::beast::flat_buffer buffer_;
  int connects_ = 0;
};

}  // namespace da::http::testing
