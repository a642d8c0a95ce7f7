#include "query/query_limits.h"

#include <algorithm>
#include <thread>

#include "common/memory_size.h"

namespace da::query {

size_t QueryConcurrency(const InstanceConfig& config) {
  if (config.query_concurrency > 0) return static_cast<size_t>(config.query_concurrency);
  return std::max<size_t>(2, std::thread::hardware_concurrency());
}

QueryLimits QueryLimitsFrom(const InstanceConfig& config) {
  constexpr int64_t kMinPerQuery = 64LL << 20;
  const int64_t shared = config.query_memory_limit_bytes > 0 ? config.query_memory_limit_bytes
                                                             : AvailableMemoryBytes() / 4;
  QueryLimits limits;
  limits.memory_limit_bytes =
      std::max(kMinPerQuery, shared / static_cast<int64_t>(QueryConcurrency(config)));
  limits.threads = std::max<int64_t>(1, config.query_threads);
  limits.temp_limit_bytes = config.query_temp_limit_bytes;
  limits.max_answer_bytes = config.query_max_answer_bytes;
  limits.largest_allocation_bytes = std::max<int64_t>(limits.memory_limit_bytes, 512LL << 20);
  return limits;
}

}  // namespace da::query
