#include "connectors/health_check.h"

#include "net/https_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/identifiers.h"
#include "kit/line_process.h"

namespace da::connectors {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

/// Keeps the first 64 KiB of the answer (for the API's error message); the rest is dropped.
size_t CaptureBody(char* data, size_t size, size_t nmemb, void* out) {
  auto* body = static_cast<std::string*>(out);
  const size_t n = size * nmemb;
  if (body->size() < 65536) body->append(data, std::min(n, 65536 - body->size()));
  return n;
}

Status RunCommandCheck(const kit::Manifest& m, const kit::HealthCheck& hc) {
  std::string last;
  kit::LineProcessOptions o;
  o.argv = hc.command;
  o.working_dir = m.dir();
  o.timeout_ms = hc.timeout_seconds * 1000;
  o.on_stdout_line = [&](std::string_view line) {
    if (!line.empty()) last = PrintableForMessage(line, 300);
    return Status::Ok();
  };
  o.on_stderr_line = [&](std::string_view line) {
    if (!line.empty()) last = PrintableForMessage(line, 300);
  };
  DA_ASSIGN_OR_RETURN(auto r, kit::RunLineProcess(o));
  if (r.timed_out) {
    return DeadlineExceeded("health check of '" + m.name + "' took longer than " +
                            std::to_string(hc.timeout_seconds) + " s");
  }
  if (!r.succeeded()) {
    return Unavailable("health check of '" + m.name + "' failed (exit " +
                       std::to_string(r.exit_code) + ")" + (last.empty() ? "" : ": " + last));
  }
  return Status::Ok();
}

Status RunHttpCheck(const kit::Manifest& m, const kit::HealthCheck& hc, const kit::ConnectorConfig& config) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  DA_ASSIGN_OR_RETURN(std::string url, ExpandPlaceholders(hc.endpoint, config));
  // A base URL configured with a trailing slash must not produce "//" in the path.
  if (size_t scheme = url.find("://"); scheme != std::string::npos) {
    const size_t query = url.find('?');
    for (size_t p = url.find("//", scheme + 3); p != std::string::npos && p < query;
         p = url.find("//", p)) {
      url.erase(p, 1);
    }
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  std::vector<std::string> secrets;  // expanded header values (tokens): redacted from messages
  for (const auto& [name, tmpl] : hc.headers) {
    DA_ASSIGN_OR_RETURN(std::string value, ExpandPlaceholders(tmpl, config));
    secrets.push_back(value);
    // "Bearer <token>": the token alone may be echoed too.
    if (size_t sp = value.rfind(' '); sp != std::string::npos && value.size() - sp > 8) {
      secrets.push_back(value.substr(sp + 1));
    }
    const std::string line = name + ": " + value;
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Internal("curl_easy_init failed");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  net::ConfigureTls(c);  // verified TLS plus the DA_CA_FILE bundle
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(hc.timeout_seconds * 1000));
  std::string body;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CaptureBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  if (hc.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return DeadlineExceeded("health check of '" + m.name + "' (" + hc.endpoint + ") took longer than " +
                            std::to_string(hc.timeout_seconds) + " s");
  }
  if (rc != CURLE_OK) {
    return Unavailable("health check of '" + m.name + "' (" + hc.endpoint + ") failed: " +
                       curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != hc.expect_status) {
    return Unavailable("health check of '" + m.name + "' (" + hc.endpoint + ") answered HTTP " +
                       std::to_string(status) + ", expected " + std::to_string(hc.expect_status) +
                       (body.empty() ? "" : ": " + net::Redact(net::ApiErrorMessage(body), secrets)));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ExpandPlaceholders(const std::string& text, const kit::ConnectorConfig& config) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string::npos) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, open - i);
    size_t close = text.find('}', open + 2);
    if (close == std::string::npos) {
      return InvalidArgument("unterminated ${ in '" + PrintableForMessage(text) + "'");
    }
    const std::string name = text.substr(open + 2, close - open - 2);
    if (auto it = config.find(name); it != config.end()) {
      out += it->second;
    } else if (const char* v = std::getenv(name.c_str()); v != nullptr) {
      out += v;
    } else {
      return InvalidArgument("${" + PrintableForMessage(name) +
                             "} is neither a config value nor a set environment variable");
    }
    i = close + 1;
  }
  return out;
}

Status RunHealthCheck(const kit::Manifest& manifest, const kit::ConnectorConfig& config) {
  if (!manifest.health_check) return Status::Ok();
  const kit::HealthCheck& hc = *manifest.health_check;
  if (!hc.command.empty()) return RunCommandCheck(manifest, hc);
  return RunHttpCheck(manifest, hc, config);
}

}  // namespace da::connectors
