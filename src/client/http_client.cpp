#include "client/http_client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "net/http_transfer.h"
#include "common/text.h"

namespace da::client {
namespace {

constexpr size_t kMaxErrorBodyBytes = 64 * 1024;
constexpr const char* kUserAgent = "da-cli/0.1.0";

/// Transport settings shared by JSON calls and downloads.
net::TransferOptions TransportOptions(const HttpClientOptions& options) {
  net::TransferOptions t;
  t.schemes = net::SchemePolicy::kHttpOrHttps;
  t.follow_redirects = false;
  t.connect_timeout_ms = options.connect_timeout_ms;
  t.ca_file = options.ca_file;
  t.user_agent = kUserAgent;
  return t;
}

/// A request to the da server with the headers every call carries.
net::HttpRequest ServerRequest(const HttpClientOptions& options, std::string_view method,
                               const std::string& url) {
  net::HttpRequest r;
  r.method = std::string(method);
  r.url = url;
  r.headers.emplace_back("Accept", "application/json");
  // Large JSON bodies would otherwise wait for a 100-continue round trip.
  r.headers.emplace_back("Expect", "");
  if (!options.token.empty()) r.headers.emplace_back("Authorization", "Bearer " + options.token);
  return r;
}

/// The Status of a failed transfer; never includes request headers (the token).
Status TransportError(const net::TransferResult& t, const std::string& base_url,
                      const std::string& url) {
  switch (t.failure) {
    case net::TransferFailure::kCannotConnect:
      return Unavailable("cannot reach server " + base_url + ": " + t.error);
    case net::TransferFailure::kTimedOut:
      return DeadlineExceeded("request to " + url + " timed out: " + t.error);
    case net::TransferFailure::kDropped:
      return Unavailable("connection to " + url + " dropped after " +
                         std::to_string(t.body_bytes) + " bytes: " + t.error);
    default:
      return Unavailable("request to " + url + " failed: " + t.error);
  }
}

StatusCode CodeForConflict(std::string_view error_code) {
  if (error_code == "already_exists") return StatusCode::kAlreadyExists;
  if (error_code == "conflict" || error_code == "aborted") return StatusCode::kAborted;
  return StatusCode::kFailedPrecondition;
}

Result<nlohmann::json> JsonFromResponse(const Result<HttpResponse>& r, std::string_view what) {
  if (!r.ok()) return r.status();
  if (r->status < 200 || r->status >= 300) return StatusFromHttpError(r->status, r->body, what);
  if (r->body.empty()) return nlohmann::json(nullptr);
  try {
    return nlohmann::json::parse(r->body);
  } catch (const nlohmann::json::exception& e) {
    return Internal(std::string(what) + ": server answered with invalid JSON: " + e.what());
  }
}

}  // namespace

Status StatusFromHttpError(int http_status, std::string_view body, std::string_view what) {
  std::string message;
  std::string error_code;
  std::string request_id;
  try {
    auto j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
      const auto& e = j["error"];
      if (e.contains("message") && e["message"].is_string()) message = e["message"];
      if (e.contains("code") && e["code"].is_string()) error_code = e["code"];
      if (e.contains("request_id") && e["request_id"].is_string()) request_id = e["request_id"];
    } else if (j.is_object() && j.contains("detail") && j["detail"].is_string()) {
      message = j["detail"];
    }
  } catch (const nlohmann::json::exception&) {
    // Not our error shape (a proxy page, say): fall back to a generic message below.
  }
  if (message.empty()) message = error_code;
  if (message.empty()) message = std::string(what) + " failed";
  message += " (HTTP " + std::to_string(http_status);
  if (!request_id.empty()) message += ", request " + request_id;
  message += ")";

  StatusCode code;
  switch (http_status) {
    case 400: code = StatusCode::kMalformed; break;
    case 401: code = StatusCode::kUnauthenticated; break;
    case 403: code = StatusCode::kPermissionDenied; break;
    case 404: code = StatusCode::kNotFound; break;
    case 409: code = CodeForConflict(error_code); break;
    case 422: code = StatusCode::kInvalidArgument; break;
    case 429: code = StatusCode::kResourceExhausted; break;
    case 503: code = StatusCode::kUnavailable; break;
    case 504: code = StatusCode::kDeadlineExceeded; break;
    default:
      code = http_status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument;
  }
  return {code, message};
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

Result<HttpResponse> HttpClient::Send(std::string_view method, std::string_view path,
                                      const nlohmann::json* body) const {
  const std::string url = options_.base_url + std::string(path);
  net::HttpRequest request = ServerRequest(options_, method, url);
  if (body != nullptr) {
    request.body = body->dump();
    request.content_type = "application/json";
  }
  net::TransferOptions transport = TransportOptions(options_);
  transport.timeout_ms = options_.request_timeout_ms;
  DA_ASSIGN_OR_RETURN(net::TransferResult t, net::Transfer(request, transport));
  if (!t.ok()) return TransportError(t, options_.base_url, url);
  return HttpResponse{static_cast<int>(t.response.status), std::move(t.response.body),
                      std::move(t.response.headers)};
}

Result<nlohmann::json> HttpClient::GetJson(std::string_view path) const {
  return JsonFromResponse(Send("GET", path), "GET " + std::string(path));
}

Result<nlohmann::json> HttpClient::PostJson(std::string_view path,
                                            const nlohmann::json& body) const {
  return JsonFromResponse(Send("POST", path, &body), "POST " + std::string(path));
}

Result<nlohmann::json> HttpClient::PutJson(std::string_view path,
                                           const nlohmann::json& body) const {
  return JsonFromResponse(Send("PUT", path, &body), "PUT " + std::string(path));
}

Result<nlohmann::json> HttpClient::DeleteJson(std::string_view path) const {
  return JsonFromResponse(Send("DELETE", path), "DELETE " + std::string(path));
}

namespace {

/// Streams a 200/206 body into the destination file, opened on the first byte (so an error
/// status never creates it); other bodies are buffered by the transport for the message.
class DownloadSink : public net::BodySink {
 public:
  DownloadSink(const std::filesystem::path& dest, int64_t resume_from, const ProgressFn& progress)
      : dest_(dest), resume_from_(resume_from), progress_(progress) {}

