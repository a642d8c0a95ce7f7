#include "kit/parquet_sink.h"

#include <utility>

#include "common/hash.h"
#include "common/identifiers.h"

namespace da::kit {
namespace {

bool IsSafeTypeName(std::string_view type) {
  if (type.empty() || type.size() > 256) return false;
  for (char c : type) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ' ' || c == '(' || c == ')' || c == ',' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

bool IsSafeColumnName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

ParquetSink::ParquetSink(db::Connection& conn, std::filesystem::path output_path, MemoryGate* gate)
    : conn_(conn), output_path_(std::move(output_path)), gate_(gate) {}

ParquetSink::~ParquetSink() {
  appender_.reset();
  if (!scratch_table_.empty()) {
    (void)conn_.Execute("DROP TABLE IF EXISTS main." + QuoteIdent(scratch_table_));
  }
}

Status ParquetSink::Track(Status status) {
  out_of_memory_ = out_of_memory_ || db::IsOutOfMemory(status);
  return status;
}

Status ParquetSink::CopyTo(const std::string& select_sql) {
  DA_ASSIGN_OR_RETURN(std::string target, QuoteLiteral(output_path_.string()));
  auto result = conn_.Query("COPY (" + select_sql + ") TO " + target +
                            " (FORMAT parquet, COMPRESSION zstd)");
  if (!result.ok()) return Track(result.status());
  rows_written_ = result->RowCount() > 0 && result->ColumnCount() > 0 ? result->GetInt64(0, 0) : 0;
  finished_ = true;
  return Status::Ok();
}

Status ParquetSink::CopyQuery(std::string_view select_sql) {
  if (finished_) return FailedPrecondition("the Parquet sink already holds a table");
  if (appender_) return FailedPrecondition("rows are being appended to this Parquet sink");
  // Binding already reads the input (CSV sniffing): admitted from here on.
  const MemoryGate::Admission admitted = Admit();
  // The SQL comes from connector code; checking it parses as one SELECT keeps a badly built
  // string (an unquoted `;`) from ever running a second statement.
  auto types = conn_.StatementTypes(select_sql);
  if (!types.ok()) return Track(types.status());
  if (types->size() != 1 || (*types)[0] != "SELECT") {
    return InvalidArgument("a Parquet sink query must be exactly one SELECT statement");
  }
  return CopyTo(std::string(select_sql));
}

Status ParquetSink::BeginRows(const std::vector<ColumnInfo>& columns) {
  if (finished_) return FailedPrecondition("the Parquet sink already holds a table");
  if (appender_) return FailedPrecondition("rows are already being appended to this sink");
  if (columns.empty()) return InvalidArgument("a table needs at least one column");
  std::string ddl;
  for (const auto& c : columns) {
    if (!IsSafeColumnName(c.name)) {
      return InvalidArgument("column name '" + c.name.substr(0, 64) + "' is not allowed");
    }
    if (!IsSafeTypeName(c.type)) {
      return InvalidArgument("column type '" + c.type.substr(0, 64) + "' of column '" + c.name +
                             "' is not a DuckDB type name");
    }
    ddl += (ddl.empty() ? "" : ", ") + QuoteIdent(c.name) + " " + c.type;
  }
  std::string table = "_da_sink_" + RandomHex(6);
  DA_RETURN_IF_ERROR(conn_.Execute("CREATE TABLE main." + QuoteIdent(table) + " (" + ddl + ")"));
  scratch_table_ = table;
  DA_ASSIGN_OR_RETURN(auto appender, conn_.MakeAppender("main", table));
  appender_.emplace(std::move(appender));
  return Status::Ok();
}

Status ParquetSink::AppendRow(const std::vector<db::Value>& row) {
  if (!appender_) return FailedPrecondition("AppendRow before BeginRows");
  return appender_->AppendRow(row);
}

Status ParquetSink::FinishRows() {
  if (!appender_) return FailedPrecondition("FinishRows before BeginRows");
  Status closed = appender_->Close();
  appender_.reset();
  DA_RETURN_IF_ERROR(closed);
  const MemoryGate::Admission admitted = Admit();
  DA_RETURN_IF_ERROR(CopyTo("SELECT * FROM main." + QuoteIdent(scratch_table_)));
  DA_RETURN_IF_ERROR(conn_.Execute("DROP TABLE main." + QuoteIdent(scratch_table_)));
  scratch_table_.clear();
  return Status::Ok();
}

}  // namespace da::kit
