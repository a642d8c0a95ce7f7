#pragma once
/// The system DB (`<data-dir>/state/system.duckdb`): schema_version + forward-only migrations.
///
/// Only the server process opens it for writing. Access is serialised through one connection
/// guarded by a mutex (DuckDB allows one writer; the state DB is small and its statements short).
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
};

}  // namespace da::state
