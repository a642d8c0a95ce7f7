#pragma once
/// An event-loop HTTP/1.1 server (Boost.Beast over Boost.Asio) that dispatches to handlers
/// written against cpp-httplib's plain data structs (`httplib::Request`, `httplib::Response`,
/// `httplib::DataSink`), with the subset of `httplib::Server`'s API the router and app use.
///
/// Threads: `std::max(16, 8 * hardware_concurrency)` threads (or `DA_HTTP_IO_THREADS` when set
/// to a positive number) run one `asio::io_context`. Reading
/// and writing are asynchronous; a handler runs inline on the io thread that read its request,
/// so a slow handler (a DuckDB query, a synchronous sync trigger) occupies one thread while the
/// others keep serving. A content-provider body (downloads) is written synchronously from the
/// handler's io thread.
///
/// Protocol behaviour:
///  - keep-alive per HTTP/1.1 (`Connection: close` and HTTP/1.0 without keep-alive honoured);
///    an idle connection is closed after 5 s without a request;
///  - a request with neither Content-Length nor Transfer-Encoding has an empty body;
///  - a body over the payload max length → 413, a malformed request → 400 (both then close);
///  - HEAD is answered by the GET route without the body;
///  - no route for the path → 404; the error handler is called for every status >= 400 whose
///    body is empty (so it can write the JSON error shape);
///  - `Range: bytes=a-b | a- | -n` (one range) on a content provider or a body whose status was
///    left at -1 → 206 with `Content-Range`; an unsatisfiable or malformed range → 416; several
///    ranges are ignored (the whole body is sent with 200).
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

namespace da::server {

class HttpServer {
 public:
  /// A route handler. `req.matches` holds the route regex's match against `req.path`;
  /// `res.status` left at -1 means 200 (206 when a range was requested and served).
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Registers `handler` for `method` requests whose whole percent-decoded path matches the
  /// ECMAScript regex `pattern`. The first registered matching route wins. Register before
  /// listen_after_bind(); routes are not changed afterwards.
  HttpServer& Get(const std::string& pattern, Handler handler);
  HttpServer& Post(const std::string& pattern, Handler handler);
  HttpServer& Put(const std::string& pattern, Handler handler);
  HttpServer& Delete(const std::string& pattern, Handler handler);
  HttpServer& Patch(const std::string& pattern, Handler handler);

  /// Called for every response with status >= 400 and an empty body (including 404 for no
  /// route, 413 and 416) before it is written; it may set the body and headers.
  HttpServer& set_error_handler(Handler handler);
  /// Largest accepted request body in bytes (default 16 MiB); larger → 413.
  HttpServer& set_payload_max_length(size_t bytes);
  /// Seconds an idle keep-alive connection stays open waiting for its next request (default 5).
  HttpServer& set_keep_alive_timeout(int seconds);

  /// Binds `host` on a free port. Returns the port, or -1 when binding fails.
  int bind_to_any_port(const std::string& host);
  /// Binds `host:port`. False when binding fails (e.g. address in use).
  bool bind_to_port(const std::string& host, int port);
  /// Serves on the bound socket until stop(); blocks the calling thread (one of the io
  /// threads). Returns false when nothing was bound.
  bool listen_after_bind();
  /// Stops accepting and stops the io threads; handlers already running finish first.
  /// Thread-safe and idempotent; may be called before listen_after_bind() (which then returns
  /// at once).
  void stop();
  /// True from the start of listen_after_bind() until stop().
  bool is_running() const;

  /// Opaque implementation (Beast/Asio types stay out of this header).
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace da::server
