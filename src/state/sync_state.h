#pragma once
/// sync_state (one row per table id: the last successful extraction and the last error)
/// and sync_history (one row per table per extraction attempt).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "state/read_cache.h"
#include "state/state_db.h"

namespace da::state {

struct SyncStateRow {
  std::string table_id;
  std::string last_sync;       ///< ISO-8601 UTC of the last successful extraction; "" = never
  int64_t rows = 0;
  int64_t size_bytes = 0;
  std::string md5;             ///< full 32-char hex MD5 of the Parquet bytes; "" = none
  std::string status = "ok";   ///< ok | error
  std::string error;           ///< last error message ("" when ok)
};

struct SyncHistoryRow {
  std::string run_id;
  std::string table_id;
  std::string synced_at;       ///< ISO-8601 UTC
  std::string status;          ///< ok | error
  int64_t rows = 0;
  int64_t size_bytes = 0;
  int64_t duration_ms = 0;
  std::string error;
  /// The extraction's schema change as JSON text ({added, removed, retyped}; kit::SchemaChange);
  /// "" when the columns did not change or the attempt failed before comparing them.
  std::string schema_change;
};

class SyncStateRepo {
 public:
  explicit SyncStateRepo(StateDb& db) : db_(db) {}

  /// Upserts a success: last_sync = now, rows, size, md5, status ok, error cleared.
  Status RecordSuccess(const std::string& table_id, int64_t rows, int64_t size_bytes,
                       const std::string& md5);
  /// Upserts a failure: status error + message; last_sync/rows/size/md5 keep their values
  /// (the previous data keeps serving).
  Status RecordError(const std::string& table_id, const std::string& error);
  /// Get and List answer from a ReadCache of every row (no DB round trip until the next write
  /// through a repo). List is ordered by table_id.
  Result<std::optional<SyncStateRow>> Get(const std::string& table_id);
  Result<std::vector<SyncStateRow>> List();
  Status Delete(const std::string& table_id);

  /// Appends one sync_history row (id generated).
  Status AppendHistory(const SyncHistoryRow& row);
  /// Newest first, at most `limit` rows; all tables when table_id is "".
  Result<std::vector<SyncHistoryRow>> History(const std::string& table_id, int limit);
  /// The newest history row of `table_id` that recorded a schema change; nullopt when none.
  Result<std::optional<SyncHistoryRow>> LastSchemaChange(const std::string& table_id);

 private:
  Result<std::shared_ptr<const std::map<std::string, SyncStateRow>>> Cached();

  StateDb& db_;
  ReadCache<std::map<std::string, SyncStateRow>> cache_;
};

}  // namespace da::state
