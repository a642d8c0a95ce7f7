#pragma once
/// da's own HTTP request and response types (the engine in src/http/server.h fills a Request
/// and writes a Response; handlers never see Boost.Beast or any other library's types).
///
/// Thread-safety: a Request and its Response belong to the one handler call that receives them.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace da::http {

/// `s` without the optional whitespace (SP and HTAB, RFC 9110 §5.6.3) at either end: how header
/// list elements (`X-Forwarded-For`, `Range`) are read.
inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// ASCII case-insensitive ordering for header names.
struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};

/// Header fields by name (case-insensitive); a name may repeat (e.g. Set-Cookie, Cookie).
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;
/// Decoded query parameters (key and value percent-decoded, '+' as space); a key may repeat.
using QueryParams = std::multimap<std::string, std::string, std::less<>>;

/// One byte range of a `Range: bytes=...` header: `first`/`last` are inclusive byte offsets,
/// -1 when absent (`bytes=-n` is first = -1, last = n: the last n bytes).
struct ByteRange {
  int64_t first = -1;
  int64_t last = -1;
};

/// An HTTP request as a handler sees it. Filled by the engine before the handler runs.
struct Request {
  std::string method;        ///< "GET", "POST", ... (HEAD is dispatched to the GET route as "HEAD")
  std::string target;        ///< the raw request target, e.g. "/api/data/a%20b/download?x=1"
  std::string path;          ///< the target's path, percent-decoded ("/api/data/a b/download")
  QueryParams query;         ///< the target's query, decoded
  Headers headers;           ///< request header fields
  std::string body;          ///< the whole request body (empty when none)
  std::string peer_address;  ///< the TCP peer's IP address (the client may differ behind a proxy: http/client_address.h)
  /// Values of the route template's `{name}` / `{*name}` segments, percent-decoded, in template order.
  std::vector<std::pair<std::string, std::string>> path_params;
  /// The single range of a `Range` header; absent without one and when it named several ranges
  /// (then the whole body is sent). A malformed Range header is answered 416 by the engine.
  std::optional<ByteRange> range;

  /// The first value of header `name` (case-insensitive); "" when absent.
  std::string Header(std::string_view name) const;
  /// True when header `name` is present (even with an empty value).
  bool HasHeader(std::string_view name) const;
  /// Every value of header `name`, in arrival order.
  std::vector<std::string> HeaderValues(std::string_view name) const;
  /// The first value of query parameter `name`; "" when absent.
  std::string Query(std::string_view name) const;
  /// True when query parameter `name` is present (even as `?name` or `?name=`).
  bool HasQuery(std::string_view name) const;
  /// Every value of query parameter `name`, in order (`?t=a&t=b` → {"a", "b"}).
  std::vector<std::string> QueryValues(std::string_view name) const;
  /// The value of the route template's parameter `name` ("" when the template has none).
  const std::string& PathParam(std::string_view name) const;
};

/// A response body that is not copied: `bytes` stays valid while `owner` lives (e.g. an mmap'd
/// file). The engine writes it asynchronously, so a slow client holds no thread.
struct BodyView {
  std::shared_ptr<const void> owner;
  std::string_view bytes;
};

/// An HTTP response as a handler writes it.
///
/// `status` 0 means "not set": 200, or 206 with `Content-Range` when the request carried a
/// single satisfiable Range (an unsatisfiable one → 416 `Content-Range: bytes */size`). An
/// explicit status is sent as is and Range is ignored. For HEAD the engine sends the headers
/// (with the GET body's Content-Length) and no body. Content-Length, Connection and
/// Transfer-Encoding are set by the engine; headers of those names are ignored.
struct Response {
  int status = 0;
  Headers headers;
  std::string body;               ///< the body, unless `view` is set
  std::optional<BodyView> view;   ///< a zero-copy body (takes precedence over `body`)

  /// Sets header `name` to `value`, replacing any earlier values of it.
  void SetHeader(std::string_view name, std::string value);
  /// Adds a value of header `name`, keeping earlier ones (for Set-Cookie).
  void AddHeader(std::string_view name, std::string value);
  /// The first value of header `name`; "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  /// Sets the body and its Content-Type (status is left as it is).
  void SetContent(std::string content, std::string_view content_type);
  /// Sets a zero-copy body of `bytes` kept alive by `owner`, with its Content-Type.
  void SetBodyView(std::shared_ptr<const void> owner, std::string_view bytes,
                   std::string_view content_type);
  /// The body's size in bytes (of `view` when set).
  size_t BodySize() const { return view ? view->bytes.size() : body.size(); }
  /// True when there is no body at all.
  bool BodyEmpty() const { return BodySize() == 0; }
};

/// A route handler: reads `req`, writes `res`. An exception escaping it is logged and answered
/// 500 by the engine.
using Handler = std::function<void(const Request& req, Response& res)>;

}  // namespace da::http
