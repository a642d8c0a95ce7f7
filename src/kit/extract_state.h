#pragma once
/// The extract state of one source: `extracts/<source>/state.json`, keyed by table id.
///
/// Per table it keeps what the next extraction needs to compare and continue: the columns of
/// the last successful read (schema evolution), the incremental column and watermark, when the
/// table was last extracted, and its files with MD5 and size (which also tell whether the data
/// on disk is the data the state describes). It also keeps a snapshot of the source's
/// registered tables, so a stream append can rebuild extract.duckdb without the registry.
///
/// Source: shared/reference/seeds/002 §5.7 (`_load_state` / `_save_state`), made atomic:
/// every change is a read-modify-write under `extracts/<source>/.state.lock` (flock, shared by
/// threads and processes) that replaces the file by rename, so a crash leaves the previous
/// state or the new one, never a mix.
///
/// Format: `{"format": 1, "registered": [model::TableSpecToJson...] | null, "tables": {"<id>": {
/// "columns": [{name,type}], "sync_strategy", "incremental_column", "watermark" (string|null),
/// "last_extracted_at" (ISO-8601 UTC), "files": [{name,md5,size_bytes,rows,mtime_ns}],
/// "last_schema_change" ({added,removed,retyped}|null), "last_schema_change_at"}}}`.
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "kit/storage.h"
#include "kit/table_info.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::kit {

/// What the runtime remembers about one table between runs.
struct TableState {
  /// Columns the connector delivered at the last successful extraction (empty = unknown).
  std::vector<ColumnInfo> columns;
  std::string sync_strategy;
  /// The column `watermark` belongs to; a registry change of incremental_column voids it.
  std::string incremental_column;
  /// Largest stored incremental_column value, as DuckDB's VARCHAR cast of it.
  std::optional<std::string> watermark;
  std::string last_extracted_at;  ///< ISO-8601 UTC of the last successful extraction or append
  /// The table's files after that run (one `<id>.parquet`, or the partitions), sorted by name.
  std::vector<StoredFile> files;
  std::optional<SchemaChange> last_schema_change;  ///< the last change accepted (evolve)
  std::string last_schema_change_at;               ///< ISO-8601 UTC; "" when none

  bool operator==(const TableState&) const = default;
};

struct ExtractState {
  /// The source's registered local tables as of the last extraction or rebuild; nullopt when
  /// none was recorded yet.
  std::optional<std::vector<model::TableSpec>> registered;
  std::map<std::string, TableState> tables;  ///< by table id
};

/// The JSON form described above.
nlohmann::json ExtractStateToJson(const ExtractState& s);
/// Parses it; malformed naming the field on wrong types or an unknown format.
Result<ExtractState> ExtractStateFromJson(const nlohmann::json& j);

/// `<source_dir>/state.json`
std::filesystem::path ExtractStatePath(const std::filesystem::path& source_dir);

/// Reads the state (an empty state when the file does not exist). malformed naming the file
/// when it is not valid state JSON, unavailable when it cannot be read. Takes no lock: the
/// file is only ever replaced whole, so a reader sees one complete version.
Result<ExtractState> LoadExtractState(const std::filesystem::path& source_dir);

/// Read-modify-write under the state lock: loads the current state, applies `mutate` and
/// writes the result atomically (temp file, fsync, rename). Errors from loading or writing;
/// nothing is written then.
Status UpdateExtractState(const std::filesystem::path& source_dir,
                          const std::function<void(ExtractState&)>& mutate);

}  // namespace da::kit
