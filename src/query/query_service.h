#pragma once
/// The sandboxed SQL query API behind `POST /api/query` (upstream-inventory.md §3.4,
/// decisions.md §9).
///
/// One request: borrow an analytics reader (orchestrator OpenReader: read-only analytics DB,
/// extracts attached read-only, `allowed_directories` = extracts/, `enable_external_access` off,
/// extension autoload/autoinstall off; on first use its published views are read and
/// `SET lock_configuration = true` is run; idle readers are reused until the analytics DB file
/// changes, since opening and closing a DuckDB costs ~150 ms); analyze the SQL with DuckDB's parser (sql_analyzer.h), check
/// the caller may see every view it reads (CheckAccess), confirm with DuckDB's StatementTypes
/// that it prepares as exactly one SELECT, and run it under a time limit (Connection::Interrupt
/// from a watchdog thread) fetching at most limit+1 rows. DESCRIBE/SUMMARIZE <view> are SELECTs
/// to DuckDB and run the same way; `EXPLAIN [ANALYZE] <SELECT>` has its SELECT analyzed and
/// checked, then runs unwrapped (its answer is the plan) under the same time limit.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/access.h"
#include "common/status.h"
#include "db/duckdb.h"
#include "orchestrator/orchestrator.h"
#include "query/query_limits.h"
#include "query/sql_analyzer.h"
#include "state/registry.h"
#include "state/users.h"

namespace da::query {

/// Longest SQL accepted, in bytes (100 KB).
inline constexpr size_t kMaxSqlBytes = 100 * 1024;
inline constexpr int64_t kDefaultRowLimit = 1000;
inline constexpr int64_t kMaxRowLimit = 100000;

struct QueryRequest {
  std::string sql;
  int64_t limit = kDefaultRowLimit;  ///< 1..kMaxRowLimit rows returned at most
};

/// A reader on loan from a QueryService: given back to its pool (or closed) on destruction.
class ReaderLease;

/// The outcome of one query. Move-only; keeps the reader that produced the result on loan
/// until destroyed (the result's memory belongs to the reader's database).
class QueryOutput {
 public:
  QueryOutput(std::unique_ptr<ReaderLease> lease, db::QueryResult result,
              std::vector<std::string> columns, std::vector<std::string> types,
              std::vector<size_t> text_columns, int64_t limit, QueryPlan plan,
              int64_t elapsed_ms, int64_t max_answer_bytes = 0);
  QueryOutput(QueryOutput&&) noexcept;
  QueryOutput& operator=(QueryOutput&&) noexcept;
  ~QueryOutput();

  /// The rows fetched: at most limit + 1 (the extra row only tells that there were more).
  /// Read by chunks (db/value_json.h), not with QueryResult's per-value accessors.
  const db::QueryResult& result() const { return result_; }
  /// Rows to return: min(fetched, limit).
  int64_t row_count() const { return row_count_; }
  /// True when the query produced more than `limit` rows.
  bool truncated() const { return truncated_; }
  const QueryPlan& plan() const { return plan_; }
  /// Output column names, as the statement named them.
  const std::vector<std::string>& columns() const { return columns_; }
  /// DuckDB SQL type of each column, e.g. "BIGINT", "DECIMAL(6,2)", "VARCHAR[]".
  const std::vector<std::string>& types() const { return types_; }
  int64_t elapsed_ms() const { return elapsed_ms_; }

  /// `{"columns":[name...], "types":[DuckDB SQL type...], "rows":[[v...]...], "row_count":n,
  /// "truncated":bool}`. Values are encoded by db::CellToJson (db/value_json.h, docs/api.md
  /// "JSON encoding of values"): numbers, booleans, null, DuckDB's text for dates and the
  /// like, arrays and objects for LIST/STRUCT/MAP.
  nlohmann::json ToJson() const;
  /// RFC 4180 CSV with a header row; NULL → empty field; DuckDB's VARCHAR text for values;
  /// fields quoted when they contain `,`, `"`, CR or LF; lines end with "\r\n".
  std::string ToCsv() const;

  /// ToJson's answer as compact JSON text (invalid UTF-8 replaced), encoded cell by cell and
  /// measured as it grows: resource_exhausted as soon as it passes the answer cap
  /// (QueryLimits::max_answer_bytes; 0 = none), so an oversized answer is never built whole.
  Result<std::string> EncodeJson() const;
  /// ToCsv's answer under the same cap.
  Result<std::string> EncodeCsv() const;

 private:
  Status AnswerTooLarge() const;
  Result<std::string> EncodeJsonUnguarded() const;
  /// The CSV text, resource_exhausted once it passes `cap` bytes (SIZE_MAX: no cap).
  Result<std::string> EncodeCsvUpTo(size_t cap) const;

