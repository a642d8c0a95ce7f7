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

bool ParseTarget(std::string_view target, ParsedTarget& out) {
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
