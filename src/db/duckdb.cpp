#include "db/duckdb.h"

#include <duckdb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "db/duckdb_internal.h"

namespace da::db {
namespace {

/// How DuckDB's OutOfMemoryException (and only it) starts its message.
constexpr std::string_view kOutOfMemory = "Out of Memory Error";

Status ErrorFromType(duckdb_error_type type, std::string message) {
  // The CSV sniffer and some readers re-throw an allocation failure under their own type.
  if (message.find(kOutOfMemory) != std::string::npos) return ResourceExhausted(std::move(message));
  switch (type) {
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_BINDER:
    case DUCKDB_ERROR_CATALOG:
    case DUCKDB_ERROR_CONSTRAINT:
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_INVALID_INPUT:
    case DUCKDB_ERROR_SYNTAX:
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
    case DUCKDB_ERROR_PERMISSION:
    case DUCKDB_ERROR_MISMATCH_TYPE:
    case DUCKDB_ERROR_INVALID_TYPE:
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_DIVIDE_BY_ZERO:
      return InvalidArgument(std::move(message));
    case DUCKDB_ERROR_INTERRUPT:
      return DeadlineExceeded(std::move(message));
    case DUCKDB_ERROR_IO:
      return Unavailable(std::move(message));
    case DUCKDB_ERROR_OUT_OF_MEMORY:
      return ResourceExhausted(std::move(message));
    case DUCKDB_ERROR_TRANSACTION:
      return Aborted(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

/// A failure to prepare (parse and bind): invalid_argument, unless binding ran out of memory
/// (a table function that reads its input to bind, e.g. read_csv sniffing a file).
Status PrepareError(const char* error) {
  std::string message = error ? error : "cannot prepare statement";
  if (message.find(kOutOfMemory) != std::string::npos) return ResourceExhausted(std::move(message));
  return InvalidArgument(std::move(message));
}

const char* TypeName(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DECIMAL: return "DECIMAL";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_LIST: return "LIST";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_ARRAY: return "ARRAY";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_TIME_TZ: return "TIMETZ";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMPTZ";
    default: return "UNKNOWN";
  }
}

const char* StatementTypeName(duckdb_statement_type t) {
  switch (t) {
    case DUCKDB_STATEMENT_TYPE_SELECT: return "SELECT";
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_EXPLAIN: return "EXPLAIN";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_PREPARE: return "PREPARE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "EXECUTE";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "TRANSACTION";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_ANALYZE: return "ANALYZE";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET: return "VARIABLE_SET";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE_FUNC";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "LOAD";
    case DUCKDB_STATEMENT_TYPE_RELATION: return "RELATION";
    case DUCKDB_STATEMENT_TYPE_EXTENSION: return "EXTENSION";
    case DUCKDB_STATEMENT_TYPE_LOGICAL_PLAN: return "LOGICAL_PLAN";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_MULTI: return "MULTI";
    default: return "INVALID";
  }
}

}  // namespace

bool IsOutOfMemory(const Status& status) {
  return status.code() == StatusCode::kResourceExhausted &&
         status.message().find(kOutOfMemory) != std::string::npos;
}

// ---------------------------------------------------------------------------- QueryResult

QueryResult::Impl::~Impl() {
  for (duckdb_data_chunk& chunk : chunks) duckdb_destroy_data_chunk(&chunk);
  duckdb_destroy_result(&result);
}

namespace {
[[noreturn]] void MixedAccess(const char* what) {
  std::fprintf(stderr, "da: bug: a DuckDB result read %s after being read the other way\n", what);
  std::abort();
}
}  // namespace

void QueryResult::Impl::UseValues() {
  if (access == CellAccess::kChunks) MixedAccess("per value");
  access = CellAccess::kValues;
}

void QueryResult::Impl::UseChunks() {
  if (access == CellAccess::kChunks) return;
  if (access == CellAccess::kValues) MixedAccess("by chunks");
  access = CellAccess::kChunks;
  idx_t count = duckdb_result_chunk_count(result);
  idx_t rows = 0;
  for (idx_t i = 0; i < count; ++i) {
    duckdb_data_chunk chunk = duckdb_result_get_chunk(result, i);
    if (chunk == nullptr) break;  // out of range: the result holds fewer chunks than counted
    rows += duckdb_data_chunk_get_size(chunk);
    chunks.push_back(chunk);
    chunk_ends.push_back(rows);
  }
}

std::pair<duckdb_data_chunk, idx_t> QueryResult::Impl::Locate(idx_t row) const {
  auto it = std::upper_bound(chunk_ends.begin(), chunk_ends.end(), row);
  if (it == chunk_ends.end()) return {nullptr, 0};
  auto i = static_cast<size_t>(it - chunk_ends.begin());
  return {chunks[i], i == 0 ? row : row - chunk_ends[i - 1]};
}

const TypeNode& QueryResult::Impl::ColumnType(idx_t col) {
  if (column_types.size() <= col) column_types.resize(col + 1);
  if (!column_types[col]) {
    duckdb_logical_type type = duckdb_column_logical_type(&result, col);
    column_types[col] = std::make_unique<TypeNode>(ReadTypeNode(type));
    duckdb_destroy_logical_type(&type);
  }
  return *column_types[col];
}

QueryResult::QueryResult(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
QueryResult::QueryResult(QueryResult&&) noexcept = default;
QueryResult& QueryResult::operator=(QueryResult&&) noexcept = default;
QueryResult::~QueryResult() = default;

size_t QueryResult::RowCount() const { return duckdb_row_count(&impl_->result); }
size_t QueryResult::ColumnCount() const { return duckdb_column_count(&impl_->result); }
std::string QueryResult::ColumnName(size_t col) const {
  const char* n = duckdb_column_name(&impl_->result, col);
  return n ? n : "";
}
std::string QueryResult::ColumnTypeName(size_t col) const {
  return TypeName(duckdb_column_type(&impl_->result, col));
}
int64_t QueryResult::RowsChanged() const {
  return static_cast<int64_t>(duckdb_rows_changed(&impl_->result));
}
bool QueryResult::IsNull(size_t col, size_t row) const {
  impl_->UseValues();
  return duckdb_value_is_null(&impl_->result, col, row);
}
std::string QueryResult::GetString(size_t col, size_t row) const {
  if (IsNull(col, row)) return "";
  char* v = duckdb_value_varchar(&impl_->result, col, row);
  if (v == nullptr) return "";
  std::string out(v);
  duckdb_free(v);
  return out;
}
std::optional<std::string> QueryResult::GetOptString(size_t col, size_t row) const {
  if (IsNull(col, row)) return std::nullopt;
  return GetString(col, row);
}
int64_t QueryResult::GetInt64(size_t col, size_t row) const {
  impl_->UseValues();
  return duckdb_value_int64(&impl_->result, col, row);
}
double QueryResult::GetDouble(size_t col, size_t row) const {
  impl_->UseValues();
  return duckdb_value_double(&impl_->result, col, row);
}
bool QueryResult::GetBool(size_t col, size_t row) const {
  impl_->UseValues();
  return duckdb_value_boolean(&impl_->result, col, row);
}

Value QueryResult::GetValue(size_t col, size_t row) const {
  if (IsNull(col, row)) return std::monostate{};
  switch (duckdb_column_type(&impl_->result, col)) {
    case DUCKDB_TYPE_BOOLEAN: return GetBool(col, row);
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
      return GetInt64(col, row);
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: {
      double d = GetDouble(col, row);
      if (std::isfinite(d)) return d;
      return GetString(col, row);
    }
    default:
      return GetString(col, row);
  }
}

// ---------------------------------------------------------------------------- Database

struct Database::Impl {
  duckdb_database db = nullptr;
  ~Impl() {
    if (db) duckdb_close(&db);
  }
};

Database::Database(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

Result<Database> Database::Open(const std::string& path, const DatabaseOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Internal("duckdb_create_config failed");
  auto set = [&](const std::string& k, const std::string& v) -> Status {
    if (duckdb_set_config(config, k.c_str(), v.c_str()) != DuckDBSuccess) {
      return InvalidArgument("invalid DuckDB setting " + k + "=" + v);
    }
    return Status::Ok();
  };
  Status st;
  if (options.read_only) st = set("access_mode", "READ_ONLY");
  for (const auto& [k, v] : options.settings) {
    if (!st.ok()) break;
    st = set(k, v);
  }
  if (!st.ok()) {
    duckdb_destroy_config(&config);
    return st;
  }
  auto impl = std::make_shared<Impl>();
  char* err = nullptr;
  const char* p = path.empty() ? nullptr : path.c_str();
  if (path == ":memory:") p = nullptr;
  duckdb_state state = duckdb_open_ext(p, &impl->db, config, &err);
  duckdb_destroy_config(&config);
  if (state != DuckDBSuccess) {
    std::string msg = err ? err : "unknown error";
    if (err) duckdb_free(err);
    impl->db = nullptr;
    return Unavailable("cannot open DuckDB database '" + path + "': " + msg);
  }
  return Database(std::move(impl));
}

// ---------------------------------------------------------------------------- Connection

struct Connection::Impl {
  std::shared_ptr<Database::Impl> db;  // keeps the database open while connections live
  duckdb_connection conn = nullptr;
  ~Impl() {
    if (conn) duckdb_disconnect(&conn);
  }
};

Result<Connection> Database::Connect() {
  auto impl = std::make_unique<Connection::Impl>();
  impl->db = impl_;
  if (duckdb_connect(impl_->db, &impl->conn) != DuckDBSuccess) {
    return Internal("duckdb_connect failed");
  }
  return Connection(std::move(impl));
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Result<QueryResult> Connection::Query(std::string_view sql) {
  auto impl = std::make_unique<QueryResult::Impl>();
  std::string text(sql);
  if (duckdb_query(impl_->conn, text.c_str(), &impl->result) != DuckDBSuccess) {
    const char* e = duckdb_result_error(&impl->result);
    return ErrorFromType(duckdb_result_error_type(&impl->result), e ? e : "query failed");
  }
  return QueryResult(std::move(impl));
}

Status Connection::Execute(std::string_view sql) {
  auto r = Query(sql);
  return r.status();
}

Result<QueryResult> Connection::Query(std::string_view sql, const std::vector<Value>& params) {
  DA_ASSIGN_OR_RETURN(PreparedStatement stmt, Prepare(sql));
  return stmt.Execute(params);
}

Status Connection::Execute(std::string_view sql, const std::vector<Value>& params) {
  auto r = Query(sql, params);
  return r.status();
}

void Connection::Interrupt() { duckdb_interrupt(impl_->conn); }

Result<std::vector<std::string>> Connection::StatementTypes(std::string_view sql) {
  duckdb_extracted_statements stmts = nullptr;
  std::string text(sql);
  idx_t n = duckdb_extract_statements(impl_->conn, text.c_str(), &stmts);
  if (n == 0) {
    const char* e = duckdb_extract_statements_error(stmts);
    std::string msg = e ? e : "no statement";
    duckdb_destroy_extracted(&stmts);
    return InvalidArgument(msg);
  }
  std::vector<std::string> types;
  Status st;
  for (idx_t i = 0; i < n; ++i) {
    duckdb_prepared_statement p = nullptr;
    if (duckdb_prepare_extracted_statement(impl_->conn, stmts, i, &p) != DuckDBSuccess) {
      const char* e = duckdb_prepare_error(p);
      st = PrepareError(e);
      duckdb_destroy_prepare(&p);
      break;
    }
    types.emplace_back(StatementTypeName(duckdb_prepared_statement_type(p)));
    duckdb_destroy_prepare(&p);
  }
  duckdb_destroy_extracted(&stmts);
  if (!st.ok()) return st;
  return types;
}

// ---------------------------------------------------------------------------- PreparedStatement

struct PreparedStatement::Impl {
  duckdb_prepared_statement stmt = nullptr;
  ~Impl() { duckdb_destroy_prepare(&stmt); }
};

PreparedStatement::PreparedStatement(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PreparedStatement::PreparedStatement(PreparedStatement&&) noexcept = default;
PreparedStatement& PreparedStatement::operator=(PreparedStatement&&) noexcept = default;
PreparedStatement::~PreparedStatement() = default;

Result<PreparedStatement> Connection::Prepare(std::string_view sql) {
  auto impl = std::make_unique<PreparedStatement::Impl>();
  std::string text(sql);
  if (duckdb_prepare(impl_->conn, text.c_str(), &impl->stmt) != DuckDBSuccess) {
    return PrepareError(duckdb_prepare_error(impl->stmt));
  }
  return PreparedStatement(std::move(impl));
}

size_t PreparedStatement::ParameterCount() const { return duckdb_nparams(impl_->stmt); }

Result<QueryResult> PreparedStatement::Execute(const std::vector<Value>& params) {
  if (params.size() != ParameterCount()) {
    return InvalidArgument("statement takes " + std::to_string(ParameterCount()) +
                           " parameters, got " + std::to_string(params.size()));
  }
  duckdb_clear_bindings(impl_->stmt);
  for (size_t i = 0; i < params.size(); ++i) {
    idx_t idx = i + 1;
    const Value& v = params[i];
    duckdb_state s = DuckDBSuccess;
    if (std::holds_alternative<std::monostate>(v)) {
      s = duckdb_bind_null(impl_->stmt, idx);
    } else if (auto* b = std::get_if<bool>(&v)) {
      s = duckdb_bind_boolean(impl_->stmt, idx, *b);
    } else if (auto* n = std::get_if<int64_t>(&v)) {
      s = duckdb_bind_int64(impl_->stmt, idx, *n);
    } else if (auto* d = std::get_if<double>(&v)) {
      s = duckdb_bind_double(impl_->stmt, idx, *d);
    } else {
      const auto& str = std::get<std::string>(v);
      s = duckdb_bind_varchar_length(impl_->stmt, idx, str.data(), str.size());
    }
    if (s != DuckDBSuccess) return InvalidArgument("cannot bind parameter " + std::to_string(idx));
  }
  auto impl = std::make_unique<QueryResult::Impl>();
  if (duckdb_execute_prepared(impl_->stmt, &impl->result) != DuckDBSuccess) {
    const char* e = duckdb_result_error(&impl->result);
    return ErrorFromType(duckdb_result_error_type(&impl->result), e ? e : "execute failed");
  }
  return QueryResult(std::move(impl));
}

// ---------------------------------------------------------------------------- Appender

struct Appender::Impl {
  duckdb_appender app = nullptr;
  ~Impl() {
    if (app) duckdb_appender_destroy(&app);
  }
  Status Error(const char* op) {
    const char* e = duckdb_appender_error(app);
    return InvalidArgument(std::string(op) + ": " + (e ? e : "appender error"));
  }
};

Appender::Appender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Appender::Appender(Appender&&) noexcept = default;
Appender& Appender::operator=(Appender&&) noexcept = default;
Appender::~Appender() = default;

Result<Appender> Connection::MakeAppender(const std::string& schema, const std::string& table) {
  auto impl = std::make_unique<Appender::Impl>();
  if (duckdb_appender_create(impl_->conn, schema.c_str(), table.c_str(), &impl->app) !=
      DuckDBSuccess) {
    return impl->Error("cannot create appender");
  }
  return Appender(std::move(impl));
}

Status Appender::AppendRow(const std::vector<Value>& row) {
  for (const Value& v : row) {
    duckdb_state s;
    if (std::holds_alternative<std::monostate>(v)) {
      s = duckdb_append_null(impl_->app);
    } else if (auto* b = std::get_if<bool>(&v)) {
      s = duckdb_append_bool(impl_->app, *b);
    } else if (auto* n = std::get_if<int64_t>(&v)) {
      s = duckdb_append_int64(impl_->app, *n);
    } else if (auto* d = std::get_if<double>(&v)) {
      s = duckdb_append_double(impl_->app, *d);
    } else {
      const auto& str = std::get<std::string>(v);
      s = duckdb_append_varchar_length(impl_->app, str.data(), str.size());
    }
    if (s != DuckDBSuccess) return impl_->Error("append");
  }
  if (duckdb_appender_end_row(impl_->app) != DuckDBSuccess) return impl_->Error("end row");
  return Status::Ok();
}

Status Appender::Flush() {
  if (duckdb_appender_flush(impl_->app) != DuckDBSuccess) return impl_->Error("flush");
  return Status::Ok();
}

Status Appender::Close() {
  if (!impl_ || !impl_->app) return Status::Ok();
  duckdb_state s = duckdb_appender_close(impl_->app);
  Status st = s == DuckDBSuccess ? Status::Ok() : impl_->Error("close");
  duckdb_appender_destroy(&impl_->app);
  impl_->app = nullptr;
  return st;
}

}  // namespace da::db
