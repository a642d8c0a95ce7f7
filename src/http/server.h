#pragma once
/// da's HTTP/1.1 engine (Boost.Beast over Boost.Asio): accepts, parses with Beast's parser,
/// routes by path template (route_table.h) and writes the answer's head (response_head.h) and
/// body in one gather write. Handlers see da's own Request/Response (message.h).
///
/// Threads: io threads (`DA_HTTP_IO_THREADS` when positive, else max(16, 8 * cores)) run one
/// `asio::io_context`: they accept, read, parse, run *inline* routes and write. A route
/// registered with `Execution::kWorker` (queries, password hashing, sync triggers,
/// registration: work that may take long) runs on a separate WorkerPool (`DA_HTTP_WORKERS`
/// threads, default max(4, 2 * cores)) with a bounded queue; when the queue is full the request
/// is answered 503 (through the error handler) at once. An answer is written on the thread that
/// produced it while the socket takes the bytes (a small answer: all of it, without a trip
/// through the io queue), the rest asynchronously; a body is never copied (a zero-copy body,
/// Response::view, e.g. an mmap'd download, is written straight from its bytes), and a slow
/// client holds no thread.
///
/// Protocol behaviour:
///  - keep-alive per HTTP/1.1 (`Connection: close` and HTTP/1.0 without keep-alive honoured);
///    an idle connection is closed after the keep-alive timeout (5 s) without a request;
///    TCP_NODELAY is set on every accepted socket;
///  - a request with neither Content-Length nor Transfer-Encoding has an empty body;
///    `Expect: 100-continue` is answered `100 Continue` before the body is read;
///  - a body over the payload max length → 413, a malformed request (or a target that is not
///    an origin-form URL) → 400 (both then close);
///  - with a body-limit hook (SetBodyLimitHook), a request with a body is first shown to the
///    hook by its head alone; a Content-Length over the limit it returns → 413 at once, before
///    `100 Continue` and before any body byte is read (a chunked body is cut at the limit);
///  - at most SetMaxConnectionsPerClient open connections per peer address: one more is
///    answered 503 (JSON error, `Retry-After: 1`) and closed at once;
///  - HEAD is answered by the GET route without the body (Content-Length as for GET);
///  - no route for the path → 404; the error handler is called for every status >= 400 whose
///    body is empty (so it can write the JSON error shape);
///  - `Range: bytes=a-b | a- | -n` (one range) on a response whose status was left unset (0)
///    → 206 with `Content-Range`; an unsatisfiable range → 416 with `Content-Range: bytes */size`;
///    a malformed Range header → 416 without running the handler; several ranges are ignored
///    (the whole body is sent with 200).
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/client_address.h"
#include "http/message.h"
#include "http/route_table.h"

namespace da::http {

/// Where a route's handler runs.
enum class Execution {
  kInline,  ///< on the io thread that read the request (cheap handlers)
  kWorker,  ///< on the worker pool (long handlers); 503 when its queue is full
  /// On the query pool (user SQL): its own threads and queue, so queries can neither starve
  /// the worker pool (password hashing) nor the io threads; 503 when its queue is full.
  kQuery,
};

/// A request whose head has arrived and whose body has not (what a body-limit hook sees).
class RequestHead {
 public:
  virtual std::string_view Method() const = 0;
  virtual std::string_view Target() const = 0;
  /// The first value of header `name` (case-insensitive); "" when absent.
  virtual std::string_view Header(std::string_view name) const = 0;
  /// The TCP peer's IP address.
  virtual std::string_view PeerAddress() const = 0;

 protected:
  ~RequestHead() = default;
};

/// The largest body in bytes `head`'s request may send (capped by SetPayloadMaxLength). Runs
/// on an io thread, only for requests that carry a body, so it must be cheap.
using BodyLimitHook = std::function<size_t(const RequestHead& head)>;

class Server {
 public:
  Server();
  /// Stops (see Stop).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Registers `handler` for `method` requests whose path matches `path_template`
  /// (route_table.h; first registered match wins). Register before ListenAfterBind().
  /// Throws std::logic_error for a malformed template.
  Server& Route(const std::string& method, const std::string& path_template, Handler handler,
                Execution execution = Execution::kInline);
  Server& Get(const std::string& t, Handler h, Execution e = Execution::kInline);
  Server& Post(const std::string& t, Handler h, Execution e = Execution::kInline);
  Server& Put(const std::string& t, Handler h, Execution e = Execution::kInline);
  Server& Delete(const std::string& t, Handler h, Execution e = Execution::kInline);
  Server& Patch(const std::string& t, Handler h, Execution e = Execution::kInline);

  /// Called for every response with status >= 400 and an empty body (404 for no route, 400,
  /// 413, 416, 503 when the worker queue is full, a handler's bodiless error) before it is
  /// written; it may set the body and headers. Runs on the thread that produced the response.
  Server& SetErrorHandler(Handler handler);
  /// Largest accepted request body in bytes (default 16 MiB); larger → 413.
  Server& SetPayloadMaxLength(size_t bytes);
  /// Installs the hook deciding each body's limit from its head (e.g. 64 KiB until the
  /// request's credentials are known good). Call before ListenAfterBind().
  Server& SetBodyLimitHook(BodyLimitHook hook);
  /// At most `max_connections` (0 = unlimited, the default) open connections from one peer
  /// address; peers in `exempt` (trusted proxies, which carry many clients) are not counted.
  /// Call before ListenAfterBind().
  Server& SetMaxConnectionsPerClient(size_t max_connections, TrustedProxies exempt = {});
  /// Seconds an idle keep-alive connection stays open waiting for its next request (default 5).
  Server& SetKeepAliveTimeout(int seconds);
  /// Worker pool size and queue bound for kWorker routes (default: WorkerPool::DefaultThreads()
  /// threads, 64 queued per thread). Call before ListenAfterBind().
  Server& SetWorkers(size_t threads, size_t max_queued);
  /// Query pool size and queue bound for kQuery routes (default: 2 threads, 16 queued per
  /// thread). Call before ListenAfterBind().
  Server& SetQueryWorkers(size_t threads, size_t max_queued);

  /// Binds `host` on a free port. Returns the port, or -1 when binding fails.
  int BindToAnyPort(const std::string& host);
  /// Binds `host:port`. False when binding fails (e.g. address in use).
  bool BindToPort(const std::string& host, int port);
  /// Serves on the bound socket until Stop(); blocks the calling thread (one of the io
  /// threads). Returns false when nothing was bound.
  bool ListenAfterBind();
  /// Stops accepting and stops the io threads; handlers already running (inline or on the
  /// pool) finish before ListenAfterBind returns. Thread-safe and idempotent; may be called
  /// before ListenAfterBind() (which then returns at once).
  void Stop();
  /// True from the start of ListenAfterBind() until Stop().
  bool IsRunning() const;

  /// The routes in registration order (templates, for introspection).
  const RouteTable& routes() const;

  /// Opaque implementation (Beast/Asio types stay out of this header).
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace da::http
