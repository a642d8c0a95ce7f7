#pragma once
/// HttpsClient: outgoing HTTPS calls to source APIs (Keboola Storage API, object stores): the
/// retry policy over net::Transfer (http_transfer.h), which does TLS, limits and streaming.
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
#include "net/http_transfer.h"
#include "net/url.h"

namespace da::net {

/// A source API request and its response: the transport's types.
using HttpsRequest = HttpRequest;
using HttpsResponse = HttpResponse;

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

}  // namespace da::net
