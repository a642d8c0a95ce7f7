#include "server/http_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.h"

namespace da::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Route {
  std::string method;
  std::regex regex;
  HttpServer::Handler handler;
  /// The pattern's leading characters without regex syntax: a path not starting with them
  /// cannot match, so the (slow) std::regex is not run for it.
  std::string literal_prefix;
  /// The whole pattern is literal: only a path equal to literal_prefix matches.
  bool literal = false;
};

/// Splits off the literal prefix of an ECMAScript regex (up to its first special character).
void SetLiteralPrefix(Route& r, const std::string& pattern) {
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    if (std::string_view("\\^$.|?*+()[]{}").find(pattern[i]) != std::string_view::npos) break;
  }
  // A quantifier applies to the character before it, which is then not literal.
  if (i < pattern.size() && i > 0 &&
      std::string_view("?*{").find(pattern[i]) != std::string_view::npos) {
    --i;
  }
  // An alternation may make any prefix optional: no shortcut then.
  if (pattern.find('|') != std::string::npos) i = 0;
  r.literal_prefix = pattern.substr(0, i);
  r.literal = i == pattern.size();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `s` (invalid escapes are kept as is); '+' → ' ' when `plus_is_space`.
std::string DecodeUrl(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

/// Parses `a=1&b=x+y` into `params` (keys and values percent-decoded, '+' → space).
void ParseQuery(std::string_view q, httplib::Params& params) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key = DecodeUrl(part.substr(0, eq), true);
    std::string val = eq == std::string_view::npos ? "" : DecodeUrl(part.substr(eq + 1), true);
    params.emplace(std::move(key), std::move(val));
  }
}

bool ParseNumber(std::string_view s, ssize_t& out) {
  if (s.empty() || s.size() > 18) return false;
  ssize_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Parses `bytes=a-b, c-, -n` into httplib's Ranges (-1 = absent). False when malformed.
bool ParseRange(std::string_view v, httplib::Ranges& ranges) {
  v = Trim(v);
  constexpr std::string_view kPrefix = "bytes=";
  if (v.substr(0, kPrefix.size()) != kPrefix) return false;
  v.remove_prefix(kPrefix.size());
  while (true) {
    size_t comma = v.find(',');
    std::string_view part = Trim(v.substr(0, comma));
    size_t dash = part.find('-');
    if (dash == std::string_view::npos) return false;
    std::string_view a = Trim(part.substr(0, dash));
    std::string_view b = Trim(part.substr(dash + 1));
    ssize_t first = -1, second = -1;
    if (!a.empty() && !ParseNumber(a, first)) return false;
    if (!b.empty() && !ParseNumber(b, second)) return false;
    if (a.empty() && b.empty()) return false;
    if (first != -1 && second != -1 && second < first) return false;
    ranges.emplace_back(first, second);
    if (comma == std::string_view::npos) break;
    v = v.substr(comma + 1);
  }
  return !ranges.empty();
}

/// Resolves one range against a body of `size` bytes into [offset, offset + length).
/// False when unsatisfiable.
bool ResolveRange(const httplib::Range& r, size_t size, size_t& offset, size_t& length) {
  if (size == 0) return false;
  ssize_t first = r.first, last = r.second;
  auto ssize = static_cast<ssize_t>(size);
  if (first == -1) {  // suffix: the last `last` bytes
    if (last <= 0) return false;
    first = std::max<ssize_t>(0, ssize - last);
    last = ssize - 1;
  } else {
    if (first >= ssize) return false;
    if (last == -1 || last >= ssize) last = ssize - 1;
  }
  offset = static_cast<size_t>(first);
  length = static_cast<size_t>(last - first + 1);
  return true;
}

std::string ContentRange(size_t offset, size_t length, size_t size) {
  return "bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) + "/" +
         std::to_string(size);
}

/// Writes all of [data, data + n) to the non-blocking socket `fd`, waiting up to `timeout_ms`
/// for each chunk to drain. False on error or timeout.
bool SendAll(int fd, const char* data, size_t n, int timeout_ms) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      data += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      int rc = ::poll(&p, 1, timeout_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return false;
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return false;
      continue;
    }
    return false;
  }
  return true;
}

