#pragma once
/// The `keboola` connector: tables of a Keboola project read through the Storage API
/// (export-async → job → file detail → signed download), converted to Parquet by DuckDB.
/// See docs/connectors/keboola.md and keboola_config.h for the configuration.
///
/// A registered table: `source_table` = the Keboola table id (`in.c-crm.company`), `bucket`
/// = its bucket id, `source_query` (query_mode materialized) = an optional JSON export filter.
#include <string>
#include <vector>

#include "common/status.h"
#include "kit/connector.h"
#include "nlohmann/json.hpp"

namespace da::connectors::keboola {

inline constexpr const char* kConnectorName = "keboola";

/// DuckDB type of a Keboola column from its metadata (`KBC.datatype.basetype`, provider
/// `user` first; `KBC.datatype.length` gives NUMERIC precision/scale): INTEGER → BIGINT,
/// NUMERIC → DECIMAL(p,s) (DECIMAL(38,9) without length), FLOAT → DOUBLE, BOOLEAN, DATE,
/// TIMESTAMP, anything else or no metadata → VARCHAR. `column_metadata` is the table's
/// `columnMetadata` (an object, or `[]` when empty); alias tables pass
/// `sourceTable.columnMetadata`.
std::string ColumnType(const nlohmann::json& column_metadata, const std::string& column);

/// The table description: metadata `KBC.description` (provider `user` first), else "".
std::string TableDescription(const nlohmann::json& table);

/// A view-name proposal from a Keboola table name (lower-case, `[a-z0-9_]`, ≤ 64).
std::string ViewName(const std::string& table_name);

/// TableInfo of one table of the listing (columns typed by ColumnType).
kit::TableInfo TableInfoFromJson(const nlohmann::json& table);

class KeboolaConnector : public kit::Connector {
 public:
  std::string name() const override { return kConnectorName; }
  kit::Capability capabilities() const override {
    return kit::Capability::kDiscover | kit::Capability::kRead;
  }
  /// Export jobs mostly wait on Keboola, so 4 tables are exported at once unless the source
  /// config sets `table_concurrency`.
  int default_table_concurrency() const override { return 4; }
  /// The export filter must parse (ParseExportFilter) and its date placeholders expand.
  Status ValidateSourceQuery(const std::string& source_query) const override;

  /// Every table the token can read, with columns, primary key and description; view names
  /// are made unique. Errors: invalid_argument for bad config; unauthenticated (401) etc. with
  /// the API's message.
  Result<std::vector<kit::TableInfo>> Discover(const kit::ConnectorConfig& config) override;

  /// Exports `source_table` with its filter, waits for the job, downloads the file(s) into a
  /// private temp dir (DA_TEMP_DIR, else the runtime's) and COPYs them through DuckDB into the
  /// sink (sliced CSV read without header using the table's columns, sliced Parquet read as
  /// one). Typed columns are cast from their base types. The temp dir is always removed.
  /// incremental and partitioned tables with a watermark send changedSince = now −
  /// incremental_window_days. A partitioned table's first read (no watermark, and no
  /// changed_since/changed_until/limit in its filter) exports backwards in windows
  /// [until − chunk − 1 day, until), until = now − i·chunk (chunk = initial_load_chunk_days),
  /// ceil(max_history_days / chunk) windows (the oldest clipped to now − max_history_days) or
  /// 120 when unbounded, stopping after 2 consecutive windows without data rows; each window is
  /// downloaded to its own subdirectory and counted by DuckDB, and one COPY reads them all,
  /// the newest window's row winning a primary key seen twice (the registry's key, else the
  /// Keboola table's; DISTINCT without any).
  Status Read(const kit::ReadOptions& options, kit::ParquetSink& sink) override;
};

}  // namespace da::connectors::keboola
