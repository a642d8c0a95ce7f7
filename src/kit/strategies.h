#pragma once
/// Sync strategies: how the rows a connector read become the table's stored Parquet file(s).
///
///  full_refresh  the read replaces `data/<id>.parquet` (done by the runtime itself).
///  incremental   rows past the watermark are merged into `data/<id>.parquet`: by primary key
///                when the table has one (the new row wins; composite keys compare every
///                column with IS NOT DISTINCT FROM), else appended (with a warning).
///  partitioned   rows are split by the UTC period (day | month | year) of `partition_by` into
///                `data/<id>/<period>.parquet`; only the periods present in the read are
///                rewritten, each merged by primary key when there is one, else replaced (or
///                appended to, when the read was incremental). Rows whose partition value is
///                NULL or does not parse fail the table, counted with a first example.
///
/// All the work is DuckDB SQL over Parquet files (COPY ... TO, ANTI JOIN, UNION ALL BY NAME,
/// QUALIFY row_number()), so memory stays bounded by the connection's memory_limit and spills
/// to its temp directory; no row is held in C++. Every file is written as `<file>.tmp` and
/// renamed, so a process killed at any moment leaves each file either old or new, both whole.
/// Partition files are only written under their flock (storage.h), shared with the stream
/// writer, so concurrent writers of one partition never lose each other's rows.
///
/// Identifiers reaching SQL are validated first (strict identifiers from the registry, column
/// names from DuckDB's DESCRIBE quoted with QuoteIdent); values go in as QuoteLiteral-ed text.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "db/duckdb.h"
#include "kit/table_info.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::kit {

/// Session settings the strategies rely on (TimeZone = UTC: naive timestamps are UTC).
Status PrepareStrategyConnection(db::Connection& conn);

/// strftime format of a partition granularity: day "%Y-%m-%d", month "%Y-%m" (also unset),
/// year "%Y".
std::string PeriodFormat(model::PartitionGranularity granularity);

/// SQL expression (VARCHAR) naming the UTC period of column `column` of DuckDB type `type`,
/// NULL when the value is NULL or does not parse. DATE / TIMESTAMP* are used as they are
/// (naive = UTC), TIMESTAMPTZ is converted to UTC, anything else is parsed from its text:
/// ISO-8601 with or without offset ("2024-03-01T00:30:00+01:00", "...+0100", "2024-03-01"),
/// or "YYYY/MM/DD[ HH:MM[:SS]]".
Result<std::string> PeriodExpr(const std::string& column, const std::string& type,
                               model::PartitionGranularity granularity);

/// The column of `columns` named `name` (case-insensitively, as DuckDB resolves names), or
/// invalid_argument naming `what`, the column and the table's columns.
Result<ColumnInfo> FindColumn(const std::vector<ColumnInfo>& columns, const std::string& name,
                              const std::string& what);

/// How new rows meet a stored file.
struct MergeSpec {
  /// One SELECT producing the new rows (may carry `helper_columns`).
  std::string new_rows_sql;
  /// Columns of new_rows_sql used for ordering only; never written.
  std::vector<std::string> helper_columns;
  /// Merge key (validated identifiers); empty = no key.
  std::vector<std::string> primary_key;
  /// ORDER BY list choosing the winner among new rows sharing a key, newest first
  /// (e.g. `"updated" DESC NULLS LAST`); "" = any of them.
  std::string newest_first;
  /// The stored file to merge into; nullopt when there is none.
  std::optional<std::filesystem::path> existing;
  /// Without a key: keep the existing rows and append (true) or replace them (false).
  bool append_without_key = false;
};

/// Writes the merge of `spec` to `out` (Parquet, zstd): with a key, the existing rows whose key
/// is not among the new rows, then the new rows deduplicated by key; without one, the new rows
/// after (append) or instead of (replace) the existing ones. Columns line up by name; columns
/// only one side has are NULL on the other. DuckDB's error on failure (out may be partial:
/// callers write to a temp path).
Status WriteMerged(db::Connection& conn, const MergeSpec& spec, const std::filesystem::path& out);

/// What an incremental or partitioned commit did.
struct CommitResult {
  int64_t new_rows = 0;                  ///< rows of the read past the watermark
  std::optional<std::string> watermark;  ///< the new watermark (nullopt = keep the previous)
  std::vector<std::string> warnings;
  std::vector<std::string> touched;      ///< partitioned: the rewritten periods, sorted
};

/// The rows a connector read for one table, ready to be committed.
struct ReadBatch {
  std::filesystem::path file;             ///< the Parquet file the connector wrote
  std::vector<ColumnInfo> columns;        ///< its columns
  std::string incremental_column;         ///< "" = not an incremental read
  std::optional<std::string> watermark;   ///< rows must be past it (filter re-applied here)
};

/// incremental: merges `batch` into `data/<id>.parquet` (via `data/<id>.parquet.tmp`).
/// invalid_argument when a key column or the incremental column is not in the read.
Result<CommitResult> CommitIncremental(db::Connection& conn, const model::TableSpec& table,
                                       const ReadBatch& batch,
                                       const std::filesystem::path& data_dir);

/// partitioned: splits `batch` by period (scratch files under `scratch_dir`, which must not
/// exist) and merges each period into `data/<id>/<period>.parquet` under its lock.
/// invalid_argument naming the count and a first example when partition values do not parse
/// (nothing written then), or when partition_by / a key column is not in the read.
Result<CommitResult> CommitPartitioned(db::Connection& conn, const model::TableSpec& table,
                                       const ReadBatch& batch,
                                       const std::filesystem::path& data_dir,
                                       const std::filesystem::path& scratch_dir);

/// Merges the new rows of one period into `data/<id>/<period>.parquet` under the partition's
/// flock (waiting for it): `spec.existing` is filled in from the disk.
Status CommitPartition(db::Connection& conn, const std::filesystem::path& data_dir,
                                  const std::string& id, const std::string& period,
                                  MergeSpec spec);

/// Moves `file` (a complete Parquet file on the same filesystem) over
/// `data/<id>/<period>.parquet` under the partition's flock.
Status ReplacePartition(const std::filesystem::path& data_dir, const std::string& id,
                        const std::string& period, const std::filesystem::path& file);

/// `SELECT max(<column>)::VARCHAR FROM <reader_sql>`: nullopt for no rows (or all NULL).
Result<std::optional<std::string>> MaxValue(db::Connection& conn, const std::string& reader_sql,
                                            const std::string& column);

}  // namespace da::kit
