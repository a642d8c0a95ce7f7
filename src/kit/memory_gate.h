#pragma once
/// MemoryGate: admission of the memory-heavy DuckDB work of one extraction.
///
/// An extraction reads several tables at once (`table_concurrency`) into one work database
/// whose buffer pool is bounded by the extraction's memory limit. Waiting on a source (an
/// export job, a download, a tap) costs no DuckDB memory, but converting its result (CSV/JSON
/// to Parquet, merges, statistics) does, and several conversions side by side can reserve more
/// than the limit together: the ones that lose the race fail with "Out of Memory" for no
/// reason of their own. The gate admits that work one table at a time, so each conversion has
/// the whole limit (and DuckDB's threads) and spills to the temp directory beyond it, while
/// the source side of the other tables goes on concurrently.
///
/// Thread-safe. Admissions are re-entrant on one thread (a conversion inside an admitted
/// block does not wait for itself).
#include <mutex>

namespace da::kit {

class MemoryGate {
 public:
  /// Held while admitted; released on destruction. A default-constructed one holds nothing.
  using Admission = std::unique_lock<std::recursive_mutex>;

  /// Blocks until no other thread holds an admission, then admits the caller.
  [[nodiscard]] Admission Admit();

 private:
  std::recursive_mutex mutex_;
};

}  // namespace da::kit
