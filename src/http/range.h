#pragma once
/// `Range: bytes=...` (RFC 9110 §14.2): parsing and resolving against a body's size.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace da::http {

/// Parses `bytes=a-b, c-, -n` into its ranges. nullopt when malformed (another unit, a
/// non-number, `b < a`, an empty part).
std::optional<std::vector<ByteRange>> ParseRangeHeader(std::string_view value);

/// Resolves `r` against a body of `size` bytes into [offset, offset + length): an end past the
/// body is clamped. False when unsatisfiable (empty body, start at or past the end, `-0`).
bool ResolveRange(const ByteRange& r, size_t size, size_t& offset, size_t& length);

/// `bytes first-last/size` for a resolved range.
std::string ContentRange(size_t offset, size_t length, size_t size);

}  // namespace da::http
