#include "auth/same_origin.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace da::auth {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// Splits an absolute http(s) URL into scheme, authority (host[:port]) and the rest; false
/// when it is not one (or has user info or control characters in the authority).
bool SplitUrl(const std::string& url, std::string* scheme, std::string* authority, std::string* rest) {
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return false;
  *scheme = Lower(url.substr(0, sep));
  if (*scheme != "http" && *scheme != "https") return false;
  const size_t start = sep + 3;
  const size_t end = url.find_first_of("/?#", start);
  *authority = Lower(url.substr(start, end == std::string::npos ? std::string::npos : end - start));
  *rest = end == std::string::npos ? "" : url.substr(end);
  if (authority->empty()) return false;
  for (unsigned char c : *authority) {
    if (c <= 0x20 || c == 0x7f || c == '@' || c == '\\') return false;
  }
  if ((*scheme == "http" && authority->ends_with(":80")) ||
      (*scheme == "https" && authority->ends_with(":443"))) {
    authority->erase(authority->rfind(':'));
  }
  return true;
}

/// host[:port] of an origin ("" when it is none).
std::string AuthorityOf(const std::string& origin) {
  const size_t sep = origin.find("://");
  return sep == std::string::npos ? "" : origin.substr(sep + 3);
}

}  // namespace

std::string SameOriginPath(const std::string& next) {
  if (next.empty() || next[0] != '/' || next.size() > 2048) return "/";
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";
  for (char c : next) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return "/";
  }
  return next;
}

std::string OriginOf(const std::string& url) {
  std::string scheme, authority, rest;
  if (!SplitUrl(url, &scheme, &authority, &rest)) return "";
  return scheme + "://" + authority;
}

Result<PublicUrl> ParsePublicUrl(const std::string& url, const std::string& what) {
  std::string scheme, authority, rest;
  if (!SplitUrl(url, &scheme, &authority, &rest)) {
    return InvalidArgument(what + " must be an absolute http(s) URL with a host, e.g. https://da.example.com: '" +
                           url.substr(0, 200) + "'");
  }
  if (rest.find_first_of("?#") != std::string::npos) {
    return InvalidArgument(what + " must not have a query or fragment: '" + url.substr(0, 200) + "'");
  }
  PublicUrl out;
  out.origin = scheme + "://" + authority;
  out.is_https = scheme == "https";
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  out.base = out.origin + rest;
  return out;
}

Result<std::optional<PublicUrl>> PublicUrlFromEnv() {
  const char* v = std::getenv("DA_PUBLIC_URL");
  if (v == nullptr || *v == '\0') return std::optional<PublicUrl>();
  DA_ASSIGN_OR_RETURN(PublicUrl url, ParsePublicUrl(v));
  return std::optional<PublicUrl>(std::move(url));
}

bool FromOwnOrigin(const std::string& origin_header, const std::string& referer_header,
                   const std::string& expected_origin, const std::string& host_header,
                   bool allow_without_headers) {
  std::string origin;
  if (!origin_header.empty()) {
    origin = OriginOf(origin_header);  // "null" (opaque origins) gives "": refused
  } else if (!referer_header.empty()) {
    origin = OriginOf(referer_header);
  } else {
    return allow_without_headers;
  }
  if (origin.empty()) return false;
  if (!expected_origin.empty()) return origin == Lower(expected_origin);
  // No public URL: the browser's origin must name the host it sent the request to (a TLS proxy
  // in front may change the scheme, so only host[:port] is compared).
  std::string host = Lower(host_header);
  std::string authority = AuthorityOf(origin);
  if (host.empty()) return false;
  auto without_default_port = [](std::string a) {
    if (a.ends_with(":80") || a.ends_with(":443")) a.erase(a.rfind(':'));
    return a;
  };
  return without_default_port(authority) == without_default_port(host);
}

}  // namespace da::auth
