#pragma once
/// Configuration of the `keboola` connector and the export filter of one table.
///
/// Connection (instance.yaml `sources.keboola.<key>`, else the environment):
///   stack_url   KEBOOLA_STACK_URL      e.g. https://connection.keboola.com (trailing slash ok)
///   token       KEBOOLA_STORAGE_TOKEN  Storage API token (never logged or shown)
/// Tuning (instance.yaml only; defaults in KeboolaConfig):
///   job_timeout_seconds, poll_initial_ms, poll_max_ms, incremental_window_days,
///   file_type (csv|parquet: the default export format), max_attempts, slice_concurrency,
///   initial_load_chunk_days (default 30) and max_history_days (default: unbounded), the
///   defaults of a partitioned table's chunked first load (a table's filter overrides them).
///
/// Export filter (source: shared/reference/seeds/004 `ExportFilter`): a registered table's
/// `source_query` (query_mode materialized) holds a JSON object; an empty one exports the
/// whole table:
///   {"where_filters": [{"column": "status", "operator": "eq", "values": ["open"],
///                       "data_type": "DOUBLE"?}],
///    "columns": ["id", "status"], "changed_since": "-7 days" | "1718000000" | "{today-7d}",
///    "changed_until": ..., "limit": 1000, "file_type": "csv" | "parquet",
///    "initial_load_chunk_days": 30, "max_history_days": 365}
/// The last two (positive integers) shape the chunked first load of a partitioned table
/// (see KeboolaConnector::Read); other strategies ignore them.
/// Operators: eq, ne, gt, ge, lt, le. Date placeholders in values and changed_*:
/// `{today}`, `{yesterday}`, `{today-Nd}`, `{today+Nd}` (UTC dates, YYYY-MM-DD) and `{now}`,
/// `{now-Nd}`, `{now-Nh}` (unix seconds).
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "kit/connector.h"

namespace da::connectors::keboola {

/// Effective connector settings.
struct KeboolaConfig {
  std::string stack_url;  ///< normalised: no trailing slash
  std::string token;
  int64_t job_timeout_seconds = 1800;
  int64_t poll_initial_ms = 500;
  int64_t poll_max_ms = 10000;
  int64_t incremental_window_days = 7;
  std::string file_type = "csv";
  int max_attempts = 5;
  int slice_concurrency = 4;  ///< slices downloaded at once
  int64_t initial_load_chunk_days = 30;  ///< partitioned first load: days per export window
  int64_t max_history_days = 0;          ///< partitioned first load: 0 = unbounded (120 windows)
};

/// Resolves `config` (instance.yaml values win over KEBOOLA_STACK_URL / KEBOOLA_STORAGE_TOKEN).
/// invalid_argument naming the missing or bad key; stack_url must be https://host[:port].
Result<KeboolaConfig> ResolveKeboolaConfig(const kit::ConnectorConfig& config);

/// One where filter.
struct WhereFilter {
  std::string column;
  std::string op;  ///< eq | ne | gt | ge | lt | le
  std::vector<std::string> values;
  std::string data_type;  ///< "" or INTEGER | DOUBLE | BIGINT | REAL | DECIMAL
};

/// A table's export filter (see the file comment).
struct ExportFilter {
  std::vector<WhereFilter> where_filters;
  std::vector<std::string> columns;
  std::string changed_since, changed_until;
  std::optional<int64_t> limit;
  std::string file_type;  ///< "" = the connector default
  std::optional<int64_t> initial_load_chunk_days;  ///< overrides the source config's
  std::optional<int64_t> max_history_days;         ///< overrides the source config's
};

/// Parses `source_query` ("" = no filter). invalid_argument naming the field on bad shapes,
/// unknown operators or file types.
Result<ExportFilter> ParseExportFilter(const std::string& source_query);

/// `text` with the date placeholders replaced relative to `now`. invalid_argument on an
/// unknown placeholder.
Result<std::string> ExpandDatePlaceholders(const std::string& text, std::time_t now);

/// The export-async form body (PHP bracket arrays, `columns` comma-joined), with
/// `file_type` and `gzip` decided by the caller. Placeholders are expanded.
Result<std::string> ExportForm(const ExportFilter& filter, const std::string& file_type, bool gzip,
                               std::time_t now);

}  // namespace da::connectors::keboola
