#include "connectors/health_check.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/identifiers.h"
#include "kit/line_process.h"
#include "net/http_transfer.h"
#include "net/url.h"

namespace da::connectors {
namespace {

Status RunCommandCheck(const kit::Manifest& m, const kit::HealthCheck& hc) {
  std::string last;
  kit::LineProcessOptions o;
  o.argv = hc.command;
  o.working_dir = m.dir();
  o.inherit_only = kit::ConnectorProgramEnvironment(m);
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
  // Only the variables the manifest declares: an endpoint must not carry the server's secrets.
  const std::vector<std::string> declared = kit::DeclaredEnvVars(m);
  DA_ASSIGN_OR_RETURN(std::string url, ExpandPlaceholders(hc.endpoint, config, &declared));
  // A base URL configured with a trailing slash must not produce "//" in the path.
  if (size_t scheme = url.find("://"); scheme != std::string::npos) {
    const size_t query = url.find('?');
    for (size_t p = url.find("//", scheme + 3); p != std::string::npos && p < query;
         p = url.find("//", p)) {
      url.erase(p, 1);
    }
  }
  net::HttpRequest request;
  request.method = hc.method == "HEAD" ? "HEAD" : "GET";
  request.url = std::move(url);
  std::vector<std::string> secrets;  // expanded header values (tokens): redacted from messages
  for (const auto& [name, tmpl] : hc.headers) {
    DA_ASSIGN_OR_RETURN(std::string value, ExpandPlaceholders(tmpl, config, &declared));
    secrets.push_back(value);
    // "Bearer <token>": the token alone may be echoed too.
    if (size_t sp = value.rfind(' '); sp != std::string::npos && value.size() - sp > 8) {
      secrets.push_back(value.substr(sp + 1));
    }
    request.headers.emplace_back(name, std::move(value));
  }
  const std::string what = "health check of '" + m.name + "' (" + hc.endpoint + ")";
  net::TransferOptions options;
  options.schemes = net::SchemePolicy::kHttpOrHttps;
  options.connect_timeout_ms = 0;  // bounded by the check's own limit
  options.timeout_ms = hc.timeout_seconds * 1000;
  options.max_body_bytes = 65536;  // enough for the API's error message
  options.truncate_body = true;
  if (!request.url.starts_with("http://") && !request.url.starts_with("https://")) {
    return InvalidArgument(what + ": only http:// and https:// endpoints are allowed");
  }
  auto t = net::Transfer(request, options);
  if (!t.ok()) return t.status().WithContext(what);  // no expanded values in these messages
  if (t->failure == net::TransferFailure::kTimedOut) {
    return DeadlineExceeded(what + " took longer than " + std::to_string(hc.timeout_seconds) + " s");
  }
  if (!t->ok()) return Unavailable(what + " failed: " + t->error_kind);
  const long status = t->response.status;
  const std::string& body = t->response.body;
  if (status != hc.expect_status) {
    return Unavailable(what + " answered HTTP " + std::to_string(status) + ", expected " +
                       std::to_string(hc.expect_status) +
                       (body.empty() ? "" : ": " + net::Redact(net::ApiErrorMessage(body), secrets)));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ExpandPlaceholders(const std::string& text, const kit::ConnectorConfig& config,
                                       const std::vector<std::string>* env_names) {
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
    } else if (const char* v = std::getenv(name.c_str());
               v != nullptr && (env_names == nullptr ||
                                std::find(env_names->begin(), env_names->end(), name) !=
                                    env_names->end())) {
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
