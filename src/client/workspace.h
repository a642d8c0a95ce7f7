#pragma once
/// The analyst's workspace: where `da sync` puts the tables and `da query` reads them.
///
/// Layout (root = `--workspace`, else `$DA_WORKSPACE`, else the current directory):
///   <root>/data/<id>.parquet          one file per synced table, named by table id
///   <root>/data/.<id>.parquet.part    a download in progress (never read)
///   <root>/data/<id>/<name>.parquet   the files of a partitioned or streamed table
///                                     (decisions.md §4); `.<name>.part` while downloading
///   <root>/analytics.duckdb           one view per synced table, named by the table's name:
///                                     `SELECT * FROM read_parquet('<abs path>')` (a glob
///                                     `<root>/data/<id>/*.parquet` for multi-file tables)
///   <root>/.da/sync_state.json        {"tables":{"<id>":{"name","md5","size_bytes","rows",
///                                     "synced_at","multi_file"}},"last_sync":"<ISO-8601>"}
///   <root>/.da/lock                   flock(2) target that keeps two syncs apart
///
/// analytics.duckdb belongs to `da sync`: it is rebuilt from scratch in a temp file and renamed
/// into place, so readers holding the old file keep reading it and never block a sync. Objects
/// users create in it do not survive the next sync.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace da::client {

struct Workspace {
  std::filesystem::path root;  ///< absolute

  std::filesystem::path DataDir() const { return root / "data"; }
  /// `<root>/data/<id>.parquet`; `id` must already be a valid quoted identifier.
  std::filesystem::path ParquetPath(const std::string& id) const {
    return DataDir() / (id + ".parquet");
  }
  /// `<root>/data/.<id>.parquet.part`: where a download lands before its MD5 is checked.
  std::filesystem::path PartPath(const std::string& id) const {
    return DataDir() / ("." + id + ".parquet.part");
  }
  /// `<root>/data/<id>/`: the files of a multi-file (partitioned or streamed) table.
  std::filesystem::path PartitionDir(const std::string& id) const { return DataDir() / id; }
  std::filesystem::path DbPath() const { return root / "analytics.duckdb"; }
  std::filesystem::path MetaDir() const { return root / ".da"; }
  std::filesystem::path StatePath() const { return MetaDir() / "sync_state.json"; }
};

/// The workspace for `flag_value` ("" = not given): flag, else `$DA_WORKSPACE`, else the current
/// directory; made absolute. The directory need not exist yet (sync creates it).
Result<Workspace> ResolveWorkspace(const std::string& flag_value);

/// What the workspace knows about one synced table (keyed by table id in SyncState).
struct LocalTable {
  std::string name;        ///< view name
  std::string md5;         ///< 32-char hex MD5 of the local file's bytes
  int64_t size_bytes = 0;  ///< local file size when md5 was recorded
  int64_t rows = 0;        ///< row count from the manifest
  std::string synced_at;   ///< ISO-8601 UTC of the download
  /// Stored as several files under PartitionDir(id); md5 is then the manifest's combined MD5
  /// and size_bytes the sum of the files' sizes.
  bool multi_file = false;
};

/// True when `t` has data to query: its Parquet file, or for a multi-file table at least one
/// data file in its directory.
bool HasLocalData(const Workspace& ws, const std::string& id, const LocalTable& t);

struct SyncState {
  std::map<std::string, LocalTable> tables;  ///< by table id
  std::string last_sync;                     ///< ISO-8601 UTC; "" before the first sync
};

/// Reads `<root>/.da/sync_state.json`; a missing file → empty state; malformed JSON or wrong
/// field types → malformed naming the path.
Result<SyncState> LoadSyncState(const Workspace& ws);
/// Writes the state file atomically (creating `.da/`).
Status SaveSyncState(const Workspace& ws, const SyncState& state);

struct ViewRebuildReport {
  std::vector<std::string> views;    ///< view names created, in table-id order
  std::vector<std::string> skipped;  ///< one "<id>: <reason>" line per table not published
};

/// Rebuilds `<root>/analytics.duckdb` with one view per table of `state` whose Parquet file
/// exists: built as `analytics.duckdb.tmp`, closed, renamed over the old file (a stale WAL of
/// the old file is removed first). Tables with a name that is not a strict identifier, a name
/// already used (case-insensitively), a missing file or a file DuckDB cannot read are skipped
/// and reported, never fatal. Errors: internal when the DB cannot be built or renamed.
Result<ViewRebuildReport> RebuildViews(const Workspace& ws, const SyncState& state);

/// An exclusive, non-blocking flock(2) on `<root>/.da/lock`, released by the destructor.
class WorkspaceLock {
 public:
  /// failed_precondition "another da sync is running in <root>" when held elsewhere.
  static Result<WorkspaceLock> Acquire(const Workspace& ws);
  WorkspaceLock(WorkspaceLock&& other) noexcept;
  WorkspaceLock& operator=(WorkspaceLock&& other) noexcept;
  WorkspaceLock(const WorkspaceLock&) = delete;
  WorkspaceLock& operator=(const WorkspaceLock&) = delete;
  ~WorkspaceLock();

 private:
  explicit WorkspaceLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace da::client
