#include "http/route_table.h"

#include <stdexcept>

namespace da::http {

Result<std::vector<TemplateSegment>> ParseTemplate(std::string_view t) {
  if (t.empty() || t.front() != '/') {
    return InvalidArgument("route template '" + std::string(t) + "' does not start with '/'");
  }
  std::vector<TemplateSegment> out;
  if (t == "/") return out;
  std::string_view rest = t.substr(1);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    TemplateSegment s;
    if (!seg.empty() && seg.front() == '{') {
      if (seg.back() != '}' || seg.size() < 3) {
        return InvalidArgument("route template '" + std::string(t) + "': malformed segment '" +
                               std::string(seg) + "'");
      }
      std::string_view name = seg.substr(1, seg.size() - 2);
      s.kind = TemplateSegment::Kind::kParam;
      if (name.front() == '*') {
        s.kind = TemplateSegment::Kind::kTail;
        name.remove_prefix(1);
      }
      if (name.empty() || name.find_first_of("{}/*") != std::string_view::npos) {
        return InvalidArgument("route template '" + std::string(t) + "': bad parameter name");
      }
      for (const auto& prev : out) {
        if (prev.kind != TemplateSegment::Kind::kLiteral && prev.text == name) {
          return InvalidArgument("route template '" + std::string(t) + "': parameter '" +
                                 std::string(name) + "' repeats");
        }
      }
      s.text = std::string(name);
    } else {
      // Regular-expression syntax is refused, so a pattern left unconverted fails at start-up.
      if (seg.find_first_of("{}()[]\\^$|*+?") != std::string_view::npos) {
        return InvalidArgument("route template '" + std::string(t) + "': segment '" +
                               std::string(seg) + "' has a reserved character");
      }
      s.text = std::string(seg);
    }
    if (!out.empty() && out.back().kind == TemplateSegment::Kind::kTail) {
      return InvalidArgument("route template '" + std::string(t) + "': {*tail} must be last");
    }
    out.push_back(std::move(s));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

size_t RouteTable::Add(std::string method, std::string path_template) {
  auto segments = ParseTemplate(path_template);
  if (!segments.ok()) throw std::logic_error(segments.status().ToString());
  const bool has_tail = !segments->empty() && segments->back().kind == TemplateSegment::Kind::kTail;
  routes_.push_back({std::move(method), std::move(path_template), std::move(*segments), has_tail});
  return routes_.size() - 1;
}

bool RouteTable::Matches(const Route& r, const std::vector<std::string>& segments,
                         std::vector<std::pair<std::string, std::string>>* params) {
  const auto& tpl = r.segments;
  if (!r.LengthFits(segments.size())) return false;
  for (size_t i = 0; i < tpl.size(); ++i) {
    const TemplateSegment& s = tpl[i];
    switch (s.kind) {
      case TemplateSegment::Kind::kLiteral:
        if (segments[i] != s.text) return false;
        break;
      case TemplateSegment::Kind::kParam:
        if (segments[i].empty()) return false;
        if (params) params->emplace_back(s.text, segments[i]);
        break;
      case TemplateSegment::Kind::kTail: {
        std::string tail = segments[i];
        for (size_t j = i + 1; j < segments.size(); ++j) tail += "/" + segments[j];
        if (tail.empty()) return false;
        if (params) params->emplace_back(s.text, std::move(tail));
        break;
      }
    }
  }
  return true;
}

std::optional<RouteTable::Match> RouteTable::Find(std::string_view method,
                                                  const std::vector<std::string>& segments,
                                                  bool* path_matched) const {
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (!r.LengthFits(segments.size())) continue;
    const bool method_ok = r.method == method || (method == "HEAD" && r.method == "GET");
    if (!method_ok) {
      if (path_matched && !*path_matched && Matches(r, segments, nullptr)) *path_matched = true;
      continue;
    }
    Match m;
    if (!Matches(r, segments, &m.params)) {
      m.params.clear();
      continue;
    }
    m.index = i;
    return m;
  }
  return std::nullopt;
}

}  // namespace da::http