  std::unique_ptr<ReaderLease> lease_;  // declared first: destroyed after result_
  db::QueryResult result_;
  std::vector<std::string> columns_;
  std::vector<std::string> types_;
  std::vector<size_t> text_columns_;
  int64_t row_count_ = 0;
  bool truncated_ = false;
  QueryPlan plan_;
  int64_t elapsed_ms_ = 0;
  int64_t max_answer_bytes_ = 0;
};

struct QueryServiceOptions {
  /// Time limit of one query's execution; 0 = none. From InstanceConfig::query_timeout_sec.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  /// The analytics DB file (<data-dir>/analytics/server.duckdb). Idle readers are reused while
  /// its identity (inode, size, mtime) is unchanged; empty = a fresh reader for every query.
  std::filesystem::path analytics_path;
  /// Readers kept open between queries (each is a DuckDB instance with its own caches).
  size_t max_idle_readers = 2;
  /// memory_limit, threads and max_temp_directory_size of each reader; the answer cap.
  QueryLimits limits;
};

class ReaderPool;

/// Runs user SQL in the sandbox. Thread-safe: every call opens its own reader.
class QueryService {
 public:
  QueryService(orchestrator::Orchestrator& orchestrator, state::Registry& registry,
               const auth::AccessPolicy& access, QueryServiceOptions options = {});

  /// Runs `request.sql` for `who`.
  /// Errors (HTTP status as POST /api/query answers them):
  /// - invalid_argument (400): empty SQL, SQL over kMaxSqlBytes, limit outside 1..kMaxRowLimit,
  ///   a syntax error, more than one statement, a statement that is not a SELECT (or DESCRIBE,
  ///   SUMMARIZE, EXPLAIN [ANALYZE] of one), and any
  ///   error DuckDB raises while running it (its own message);
  /// - resource_exhausted: DuckDB ran out of the reader's memory_limit or temp space
  ///   (QueryLimits); an answer over the cap is refused later, by QueryOutput::EncodeJson/Csv;
  /// - permission_denied (403): a table, table function or function the sandbox refuses, or a
  ///   view `who` may not see (the message names it);
  /// - deadline_exceeded (504): execution ran past the time limit and was interrupted;
  /// - unavailable (503): the analytics DB cannot be opened.
  Result<QueryOutput> Run(const state::Principal& who, const QueryRequest& request);

  /// May `who` read every view in `plan`? Each view is looked up in the registry by its name
  /// (case-insensitively) and decided by AccessPolicy::CanSeeTable; a view without a registry
  /// row is visible to admins only. permission_denied naming the first view refused, with the
  /// same message as for a view that does not exist (no probing for names).
  Status CheckAccess(const state::Principal& who, const QueryPlan& plan) const;

  /// Readies a fresh reader for user SQL (Run calls it for every new reader; public so tests
  /// can probe the locked connection): reads its catalog name, the published views it holds, its catalog and schema
  /// names and the function denylist, sets QueryLimits (memory_limit, threads,
  /// max_temp_directory_size), then `SET lock_configuration = true` — after which no
  /// SET/RESET on that connection can change a setting. Errors: internal.
  Result<AnalyzerCatalog> PrepareReader(orchestrator::AnalyticsReader& reader);

  /// Readers open and idle right now (for tests and metrics).
  size_t IdleReaders() const;

 private:
  /// An idle reader for the current analytics DB file, or a new prepared one.
  Result<std::unique_ptr<ReaderLease>> Borrow();
  /// The function denylist, loaded once per process.
  Result<std::set<std::string>> Denylist(db::Connection& conn);

  orchestrator::Orchestrator& orchestrator_;
  state::Registry& registry_;
  const auth::AccessPolicy& access_;
  QueryServiceOptions options_;
  std::shared_ptr<ReaderPool> pool_;
  std::mutex denylist_mu_;
  std::optional<std::set<std::string>> denylist_;
};

/// How an accepted statement is run: the user's SELECT embedded unchanged as a subquery,
/// `SELECT #1 AS "c1", CAST(#2 AS VARCHAR) AS "c2", ... FROM (\n<sql>\n) AS da_query LIMIT n`,
/// so DuckDB stops after n rows, output names stay as the user wrote them (duplicates too), and
/// every value that is not BOOLEAN, a number, VARCHAR or BLOB arrives as DuckDB's own text.
struct ExecutionPlan {
  std::string sql;                   ///< what to run
  std::vector<std::string> columns;  ///< output column names
  std::vector<std::string> types;    ///< DuckDB SQL type of each column ("DECIMAL(6,2)", "INTEGER[]")
  /// For each output column, the result column holding its CSV text: itself, or (for LIST,
  /// ARRAY, STRUCT, MAP and UNION, which the JSON encoding reads as they are) a VARCHAR copy
  /// selected after the output columns.
  std::vector<size_t> text_columns;
};

/// Builds the ExecutionPlan for `sql`, whose json_serialize_sql statement is `statement`.
/// Column names and types come from `DESCRIBE (\n<sql>\n)` (binds, does not run the query).
/// The embedding is used only when DuckDB parses both texts around exactly the same AST as
/// `statement` (positions aside), so it cannot change what runs; a trailing `;` (with comments
/// after it) is cut off for that. Errors: invalid_argument when the text cannot be embedded or
/// DuckDB cannot bind it (its message).
Result<ExecutionPlan> PlanExecution(db::Connection& conn, std::string_view sql,
                                    const nlohmann::json& statement, int64_t max_rows);

}  // namespace da::query
