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
#include <utility>

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

  /// Write transactions committed since this process opened the DB. Read caches (ReadCache,
  /// the catalog answer cache, the access policy's cache) remember the generation they read at
  /// and reload when it moved. Only Write bumps it, at its COMMIT, so no repository can change
  /// rows a cache holds without the cache noticing.
  uint64_t Generation() const { return generation_.load(std::memory_order_acquire); }

  /// Runs `fn(db::Connection&)` in a read-only transaction, holding the DB mutex, and returns
  /// what `fn` returns. A write inside fails (DuckDB: "transaction is launched in read-only
  /// mode"): changing rows needs Write. `fn` must not begin or end transactions.
  template <typename F>
  auto Read(F&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    const bool began = conn_.Execute("BEGIN TRANSACTION READ ONLY").ok();
    struct End {
      db::Connection& conn;
      bool began;
      ~End() {
        if (began) (void)conn.Execute("ROLLBACK");
      }
    } end{conn_, began};
    return fn(conn_);
  }

  /// Runs `fn(db::Connection&)`, which returns Status or Result<T>, in one transaction while
  /// holding the DB mutex: COMMIT when it returns ok, ROLLBACK (nothing written) when it fails
  /// or COMMIT does. A commit bumps Generation(). Returns what `fn` returned, or the
  /// BEGIN/COMMIT error. `fn` must not begin or end transactions; work that must persist even
  /// when the operation fails (an audit row of a refusal) goes in a Write of its own.
  template <typename F>
  auto Write(F&& fn) -> decltype(fn(std::declval<db::Connection&>())) {
    using Out = decltype(fn(std::declval<db::Connection&>()));
    std::lock_guard<std::mutex> lock(mu_);
    if (Status began = conn_.Execute("BEGIN TRANSACTION"); !began.ok()) return Out(began);
    Out out = fn(conn_);
    Status done = out.ok() ? conn_.Execute("COMMIT") : Status::Ok();
    if (!out.ok() || !done.ok()) {
      (void)conn_.Execute("ROLLBACK");
      return out.ok() ? Out(done) : out;
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
    return out;
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