constexpr int kSendTimeoutMs = 60 * 1000;
/// Deadline for reading a request body once its header arrived.
constexpr int kBodyTimeoutSec = 120;

}  // namespace

struct HttpServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<Route> routes;
  Handler error_handler;
  size_t payload_max = 16 * 1024 * 1024;
  std::chrono::seconds keep_alive_timeout{5};
  std::atomic<bool> running{false};
  std::atomic<bool> stopped{false};
  bool bound = false;

  void Accept();
  /// Calls the error handler for an error status with an empty body.
  void ApplyErrorHandler(const httplib::Request& req, httplib::Response& res) const {
    if (error_handler && res.status >= 400 && res.body.empty() && !res.content_provider_) {
      error_handler(req, res);
    }
  }
  /// Routes `req` (whose method/path/headers/body are filled) into `res`.
  void Dispatch(httplib::Request& req, httplib::Response& res) const {
    for (const Route& r : routes) {
      // HEAD is answered by the GET route, without the body.
      if (r.method != req.method && !(req.method == "HEAD" && r.method == "GET")) continue;
      if (r.literal ? req.path != r.literal_prefix : !req.path.starts_with(r.literal_prefix)) {
        continue;
      }
      if (!std::regex_match(req.path, req.matches, r.regex)) continue;
      r.handler(req, res);
      return;
    }
    res.status = 404;
  }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& srv) : stream_(std::move(socket)), srv_(srv) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      remote_addr_ = ep.address().to_string();
      remote_port_ = ep.port();
    }
  }

  void Start() { DoRead(); }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(srv_.payload_max);
    stream_.expires_after(srv_.keep_alive_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  /// After the header: done for requests without a body; otherwise answers
  /// `Expect: 100-continue` and reads the body (with a longer deadline than the idle one).
  void OnHeader(beast::error_code ec, size_t) {
    if (ec || parser_->is_done()) return OnRead(ec, 0);
    auto& msg = parser_->get();
    auto expect = msg.find(http::field::expect);
    if (expect != msg.end() && beast::iequals(expect->value(), "100-continue")) {
      static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
      if (!SendAll(stream_.socket().native_handle(), k100.data(), k100.size(), kSendTimeoutMs)) {
        return Close();
      }
    }
    stream_.expires_after(std::chrono::seconds(kBodyTimeoutSec));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) return Shutdown();
    if (ec == http::error::body_limit) return RespondError(413, /*with_request=*/true);
    if (ec) {
      // A parse error from a client that sent something → 400; network errors, timeouts and
      // a peer closing mid-request just close.
      static const beast::error_code kHttpError = http::error::bad_method;
      if (ec.category() == kHttpError.category() && ec != http::error::partial_message) {
        return RespondError(400, /*with_request=*/false);
      }
      return Close();
    }
    stream_.expires_never();
    Handle();
  }

  /// Fills the request line and headers of `req` from the parser's message.
  void FillRequest(httplib::Request& req, http::request<http::string_body>& msg) {
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.version = msg.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
    std::string_view target = msg.target();
    size_t q = target.find('?');
    req.path = DecodeUrl(target.substr(0, q), false);
    if (q != std::string_view::npos) ParseQuery(target.substr(q + 1), req.params);
    for (const auto& f : msg) {
      req.headers.emplace(std::string(f.name_string()), std::string(f.value()));
    }
    req.remote_addr = remote_addr_;
    req.remote_port = remote_port_;
  }

  void Handle() {
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    http10_ = msg.version() == 10;
    head_ = msg.method() == http::verb::head;
    auto req = std::make_unique<httplib::Request>();
    FillRequest(*req, msg);
    req->body = std::move(msg.body());
    httplib::Response res;
    bool bad_range = false;
    auto range = req->headers.find("Range");
    if (range != req->headers.end()) {
      if (!ParseRange(range->second, req->ranges)) {
        bad_range = true;
        req->ranges.clear();
      } else if (req->ranges.size() > 1) {
        req->ranges.clear();  // several ranges: ignored, the whole body is sent
      }
    }
    if (bad_range) {
      res.status = 416;
    } else {
      try {
        srv_.Dispatch(*req, res);
      } catch (const std::exception& e) {
        spdlog::error("HTTP handler for {} {} threw: {}", req->method, req->path, e.what());
        res = httplib::Response();
        res.status = 500;
      }
    }
    if (res.content_provider_) return WriteProvided(*req, res);
    if (res.status == -1) {
      res.status = 200;
      if (req->ranges.size() == 1 && !res.body.empty()) {
        size_t offset = 0, length = 0;
        size_t size = res.body.size();
        if (ResolveRange(req->ranges[0], size, offset, length)) {
          res.status = 206;
          res.body = res.body.substr(offset, length);
          res.set_header("Content-Range", ContentRange(offset, length, size));
        } else {
          res.status = 416;
          res.body.clear();
          res.set_header("Content-Range", "bytes */" + std::to_string(size));
        }
      }
    }
    WriteResponse(*req, res);
  }

  void SetHeaders(http::response_header<>& h, const httplib::Response& res) {
    for (const auto& [k, v] : res.headers) h.insert(k, v);
  }

  void WriteResponse(const httplib::Request& req, httplib::Response& res) {
    srv_.ApplyErrorHandler(req, res);
    Serialize(res);
    Send();
  }

  /// Serializes `res` (status line, headers, Content-Length, Connection, body) into wbuf_.
  void Serialize(const httplib::Response& res) {
    const bool no_body = res.status == 304 || res.status == 204 || res.status < 200;
    wbuf_.clear();
    wbuf_.reserve(256 + res.body.size());
    wbuf_ += "HTTP/1.1 ";
    wbuf_ += std::to_string(res.status);
    wbuf_ += ' ';
    wbuf_ += std::string_view(http::obsolete_reason(http::int_to_status(
        static_cast<unsigned>(res.status))));
    wbuf_ += "\r\n";
    bool has_content_type = false;
    for (const auto& [k, v] : res.headers) {
      if (beast::iequals(k, "Content-Length") || beast::iequals(k, "Connection") ||
          beast::iequals(k, "Transfer-Encoding")) {
        continue;
      }
      if (beast::iequals(k, "Content-Type")) has_content_type = true;
      wbuf_ += k;
      wbuf_ += ": ";
      wbuf_ += v;
      wbuf_ += "\r\n";
    }
    if (!no_body) {
      if (!res.body.empty() && !has_content_type) wbuf_ += "Content-Type: text/plain\r\n";
      wbuf_ += "Content-Length: ";
      wbuf_ += std::to_string(res.body.size());
      wbuf_ += "\r\n";
    }
    if (!keep_alive_) {
      wbuf_ += "Connection: close\r\n";
    } else if (http10_) {
      wbuf_ += "Connection: keep-alive\r\n";
    }
    wbuf_ += "\r\n";
    if (!no_body && !head_) wbuf_ += res.body;
  }

  /// Writes wbuf_: directly while the socket takes it (small answers: the usual case, without
  /// a trip through the io queue), the rest asynchronously.
  void Send() {
    const int fd = stream_.socket().native_handle();
    size_t off = 0;
    while (off < wbuf_.size()) {
      ssize_t w = ::send(fd, wbuf_.data() + off, wbuf_.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        off += static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return Close();
    }
    if (off == wbuf_.size()) return AfterWrite();
    stream_.expires_after(std::chrono::seconds(60));
    asio::async_write(stream_, asio::buffer(wbuf_.data() + off, wbuf_.size() - off),
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (ec) return Close();
    AfterWrite();
  }

  void AfterWrite() {
    if (wbuf_.capacity() > (1u << 20)) std::string().swap(wbuf_);  // do not pin big answers
    if (!keep_alive_ || srv_.stopped.load(std::memory_order_relaxed)) return Shutdown();
    DoRead();
  }

  /// Writes a content-provider response synchronously on this io thread.
  void WriteProvided(const httplib::Request& req, httplib::Response& res) {
    const bool chunked = res.is_chunked_content_provider_ || res.content_length_ == 0;
    size_t size = res.content_length_;
    size_t offset = 0, length = size;
    if (res.status == -1) res.status = 200;
    if (!chunked && req.ranges.size() == 1) {
      if (ResolveRange(req.ranges[0], size, offset, length)) {
        res.status = 206;
        res.set_header("Content-Range", ContentRange(offset, length, size));
      } else {
        // Unsatisfiable: no body, the error handler may describe it.
        httplib::Response err;
        err.status = 416;
        err.headers = res.headers;
        err.headers.erase("Content-Type");
        err.set_header("Content-Range", "bytes */" + std::to_string(size));
        return WriteResponse(req, err);
      }
    }
    http::response<http::empty_body> h;
    h.version(11);
    h.result(static_cast<unsigned>(res.status));
    SetHeaders(h.base(), res);
    if (chunked) {
      h.set(http::field::transfer_encoding, "chunked");
    } else {
      h.content_length(length);
    }
    h.keep_alive(keep_alive_);
    std::ostringstream os;
    os << h.base();
    std::string head = os.str();
    int fd = stream_.socket().native_handle();
    bool ok = SendAll(fd, head.data(), head.size(), kSendTimeoutMs);
    if (head_) length = 0;  // HEAD: the header only

    httplib::DataSink sink;
    size_t written = 0;
    bool done = false;
    sink.is_writable = [&ok] { return ok; };
    if (chunked) {
      sink.write = [&](const char* d, size_t n) {
        if (!ok) return false;
        if (n == 0) return true;
        char prefix[32];
        int len = std::snprintf(prefix, sizeof prefix, "%zx\r\n", n);
        ok = SendAll(fd, prefix, static_cast<size_t>(len), kSendTimeoutMs) &&
             SendAll(fd, d, n, kSendTimeoutMs) && SendAll(fd, "\r\n", 2, kSendTimeoutMs);
        written += n;
        return ok;
      };
      sink.done = [&] { done = true; };
      while (ok && !done) {
        if (srv_.stopped.load(std::memory_order_relaxed)) {
          ok = false;
          break;
        }
        size_t before = written;
        if (!res.content_provider_(written, 0, sink)) {
          ok = false;
          break;
        }
        if (!done && written == before) {
          // A provider making no progress would spin; give the others a turn.
          std::this_thread::yield();
        }
      }
      if (ok) ok = SendAll(fd, "0\r\n\r\n", 5, kSendTimeoutMs);
    } else {
      sink.write = [&](const char* d, size_t n) {
        if (!ok) return false;
        n = std::min(n, length - written);
        ok = SendAll(fd, d, n, kSendTimeoutMs);
        written += n;
        return ok;
      };
      sink.done = [&] { done = true; };
      while (ok && written < length) {
        if (srv_.stopped.load(std::memory_order_relaxed)) {
          ok = false;  // shutting down: abandon the transfer (the client sees it cut short)
          break;
        }
        size_t before = written;
        if (!res.content_provider_(offset + written, length - written, sink) ||
            written == before) {
          ok = false;
        }
      }
    }
    res.content_provider_success_ = ok;
    if (!ok) return Close();
    if (!keep_alive_ || srv_.stopped.load(std::memory_order_relaxed)) return Shutdown();
    // Continue from the io loop rather than recursing.
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  /// Answers an error without a routed request (400, 413) and closes the connection after
  /// draining what the client still sends (so it reads the answer rather than a reset).
  void RespondError(int status, bool with_request) {
    keep_alive_ = false;
    auto req = std::make_unique<httplib::Request>();
    if (with_request && parser_) {
      FillRequest(*req, parser_->get());
    }
    httplib::Response res;
    res.status = status;
    srv_.ApplyErrorHandler(*req, res);
    res_.emplace();
    auto& out = *res_;
    out.version(11);
    out.result(static_cast<unsigned>(status));
    SetHeaders(out.base(), res);
    if (!res.body.empty() && out.find(http::field::content_type) == out.end()) {
      out.set(http::field::content_type, "text/plain");
    }
    out.body() = std::move(res.body);
    out.content_length(out.body().size());
    out.keep_alive(false);
    stream_.expires_after(std::chrono::seconds(10));
    http::async_write(stream_, out, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->res_.reset();
      if (ec) return self->Close();
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->Drain();
    });
  }

  /// Reads and discards until the peer closes, an error, or the stream's deadline.
  void Drain() {
    drain_buf_.resize(64 * 1024);
    stream_.async_read_some(asio::buffer(drain_buf_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  void Shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& srv_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::vector<char> drain_buf_;
  std::string wbuf_;  ///< the serialized answer being written
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_ = false;  ///< a HEAD request: headers as for GET, no body
  std::string remote_addr_;
  int remote_port_ = -1;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), *this)->Start();
    } else if (ec == asio::error::operation_aborted) {
      return;
    } else {
      spdlog::warn("HTTP accept failed: {}", ec.message());
      if (ec == asio::error::no_descriptors) {
        // Out of file descriptors: back off briefly instead of spinning.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    Accept();
  });
}

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() { stop(); }

namespace {
HttpServer& AddRoute(HttpServer& self, std::vector<Route>& routes, const char* method,
                     const std::string& pattern, HttpServer::Handler handler) {
  Route& r = routes.emplace_back();
  r.method = method;
  r.regex = std::regex(pattern);
  r.handler = std::move(handler);
  SetLiteralPrefix(r, pattern);
  return self;
}
}  // namespace

HttpServer& HttpServer::Get(const std::string& p, Handler h) {
  return AddRoute(*this, impl_->routes, "GET", p, std::move(h));
}
HttpServer& HttpServer::Post(const std::string& p, Handler h) {
  return AddRoute(*this, impl_->routes, "POST", p, std::move(h));
}
HttpServer& HttpServer::Put(const std::string& p, Handler h) {
  return AddRoute(*this, impl_->routes, "PUT", p, std::move(h));
}
HttpServer& HttpServer::Delete(const std::string& p, Handler h) {
  return AddRoute(*this, impl_->routes, "DELETE", p, std::move(h));
}
HttpServer& HttpServer::Patch(const std::string& p, Handler h) {
  return AddRoute(*this, impl_->routes, "PATCH", p, std::move(h));
}

HttpServer& HttpServer::set_error_handler(Handler handler) {
  impl_->error_handler = std::move(handler);
  return *this;
}

HttpServer& HttpServer::set_payload_max_length(size_t bytes) {
  impl_->payload_max = bytes;
  return *this;
}

HttpServer& HttpServer::set_keep_alive_timeout(int seconds) {
  impl_->keep_alive_timeout = std::chrono::seconds(seconds);
  return *this;
}

bool HttpServer::bind_to_port(const std::string& host, int port) {
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(host, std::to_string(port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) return false;
  tcp::endpoint ep = results.begin()->endpoint();
  auto& a = impl_->acceptor;
  if (a.is_open()) a.close(ec);
  a.open(ep.protocol(), ec);
  if (ec) return false;
  a.set_option(asio::socket_base::reuse_address(true), ec);
  a.bind(ep, ec);
  if (ec) {
    a.close(ec);
    return false;
  }
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    a.close(ec);
    return false;
  }
  impl_->bound = true;
  return true;
}

int HttpServer::bind_to_any_port(const std::string& host) {
  if (!bind_to_port(host, 0)) return -1;
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  if (ec) return -1;
  return ep.port();
}

bool HttpServer::listen_after_bind() {
  if (!impl_->bound || impl_->stopped.load()) return impl_->bound;
  impl_->running = true;
  impl_->Accept();
  unsigned n = std::max(16u, 8 * std::thread::hardware_concurrency());
  if (const char* env = std::getenv("DA_HTTP_IO_THREADS"); env != nullptr && std::atoi(env) > 0) {
    n = static_cast<unsigned>(std::atoi(env));
  }
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  auto run = [this] {
    for (;;) {
      try {
        impl_->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("HTTP io thread: uncaught exception: {}", e.what());
      }
    }
  };
  for (unsigned i = 1; i < n; ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
  impl_->running = false;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  return true;
}

void HttpServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->running = false;
  impl_->ioc.stop();
}

bool HttpServer::is_running() const { return impl_->running.load(); }

}  // namespace da::server
