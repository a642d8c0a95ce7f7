#pragma once
/// ReadCache: one value read from the state DB, kept until the next committed write.
///
/// The server is the only writer of the state DB, and every write commits through
/// StateDb::Write, which bumps the DB's generation. A cached value remembers the generation it
/// was read at (read under the same DB mutex), so a hit never returns data older than the last
/// committed write, and hits do not take the DB mutex at all.
#include <memory>
#include <mutex>

#include "common/status.h"
#include "state/state_db.h"

namespace da::state {

template <typename T>
class ReadCache {
 public:
  /// The cached value when it was read at the DB's current generation; otherwise runs
  /// `load(db::Connection&) -> Result<T>` in StateDb::Read (it must not call the StateDb again),
  /// caches and returns it. Errors are returned, never cached.
  template <typename Load>
  Result<std::shared_ptr<const T>> Get(StateDb& db, Load&& load) {
    const uint64_t generation = db.Generation();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (value_ && generation_ == generation) return value_;
    }
    return db.Read([&](db::Connection& c) -> Result<std::shared_ptr<const T>> {
      const uint64_t read_at = db.Generation();  // writers bump under this mutex: stable here
      DA_ASSIGN_OR_RETURN(T loaded, load(c));
      auto value = std::make_shared<const T>(std::move(loaded));
      std::lock_guard<std::mutex> lock(mu_);
      value_ = value;
      generation_ = read_at;
      return value;
    });
  }

 private:
  std::mutex mu_;
  std::shared_ptr<const T> value_;
  uint64_t generation_ = 0;
};

}  // namespace da::state
