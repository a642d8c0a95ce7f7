#pragma once
/// The last wall against one query asking for more memory than the machine has.
///
/// DuckDB's `memory_limit` counts only buffer-managed memory; a scalar function building a huge
/// value (`range(0, 3000000000)`: a 24 GB list) allocates straight from DuckDB's allocator
/// (jemalloc, whose large extents are anonymous mmaps), past any limit, and the kernel's OOM
/// killer ends the whole server; a constant folded at plan time (`repeat('x', 1000000000)`)
/// is built in a std::string from glibc's malloc. The guard interposes this process's `mmap`,
/// `malloc`, `calloc` and `realloc`: an anonymous mapping or a single allocation larger than
/// the cap fails with ENOMEM (std::bad_alloc for `new`), which DuckDB reports as an error of
/// that query alone. File mappings (downloads) are never capped. The cap is off (0)
/// until set; `da serve` sets it from the query limits (query_limits.h), and child processes
/// (extractions) start with it off.
#include <cstddef>

namespace da::query {

/// Caps every later anonymous mmap and single malloc/calloc/realloc of this process at `bytes`
/// (0 = no cap). Thread-safe.
void SetLargestMappingBytes(size_t bytes);
/// The cap in force (0 = none).
size_t LargestMappingBytes();

}  // namespace da::query
