#pragma once
/// The system DB (`<data-dir>/state/system.duckdb`): schema_version + forward-only migrations.
///
/// Only the server process opens it for writing. Access is serialised through one connection
/// guarded by a mutex (DuckDB allows one writer; the state DB is small and its statements short).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "db/duckdb.h"

namespace da::state {

class StateDb {
 public:
  /// Schema version this binary expects after its migrations ran.
  static int ExpectedSchemaVersion();

  /// Opens (creating parent dirs and the file) and applies pending migrations in order,
  /// each in its own transaction, recording (version, applied_at) in schema_version.
  /// A DB whose version is newer than ExpectedSchemaVersion() opens without changes.
  static Result<std::unique_ptr<StateDb>> Open(const std::filesystem::path& path);
  /// Opens read-only without migrating (e.g. `da extract` when no server runs).
  static Result<std::unique_ptr<StateDb>> OpenReadOnly(const std::filesystem::path& path);

  /// Highest applied version (0 when schema_version is empty).
  Result<int> CurrentSchemaVersion();
  /// CurrentSchemaVersion() read at most once per `max_age_us` (health probes answer from
  /// memory in between; only this process writes the DB, and migrations run in Open). An error
  /// is never cached.
  Result<int> RecentSchemaVersion(int64_t max_age_us = 1'000'000);

  /// Counts the writes repos reported with MarkWritten; read caches (ReadCache) compare it.
  uint64_t Generation() const { return generation_.load(std::memory_order_acquire); }
  /// Called by a repo inside With, after it changed rows a read cache may hold.
  void MarkWritten() { generation_.fetch_add(1, std::memory_order_acq_rel); }

  /// Runs `fn` with the connection while holding the DB mutex.
  template <typename F>
  auto With(F&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    return fn(conn_);
  }

 private:
  StateDb(db::Database db, db::Connection conn) : db_(std::move(db)), conn_(std::move(conn)) {}
  db::Database db_;
  db::Connection conn_;
  std::mutex mu_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> recent_version_{-1};
  std::atomic<int64_t> recent_version_at_us_{0};
};

}  // namespace da::state
