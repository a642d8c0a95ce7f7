#pragma once
/// `da sync` (alias `da pull`): bring the workspace in line with the server's manifest.
///
/// Server API: `GET /api/sync/manifest` → `{"server_time","tables":[{"id","name","md5",
/// "size_bytes","rows","query_mode","updated","download_url" | "files":[{"name","md5",
/// "size_bytes","download_url"}]}]}`; `GET /api/data/{id}/download` → the Parquet bytes
/// (ETag = the MD5); `GET /api/data/{id}/files/{name}` → one file of a multi-file table. Source: upstream-inventory.md §5.3 `agnes pull`, with
/// the changes of this project: files and state are keyed by table id, tables that left the
/// manifest (or turned remote) are removed locally, and a failed download never replaces the
/// old file.
///
/// Steps: lock the workspace → fetch the manifest → compare each non-remote table's manifest MD5
/// with the local file (the MD5 recorded in sync_state.json is trusted when the file size still
/// matches, otherwise the file is hashed) → download the changed ones in parallel, each into
/// `data/.<id>.parquet.part`, verify its MD5 (or, when the manifest has none, the `PAR1` magic
/// at both ends) and rename it into place → save the state → rebuild the views → delete the
/// files of removed tables. A failed table keeps its old file and view; the others still sync.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/http_client.h"
#include "client/workspace.h"
#include "common/status.h"

namespace da::client {

/// One file of a multi-file (partitioned or streamed) table; decisions.md §4.
struct ManifestFile {
  std::string name;           ///< e.g. "2024-03.parquet" (IsDataFileName, checked on parse)
  std::string md5;            ///< 32-char hex MD5 of the file
  int64_t size_bytes = 0;
  std::string download_url;   ///< server-relative, e.g. "/api/data/<id>/files/<name>"
};

/// One table of the manifest.
struct ManifestTable {
  std::string id;
  std::string name;
  std::string md5;            ///< 32-char hex; "" when the server has none
  int64_t size_bytes = 0;
  int64_t rows = 0;
  std::string query_mode;     ///< local | materialized | remote
  std::string updated;
  std::string download_url;   ///< server-relative, e.g. "/api/data/<id>/download"
  /// Non-empty for a multi-file table: md5 is then the MD5 of its "<name> <md5>\n" lines and
  /// only the files whose bytes changed are fetched into `data/<id>/`.
  std::vector<ManifestFile> files;
};

struct Manifest {
  std::string server_time;
  std::vector<ManifestTable> tables;
};

/// Parses the manifest body; malformed when `tables` is not an array of objects with string
/// `id` fields or a table's `files` holds a name that is not a plain Parquet file name (other
/// fields default when absent).
Result<Manifest> ParseManifest(const nlohmann::json& body);

enum class TableAction {
  kDownloaded,     ///< fetched and verified
  kUpToDate,       ///< local file matches the manifest MD5
  kRemote,         ///< query_mode remote: never downloaded
  kRemoved,        ///< left the manifest (or turned remote): local file and view removed
  kFailed,         ///< download or verification failed; the old file (if any) is kept
  kWouldDownload,  ///< --dry-run
  kWouldRemove,    ///< --dry-run
};

/// "downloaded", "up_to_date", "remote", "removed", "failed", "would_download", "would_remove".
std::string_view TableActionName(TableAction action);

struct TableOutcome {
  std::string id;
  std::string name;
  TableAction action = TableAction::kUpToDate;
  int64_t bytes = 0;     ///< downloaded (or, in a dry run, to download) size in bytes
  std::string detail;    ///< error message for kFailed; removal reason for kRemoved
};

struct PullOptions {
  bool dry_run = false;       ///< plan only: writes nothing, downloads nothing
  int parallelism = 0;        ///< concurrent downloads; 0 → $DA_SYNC_PARALLELISM, else 4
  int max_attempts = 3;       ///< per download; only transport errors and 5xx are retried
  int64_t retry_backoff_ms = 300;  ///< wait before attempt k+1 is k × this; resumes with Range
  /// Called once before downloads start with the total bytes to fetch (from the manifest).
  std::function<void(int64_t total_bytes)> on_plan;
  /// Called from download threads with each chunk's size (thread-safe callers only).
  ProgressFn progress;
};

struct PullReport {
  std::vector<TableOutcome> tables;   ///< manifest order, then removed tables
  int updated = 0;                    ///< tables downloaded (or would be, in a dry run)
  int removed = 0;                    ///< tables removed (or would be)
  int failed = 0;
  int total = 0;                      ///< local tables after the sync
  std::vector<std::string> view_warnings;  ///< tables left without a view, with the reason
  int64_t duration_ms = 0;
  bool dry_run = false;

  bool ok() const { return failed == 0; }
  /// {"updated","removed","failed","total","dry_run","duration_ms",
  ///  "tables":[{"id","name","action","bytes","detail"?}],"view_warnings":[...]}
  nlohmann::json ToJson() const;
};

/// Runs one sync of `ws` against the server behind `client` (see the file comment).
/// Errors (nothing changed locally): the manifest cannot be fetched or parsed, another sync
/// holds the workspace lock (failed_precondition), the state file is malformed. Per-table
/// failures do not fail the call: they are kFailed outcomes and `report.ok()` is false.
/// Failing to save the state or rebuild the views is an error.
Result<PullReport> Pull(const HttpClient& client, const Workspace& ws, const PullOptions& options);

}  // namespace da::client
