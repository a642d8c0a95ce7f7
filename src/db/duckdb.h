#pragma once
/// RAII wrapper over DuckDB's C API — the only place that includes duckdb.h.
///
/// Ownership: Database, Connection, QueryResult, PreparedStatement and Appender are move-only
/// owners of one C handle each; destructors release them. A Connection must not outlive its
/// Database. Thread-safety: one Connection per thread; a Database may be shared by threads.
/// Errors: every failing call returns a Status carrying DuckDB's own message
/// (invalid_argument for parser/binder/constraint errors, resource_exhausted when the
/// database's memory_limit is reached, internal otherwise).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace da::db {

/// True for DuckDB's "Out of Memory" failures: resource_exhausted from a database whose
/// memory_limit was reached (and a message that says so).
bool IsOutOfMemory(const Status& status);

/// A bound parameter or appended value: NULL, BOOLEAN, BIGINT, DOUBLE or VARCHAR.
using Value = std::variant<std::monostate, bool, int64_t, double, std::string>;

struct DatabaseOptions {
  bool read_only = false;
  /// DuckDB settings applied at open time (e.g. {"enable_external_access","false"},
  /// {"threads","2"}, {"memory_limit","1GB"}).
  std::map<std::string, std::string> settings;
};

class Connection;

/// A materialized query result. Cell accessors take (column, row), both 0-based.
///
/// A result's cells are read either with the accessors below (IsNull, GetString, GetInt64,
/// GetDouble, GetBool, GetValue) or with the encoders of db/value_json.h (CellToJson,
/// CellText), never both: DuckDB's C API serves a result one way only, and mixing them is a
/// bug that aborts. The metadata calls (counts, names, types) work either way. Not thread-safe.
class QueryResult {
 public:
  QueryResult(QueryResult&&) noexcept;
  QueryResult& operator=(QueryResult&&) noexcept;
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;
  ~QueryResult();

  size_t RowCount() const;
  size_t ColumnCount() const;
  std::string ColumnName(size_t col) const;
  /// SQL type name of a column ("BIGINT", "VARCHAR", "TIMESTAMP", "LIST", ...).
  std::string ColumnTypeName(size_t col) const;
  /// Rows changed by an INSERT/UPDATE/DELETE.
  int64_t RowsChanged() const;

  bool IsNull(size_t col, size_t row) const;
  /// The cell cast to VARCHAR; "" for NULL.
  std::string GetString(size_t col, size_t row) const;
  std::optional<std::string> GetOptString(size_t col, size_t row) const;
  int64_t GetInt64(size_t col, size_t row) const;
  double GetDouble(size_t col, size_t row) const;
  bool GetBool(size_t col, size_t row) const;
  /// The cell as JSON-friendly Value: NULL, bool, integer, floating or text.
  Value GetValue(size_t col, size_t row) const;

 private:
  friend class Connection;
  friend class PreparedStatement;
  friend struct CellReader;  // db/value_json.cpp
  struct Impl;
  explicit QueryResult(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A prepared statement; parameters are 1-based as in DuckDB (`$1`, `?`).
class PreparedStatement {
 public:
  PreparedStatement(PreparedStatement&&) noexcept;
  PreparedStatement& operator=(PreparedStatement&&) noexcept;
  ~PreparedStatement();

  size_t ParameterCount() const;
  /// Binds all parameters in order, then executes.
  Result<QueryResult> Execute(const std::vector<Value>& params);

 private:
  friend class Connection;
  struct Impl;
  explicit PreparedStatement(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Appends rows to one table; Close() flushes (also done by the destructor, errors dropped).
class Appender {
 public:
  Appender(Appender&&) noexcept;
  Appender& operator=(Appender&&) noexcept;
  ~Appender();

  Status AppendRow(const std::vector<Value>& row);
  Status Flush();
  Status Close();

 private:
  friend class Connection;
  struct Impl;
  explicit Appender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Connection {
 public:
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  /// Runs SQL (one or more statements) and materializes the last result.
  Result<QueryResult> Query(std::string_view sql);
  /// Prepares `sql` (one statement), binds `params` and runs it.
  Result<QueryResult> Query(std::string_view sql, const std::vector<Value>& params);
  /// Runs SQL and discards the result.
  Status Execute(std::string_view sql);
  Status Execute(std::string_view sql, const std::vector<Value>& params);
  Result<PreparedStatement> Prepare(std::string_view sql);
  Result<Appender> MakeAppender(const std::string& schema, const std::string& table);
  /// Interrupts the query running on this connection (safe to call from another thread).
  void Interrupt();
  /// Number of statements in `sql` and, for each, DuckDB's statement type name
  /// ("SELECT", "INSERT", ...); invalid_argument with the parser's message on a syntax error.
  Result<std::vector<std::string>> StatementTypes(std::string_view sql);

 private:
  friend class Database;
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Database {
 public:
  /// Opens (creating when writable) the database at `path`; ":memory:" or "" for in-memory.
  static Result<Database> Open(const std::string& path, const DatabaseOptions& options = {});

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  Result<Connection> Connect();

  struct Impl;  // public so Connection can hold it; opaque outside duckdb.cpp

 private:
  explicit Database(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace da::db
