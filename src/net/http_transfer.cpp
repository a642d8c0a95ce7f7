#include "net/http_transfer.h"

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/identifiers.h"
#include "net/curl_easy.h"
#include "net/url.h"

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

std::string CaPath(const std::string& ca_file) {
  if (!ca_file.empty()) return ca_file;
  const char* env = std::getenv("DA_CA_FILE");
  return env != nullptr ? env : "";
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

/// State of one exchange, shared with libcurl's callbacks.
struct Exchange {
  CURL* curl = nullptr;
  const TransferOptions* options = nullptr;
  BodySink* sink = nullptr;
  TransferResult result;
  bool begun = false;
  bool too_large = false;
};

size_t OnWrite(char* data, size_t size, size_t n, void* userdata) {
  auto* x = static_cast<Exchange*>(userdata);
  const size_t len = size * n;
  if (x->sink != nullptr && !x->begun) {
    x->begun = true;
    long status = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    Result<bool> accept = x->sink->Begin(status);
    if (!accept.ok()) {
      x->result.write_error = accept.status();
      return 0;
    }
    x->result.sink_accepted = *accept;
  }
  x->result.body_bytes += static_cast<int64_t>(len);
  if (x->result.sink_accepted) {
    Status s = x->sink->Write(std::string_view(data, len));
    if (!s.ok()) {
      x->result.write_error = std::move(s);
      return 0;
    }
    return len;
  }
  std::string& body = x->result.response.body;
  const size_t room = x->options->max_body_bytes - std::min(body.size(), x->options->max_body_bytes);
  if (len > room) {
    if (!x->options->truncate_body) {
      x->too_large = true;
      return 0;
    }
    body.append(data, room);
    return len;
  }
  body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* userdata) {
  auto* x = static_cast<Exchange*>(userdata);
  std::string_view line(data, size * n);
  auto& headers = x->result.response.headers;
  if (line.starts_with("HTTP/")) {
    headers.clear();  // a new response (after a redirect or 1xx)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    headers[name] = Trim(line.substr(colon + 1));
  }
  return size * n;
}

int OnProgress(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* options = static_cast<const TransferOptions*>(userdata);
  return options->cancelled() ? 1 : 0;
}

TransferFailure FailureOf(CURLcode c) {
  switch (c) {
    case CURLE_OK:
      return TransferFailure::kNone;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return TransferFailure::kCannotConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransferFailure::kTimedOut;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
      return TransferFailure::kDropped;
    default:
      return TransferFailure::kOther;
  }
}

bool Retryable(CURLcode c) {
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

Status CheckScheme(const HttpRequest& request, SchemePolicy schemes) {
  const auto refuse = [&](const std::string& why) {
    return InvalidArgument("refusing " + request.method + " " + UrlForMessage(request.url) + ": " +
                           why);
  };
  if (schemes == SchemePolicy::kHttpsOnly) {
    if (!request.url.starts_with("https://")) return refuse("only https:// URLs are allowed");
    return Status::Ok();
  }
  auto parts = ParseUrl(request.url);
  if (!parts.ok()) return refuse("not a valid URL");
  if (parts->scheme == "https") return Status::Ok();
  if (parts->scheme == "http" &&
      (schemes == SchemePolicy::kHttpOrHttps || IsLoopbackHost(parts->host))) {
    return Status::Ok();
  }
  return refuse(schemes == SchemePolicy::kHttpOrHttps
                    ? "only http:// and https:// URLs are allowed"
                    : "plain http is allowed only to loopback hosts");
}

}  // namespace

CurlEasy CurlEasy::Create() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CurlEasy easy;
  easy.handle_.reset(curl_easy_init());
  return easy;
}

Status CheckCaFile(const std::string& ca_file) {
  const std::string path = CaPath(ca_file);
  if (path.empty()) return Status::Ok();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgument(std::string(ca_file.empty() ? "DA_CA_FILE" : "the CA file") +
                           " is not a readable file: '" + path + "'");
  }
  return Status::Ok();
}

void ConfigureTls(void* curl_handle, const std::string& ca_file) {
  CURL* c = static_cast<CURL*>(curl_handle);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  const std::string path = CaPath(ca_file);
  if (!path.empty()) {
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, AddCas);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, const_cast<CaBundle*>(LoadBundle(path)));
  }
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

Result<TransferResult> Transfer(const HttpRequest& request, const TransferOptions& options,
                                BodySink* sink) {
  DA_RETURN_IF_ERROR(CheckScheme(request, options.schemes));
  if (request.url.starts_with("https://")) DA_RETURN_IF_ERROR(CheckCaFile(options.ca_file));
  CurlEasy curl = CurlEasy::Create();
  if (!curl) return Internal("curl_easy_init failed");
  CURL* c = curl.get();
  Exchange x;
  x.curl = c;
  x.options = &options;
  x.sink = sink;
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  const char* protocols = options.schemes == SchemePolicy::kHttpsOnly ? "https" : "http,https";
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
  // Redirects could leave loopback, so loopback-only http follows none.
  const bool follow =
      options.follow_redirects && options.schemes != SchemePolicy::kHttpsOrLoopbackHttp;
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
  if (follow) {
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  }
  ConfigureTls(c, options.ca_file);
  if (options.connect_timeout_ms > 0) {
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  }
  if (options.timeout_ms > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  }
  if (options.low_speed_seconds > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.low_speed_bytes));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_seconds));
  }
  if (!options.user_agent.empty()) {
    curl_easy_setopt(c, CURLOPT_USERAGENT, options.user_agent.c_str());
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  if (options.cancelled) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<TransferOptions*>(&options));
  }

  CurlSlist headers;
  // An empty value ("Expect:") removes a header libcurl would add.
  for (const auto& [name, value] : request.headers) {
    Append(headers, value.empty() ? name + ":" : name + ": " + value);
  }
  if (!request.content_type.empty()) Append(headers, "Content-Type: " + request.content_type);
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  const std::string& m = request.method;
  if (m == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (m == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    if (m == "POST" || m == "PUT" || m == "PATCH" || !request.body.empty()) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    if (m != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
  }
  if (!request.basic_user.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, request.basic_user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.basic_password.c_str());
  }
  std::string range;
  if (request.range_from_bytes > 0) {
    range = std::to_string(request.range_from_bytes) + "-";
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  }

  const CURLcode rc = curl_easy_perform(c);
  TransferResult& r = x.result;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.response.status);
  if (rc == CURLE_OK) return std::move(r);
  r.error_kind = curl_easy_strerror(rc);
  r.error = errbuf[0] != '\0' ? errbuf : r.error_kind;
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    r.failure = TransferFailure::kCancelled;
  } else if (rc == CURLE_WRITE_ERROR && x.too_large) {
    r.failure = TransferFailure::kTooLarge;
  } else if (rc == CURLE_WRITE_ERROR && !r.write_error.ok()) {
    r.failure = TransferFailure::kWriteFailed;
  } else {
    r.failure = FailureOf(rc);
    r.retryable = Retryable(rc);
  }
  return std::move(r);
}

}  // namespace da::net
