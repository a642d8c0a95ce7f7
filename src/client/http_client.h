#pragma once
/// A small blocking HTTP client for the da server API: the da wire contract over
/// net::Transfer (net/http_transfer.h), which does the transport and TLS trust.
///
/// Wire contract: JSON bodies; auth header `Authorization: Bearer <token>`; every non-2xx
/// response carries `{"error":{"code","message","request_id"}}` (decisions.md §11).
///
/// Error mapping (StatusFromHttpError): transport failures → unavailable ("cannot reach server
/// <url>" when the connection cannot be made, "connection to <url> dropped" mid-transfer),
/// timeouts → deadline_exceeded; HTTP 400 → malformed, 401 → unauthenticated,
/// 403 → permission_denied, 404 → not_found, 409 → already_exists / aborted (error code
/// "already_exists" / "conflict") else failed_precondition, 422 → invalid_argument,
/// 429 → resource_exhausted, 503 → unavailable, 504 → deadline_exceeded, other 5xx → internal,
/// other 4xx → invalid_argument. The message is the server's error message with the HTTP status
/// and request id. The token never appears in any message.
///
/// TLS: an https:// server is verified against the system store plus the PEM bundle named by
/// `ca_file`, else `DA_CA_FILE` (as every outgoing call of da); a set but missing bundle is
/// invalid_argument.
///
/// Thread-safety: every request is its own net::Transfer, so one HttpClient may be shared by
/// threads (the puller downloads in parallel through one client).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace da::client {

struct HttpClientOptions {
  std::string base_url;              ///< e.g. "http://127.0.0.1:8000" (a trailing '/' is dropped)
  std::string token;                 ///< bearer token; "" sends no Authorization header
  int64_t connect_timeout_ms = 10'000;
  int64_t request_timeout_ms = 30'000;  ///< whole-request limit for JSON calls; 0 = none
  /// Downloads have no whole-request limit; they fail when fewer than 1 byte/s arrives for this
  /// long (a stalled server), so multi-GB files are not cut off.
  int64_t download_stall_timeout_ms = 60'000;
  /// Extra trusted CA bundle (PEM) for an https server; "" = DA_CA_FILE when set. (Initialised
  /// so that `{server, token}` stays a complete initialiser.)
  std::string ca_file{};
};

/// A response with any status (2xx or not); headers have lower-cased names.
struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

/// Called from the downloading thread with the number of body bytes just written (a delta).
using ProgressFn = std::function<void(int64_t bytes_delta)>;

struct DownloadOptions {
  /// Resume: request `Range: bytes=<offset>-` and append to `dest` when the server answers 206.
  /// When it answers 200 instead, `dest` is truncated and written from the start.
  int64_t resume_from_bytes = 0;
  /// Sends `If-None-Match: "<value>"` (an MD5); a 304 leaves `dest` untouched.
  std::string if_none_match;
  ProgressFn progress;
};

struct DownloadResult {
  int status = 0;                 ///< 200, 206 or 304
  bool not_modified = false;      ///< true on 304
  int64_t bytes_written = 0;      ///< body bytes written by this call
  std::string etag;               ///< the ETag header with quotes removed; "" when absent
  bool accepts_ranges = false;    ///< `Accept-Ranges: bytes` was present
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);

  const std::string& base_url() const { return options_.base_url; }

  /// Sends one request to `base_url + path` (`path` starts with '/'). A non-null `body` is sent
  /// as JSON. Returns the response whatever its status; only transport failures are errors.
  Result<HttpResponse> Send(std::string_view method, std::string_view path,
                            const nlohmann::json* body = nullptr) const;

  /// GET/POST/PUT/DELETE returning the parsed JSON body of a 2xx response (null for an empty
  /// body). Non-2xx → StatusFromHttpError; a 2xx body that is not JSON → internal.
  Result<nlohmann::json> GetJson(std::string_view path) const;
  Result<nlohmann::json> PostJson(std::string_view path, const nlohmann::json& body) const;
  Result<nlohmann::json> PutJson(std::string_view path, const nlohmann::json& body) const;
  Result<nlohmann::json> DeleteJson(std::string_view path) const;

  /// Streams the body of GET `path` into `dest` (created or truncated, or appended to when a
  /// resumed range is served). Non-2xx/304 statuses → StatusFromHttpError (dest may then hold
  /// partial bytes: callers download into a part file). A connection that drops mid-body →
  /// unavailable "connection to <url> dropped ...".
  Result<DownloadResult> Download(std::string_view path, const std::filesystem::path& dest,
                                  const DownloadOptions& options = {}) const;

 private:
  HttpClientOptions options_;
};

/// The Status for a non-2xx response of `method url` (see the file comment for the table).
Status StatusFromHttpError(int http_status, std::string_view body, std::string_view what);

}  // namespace da::client
