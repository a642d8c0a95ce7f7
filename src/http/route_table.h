#pragma once
/// Routing by path templates, matched segment by segment (no regular expressions).
///
/// A template is an absolute path whose segments are literals, `{name}` (exactly one non-empty
/// segment) or, last only, `{*name}` (one or more remaining segments, joined by '/': the tail).
/// Examples: `/api/health`, `/api/data/{id}/download`, `/ui/{*path}`. Request paths are split
/// into segments and each segment is percent-decoded on its own, so `%2F` inside an id stays in
/// that one segment. Literal segments compare exactly (case-sensitive) with decoded segments.
///
/// Precedence: the first registered route whose method and template match wins (registration
/// order, as a table read top to bottom). A HEAD request matches GET routes.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace da::http {

/// One parsed template segment.
struct TemplateSegment {
  enum class Kind { kLiteral, kParam, kTail };
  Kind kind = Kind::kLiteral;
  std::string text;  ///< the literal, or the parameter's name
};

/// Parses `path_template`; InvalidArgument when it is not absolute, a `{...}` is malformed,
/// a name repeats, `{*name}` is not the last segment, or a literal holds regular-expression
/// syntax (`()[]\\^$|*+?{}`).
Result<std::vector<TemplateSegment>> ParseTemplate(std::string_view path_template);

/// A table of (method, template) → index, in registration order.
class RouteTable {
 public:
  /// Adds a route; returns its index (0, 1, ...). Throws std::logic_error when the template does
  /// not parse: routes are written in code, so a bad one is a bug found at start-up.
  size_t Add(std::string method, std::string path_template);

  struct Match {
    size_t index = 0;
    std::vector<std::pair<std::string, std::string>> params;  ///< name → decoded value
  };
  /// The first route matching `method` and the decoded `segments` of a path; nullopt when none.
  /// `path_matched` (optional) is set when some route matched the path under another method.
  std::optional<Match> Find(std::string_view method, const std::vector<std::string>& segments,
                            bool* path_matched = nullptr) const;

  size_t size() const { return routes_.size(); }
  const std::string& path_template(size_t index) const { return routes_[index].path_template; }

 private:
  struct Route {
    std::string method;
    std::string path_template;
    std::vector<TemplateSegment> segments;
    bool has_tail = false;  ///< the last segment is `{*name}`
    /// True when a path of `n` segments can match (checked before anything else: most routes
    /// of a table are ruled out by their length alone).
    bool LengthFits(size_t n) const { return has_tail ? n >= segments.size() : n == segments.size(); }
  };
  static bool Matches(const Route& r, const std::vector<std::string>& segments,
                      std::vector<std::pair<std::string, std::string>>* params);
  std::vector<Route> routes_;
};

}  // namespace da::http
