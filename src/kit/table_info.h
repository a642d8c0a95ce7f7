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
#include <string>
#include <vector>

#include "common/status.h"
#include "state/table_record.h"

namespace da::kit {

/// One column: its name as in the source and its DuckDB type name.
struct ColumnInfo {
  std::string name;
  std::string type;

  bool operator==(const ColumnInfo&) const = default;
};

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
  state::TableRecord table;                   ///< the registry row being extracted
  std::map<std::string, std::string> config;  ///< per-source config (instance.yaml sources.<src>)
  std::filesystem::path temp_dir;             ///< scratch space owned by the runtime (exists)
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

  bool ok() const { return status == "ok"; }
};

/// `[{"name": ..., "type": ...}, ...]`
nlohmann::json ColumnsToJson(const std::vector<ColumnInfo>& columns);
/// Parses the form above; malformed on wrong JSON types.
Result<std::vector<ColumnInfo>> ColumnsFromJson(const nlohmann::json& j);

/// `{"table_id","name","status","rows","size_bytes","md5","duration_ms","error","columns"}`
nlohmann::json ExtractStatsToJson(const ExtractStats& s);
/// Parses the form above (missing keys keep their defaults); malformed on wrong JSON types.
Result<ExtractStats> ExtractStatsFromJson(const nlohmann::json& j);

/// `{"name","columns","primary_key","description","source_table"}`
nlohmann::json TableInfoToJson(const TableInfo& t);

}  // namespace da::kit
