#pragma once
/// UTC time helpers. Timestamps cross layer boundaries as ISO-8601 strings
/// ("2026-11-22T04:15:00Z") or as microseconds since the Unix epoch.
#include <cstdint>
#include <string>

namespace da {

/// Microseconds since the Unix epoch, UTC.
int64_t NowMicros();
/// Current UTC time as "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::string NowIso();
/// Formats microseconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (UTC).
std::string IsoFromMicros(int64_t micros);

}  // namespace da
