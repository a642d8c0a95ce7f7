#include "auth/https_fetch.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "net/https_client.h"

namespace da::auth {
namespace {

constexpr size_t kMaxBody = 1 << 20;

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::string UrlPart(CURLU* u, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(u, part, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

struct Sink {
  std::string body;
  bool too_big = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->body.size() + size * n > kMaxBody) {
    sink->too_big = true;
    return 0;
  }
  sink->body.append(data, size * n);
  return size * n;
}

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  return host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string::npos;
}

std::string UrlForMessage(std::string_view url) {
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (curl_url_set(u.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) return "<invalid url>";
  std::string port = UrlPart(u.get(), CURLUPART_PORT);
  return UrlPart(u.get(), CURLUPART_SCHEME) + "://" + UrlPart(u.get(), CURLUPART_HOST) +
         (port.empty() ? "" : ":" + port) + UrlPart(u.get(), CURLUPART_PATH);
}

Status CheckFetchUrl(std::string_view url) {
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (curl_url_set(u.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) {
    return InvalidArgument("not a valid URL: '" + UrlForMessage(url) + "'");
  }
  std::string scheme = UrlPart(u.get(), CURLUPART_SCHEME);
  if (scheme == "https") return Status::Ok();
  if (scheme == "http" && IsLoopbackHost(UrlPart(u.get(), CURLUPART_HOST))) return Status::Ok();
  return InvalidArgument("URL must use https (plain http only for loopback hosts): '" + UrlForMessage(url) +
                         "'");
}

std::string FormEncode(std::string_view value) { return net::UrlEncode(value); }

Status ConfigureTlsTrust(CURL* curl) {
  const char* ca_file = std::getenv("DA_CA_FILE");
  if (ca_file != nullptr && *ca_file != '\0') {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ca_file, ec)) {
      return InvalidArgument(std::string("DA_CA_FILE is not a readable file: '") + ca_file + "'");
    }
  }
  net::ConfigureTls(curl);  // verification on; DA_CA_FILE added to the system store
  return Status::Ok();
}

Result<FetchResponse> Fetch(const FetchRequest& request) {
  DA_RETURN_IF_ERROR(CheckFetchUrl(request.url));
  std::string where = UrlForMessage(request.url);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Internal("curl_easy_init failed");
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  Sink sink;
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(request.timeout_ms, 10'000L));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "da");
  DA_RETURN_IF_ERROR(ConfigureTlsTrust(c));
  std::unique_ptr<curl_slist, SlistDeleter> headers(curl_slist_append(nullptr, "Accept: application/json"));
  if (!request.bearer_token.empty()) {
    curl_slist* more = curl_slist_append(headers.get(), ("Authorization: Bearer " + request.bearer_token).c_str());
    if (more == nullptr) return Internal("out of memory");
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (request.post) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.form_body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.form_body.size()));
  }
  if (!request.basic_user.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, request.basic_user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.basic_password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (sink.too_big) return Unavailable("cannot fetch " + where + ": response larger than 1 MiB");
  if (rc != CURLE_OK) {
    return Unavailable("cannot fetch " + where + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
  }
  FetchResponse response;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(sink.body);
  return response;
}

}  // namespace da::auth
