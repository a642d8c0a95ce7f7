#pragma once
/// Resource limits of one user query (docs/configuration.md "Query limits", docs/security.md
/// "Query resources and defence in depth"): what each sandboxed reader is configured with
/// before its configuration is locked, and the largest answer encoded.
#include <cstddef>
#include <cstdint>

#include "common/config.h"

namespace da::query {

/// Limits applied to every reader (DuckDB settings) and answer.
struct QueryLimits {
  /// DuckDB `memory_limit` of one reader, bytes; 0 = DuckDB's default (tests only).
  int64_t memory_limit_bytes = 0;
  /// DuckDB `threads` of one reader; 0 = DuckDB's default (tests only).
  int64_t threads = 0;
  /// DuckDB `max_temp_directory_size` of one reader, bytes; 0 = DuckDB's default.
  int64_t temp_limit_bytes = 0;
  /// Largest encoded answer (JSON or CSV), bytes; 0 = no cap.
  int64_t max_answer_bytes = 0;
  /// Largest single anonymous memory mapping of the process (allocation_guard.h), bytes;
  /// 0 = leave the guard as it is. Stops the allocations memory_limit does not count.
  int64_t largest_allocation_bytes = 0;
};

/// Queries run at once: `query_concurrency`, or max(2, hardware threads) when it is 0. The
/// server's query pool has this many threads, and the shared memory budget is split by it.
size_t QueryConcurrency(const InstanceConfig& config);

/// The limits of one query from the instance config: the shared memory budget
/// (`query_memory_limit_bytes`, default a quarter of AvailableMemoryBytes()) divided by
/// QueryConcurrency, at least 64 MiB; `query_threads`; `query_temp_limit_bytes`;
/// `query_max_answer_bytes`; the largest allocation: the per-query memory, at least 512 MiB.
QueryLimits QueryLimitsFrom(const InstanceConfig& config);

}  // namespace da::query
