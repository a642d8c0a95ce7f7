#include "http/server.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.h"
#include "http/range.h"
#include "http/response_head.h"
#include "http/url.h"
#include "http/worker_pool.h"

namespace da::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

/// Deadline for reading a request body once its header arrived.
constexpr auto kBodyTimeout = std::chrono::seconds(120);
/// Deadline for each step of writing an answer (a slow reader gets this long per write).
constexpr auto kWriteStepTimeout = std::chrono::seconds(60);

struct RouteEntry {
  Handler handler;
  Execution execution = Execution::kInline;
};

}  // namespace

struct Server::Impl {
  // Declared before ioc: sessions destroyed with the io_context still uncount themselves.
  size_t max_conns_per_client = 0;  ///< 0: unlimited
  TrustedProxies conn_exempt;
  std::mutex conn_mu;
  std::unordered_map<std::string, size_t> conns_by_peer;  ///< open connections per peer address

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  RouteTable table;
  std::vector<RouteEntry> entries;  ///< by RouteTable index
  Handler error_handler;
  BodyLimitHook body_limit_hook;
  size_t payload_max = 16 * 1024 * 1024;
  std::chrono::seconds keep_alive_timeout{5};
  size_t worker_threads = 0;  ///< 0: WorkerPool::DefaultThreads()
  size_t worker_queue = 0;    ///< 0: 64 per thread
  std::unique_ptr<WorkerPool> pool;
  size_t query_threads = 2;
  size_t query_queue = 0;  ///< 0: 16 per thread
  std::unique_ptr<WorkerPool> query_pool;  ///< kQuery routes
  std::atomic<bool> running{false};
  std::atomic<bool> stopped{false};
  bool bound = false;

  void Accept();
  /// Counts a new connection from `peer`: false (not counted) when `peer` is at the cap.
  bool AddConnection(const std::string& peer) {
    std::lock_guard<std::mutex> lock(conn_mu);
    size_t& n = conns_by_peer[peer];
    if (n >= max_conns_per_client) {
      if (n == 0) conns_by_peer.erase(peer);
      return false;
    }
    ++n;
    return true;
  }
  void RemoveConnection(const std::string& peer) {
    std::lock_guard<std::mutex> lock(conn_mu);
    auto it = conns_by_peer.find(peer);
    if (it != conns_by_peer.end() && --it->second == 0) conns_by_peer.erase(it);
  }
  /// Calls the error handler for an error status with an empty body.
  void ApplyErrorHandler(const Request& req, Response& res) const {
    if (error_handler && res.status >= 400 && res.BodyEmpty()) error_handler(req, res);
  }
  /// Runs `handler` into `res`; an exception becomes a bodiless 500.
  static void RunHandler(const Handler& handler, const Request& req, Response& res) {
    try {
      handler(req, res);
    } catch (const std::exception& e) {
      spdlog::error("HTTP handler for {} {} threw: {}", req.method, req.path, e.what());
      res = Response();
      res.status = 500;
    }
  }
};

namespace {

/// The head of the request being parsed, as the body-limit hook sees it.
class HeadView final : public RequestHead {
 public:
  HeadView(const bhttp::request<bhttp::string_body>& msg, std::string_view peer)
      : msg_(msg), peer_(peer) {}
  std::string_view Method() const override { return msg_.method_string(); }
  std::string_view Target() const override { return msg_.target(); }
  std::string_view Header(std::string_view name) const override {
    auto it = msg_.find(name);
    return it == msg_.end() ? std::string_view() : std::string_view(it->value());
  }
  std::string_view PeerAddress() const override { return peer_; }

 private:
  const bhttp::request<bhttp::string_body>& msg_;
  std::string_view peer_;
};

/// One connection: reads a request, routes it, writes the answer, repeats while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  /// `counted`: the connection is counted in srv.conns_by_peer under `peer` (uncounted when
  /// the session ends).
  Session(tcp::socket socket, Server::Impl& srv, std::string peer, bool counted)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        srv_(srv),
        counted_(counted),
        peer_address_(std::move(peer)) {}
  ~Session() {
    if (counted_) srv_.RemoveConnection(peer_address_);
  }

