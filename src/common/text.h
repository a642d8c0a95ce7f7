#pragma once
/// Small text helpers shared by every layer.
#include <string>
#include <string_view>

namespace da {

/// `s` with ASCII letters A-Z lower-cased; every other byte (UTF-8 included) unchanged, so the
/// answer does not depend on the process locale. Used to compare SQL identifiers, HTTP header
/// values and unit names case-insensitively, as DuckDB and HTTP do.
std::string AsciiLower(std::string_view s);

}  // namespace da
