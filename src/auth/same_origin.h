#pragma once
/// Same-origin rules of sign-in, in one place for the server and the web UI (which asks the
/// server through `GET /auth/config?next=`): where a browser may be sent after sign-in, the
/// instance's public URL (DA_PUBLIC_URL) and whether a browser request came from our own pages.
#include <optional>
#include <string>

#include "common/status.h"

namespace da::auth {

/// `next` when it is a path on this origin, else "/". Accepted: starts with one "/" followed by
/// anything but "/" or "\"; at most 2048 bytes; no backslash, no control character (browsers
/// drop tab/CR/LF from URLs, so "/\t/evil.example" would become "//evil.example"). An absolute URL (`https://evil.example`, `//evil`) is never accepted.
/// The input is the decoded value (a query parameter, form field or JSON string).
std::string SameOriginPath(const std::string& next);

/// The instance's public URL (DA_PUBLIC_URL), e.g. `https://da.example.com`.
struct PublicUrl {
  std::string base;    ///< the URL without a trailing slash (links are base + path)
  std::string origin;  ///< scheme://host[:port], lower-case, default port dropped
  bool is_https = false;
};

/// Parses an absolute http(s) URL with a host (a path is kept in `base`; query, fragment and
/// user info are refused). invalid_argument naming `what` otherwise.
Result<PublicUrl> ParsePublicUrl(const std::string& url, const std::string& what = "DA_PUBLIC_URL");
/// DA_PUBLIC_URL: nullopt when unset or empty; invalid_argument when malformed.
Result<std::optional<PublicUrl>> PublicUrlFromEnv();

/// The origin (scheme://host[:port], lower-case, default port dropped) of an absolute http(s)
/// URL, or "" when `url` is not one (e.g. "null" or a path).
std::string OriginOf(const std::string& url);

/// True when a state-changing browser request comes from our own pages: its `Origin` header
/// (else the origin of its `Referer`) equals `expected_origin`. When `expected_origin` is empty
/// (no public URL), the host[:port] of that origin must equal the request's `host` header.
/// With neither header: `allow_without_headers` (callers allow it only for non-browser JSON
/// bodies, which a cross-site form cannot send). `Origin: null` is refused.
bool FromOwnOrigin(const std::string& origin_header, const std::string& referer_header,
                   const std::string& expected_origin, const std::string& host_header,
                   bool allow_without_headers);

}  // namespace da::auth