  void Start() { DoRead(); }

 private:
  using EmptyResponse = bhttp::response<bhttp::empty_body>;

  using Clock = std::chrono::steady_clock;

  /// The connection is closed when it is still waiting on the peer (reading a request, writing
  /// an answer) `timeout` from now. One timer per connection, re-armed only when it fires before
  /// the deadline or the deadline moves earlier: a keep-alive exchange moves the deadline on
  /// with no timer operation, where a timeout per socket operation armed and cancelled the
  /// reactor's timer (and ran the cancelled wait's handler) twice per request.
  void SetDeadline(Clock::duration timeout) {
    deadline_ = Clock::now() + timeout;
    if (deadline_ < armed_until_) ArmTimer(deadline_);
  }
  /// No deadline while the request is handled (inline or on the worker pool).
  void ClearDeadline() { deadline_ = Clock::time_point::max(); }

  void ArmTimer(Clock::time_point at) {
    armed_until_ = at;
    timer_.expires_at(at);  // a wait still pending completes with operation_aborted
    timer_.async_wait([self = shared_from_this(), at](beast::error_code ec) {
      if (ec || at != self->armed_until_) return;  // cancelled, re-armed, or closed
      self->armed_until_ = Clock::time_point::max();
      if (self->deadline_ == Clock::time_point::max()) return;  // busy: armed again on the next wait
      if (self->deadline_ > Clock::now()) return self->ArmTimer(self->deadline_);
      self->Close();  // the pending read or write completes with an error and ends the session
    });
  }

