#include "kit/stream_writer.h"

#include <utility>

#include "common/identifiers.h"
#include "kit/storage.h"
#include "kit/strategies.h"

namespace da::kit {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSeqColumn = "__da_seq";

bool IsNestedType(const std::string& type) {
  return type.starts_with("STRUCT") || type.starts_with("MAP") || type.starts_with("UNION") ||
         type.ends_with("]");
}

}  // namespace

Result<EventSpool> EventSpool::Create(const fs::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Unavailable("cannot create event spool '" + path.string() + "'");
  return EventSpool(path, std::move(out));
}

Status EventSpool::Write(nlohmann::json event, const std::string& where) {
  if (!event.is_object()) {
    return InvalidArgument(where + " is not a JSON object (got " +
                           std::string(event.type_name()) + ")");
  }
  if (event.contains(kSeqColumn)) {
    return InvalidArgument(where + " uses the reserved field '" + std::string(kSeqColumn) + "'");
  }
  event[kSeqColumn] = count_;
  out_ << event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  if (!out_) return Unavailable("cannot write event spool '" + path_.string() + "'");
  ++count_;
  return Status::Ok();
}

Status EventSpool::Add(const nlohmann::json& event) {
  return Write(event, "event #" + std::to_string(count_ + 1));
}

Status EventSpool::AddLine(std::string_view line, int64_t line_number) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return Status::Ok();
  nlohmann::json event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  const std::string where = "line " + std::to_string(line_number);
  if (event.is_discarded()) return InvalidArgument(where + " is not valid JSON");
  return Write(std::move(event), where);
}

Status EventSpool::Close() {
  out_.flush();
  const bool ok = static_cast<bool>(out_);
  out_.close();
  if (!ok) return Unavailable("cannot write event spool '" + path_.string() + "'");
  return Status::Ok();
}

Result<std::vector<std::string>> WriteEventPartitions(db::Connection& conn,
                                                      const model::TableSpec& table,
                                                      const fs::path& spool_file,
                                                      const fs::path& data_dir) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("partition_by", table.partition_by));
  DA_ASSIGN_OR_RETURN(std::string spool, QuoteLiteral(spool_file.string()));
  const std::string reader =
      "read_json(" + spool + ", format='newline_delimited', sample_size=-1)";
  DA_ASSIGN_OR_RETURN(auto desc, conn.Query("DESCRIBE SELECT * FROM " + reader));
  std::vector<ColumnInfo> columns;
  std::string replace;
  for (size_t r = 0; r < desc.RowCount(); ++r) {
    ColumnInfo c{desc.GetString(0, r), desc.GetString(1, r)};
    if (IsNestedType(c.type)) {
      replace += (replace.empty() ? "" : ", ") + std::string("CAST(to_json(") + QuoteIdent(c.name) +
                 ") AS JSON) AS " + QuoteIdent(c.name);
      c.type = "JSON";
    }
    columns.push_back(std::move(c));
  }
  DA_RETURN_IF_ERROR(conn.Execute(
      "CREATE OR REPLACE TEMP TABLE __da_events AS SELECT *" +
      (replace.empty() ? std::string() : " REPLACE (" + replace + ")") + " FROM " + reader));

  DA_ASSIGN_OR_RETURN(auto part_col,
                      FindColumn(columns, table.partition_by, "partition_by field"));
  std::vector<std::string> key;
  for (const auto& k : table.primary_key) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("primary_key entry", k));
    DA_ASSIGN_OR_RETURN(auto c, FindColumn(columns, k, "primary_key field"));
    key.push_back(c.name);
  }
  DA_ASSIGN_OR_RETURN(std::string period,
                      PeriodExpr(part_col.name, part_col.type, table.partition_granularity));

  DA_ASSIGN_OR_RETURN(
      auto bad, conn.Query("SELECT count(*), first(coalesce(CAST(" + QuoteIdent(part_col.name) +
                           " AS VARCHAR), 'NULL') ORDER BY " + kSeqColumn +
                           "), min(" + kSeqColumn + ") FROM __da_events WHERE (" + period +
                           ") IS NULL"));
  if (bad.RowCount() > 0 && bad.GetInt64(0, 0) > 0) {
    return InvalidArgument(std::to_string(bad.GetInt64(0, 0)) + " event(s) for table '" +
                           table.id + "' have a '" + part_col.name +
                           "' value that is missing or does not parse as a date or time "
                           "(first: event #" +
                           std::to_string(bad.GetInt64(2, 0) + 1) + ", '" +
                           PrintableForMessage(bad.GetString(1, 0), 80) +
                           "'); no event was written");
  }

  DA_ASSIGN_OR_RETURN(auto periods, conn.Query("SELECT DISTINCT " + period +
                                               " AS p FROM __da_events ORDER BY p"));
  std::vector<std::string> touched;
  for (size_t r = 0; r < periods.RowCount(); ++r) {
    const std::string p = periods.GetString(0, r);
    DA_ASSIGN_OR_RETURN(std::string p_lit, QuoteLiteral(p));
    MergeSpec spec;
    spec.new_rows_sql = "SELECT * FROM __da_events WHERE " + period + " = " + p_lit;
    spec.helper_columns = {kSeqColumn};
    spec.primary_key = key;
    spec.newest_first = std::string(kSeqColumn) + " DESC";
    spec.append_without_key = true;
    DA_RETURN_IF_ERROR(CommitPartition(conn, data_dir, table.id, p, std::move(spec)));
    touched.push_back(p);
  }
  DA_RETURN_IF_ERROR(conn.Execute("DROP TABLE IF EXISTS __da_events"));
  return touched;
}

}  // namespace da::kit
