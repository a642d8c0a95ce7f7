#include "auth/https_fetch.h"

#include <algorithm>

#include "net/http_transfer.h"

namespace da::auth {
namespace {

constexpr size_t kMaxBody = 1 << 20;

}  // namespace

Status CheckFetchUrl(std::string_view url) {
  auto parts = net::ParseUrl(url);
  if (!parts.ok()) return InvalidArgument("not a valid URL: '" + UrlForMessage(url) + "'");
  if (parts->scheme == "https") return Status::Ok();
  if (parts->scheme == "http" && IsLoopbackHost(parts->host)) return Status::Ok();
  return InvalidArgument("URL must use https (plain http only for loopback hosts): '" + UrlForMessage(url) +
                         "'");
}

std::string FormEncode(std::string_view value) { return net::UrlEncode(value); }

Status ConfigureTlsTrust(void* curl) {
  DA_RETURN_IF_ERROR(net::CheckCaFile());
  net::ConfigureTls(curl);
  return Status::Ok();
}

Result<FetchResponse> Fetch(const FetchRequest& request) {
  DA_RETURN_IF_ERROR(CheckFetchUrl(request.url));
  // A missing DA_CA_FILE is refused even for loopback http, as it always was for sign-in.
  DA_RETURN_IF_ERROR(net::CheckCaFile());
  const std::string where = UrlForMessage(request.url);
  net::HttpRequest http;
  http.url = request.url;
  http.headers.emplace_back("Accept", "application/json");
  if (!request.bearer_token.empty()) http.headers.emplace_back("Authorization", "Bearer " + request.bearer_token);
  if (request.post) {
    http.method = "POST";
    http.body = request.form_body;
    http.content_type = "application/x-www-form-urlencoded";
  }
  http.basic_user = request.basic_user;
  http.basic_password = request.basic_password;
  net::TransferOptions options;
  options.schemes = net::SchemePolicy::kHttpsOrLoopbackHttp;
  options.timeout_ms = request.timeout_ms;
  options.connect_timeout_ms = std::min(request.timeout_ms, 10'000L);
  options.user_agent = "da";
  options.max_body_bytes = kMaxBody;
  DA_ASSIGN_OR_RETURN(net::TransferResult t, net::Transfer(http, options));
  if (t.failure == net::TransferFailure::kTooLarge) {
    return Unavailable("cannot fetch " + where + ": response larger than 1 MiB");
  }
  if (!t.ok()) return Unavailable("cannot fetch " + where + ": " + t.error);
  return FetchResponse{t.response.status, std::move(t.response.body)};
}

}  // namespace da::auth
