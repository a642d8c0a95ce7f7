#pragma once
/// Memory sizes as people write them ("256MB", "1.5GiB") and the default memory budget of an
/// extraction, sized from the memory this process may use.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace da {

/// Parses a size: a positive number (decimals allowed) and a unit, case-insensitive, spaces
/// between allowed: B, KB/MB/GB/TB (powers of 1000, as DuckDB reads them), KiB/MiB/GiB/TiB
/// (powers of 1024). A bare number is bytes. Returns bytes.
/// Errors: invalid_argument naming `what` and the text for anything else, a size below 1 MiB
/// or above 1 PiB.
Result<int64_t> ParseMemorySize(std::string_view what, std::string_view text);

/// `bytes` as a DuckDB setting value in whole MiB ("256MiB"), never below 1MiB.
std::string MemorySizeSetting(int64_t bytes);

/// `bytes` for a person: "256.0 MiB", "1.5 GiB".
std::string FormatMemorySize(int64_t bytes);

/// Bytes this process may use: the smaller of physical RAM (sysconf) and the cgroup v2 / v1
/// memory limit of the container it runs in, when one is set. Falls back to 4 GiB when
/// neither can be read.
int64_t AvailableMemoryBytes();

/// The default memory limit of one extraction: a quarter of AvailableMemoryBytes(), at least
/// 256 MiB. Used when neither `--memory-limit`, `DA_EXTRACT_MEMORY_LIMIT`,
/// `sync.extract_memory_limit` nor a source's `memory_limit` says otherwise.
int64_t DefaultExtractMemoryLimitBytes();

}  // namespace da