  void DoRead() {
    parser_.emplace();
    parser_->body_limit(srv_.payload_max);
    SetDeadline(srv_.keep_alive_timeout);
    bhttp::async_read_header(socket_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  /// After the header: done for requests without a body; otherwise answers
  /// `Expect: 100-continue` and reads the body (with a longer deadline than the idle one).
  void OnHeader(beast::error_code ec, size_t) {
    if (ec || parser_->is_done()) return OnRead(ec, 0);
    auto& msg = parser_->get();
    if (srv_.body_limit_hook) {
      // Decided from the head alone: a body over the limit is refused before it is read.
      const size_t limit = std::min(srv_.body_limit_hook(HeadView(msg, peer_address_)), srv_.payload_max);
      auto length = parser_->content_length();
      if (length && *length > limit) return RespondError(413, /*with_request=*/true);
      parser_->body_limit(limit);  // a chunked body: cut at the limit (body_limit → 413)
    }
    auto expect = msg.find(bhttp::field::expect);
    if (expect != msg.end() && beast::iequals(expect->value(), "100-continue")) {
      interim_.emplace(bhttp::status::continue_, 11);
      SetDeadline(kWriteStepTimeout);
      return bhttp::async_write(socket_, *interim_,
                                [self = shared_from_this()](beast::error_code wec, size_t) {
                                  self->interim_.reset();
                                  if (wec) return self->Close();
                                  self->ReadBody();
                                });
    }
    ReadBody();
  }

  void ReadBody() {
    SetDeadline(kBodyTimeout);
    bhttp::async_read(socket_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream) return Shutdown();
    if (ec == bhttp::error::body_limit) return RespondError(413, /*with_request=*/true);
    if (ec) {
      // A parse error from a client that sent something → 400; network errors, timeouts and
      // a peer closing mid-request just close.
      static const beast::error_code kHttpError = bhttp::error::bad_method;
      if (ec.category() == kHttpError.category() && ec != bhttp::error::partial_message) {
        return RespondError(400, /*with_request=*/false);
      }
      return Close();
    }
    ClearDeadline();
    Handle();
  }

  /// Fills method, target, path, query, headers and peer of `req` from the parser's message.
  /// False when the target is not an origin-form URL.
  bool FillRequest(Request& req, bhttp::request<bhttp::string_body>& msg) {
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& f : msg) req.headers.emplace(std::string(f.name_string()), std::string(f.value()));
    req.peer_address = peer_address_;
    if (!ParseTarget(req.target, target_)) {
      req.path = req.target.substr(0, req.target.find('?'));
      return false;
    }
    req.path = std::move(target_.path);
    req.query = std::move(target_.query);
    return true;
  }

  void Handle() {
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    http10_ = msg.version() == 10;
    head_ = msg.method() == bhttp::verb::head;
    // req_ and res_ are empty here: new, or emptied by AfterWrite.
    const bool target_ok = FillRequest(req_, msg);
    req_.body = std::move(msg.body());
    if (!target_ok) {
      res_.status = 400;
      return Finish();
    }
    if (auto range = req_.headers.find("Range"); range != req_.headers.end()) {
      auto ranges = ParseRangeHeader(range->second);
      if (!ranges) {
        res_.status = 416;
        return Finish();
      }
      if (ranges->size() == 1) req_.range = ranges->front();  // several: ignored
    }
    auto match = srv_.table.Find(req_.method, target_.segments);
    if (!match) {
      res_.status = 404;
      return Finish();
    }
    req_.path_params = std::move(match->params);
    const RouteEntry& route = srv_.entries[match->index];
    WorkerPool* pool = route.execution == Execution::kQuery ? srv_.query_pool.get()
                       : route.execution == Execution::kWorker ? srv_.pool.get()
                                                               : nullptr;
    if (pool == nullptr) {
      Server::Impl::RunHandler(route.handler, req_, res_);
      return Finish();
    }
    auto self = shared_from_this();
    bool queued = pool->TrySubmit([self, &route] {
      Server::Impl::RunHandler(route.handler, self->req_, self->res_);
      // Back onto the connection's strand to write.
      asio::post(self->socket_.get_executor(), [self] { self->Finish(); });
    });
    if (!queued) {
      res_ = Response();
      res_.status = 503;
      res_.SetHeader("Retry-After", "1");
      Finish();
    }
  }

  /// Settles status and range, runs the error handler, and writes res_.
  void Finish() {
    Response& res = res_;
    size_t offset = 0, length = res.BodySize();
    bool ranged = false;
    if (res.status == 0) {
      res.status = 200;
      if (req_.range && !res.BodyEmpty()) {
        const size_t size = res.BodySize();
        if (ResolveRange(*req_.range, size, offset, length)) {
          res.status = 206;
          ranged = true;
          res.SetHeader("Content-Range", ContentRange(offset, length, size));
        } else {
          // Unsatisfiable: no body, the error handler may describe it.
          res.status = 416;
          res.body.clear();
          res.view.reset();
          res.headers.erase("Content-Type");
          res.SetHeader("Content-Range", "bytes */" + std::to_string(size));
          offset = length = 0;
        }
      }
    }
    srv_.ApplyErrorHandler(req_, res);
    if (!ranged) {
      offset = 0;
      length = res.BodySize();
    }
    Write(offset, length);
  }

  /// Writes res_ with [offset, offset + length) of its body (the whole body unless ranged):
  /// the head formatted into head_buf_, the body written from where it lies (res_.body or the
  /// view), both in one gather write.
  void Write(size_t offset, size_t length) {
    const Response& res = res_;
    const bool no_body = StatusHasNoBody(res.status);
    head_buf_.clear();
    AppendResponseHead(head_buf_, res,
                       {keep_alive_, http10_, no_body ? std::nullopt : std::optional(length)});
    body_out_ = {};
    if (!no_body && !head_) {
      body_out_ = res.view ? res.view->bytes : std::string_view(res.body);
      body_out_ = body_out_.substr(offset, length);
    }
    written_ = 0;
    SendNow();
  }

  /// The part of head_buf_ + body_out_ not written yet, as up to two buffers.
  std::array<asio::const_buffer, 2> Unwritten() const {
    const size_t head = head_buf_.size();
    if (written_ < head) {
      return {asio::buffer(head_buf_.data() + written_, head - written_),
              asio::buffer(body_out_.data(), body_out_.size())};
    }
    const size_t done = written_ - head;
    return {asio::buffer(body_out_.data() + done, body_out_.size() - done), asio::const_buffer()};
  }

  size_t OutSize() const { return head_buf_.size() + body_out_.size(); }

  /// Writes on this thread while the socket takes the bytes (a small answer: all of it, with
  /// no trip through the io queue and no timer), then the rest asynchronously.
  void SendNow() {
    const int fd = socket_.native_handle();
    while (written_ < OutSize()) {
      auto bufs = Unwritten();
      iovec iov[2];
      msghdr msg{};
      for (size_t i = 0; i < bufs.size(); ++i) {
        iov[i].iov_base = const_cast<void*>(bufs[i].data());
        iov[i].iov_len = bufs[i].size();
      }
      msg.msg_iov = iov;
      msg.msg_iovlen = bufs[1].size() > 0 ? 2 : 1;
      const ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        written_ += static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return SendAsync();
      return Close();
    }
    AfterWrite();
  }

  /// Writes the rest one socket write at a time, each under its own deadline (a large download
  /// to a slow reader is not cut by a whole-answer deadline).
  void SendAsync() {
    SetDeadline(kWriteStepTimeout);
    socket_.async_write_some(Unwritten(),
                             [self = shared_from_this()](beast::error_code ec, size_t n) {
                               if (ec) return self->Close();
                               self->written_ += n;
                               if (self->written_ < self->OutSize()) return self->SendAsync();
                               self->ClearDeadline();
                               self->AfterWrite();
                             });
  }

  void AfterWrite() {
    body_out_ = {};
    if (head_buf_.capacity() > 64 * 1024) std::string().swap(head_buf_);
    req_ = Request();
    res_ = Response();  // releases a body view's owner (e.g. unmaps the file)
    if (!keep_alive_ || srv_.stopped.load(std::memory_order_relaxed)) return Shutdown();
    DoRead();
  }

  /// Answers an error without a routed request (400, 413) and closes the connection after
  /// draining what the client still sends (so it reads the answer rather than a reset).
  void RespondError(int status, bool with_request) {
    keep_alive_ = false;
    req_ = Request();
    if (with_request && parser_) FillRequest(req_, parser_->get());
    res_ = Response();
    res_.status = status;
    srv_.ApplyErrorHandler(req_, res_);
    head_buf_.clear();
    AppendResponseHead(head_buf_, res_, {false, http10_, res_.body.size()});
    body_out_ = res_.body;
    written_ = 0;
    SetDeadline(std::chrono::seconds(10));
    asio::async_write(socket_, Unwritten(),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        beast::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                        self->Drain();
                      });
  }

