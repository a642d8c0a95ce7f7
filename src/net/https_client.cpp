#include "net/https_client.h"

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/identifiers.h"

namespace da::net {
namespace {

/// Certificates of one CA bundle, loaded once per path and kept for the process lifetime.
struct CaBundle {
  std::vector<X509*> certs;
};

const CaBundle* LoadBundle(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, CaBundle> bundles;
  std::lock_guard<std::mutex> lock(mu);
  auto [it, inserted] = bundles.try_emplace(path);
  if (inserted) {
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) it->second.certs.push_back(x);
      std::fclose(f);
    }
  }
  return &it->second;
}

CURLcode AddCas(CURL*, void* ssl_ctx, void* userdata) {
  const auto* bundle = static_cast<const CaBundle*>(userdata);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  for (X509* x : bundle->certs) X509_STORE_add_cert(store, x);  // duplicates are harmless
  return CURLE_OK;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// The URL without its query string (signed URLs carry credentials there).
std::string UrlForMessage(const std::string& url) {
  return url.substr(0, url.find('?'));
}

struct Transfer {
  const HttpsClient* client = nullptr;
  FILE* file = nullptr;  // download target, or nullptr to buffer
  std::string body;      // buffered body (Send) or error body (Download, status >= 400)
  std::map<std::string, std::string> headers;
  CURL* curl = nullptr;
  bool write_failed = false;
};

size_t OnWrite(char* data, size_t size, size_t n, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->file && status < 300) {
    if (std::fwrite(data, 1, len, t->file) != len) {
      t->write_failed = true;
      return 0;
    }
    return len;
  }
  if (t->body.size() < (t->file ? 65536u : SIZE_MAX - len)) t->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) t->headers.clear();  // a new response (redirect, 100)
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    t->headers[name] = std::string(value);
  }
  return size * n;
}

int OnProgress(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* client = static_cast<const HttpsClient*>(userdata);
  const auto& cancelled = client->options().cancelled;
  return cancelled && cancelled() ? 1 : 0;
}

/// Transport errors worth another attempt.
bool RetryableCurl(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
      return true;
    default:
      return false;
  }
}

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

std::string Redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& s : secrets) {
    if (s.size() < 4) continue;
    for (const std::string& form : {s, UrlEncode(s)}) {
      for (size_t pos = out.find(form); pos != std::string::npos; pos = out.find(form, pos + 3)) {
        out.replace(pos, form.size(), "***");
      }
    }
  }
  return out;
}

std::string UrlEncode(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ApiErrorMessage(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (auto e = j.find("error"); e != j.end()) {
      if (e->is_string()) return PrintableForMessage(e->get<std::string>(), 1000);
      if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
        return PrintableForMessage((*e)["message"].get<std::string>(), 1000);
    }
    if (auto m = j.find("message"); m != j.end() && m->is_string())
      return PrintableForMessage(m->get<std::string>(), 1000);
    if (auto r = j.find("reason"); r != j.end() && r->is_string())
      return PrintableForMessage(r->get<std::string>(), 1000);
  }
  return PrintableForMessage(body, 300);
}

void ConfigureTls(void* curl_handle, const std::string& ca_file) {
  CURL* c = static_cast<CURL*>(curl_handle);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  std::string path = ca_file;
  if (path.empty()) {
    const char* env = std::getenv("DA_CA_FILE");
    if (env) path = env;
  }
  if (!path.empty()) {
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, AddCas);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, const_cast<CaBundle*>(LoadBundle(path)));
  }
}

HttpsClient::HttpsClient(HttpsClientOptions options) : options_(std::move(options)) {
  GlobalInit();
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
  const std::string what = req.method + " " + Redacted(UrlForMessage(req.url));
  if (!req.url.starts_with("https://")) {
    return InvalidArgument("refusing " + what + ": only https:// URLs are allowed");
  }
  std::mt19937_64 rng(std::random_device{}());
  int64_t backoff = options_.retry.initial_backoff_ms;
  std::string last_error;
  for (int attempt = 1; attempt <= options_.retry.max_attempts; ++attempt) {
    if (options_.cancelled && options_.cancelled()) return Aborted(what + ": cancelled");
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Internal("curl_easy_init failed");
    Transfer t;
    t.client = this;
    t.curl = curl.get();
    std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, std::fclose);
    if (dest) {
      file.reset(std::fopen(dest->c_str(), "wb"));
      if (!file) return Unavailable("cannot write " + dest->string());
      t.file = file.get();
    }
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    ConfigureTls(c, options_.ca_file);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
    if (options_.timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
    if (options_.low_speed_seconds > 0) {
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.low_speed_bytes));
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_seconds));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<HttpsClient*>(this));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "da/1 (+https)");
    struct curl_slist* raw_headers = nullptr;
    for (const auto& [k, v] : req.headers) raw_headers = curl_slist_append(raw_headers, (k + ": " + v).c_str());
    if (!req.content_type.empty())
      raw_headers = curl_slist_append(raw_headers, ("Content-Type: " + req.content_type).c_str());
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(raw_headers, curl_slist_free_all);
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    if (req.method == "POST" || req.method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      if (req.method == "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    } else if (req.method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }

    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    file.reset();
    int64_t wait_ms = -1;
    if (rc == CURLE_ABORTED_BY_CALLBACK) return Aborted(what + ": cancelled");
    if (t.write_failed) return Unavailable(what + ": cannot write " + dest->string());
    if (rc != CURLE_OK) {
      last_error = curl_easy_strerror(rc);
      if (!RetryableCurl(rc)) {
        return Unavailable(what + " failed: " + Redacted(last_error));
      }
    } else if (status >= 500 || status == 429 || status == 408) {
      last_error = "HTTP " + std::to_string(status) + ": " + Redacted(ApiErrorMessage(t.body));
      wait_ms = RetryAfterMs(t.headers);
    } else if (status >= 400) {
      return StatusFor(status, what + " answered HTTP " + std::to_string(status) + ": " +
                                   Redacted(ApiErrorMessage(t.body)));
    } else {
      HttpsResponse resp;
      resp.status = status;
      resp.body = dest ? std::string() : std::move(t.body);
      resp.headers = std::move(t.headers);
      return resp;
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
