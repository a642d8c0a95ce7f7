#pragma once
/// ParquetSink: where a connector's Read writes one table. The runtime owns the output path
/// (`data/<id>.parquet.tmp`), the DuckDB connection and the final rename; the connector only
/// produces rows, in one of two ways:
///
///  (a) CopyQuery(select): DuckDB streams `COPY (<select>) TO <path> (FORMAT parquet,
///      COMPRESSION zstd)` — the fast path for anything DuckDB can read itself (files,
///      attached catalogs, table functions). Memory stays bounded by the runtime's settings.
///  (b) BeginRows(columns) → AppendRow(row)... → FinishRows(): rows go through a DuckDB
///      appender into a scratch table (spilled to the runtime's temp directory when large),
///      then the table is COPYed to the Parquet file and dropped.
///
/// Exactly one of the two must complete once per sink. Not thread-safe: one sink per table,
/// used by one thread. The conversions (CopyQuery, FinishRows) are admitted through the
/// extraction's MemoryGate, so tables read side by side never convert at the same time.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "db/duckdb.h"
#include "kit/memory_gate.h"
#include "kit/table_info.h"

namespace da::kit {

class ParquetSink {
 public:
  /// `conn` (and `gate`, when given) must outlive the sink; `output_path` is the (temporary)
  /// Parquet file to write. Without a gate nothing waits (one table at a time anyway).
  ParquetSink(db::Connection& conn, std::filesystem::path output_path, MemoryGate* gate = nullptr);
  ParquetSink(const ParquetSink&) = delete;
  ParquetSink& operator=(const ParquetSink&) = delete;
  /// Drops a scratch table left by an unfinished BeginRows (errors ignored).
  ~ParquetSink();

  /// The connection the data is written through; connectors may use it to probe their
  /// source first (DESCRIBE, glob(), ...). Never pass user text into it unquoted.
  db::Connection& connection() { return conn_; }
  /// Admission for memory-heavy work a connector runs itself through connection() (reading
  /// a downloaded file to count or probe it): hold it for the duration of that work.
  [[nodiscard]] MemoryGate::Admission Admit() {
    return gate_ ? gate_->Admit() : MemoryGate::Admission();
  }
  const std::filesystem::path& output_path() const { return output_path_; }
  /// True once CopyQuery or FinishRows succeeded.
  bool finished() const { return finished_; }
  /// True when a conversion failed because the database's memory_limit was reached
  /// (db::IsOutOfMemory), whatever the connector then made of the error.
  bool out_of_memory() const { return out_of_memory_; }
  /// Rows written (DuckDB's COPY count); 0 until finished.
  int64_t rows_written() const { return rows_written_; }

  /// Writes the result of `select_sql` (exactly one SELECT statement, built by the connector
  /// from validated identifiers and QuoteLiteral-ed literals) to the Parquet file.
  /// Errors: invalid_argument when `select_sql` is not a single SELECT; DuckDB's own error
  /// (with its message) when the query or the write fails; failed_precondition when the sink
  /// already finished or rows are being appended.
  Status CopyQuery(std::string_view select_sql);

  /// Starts the appender path with a scratch table of `columns` (DuckDB type names, which
  /// come from connector code, never from user input). invalid_argument for an empty column
  /// list, a name with control characters or a type outside `[A-Za-z0-9_ (),[]]`.
  Status BeginRows(const std::vector<ColumnInfo>& columns);
  /// Appends one row: one Value per column, in order (DuckDB casts, e.g. VARCHAR → DATE).
  Status AppendRow(const std::vector<db::Value>& row);
  /// Flushes the appender, COPYs the scratch table to the Parquet file and drops it.
  Status FinishRows();

 private:
  Status CopyTo(const std::string& select_sql);
  /// Returns `status`, remembering whether it is an out-of-memory failure.
  Status Track(Status status);

  db::Connection& conn_;
  std::filesystem::path output_path_;
  MemoryGate* gate_ = nullptr;
  std::optional<db::Appender> appender_;
  std::string scratch_table_;
  bool finished_ = false;
  bool out_of_memory_ = false;
  int64_t rows_written_ = 0;
};

}  // namespace da::kit