  /// Reads and discards until the peer closes, an error, or the deadline set for the answer.
  void Drain() {
    drain_buf_.resize(64 * 1024);
    socket_.async_read_some(asio::buffer(drain_buf_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  void Shutdown() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    Close();
  }

  void Close() {
    beast::error_code ec;
    socket_.close(ec);
    armed_until_ = Clock::time_point::max();
    timer_.cancel();  // lets go of the session now rather than when the timer would fire
  }

  tcp::socket socket_;
  asio::steady_timer timer_;  ///< fires at armed_until_; see SetDeadline
  Clock::time_point deadline_ = Clock::time_point::max();     ///< close when still waiting then
  Clock::time_point armed_until_ = Clock::time_point::max();  ///< max: timer not armed
  Server::Impl& srv_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<EmptyResponse> interim_;  ///< 100 Continue while it is written
  ParsedTarget target_;                   ///< the current request's target, split
  Request req_;
  Response res_;
  std::string head_buf_;        ///< status line and header block of the answer being written
  std::string_view body_out_;   ///< the body bytes written after it (in res_.body or res_.view)
  size_t written_ = 0;          ///< bytes of head_buf_ + body_out_ written so far
  std::vector<char> drain_buf_;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_ = false;  ///< a HEAD request: headers as for GET, no body
  bool counted_ = false;
  std::string peer_address_;
};

}  // namespace

namespace {
/// Answers a connection over the per-client cap with 503 (best effort, never blocking) and
/// closes it without reading anything.
void RefuseConnection(tcp::socket& socket) {
  static constexpr std::string_view kBody =
      "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many connections from this "
      "address; retry shortly\",\"request_id\":\"\"}}";
  static const std::string kAnswer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                     "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                                     std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
  (void)::send(socket.native_handle(), kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}
}  // namespace

void Server::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      // Without it, keep-alive exchanges stall ~40 ms on delayed ACKs (Nagle).
      socket.set_option(tcp::no_delay(true), ignored);
      std::string peer;
      if (auto ep = socket.remote_endpoint(ignored); !ignored) peer = ep.address().to_string();
      const bool counted = max_conns_per_client > 0 && !conn_exempt.Contains(peer);
      if (counted && !AddConnection(peer)) {
        RefuseConnection(socket);
      } else {
        std::make_shared<Session>(std::move(socket), *this, std::move(peer), counted)->Start();
      }
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

Server::Server() : impl_(std::make_unique<Impl>()) {}

Server::~Server() { Stop(); }

Server& Server::Route(const std::string& method, const std::string& path_template,
                      Handler handler, Execution execution) {
  impl_->table.Add(method, path_template);
  impl_->entries.push_back({std::move(handler), execution});
  return *this;
}

Server& Server::Get(const std::string& t, Handler h, Execution e) { return Route("GET", t, std::move(h), e); }
Server& Server::Post(const std::string& t, Handler h, Execution e) { return Route("POST", t, std::move(h), e); }
Server& Server::Put(const std::string& t, Handler h, Execution e) { return Route("PUT", t, std::move(h), e); }
Server& Server::Delete(const std::string& t, Handler h, Execution e) { return Route("DELETE", t, std::move(h), e); }
Server& Server::Patch(const std::string& t, Handler h, Execution e) { return Route("PATCH", t, std::move(h), e); }

Server& Server::SetErrorHandler(Handler handler) {
  impl_->error_handler = std::move(handler);
  return *this;
}

Server& Server::SetBodyLimitHook(BodyLimitHook hook) {
  impl_->body_limit_hook = std::move(hook);
  return *this;
}

Server& Server::SetMaxConnectionsPerClient(size_t max_connections, TrustedProxies exempt) {
  impl_->max_conns_per_client = max_connections;
  impl_->conn_exempt = std::move(exempt);
  return *this;
}

Server& Server::SetPayloadMaxLength(size_t bytes) {
  impl_->payload_max = bytes;
  return *this;
}

Server& Server::SetKeepAliveTimeout(int seconds) {
  impl_->keep_alive_timeout = std::chrono::seconds(seconds);
  return *this;
}

Server& Server::SetWorkers(size_t threads, size_t max_queued) {
  impl_->worker_threads = threads;
  impl_->worker_queue = max_queued;
  return *this;
}

Server& Server::SetQueryWorkers(size_t threads, size_t max_queued) {
  impl_->query_threads = std::max<size_t>(1, threads);
  impl_->query_queue = max_queued;
  return *this;
}

const RouteTable& Server::routes() const { return impl_->table; }

bool Server::BindToPort(const std::string& host, int port) {
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

int Server::BindToAnyPort(const std::string& host) {
  if (!BindToPort(host, 0)) return -1;
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  if (ec) return -1;
  return ep.port();
}

bool Server::ListenAfterBind() {
  if (!impl_->bound || impl_->stopped.load()) return impl_->bound;
  const bool any_worker_route =
      std::any_of(impl_->entries.begin(), impl_->entries.end(),
                  [](const RouteEntry& e) { return e.execution == Execution::kWorker; });
  if (any_worker_route) {
    size_t threads = impl_->worker_threads > 0 ? impl_->worker_threads : WorkerPool::DefaultThreads();
    size_t queue = impl_->worker_queue > 0 ? impl_->worker_queue : 64 * threads;
    impl_->pool = std::make_unique<WorkerPool>(threads, queue);
  }
  if (std::any_of(impl_->entries.begin(), impl_->entries.end(),
                  [](const RouteEntry& e) { return e.execution == Execution::kQuery; })) {
    const size_t threads = impl_->query_threads;
    const size_t queue = impl_->query_queue > 0 ? impl_->query_queue : 16 * threads;
    impl_->query_pool = std::make_unique<WorkerPool>(threads, queue);
  }
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
  impl_->pool.reset();  // lets running long handlers finish
  impl_->query_pool.reset();
  impl_->running = false;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  return true;
}

void Server::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->running = false;
  impl_->ioc.stop();
}

bool Server::IsRunning() const { return impl_->running.load(); }

}  // namespace da::http
