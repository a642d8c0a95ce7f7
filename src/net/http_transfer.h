#pragma once
/// Transfer(): one HTTP exchange over libcurl — the transport under every outgoing call of da
/// (source APIs through HttpsClient, sign-in in auth/, manifest health checks, the CLI's
/// client of the da server). Callers add their policy on top: retries (HttpsClient), the
/// mapping of statuses and transport failures to Status, messages.
///
///  - TLS: peer and host always verified against the system store plus the PEM bundle named by
///    `TransferOptions::ca_file`, else the `DA_CA_FILE` environment variable. A set but missing
///    bundle is an error for https URLs (invalid_argument naming DA_CA_FILE).
///  - Schemes: `SchemePolicy` limits URL and redirect schemes; plain http can be confined to
///    loopback hosts.
///  - Bodies: buffered (optionally capped) or streamed to a `BodySink` chosen by status.
///  - Time limits: connect, whole transfer, and a low-speed (stall) limit; a cancellation hook.
///  - libcurl is initialised once per process (curl_global_init) behind this file.
///
/// Thread-safety: Transfer() may run on several threads at once (one curl handle per call).
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace da::net {

/// One request.
struct HttpRequest {
  std::string method = "GET";  ///< GET, HEAD, POST, PUT, PATCH, DELETE, ...
  std::string url;
  /// Sent as given ("Name", "value"); an empty value removes a header libcurl would add
  /// ("Expect", "").
  std::vector<std::pair<std::string, std::string>> headers;
  /// Sent for POST, PUT and PATCH (even when empty) and for any method when non-empty.
  std::string body;
  std::string content_type;  ///< Content-Type header when non-empty
  /// HTTP Basic credentials when `basic_user` is non-empty (sent as given).
  std::string basic_user;
  std::string basic_password;
  /// > 0: ask for `Range: bytes=<range_from_bytes>-`.
  int64_t range_from_bytes = 0;
};

/// A response of any status. `headers` have lower-cased names and trimmed values (those of the
/// last response when redirects or 1xx preceded it); `body` is empty when a sink took it.
struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

/// Which URL schemes a transfer (and its redirects) may use.
enum class SchemePolicy {
  kHttpsOnly,
  kHttpsOrLoopbackHttp,  ///< http only to 127.0.0.0/8, ::1 and localhost (no redirects then)
  kHttpOrHttps,
};

/// Receives the body of the responses it accepts (downloads to a file); the bodies of the
/// others are buffered into HttpResponse::body. Called on the transferring thread.
class BodySink {
 public:
  virtual ~BodySink() = default;
  /// Called once, before the first body byte, with the response status. true: the body goes
  /// to Write(); false: it is buffered. An error aborts the transfer (kWriteFailed).
  virtual Result<bool> Begin(long status) = 0;
  /// The next bytes of an accepted body; an error aborts the transfer (kWriteFailed).
  virtual Status Write(std::string_view bytes) = 0;
};

struct TransferOptions {
  SchemePolicy schemes = SchemePolicy::kHttpsOnly;
  bool follow_redirects = false;  ///< up to 5, within `schemes`
  int64_t connect_timeout_ms = 10'000;  ///< 0 = libcurl's default
  int64_t timeout_ms = 0;               ///< whole transfer; 0 = none
  /// The transfer fails (kTimedOut) when it moves fewer than `low_speed_bytes` per second for
  /// `low_speed_seconds` (0 = off): a stall limit for large downloads.
  int64_t low_speed_bytes = 0;
  int64_t low_speed_seconds = 0;
  std::string ca_file;     ///< extra trusted CA bundle (PEM); "" = DA_CA_FILE when set
  std::string user_agent;  ///< "" sends none
  /// Cap of a buffered body. Beyond it the transfer fails (kTooLarge), or with
  /// `truncate_body` the rest is dropped and the transfer goes on.
  size_t max_body_bytes = std::numeric_limits<size_t>::max();
  bool truncate_body = false;
  /// Polled during the transfer; true aborts it (kCancelled).
  std::function<bool()> cancelled;
};

/// Why a transfer did not complete.
enum class TransferFailure {
  kNone,
  kCannotConnect,  ///< resolve, connect, TLS handshake, malformed URL or unsupported scheme
  kTimedOut,       ///< connect, whole-transfer or low-speed limit
  kDropped,        ///< the connection broke after it was made (send/receive, partial body)
  kCancelled,      ///< the `cancelled` hook said so
  kTooLarge,       ///< a buffered body passed `max_body_bytes`
  kWriteFailed,    ///< the sink refused bytes (`write_error`)
  kOther,         ///< anything else, e.g. a server certificate that fails verification
};

/// The outcome of one exchange. `response.status` is 0 when no response arrived.
struct TransferResult {
  HttpResponse response;
  TransferFailure failure = TransferFailure::kNone;
  /// A transport failure worth another attempt (connect, timeout, broken connection, TLS
  /// handshake, HTTP/2 stream errors).
  bool retryable = false;
  std::string error;       ///< libcurl's detailed message ("Failed to connect to ...")
  std::string error_kind;  ///< libcurl's short text for the failure ("Couldn't connect to server")
  Status write_error;      ///< the sink's error when failure == kWriteFailed
  bool sink_accepted = false;  ///< the sink took the body (BodySink::Begin said true)
  int64_t body_bytes = 0;      ///< body bytes received (streamed and buffered)

  bool ok() const { return failure == TransferFailure::kNone; }
};

/// Performs `request` once. Any HTTP status is a response; transport failures are reported in
/// the result (never as an error Status). Errors: invalid_argument when the URL's scheme is
/// outside `options.schemes` ("refusing <method> <url>: ..."), or when the CA bundle is set but
/// is not a readable file ("DA_CA_FILE is not a readable file: '<path>'"); internal when
/// libcurl cannot make a handle.
Result<TransferResult> Transfer(const HttpRequest& request, const TransferOptions& options,
                                BodySink* sink = nullptr);

/// Ok when `ca_file` (or DA_CA_FILE when empty) is unset or names a regular file;
/// invalid_argument naming it otherwise.
Status CheckCaFile(const std::string& ca_file = "");

/// For code that drives its own libcurl handle (`CURL*`) — the SMTP sender and test browsers:
/// peer + host verification on, and the CA bundle `ca_file` (or DA_CA_FILE when empty) added
/// to the system store. Does not check the bundle exists (CheckCaFile does).
void ConfigureTls(void* curl_handle, const std::string& ca_file = "");

/// The API's error text from a response body: JSON `error` (string, or object with
/// `message`), else `message`, else `reason`, else the first 300 bytes of the body; control
/// characters replaced. Not redacted (the caller does that).
std::string ApiErrorMessage(std::string_view body);

}  // namespace da::net
