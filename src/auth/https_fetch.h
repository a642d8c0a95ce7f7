#pragma once
/// Outbound HTTPS for sign-in (OIDC discovery, JWKS, token and userinfo endpoints): the OIDC
/// shapes of a request over net::Transfer (net/http_transfer.h), which does TLS and limits.
///
/// Trust: the system CA bundle, plus the PEM certificates in the file named by `DA_CA_FILE`
/// when set (added to, not replacing, the system set — for private CAs and tests).
/// Plain `http://` is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost): a
/// provider on the same machine (development, tests) never crosses a network in clear text.
/// Redirects are not followed; response bodies are capped at 1 MiB.
#include <string>
#include <string_view>

#include "common/status.h"
#include "net/url.h"

namespace da::auth {

struct FetchRequest {
  std::string url;
  bool post = false;                  ///< POST `form_body` as application/x-www-form-urlencoded
  std::string form_body;
  std::string basic_user;             ///< HTTP Basic credentials when non-empty (already form-encoded)
  std::string basic_password;
  std::string bearer_token;            ///< `Authorization: Bearer` when non-empty
  long timeout_ms = 10'000;           ///< whole request
};

struct FetchResponse {
  long status = 0;                    ///< HTTP status
  std::string body;
};

/// Ok when `url` is https://, or http:// to a loopback host; invalid_argument naming the URL
/// (without its query) otherwise.
Status CheckFetchUrl(std::string_view url);

using net::IsLoopbackHost;
using net::UrlForMessage;

/// A GET request for `url` with the default timeout.
inline FetchRequest GetRequest(std::string url) {
  FetchRequest r;
  r.url = std::move(url);
  return r;
}

/// Performs the request. Any HTTP status is a response; unavailable "cannot fetch <url>: <reason>"
/// for transport/TLS failures and bodies over 1 MiB (no request body, credential or response
/// body in the message); invalid_argument for a refused URL or a DA_CA_FILE that is not a file.
Result<FetchResponse> Fetch(const FetchRequest& request);

/// For test browsers that drive their own libcurl handle (`CURL*`): peer + host verification
/// and the DA_CA_FILE trust addition (net::ConfigureTls). invalid_argument when DA_CA_FILE
/// names a missing file.
Status ConfigureTlsTrust(void* curl);

/// application/x-www-form-urlencoded escaping of one value.
std::string FormEncode(std::string_view value);

}  // namespace da::auth