  Result<bool> Begin(long status) override {
    if (status != 200 && status != 206) return false;
    const bool append = status == 206 && resume_from_ > 0;
    file_.reset(std::fopen(dest_.c_str(), append ? "ab" : "wb"));
    if (!file_) return Internal("cannot open '" + dest_.string() + "': " + std::strerror(errno));
    return true;
  }

  Status Write(std::string_view bytes) override {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size()) {
      return Internal("cannot write '" + dest_.string() + "': " + std::strerror(errno));
    }
    bytes_written_ += static_cast<int64_t>(bytes.size());
    if (progress_) progress_(static_cast<int64_t>(bytes.size()));
    return Status::Ok();
  }

  /// Flushes and closes the file.
  Status Finish() {
    if (file_ && std::fflush(file_.get()) != 0) {
      return Internal("cannot write '" + dest_.string() + "': " + std::strerror(errno));
    }
    file_.reset();
    return Status::Ok();
  }

  int64_t bytes_written() const { return bytes_written_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const std::filesystem::path& dest_;
  int64_t resume_from_;
  const ProgressFn& progress_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  int64_t bytes_written_ = 0;
};

}  // namespace

Result<DownloadResult> HttpClient::Download(std::string_view path,
                                            const std::filesystem::path& dest,
                                            const DownloadOptions& options) const {
  const std::string url = options_.base_url + std::string(path);
  net::HttpRequest request = ServerRequest(options_, "GET", url);
  if (!options.if_none_match.empty()) {
    request.headers.emplace_back("If-None-Match", "\"" + options.if_none_match + "\"");
  }
  request.range_from_bytes = options.resume_from_bytes;
  net::TransferOptions transport = TransportOptions(options_);
  if (options_.download_stall_timeout_ms > 0) {
    transport.low_speed_bytes = 1;
    transport.low_speed_seconds = std::max<int64_t>(1, options_.download_stall_timeout_ms / 1000);
  }
  transport.max_body_bytes = kMaxErrorBodyBytes;
  transport.truncate_body = true;
  DownloadSink sink(dest, options.resume_from_bytes, options.progress);
  DA_ASSIGN_OR_RETURN(net::TransferResult t, net::Transfer(request, transport, &sink));
  const long status = t.response.status;
  if (t.failure == net::TransferFailure::kWriteFailed) return t.write_error;
  if (!t.ok()) {
    if (status != 0 && (status < 200 || status >= 300) && status != 304 && !t.sink_accepted) {
      return StatusFromHttpError(static_cast<int>(status), t.response.body, "GET " + url);
    }
    return TransportError(t, options_.base_url, url);
  }
  DownloadResult result;
  result.status = static_cast<int>(status);
  const auto& headers = t.response.headers;
  if (auto it = headers.find("etag"); it != headers.end()) {
    std::string etag = it->second;
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
      etag = etag.substr(1, etag.size() - 2);
    }
    result.etag = etag;
  }
  if (auto it = headers.find("accept-ranges"); it != headers.end()) {
    result.accepts_ranges = AsciiLower(it->second).find("bytes") != std::string::npos;
  }
  if (status == 304) {
    result.not_modified = true;
    return result;
  }
  if (status != 200 && status != 206) {
    return StatusFromHttpError(static_cast<int>(status), t.response.body, "GET " + url);
  }
  if (!t.sink_accepted) {
    // An empty 2xx body never reached the sink: still produce the (empty) file.
    DA_ASSIGN_OR_RETURN(bool accepted, sink.Begin(status));
    (void)accepted;
  }
  DA_RETURN_IF_ERROR(sink.Finish());
  result.bytes_written = sink.bytes_written();
  return result;
}

}  // namespace da::client
