#pragma once
/// The value types connectors and the extract runtime exchange: columns, discovered tables,
/// read options and per-table extraction statistics (with their JSON forms).
///
/// Source: shared/reference/seeds/002 (Connector Kit spec §3.2). Column types are DuckDB type
/// names ("BIGINT", "VARCHAR", "TIMESTAMP", "DECIMAL(18,3)", "VARCHAR[]", ...), not Arrow types:
/// DuckDB is the only engine that reads or writes the data.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/column.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::kit {

/// One column: its name as in the source and its DuckDB type name.
using model::ColumnInfo;

/// A table a connector can read, as returned by Connector::Discover.
struct TableInfo {
  std::string name;                      ///< proposed view name (a strict identifier)
  std::vector<ColumnInfo> columns;       ///< in source order
  std::vector<std::string> primary_key;  ///< empty when the source has none
  std::string description;
  /// The connector-specific locator to register as `source_table` (files: the path relative
  /// to base_dir, or absolute). Added to the spec's shape so a discovered table can be
  /// registered as is.
  std::string source_table;
};

/// What the runtime hands a connector's Read for one table.
struct ReadOptions {
  model::TableSpec table;                   ///< the registry row being extracted
  std::map<std::string, std::string> config;  ///< per-source config (instance.yaml sources.<src>)
  std::filesystem::path temp_dir;             ///< scratch space owned by the runtime (exists)
  /// Incremental reads (sync_strategy incremental, or partitioned with an incremental_column):
  /// the column compared with the watermark; "" for a full read.
  std::string incremental_column;
  /// The largest `incremental_column` value of the previous successful run (DuckDB's VARCHAR
  /// form of it, e.g. "2015-06-30" or "2015-06-30 12:00:00"), or nullopt for a full read.
  /// A connector that can filter at the source returns only rows with
  /// `incremental_column > watermark` (the value cast to the column's type); one that cannot
  /// may ignore it: the runtime applies the same filter to what the connector wrote.
  std::optional<std::string> watermark;
};

/// A column whose type changed between two extractions.
struct RetypedColumn {
  std::string name;
  std::string from;  ///< previous DuckDB type name
  std::string to;    ///< new DuckDB type name

  bool operator==(const RetypedColumn&) const = default;
};

/// How a table's columns changed since the previous successful extraction (kit/schema_diff.h).
/// Column names compare exactly (case-sensitive); a change of order alone is no change.
struct SchemaChange {
  std::vector<ColumnInfo> added;       ///< new columns, in the new order
  std::vector<ColumnInfo> removed;     ///< columns gone, with their previous type
  std::vector<RetypedColumn> retyped;  ///< same name, another type

  bool empty() const { return added.empty() && removed.empty() && retyped.empty(); }
  bool operator==(const SchemaChange&) const = default;
};

/// One Parquet file of a table stored as several (partitioned and streamed tables):
/// `name` is relative to the table's directory `data/<id>/`, e.g. "2001-03.parquet".
struct FileStats {
  std::string name;
  std::string md5;         ///< full 32-char hex MD5 of the file's bytes
  int64_t size_bytes = 0;
  int64_t rows = 0;

  bool operator==(const FileStats&) const = default;
};

/// The outcome of extracting one table (one element of the extraction report).
struct ExtractStats {
  std::string table_id;
  std::string name;                 ///< view name
  std::string status = "error";     ///< "ok" | "error"
  int64_t rows = 0;                 ///< rows in the Parquet file (0 on error)
  int64_t size_bytes = 0;           ///< bytes of the Parquet file (0 on error)
  std::string md5;                  ///< full 32-char hex MD5 of the Parquet bytes ("" on error)
  int64_t duration_ms = 0;          ///< wall time of this table's extraction
  std::string error;                ///< "" when ok; the failure, naming the table, otherwise
  std::vector<ColumnInfo> columns;  ///< the Parquet file's columns (empty on error)
  /// Columns added / removed / retyped since the previous successful run; nullopt when none
  /// (and on the first run). Set on a `freeze` failure too, so the refused change is visible.
  std::optional<SchemaChange> schema_change;
  /// Things that worked but deserve attention (e.g. an incremental table without primary key
  /// whose rows were appended).
  std::vector<std::string> warnings;
  /// Every file of a table stored as several Parquet files (`data/<id>/*.parquet`), sorted by
  /// name; then `md5` is "" and rows / size_bytes are the totals. Empty for one-file tables.
  std::vector<FileStats> files;
  /// The incremental watermark after this run (the largest incremental_column value stored);
  /// nullopt for tables without incremental_column or without rows yet.
  std::optional<std::string> watermark;

  bool ok() const { return status == "ok"; }
};

/// `[{"name": ..., "type": ...}, ...]`
nlohmann::json ColumnsToJson(const std::vector<ColumnInfo>& columns);
/// Parses the form above; malformed on wrong JSON types.
Result<std::vector<ColumnInfo>> ColumnsFromJson(const nlohmann::json& j);

/// `{"added": [{name,type}], "removed": [{name,type}], "retyped": [{name,from,to}]}`
nlohmann::json SchemaChangeToJson(const SchemaChange& c);
/// Parses the form above (missing lists are empty); malformed on wrong JSON types.
Result<SchemaChange> SchemaChangeFromJson(const nlohmann::json& j);

/// `{"table_id","name","status","rows","size_bytes","md5","duration_ms","error","columns",
/// "schema_change" (object or null),"warnings" ([string]),"files" ([{name,md5,size_bytes,
/// rows}]),"watermark" (string or null)}`
nlohmann::json ExtractStatsToJson(const ExtractStats& s);
/// Parses the form above (missing keys keep their defaults); malformed on wrong JSON types.
Result<ExtractStats> ExtractStatsFromJson(const nlohmann::json& j);

/// `{"name","columns","primary_key","description","source_table"}`
nlohmann::json TableInfoToJson(const TableInfo& t);

}  // namespace da::kit
