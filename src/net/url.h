#pragma once
/// URL helpers of the outgoing client (libcurl's URL parser): the parts of a URL, the
/// loopback test behind "plain http only to this machine", and a form safe for messages.
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace da::net {

/// The parts of an absolute URL. `password` is percent-decoded; the others are as written.
struct UrlParts {
  std::string scheme;  ///< lower case, e.g. "https"
  std::string host;    ///< "127.0.0.1", "example.com", "[::1]"
  std::string port;    ///< "" when the URL names none
  std::string user;
  std::string password;
  std::string path;    ///< "/" when the URL names none
};

/// Splits `url`. `any_scheme` also accepts schemes libcurl does not speak (smtp URLs are
/// checked by their caller). invalid_argument "not a valid URL" (without the URL: it may
/// hold credentials) when it does not parse.
Result<UrlParts> ParseUrl(std::string_view url, bool any_scheme = false);

/// True for 127.0.0.0/8 literals, "::1" / "[::1]" and "localhost" (a host as ParseUrl gives it).
bool IsLoopbackHost(std::string_view host);

/// `scheme://host[:port]/path` of `url`: no user info, query or fragment (where signed URLs
/// and tokens travel), so it can go into messages and logs. "<invalid url>" when it does not
/// parse.
std::string UrlForMessage(std::string_view url);

/// application/x-www-form-urlencoded encoding of one value (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view value);

/// `text` with every occurrence of each non-empty secret (and of its URL-encoded form)
/// replaced by `***`. Secrets shorter than 4 characters are ignored (they would shred text).
std::string Redact(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace da::net
