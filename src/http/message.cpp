#include "http/message.h"

#include <algorithm>

namespace da::http {

namespace {
/// ASCII lower case (header names are ASCII tokens; std::tolower is a locale-aware call per
/// character, and header lookups compare on every request).
constexpr unsigned char Lower(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 'A' && u <= 'Z' ? static_cast<unsigned char>(u + ('a' - 'A')) : u;
}
const std::string kEmpty;

/// The first value of `key` in a multimap keyed by name (headers, query); "" when absent.
template <class Map>
std::string FirstValue(const Map& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? std::string() : it->second;
}

/// Every value of `key`, in insertion order.
template <class Map>
std::vector<std::string> AllValues(const Map& map, std::string_view key) {
  std::vector<std::string> out;
  auto [b, e] = map.equal_range(key);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}
}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = Lower(a[i]), y = Lower(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

std::string Request::Header(std::string_view name) const { return FirstValue(headers, name); }

bool Request::HasHeader(std::string_view name) const { return headers.find(name) != headers.end(); }

std::vector<std::string> Request::HeaderValues(std::string_view name) const {
  return AllValues(headers, name);
}

std::string Request::Query(std::string_view name) const { return FirstValue(query, name); }

bool Request::HasQuery(std::string_view name) const { return query.find(name) != query.end(); }

std::vector<std::string> Request::QueryValues(std::string_view name) const {
  return AllValues(query, name);
}

const std::string& Request::PathParam(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  return kEmpty;
}

void Response::SetHeader(std::string_view name, std::string value) {
  headers.erase(std::string(name));
  headers.emplace(std::string(name), std::move(value));
}

void Response::AddHeader(std::string_view name, std::string value) {
  headers.emplace(std::string(name), std::move(value));
}

std::string Response::Header(std::string_view name) const { return FirstValue(headers, name); }

bool Response::HasHeader(std::string_view name) const { return headers.find(name) != headers.end(); }

void Response::SetContent(std::string content, std::string_view content_type) {
  view.reset();
  body = std::move(content);
  SetHeader("Content-Type", std::string(content_type));
}

void Response::SetBodyView(std::shared_ptr<const void> owner, std::string_view bytes,
                           std::string_view content_type) {
  body.clear();
  view = BodyView{std::move(owner), bytes};
  SetHeader("Content-Type", std::string(content_type));
}

}  // namespace da::http
