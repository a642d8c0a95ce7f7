#pragma once
/// Request-target and form parsing (Boost.URL): no hand-written percent-decoding elsewhere.
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace da::http {

/// The parts of an origin-form request target (`/path?query`).
struct ParsedTarget {
  std::string path;                   ///< percent-decoded path
  std::vector<std::string> segments;  ///< the path's segments, each percent-decoded on its own
  QueryParams query;                  ///< decoded query ('+' as space)
};

/// Parses an origin-form target (RFC 9112 §3.2.1). False when it is not one (absolute-form,
/// "*", invalid characters or percent-escapes).
bool ParseTarget(std::string_view target, ParsedTarget& out);

/// The fields of an application/x-www-form-urlencoded `body` (decoded, '+' as space); empty
/// when the body is not well-formed.
QueryParams ParseFormUrlEncoded(std::string_view body);

}  // namespace da::http
