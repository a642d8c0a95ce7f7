#include "client/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>

namespace da::client {
namespace {

constexpr size_t kMaxErrorBodyBytes = 64 * 1024;
constexpr const char* kUserAgent = "da-cli/0.1.0";

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

size_t HeaderCallback(char* data, size_t size, size_t nitems, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  size_t n = size * nitems;
  std::string_view line(data, n);
  // A new status line (after 1xx or a redirect) starts a fresh header set.
  if (line.substr(0, 5) == "HTTP/") {
    headers->clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    (*headers)[Lower(std::string(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return n;
}

size_t StringWriteCallback(char* data, size_t size, size_t nmemb, void* user) {
  auto* out = static_cast<std::string*>(user);
  out->append(data, size * nmemb);
  return size * nmemb;
}

/// Common handle setup; `headers` must outlive the transfer.
CurlPtr MakeHandle(const HttpClientOptions& options, const std::string& url,
                   curl_slist** headers) {
  GlobalInitOnce();
  CurlPtr curl(curl_easy_init());
  if (!curl) return curl;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  *headers = curl_slist_append(*headers, "Accept: application/json");
  // Large JSON bodies would otherwise wait for a 100-continue round trip.
  *headers = curl_slist_append(*headers, "Expect:");
  if (!options.token.empty()) {
    std::string auth = "Authorization: Bearer " + options.token;
    *headers = curl_slist_append(*headers, auth.c_str());
  }
  return curl;
}

/// The Status of a failed transfer; never includes request headers (the token).
Status TransportError(CURLcode rc, const char* errbuf, const std::string& base_url,
                      const std::string& url, int64_t bytes_received) {
  std::string detail = (errbuf != nullptr && errbuf[0] != '\0') ? errbuf : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Unavailable("cannot reach server " + base_url + ": " + detail);
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceeded("request to " + url + " timed out: " + detail);
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
      return Unavailable("connection to " + url + " dropped after " +
                         std::to_string(bytes_received) + " bytes: " + detail);
    default:
      return Unavailable("request to " + url + " failed: " + detail);
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
  std::string url = options_.base_url + std::string(path);
  curl_slist* raw_headers = nullptr;
  CurlPtr curl = MakeHandle(options_, url, &raw_headers);
  SlistPtr headers_owner(raw_headers);
  if (!curl) return Internal("curl_easy_init failed");
  CURL* c = curl.get();

  std::string payload;
  if (body != nullptr) {
    payload = body->dump();
    headers_owner.reset(
        curl_slist_append(headers_owner.release(), "Content-Type: application/json"));
  }
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    std::string m(method);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
    if (body != nullptr || method == "POST" || method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    }
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_owner.get());
  if (options_.request_timeout_ms > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
  }
  HttpResponse response;
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, HeaderCallback);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, StringWriteCallback);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return TransportError(rc, errbuf, options_.base_url, url,
                          static_cast<int64_t>(response.body.size()));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
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

/// State of one streaming download, shared with the write callback.
struct DownloadSink {
  CURL* curl = nullptr;
  const std::filesystem::path* dest = nullptr;
  int64_t resume_from = 0;
  const ProgressFn* progress = nullptr;
  bool decided = false;       // whether the status has been looked at
  bool to_file = false;       // 2xx: body goes to the file; otherwise into error_body
  FilePtr file;
  std::string error_body;
  std::string write_error;
  int64_t bytes_written = 0;

  bool OpenFile(bool append) {
    file.reset(std::fopen(dest->c_str(), append ? "ab" : "wb"));
    if (!file) {
      write_error = "cannot open '" + dest->string() + "': " + std::strerror(errno);
      return false;
    }
    return true;
  }

  /// Looks at the status once, before the first body byte.
  bool Decide() {
    decided = true;
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
      to_file = true;
      return OpenFile(false);
    }
    if (status == 206) {
      to_file = true;
      return OpenFile(resume_from > 0);
    }
    return true;
  }
};

size_t FileWriteCallback(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<DownloadSink*>(user);
  size_t n = size * nmemb;
  if (!sink->decided && !sink->Decide()) return 0;
  if (!sink->to_file) {
    if (sink->error_body.size() < kMaxErrorBodyBytes) sink->error_body.append(data, n);
    return n;
  }
  if (std::fwrite(data, 1, n, sink->file.get()) != n) {
    sink->write_error = "cannot write '" + sink->dest->string() + "': " + std::strerror(errno);
    return 0;
  }
  sink->bytes_written += static_cast<int64_t>(n);
  if (*sink->progress) (*sink->progress)(static_cast<int64_t>(n));
  return n;
}

}  // namespace

Result<DownloadResult> HttpClient::Download(std::string_view path,
                                            const std::filesystem::path& dest,
                                            const DownloadOptions& options) const {
  std::string url = options_.base_url + std::string(path);
  curl_slist* raw_headers = nullptr;
  CurlPtr curl = MakeHandle(options_, url, &raw_headers);
  SlistPtr headers_owner(raw_headers);
  if (!curl) return Internal("curl_easy_init failed");
  CURL* c = curl.get();
  if (!options.if_none_match.empty()) {
    std::string h = "If-None-Match: \"" + options.if_none_match + "\"";
    headers_owner.reset(curl_slist_append(headers_owner.release(), h.c_str()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_owner.get());
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  std::string range;
  if (options.resume_from_bytes > 0) {
    range = std::to_string(options.resume_from_bytes) + "-";
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  }
  if (options_.download_stall_timeout_ms > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(options_.download_stall_timeout_ms / 1000)));
  }
  std::map<std::string, std::string> headers;
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, HeaderCallback);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &headers);
  DownloadSink sink;
  sink.curl = c;
  sink.dest = &dest;
  sink.resume_from = options.resume_from_bytes;
  sink.progress = &options.progress;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, FileWriteCallback);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc == CURLE_WRITE_ERROR && !sink.write_error.empty()) return Internal(sink.write_error);
  if (rc != CURLE_OK) {
    if (status != 0 && (status < 200 || status >= 300) && status != 304 && !sink.to_file) {
      return StatusFromHttpError(static_cast<int>(status), sink.error_body, "GET " + url);
    }
    return TransportError(rc, errbuf, options_.base_url, url, sink.bytes_written);
  }
  DownloadResult result;
  result.status = static_cast<int>(status);
  if (auto it = headers.find("etag"); it != headers.end()) {
    std::string etag = it->second;
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
      etag = etag.substr(1, etag.size() - 2);
    }
    result.etag = etag;
  }
  if (auto it = headers.find("accept-ranges"); it != headers.end()) {
    result.accepts_ranges = Lower(it->second).find("bytes") != std::string::npos;
  }
  if (status == 304) {
    result.not_modified = true;
    return result;
  }
  if (status != 200 && status != 206) {
    return StatusFromHttpError(static_cast<int>(status), sink.error_body, "GET " + url);
  }
  if (!sink.decided) {
    // An empty 2xx body never reached the write callback: still produce the (empty) file.
    if (!sink.Decide()) return Internal(sink.write_error);
  }
  if (sink.file && std::fflush(sink.file.get()) != 0) {
    return Internal("cannot write '" + dest.string() + "': " + std::strerror(errno));
  }
  sink.file.reset();
  result.bytes_written = sink.bytes_written;
  return result;
}

}  // namespace da::client
