#include "http/range.h"

#include <algorithm>
#include <charconv>

namespace da::http {

namespace {
bool ParseNumber(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}
}  // namespace

std::optional<std::vector<ByteRange>> ParseRangeHeader(std::string_view v) {
  v = TrimOws(v);
  constexpr std::string_view kPrefix = "bytes=";
  if (v.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  v.remove_prefix(kPrefix.size());
  std::vector<ByteRange> ranges;
  while (true) {
    size_t comma = v.find(',');
    std::string_view part = TrimOws(v.substr(0, comma));
    size_t dash = part.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view a = TrimOws(part.substr(0, dash));
    std::string_view b = TrimOws(part.substr(dash + 1));
    ByteRange r;
    if (a.empty() && b.empty()) return std::nullopt;
    if (!a.empty() && !ParseNumber(a, r.first)) return std::nullopt;
    if (!b.empty() && !ParseNumber(b, r.last)) return std::nullopt;
    if (r.first != -1 && r.last != -1 && r.last < r.first) return std::nullopt;
    ranges.push_back(r);
    if (comma == std::string_view::npos) break;
    v = v.substr(comma + 1);
  }
  return ranges;
}

bool ResolveRange(const ByteRange& r, size_t size, size_t& offset, size_t& length) {
  if (size == 0) return false;
  int64_t first = r.first, last = r.last;
  const auto ssize = static_cast<int64_t>(size);
  if (first == -1) {  // suffix: the last `last` bytes
    if (last <= 0) return false;
    first = std::max<int64_t>(0, ssize - last);
    last = ssize - 1;
  } else {
    if (first >= ssize) return false;
    if (last == -1 || last >= ssize) last = ssize - 1;
  }
  offset = static_cast<size_t>(first);
  length = static_cast<size_t>(last - first + 1);
  return true;
}

std::string ContentRange(size_t offset, size_t length, size_t size) {
  return "bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) + "/" +
         std::to_string(size);
}

}  // namespace da::http
