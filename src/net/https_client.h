#pragma once
/// HttpsClient: outgoing HTTPS calls to source APIs (Keboola Storage API, object stores) on
/// libcurl.
///
///  - TLS is always verified (peer and host); `DA_CA_FILE` (a PEM bundle) adds trusted CAs on
///    top of the system store for every call (that is how tests reach a loopback emulator).
///    Only `https://` URLs are accepted.
///  - Retries with bounded exponential backoff (with jitter) on transport errors, 5xx and 429;
///    a `Retry-After` header (seconds or HTTP date) is honoured, capped by the policy.
///    Other 4xx fail at once with the API's own message (`error` / `message` of a JSON body).
///  - Download() streams the body to a file (constant memory); a transfer that breaks midway
///    is restarted from scratch (the file is truncated) under the same retry policy.
///  - A cancellation hook is polled during transfers and backoff sleeps.
///  - Every message this client produces passes through Redact() with the configured secrets.
///
/// Thread-safety: one HttpsClient may be used from several threads at once (each call uses its
/// own curl handle; the options are read-only).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace da::net {

/// `text` with every occurrence of each non-empty secret (and of its URL-encoded form)
/// replaced by `***`. Secrets shorter than 4 characters are ignored (they would shred text).
std::string Redact(std::string_view text, const std::vector<std::string>& secrets);

/// application/x-www-form-urlencoded encoding of one value (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view value);

/// One request. `headers` are sent as given ("Name", "value"); `body` with `content_type`
/// for POST/PUT.
struct HttpsRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;
};

/// A completed exchange: the HTTP status, the body (empty for Download) and the response
/// headers with lower-cased names.
struct HttpsResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

/// Retry policy of transport errors, 5xx and 429.
struct RetryPolicy {
  int max_attempts = 5;          ///< attempts in total (>= 1)
  int64_t initial_backoff_ms = 250;
  int64_t max_backoff_ms = 8000;  ///< cap of one backoff sleep
  int64_t max_retry_after_ms = 60000;  ///< cap of an honoured Retry-After
};

struct HttpsClientOptions {
  RetryPolicy retry;
  int64_t connect_timeout_ms = 15000;
  /// Limit of one attempt (0 = none; downloads of big files should use 0 and rely on
  /// low_speed_* instead).
  int64_t timeout_ms = 120000;
  /// An attempt is aborted when it moves fewer than low_speed_bytes per second for
  /// low_speed_seconds (0 = off).
  int64_t low_speed_bytes = 1;
  int64_t low_speed_seconds = 60;
  /// Polled often; true aborts the call with `cancelled` (kAborted).
  std::function<bool()> cancelled;
  /// Redacted from every message (tokens, signed URL parts).
  std::vector<std::string> secrets;
  /// Extra trusted CA bundle (PEM); "" = the DA_CA_FILE environment variable, if set.
  std::string ca_file;
};

class HttpsClient {
 public:
  explicit HttpsClient(HttpsClientOptions options = {});

  /// Sends `req` (with retries) and returns the 2xx/3xx response with its body.
  /// Errors: invalid_argument for a non-https URL; unauthenticated (401), permission_denied
  /// (403), not_found (404), invalid_argument (other 4xx) with the API's message; unavailable
  /// when retries are exhausted (last status or transport error named), or for TLS
  /// verification failures; aborted when cancelled. Messages name method and URL (redacted).
  Result<HttpsResponse> Send(const HttpsRequest& req) const;

  /// Like Send, but the body goes to `dest` (created/truncated; constant memory). On error
  /// `dest` may hold partial content: the caller removes it.
  Result<HttpsResponse> Download(const HttpsRequest& req, const std::filesystem::path& dest) const;

  /// Redact() with this client's secrets.
  std::string Redacted(std::string_view text) const;

  const HttpsClientOptions& options() const { return options_; }

 private:
  Result<HttpsResponse> Perform(const HttpsRequest& req, const std::filesystem::path* dest) const;

  HttpsClientOptions options_;
};

/// Sets TLS verification on a libcurl easy handle (`CURL*`): peer + host verified, and the CA
/// bundle `ca_file` (or DA_CA_FILE when empty) added to the system store. Used by every
/// outgoing HTTPS call of da (also the manifest health checks).
void ConfigureTls(void* curl_handle, const std::string& ca_file = "");

/// The API's error text from a response body: JSON `error` (string, or object with
/// `message`), else `message`, else the first 300 bytes of the body; control characters
/// replaced. Not redacted (the caller does that).
std::string ApiErrorMessage(std::string_view body);

}  // namespace da::net
