#include "http/url.h"

#include <boost/url.hpp>

namespace da::http {

namespace urls = boost::urls;

namespace {
void AddParams(const urls::params_view& params, QueryParams& out) {
  for (auto p : params) {
    if (p.key.empty() && p.value.empty()) continue;  // "a=1&&b=2"
    out.emplace(std::move(p.key), std::move(p.value));
  }
}
}  // namespace

namespace {
/// pchar (RFC 3986 §3.3) without pct-encoded: unreserved, sub-delims, ':' and '@'.
constexpr bool IsPlainPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

/// The common target: a path of plain characters, no query, no escape, no "." or ".."
/// segment (Boost.URL's segment view treats a leading one specially) and no empty segment but
/// the last ("/api/catalog/tables", "/a/"). Its decoded path and segments are its own bytes, so
/// Boost.URL's parse is skipped (the same answer: url_test.cpp compares the two). False
/// (`out` untouched) for anything else.
bool ParsePlainTarget(std::string_view target, ParsedTarget& out) {
  if (target.empty() || target.front() != '/') return false;
  size_t segment_start = 1;
  for (size_t i = 1; i <= target.size(); ++i) {
    if (i == target.size() || target[i] == '/') {
      const std::string_view seg = target.substr(segment_start, i - segment_start);
      if (seg == "." || seg == "..") return false;
      if (seg.empty() && i < target.size()) return false;
      segment_start = i + 1;
    } else if (!IsPlainPathChar(target[i])) {
      return false;
    }
  }
  out.path.assign(target);
  out.segments.clear();
  if (target.size() > 1) {
    std::string_view rest = target.substr(1);
    for (;;) {
      const size_t slash = rest.find('/');
      out.segments.emplace_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
  }
  out.query.clear();
  return true;
}
}  // namespace

bool ParseTarget(std::string_view target, ParsedTarget& out) {
  if (ParsePlainTarget(target, out)) return true;
  auto parsed = urls::parse_origin_form(target);
  if (!parsed) return false;
  const urls::url_view& u = *parsed;
  out.path = u.path();
  out.segments.clear();
  for (auto seg : u.segments()) out.segments.push_back(std::move(seg));
  // A path ending in '/' has an empty last segment ("/a/" → {"a", ""}); segments() drops it
  // only for the root.
  out.query.clear();
  if (u.has_query()) AddParams(u.params(), out.query);
  return true;
}

QueryParams ParseFormUrlEncoded(std::string_view body) {
  QueryParams out;
  auto parsed = urls::parse_query(body);
  if (!parsed) return out;
  AddParams(urls::params_view(*parsed, urls::encoding_opts{true, false, false}), out);
  return out;
}

}  // namespace da::http
