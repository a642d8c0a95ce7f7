#include "net/https_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <thread>

namespace da::net {
namespace {

/// The URL without its query string (signed URLs carry credentials there).
std::string WithoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

/// Writes a 2xx/3xx body to an open file; error bodies stay buffered for the message.
class FileSink : public BodySink {
 public:
  explicit FileSink(FILE* file) : file_(file) {}
  Result<bool> Begin(long status) override { return status < 300; }
  Status Write(std::string_view bytes) override {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return Unavailable("short write");
    }
    return Status::Ok();
  }

 private:
  FILE* file_;
};

/// Milliseconds asked by a Retry-After header (delta seconds or HTTP date); -1 when absent.
int64_t RetryAfterMs(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("retry-after");
  if (it == headers.end() || it->second.empty()) return -1;
  const std::string& v = it->second;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::min<int64_t>(std::strtoll(v.c_str(), nullptr, 10), 86400) * 1000;
  }
  time_t when = curl_getdate(v.c_str(), nullptr);
  if (when < 0) return -1;
  int64_t delta = static_cast<int64_t>(when) - static_cast<int64_t>(std::time(nullptr));
  return std::max<int64_t>(delta, 0) * 1000;
}

Status StatusFor(long http, const std::string& what) {
  switch (http) {
    case 401:
      return Unauthenticated(what);
    case 403:
      return PermissionDenied(what);
    case 404:
      return NotFound(what);
    default:
      return InvalidArgument(what);
  }
}

}  // namespace

HttpsClient::HttpsClient(HttpsClientOptions options) : options_(std::move(options)) {
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
}

std::string HttpsClient::Redacted(std::string_view text) const {
  return Redact(text, options_.secrets);
}

Result<HttpsResponse> HttpsClient::Send(const HttpsRequest& req) const {
  return Perform(req, nullptr);
}

Result<HttpsResponse> HttpsClient::Download(const HttpsRequest& req,
                                            const std::filesystem::path& dest) const {
  return Perform(req, &dest);
}

Result<HttpsResponse> HttpsClient::Perform(const HttpsRequest& req,
                                           const std::filesystem::path* dest) const {
  const std::string what = req.method + " " + Redacted(WithoutQuery(req.url));
  if (!req.url.starts_with("https://")) {
    return InvalidArgument("refusing " + what + ": only https:// URLs are allowed");
  }
  TransferOptions transfer;
  transfer.schemes = SchemePolicy::kHttpsOnly;
  transfer.follow_redirects = true;
  transfer.connect_timeout_ms = options_.connect_timeout_ms;
  transfer.timeout_ms = options_.timeout_ms;
  transfer.low_speed_bytes = options_.low_speed_bytes;
  transfer.low_speed_seconds = options_.low_speed_seconds;
  transfer.ca_file = options_.ca_file;
  transfer.user_agent = "da/1 (+https)";
  transfer.cancelled = options_.cancelled;
  if (dest) {
    transfer.max_body_bytes = 65536;  // an error body, kept for its message
    transfer.truncate_body = true;
  }

  std::mt19937_64 rng(std::random_device{}());
  int64_t backoff = options_.retry.initial_backoff_ms;
  std::string last_error;
  for (int attempt = 1; attempt <= options_.retry.max_attempts; ++attempt) {
    if (options_.cancelled && options_.cancelled()) return Aborted(what + ": cancelled");
    std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, std::fclose);
    std::unique_ptr<FileSink> sink;
    if (dest) {
      file.reset(std::fopen(dest->c_str(), "wb"));
      if (!file) return Unavailable("cannot write " + dest->string());
      sink = std::make_unique<FileSink>(file.get());
    }
    DA_ASSIGN_OR_RETURN(TransferResult t, Transfer(req, transfer, sink.get()));
    file.reset();
    const long status = t.response.status;
    int64_t wait_ms = -1;
    if (t.failure == TransferFailure::kCancelled) return Aborted(what + ": cancelled");
    if (t.failure == TransferFailure::kWriteFailed) {
      return Unavailable(what + ": cannot write " + dest->string());
    }
    if (!t.ok()) {
      last_error = t.error_kind;
      if (!t.retryable) return Unavailable(what + " failed: " + Redacted(last_error));
    } else if (status >= 500 || status == 429 || status == 408) {
      last_error =
          "HTTP " + std::to_string(status) + ": " + Redacted(ApiErrorMessage(t.response.body));
      wait_ms = RetryAfterMs(t.response.headers);
    } else if (status >= 400) {
      return StatusFor(status, what + " answered HTTP " + std::to_string(status) + ": " +
                                   Redacted(ApiErrorMessage(t.response.body)));
    } else {
      if (dest) t.response.body.clear();
      return std::move(t.response);
    }
    if (attempt == options_.retry.max_attempts) break;
    // Backoff: Retry-After when given (capped), else exponential with full jitter.
    int64_t sleep_ms;
    if (wait_ms >= 0) {
      sleep_ms = std::min(wait_ms, options_.retry.max_retry_after_ms);
    } else {
      std::uniform_int_distribution<int64_t> jitter(backoff / 2, backoff);
      sleep_ms = jitter(rng);
      backoff = std::min(backoff * 2, options_.retry.max_backoff_ms);
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(sleep_ms);
    while (std::chrono::steady_clock::now() < until) {
      if (options_.cancelled && options_.cancelled()) return Aborted(what + ": cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(sleep_ms, 50)));
    }
  }
  return Unavailable(what + " failed after " + std::to_string(options_.retry.max_attempts) +
                     " attempts: " + last_error);
}

}  // namespace da::net
