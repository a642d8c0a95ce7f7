#include "client/remote_query.h"

#include <cstdint>
#include <set>

#include "common/identifiers.h"

namespace da::client {
namespace {

using nlohmann::json;

/// The column type of the in-memory table that holds a remote column of DuckDB type `type`.
std::string LocalType(const std::string& type) {
  static const std::set<std::string> kKept = {
      "BOOLEAN",  "TINYINT",   "SMALLINT", "INTEGER", "BIGINT",  "HUGEINT", "UTINYINT",
      "USMALLINT", "UINTEGER", "UBIGINT",  "UHUGEINT", "FLOAT",  "DOUBLE"};
  if (kKept.contains(type)) return type;
  if (type.starts_with("DECIMAL")) return "DOUBLE";
  return "VARCHAR";
}

db::Value ToValue(const json& v) {
  if (v.is_null()) return std::monostate{};
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u);
    return std::to_string(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

Result<RemoteQueryResult> RemoteQueryResult::FromJson(const nlohmann::json& body) {
  if (!body.is_object()) return Internal("query response is not a JSON object");
  RemoteQueryResult out;
  try {
    out.columns = body.at("columns").get<std::vector<std::string>>();
    out.types = body.at("types").get<std::vector<std::string>>();
    out.rows = body.at("rows");
    out.row_count = body.value("row_count", static_cast<int64_t>(out.rows.size()));
    out.truncated = body.value("truncated", false);
  } catch (const json::exception& e) {
    return Internal(std::string("unexpected query response: ") + e.what());
  }
  if (out.columns.size() != out.types.size() || !out.rows.is_array()) {
    return Internal("unexpected query response: columns, types and rows do not match");
  }
  for (const auto& row : out.rows) {
    if (!row.is_array() || row.size() != out.columns.size()) {
      return Internal("unexpected query response: a row does not match the columns");
    }
  }
  return out;
}

Result<RemoteQueryResult> RunRemoteQuery(const HttpClient& http, std::string_view sql,
                                         int64_t limit) {
  json body = {{"sql", std::string(sql)}, {"limit", limit}};
  DA_ASSIGN_OR_RETURN(json response, http.PostJson("/api/query", body));
  return RemoteQueryResult::FromJson(response);
}

Result<RemoteResultTable> ToQueryResult(const RemoteQueryResult& remote) {
  DA_ASSIGN_OR_RETURN(db::Database database, db::Database::Open(":memory:"));
  DA_ASSIGN_OR_RETURN(db::Connection conn, database.Connect());
  std::string create = "CREATE TABLE r (";
  std::string select = "SELECT ";
  for (size_t c = 0; c < remote.columns.size(); ++c) {
    std::string col = "c" + std::to_string(c);
    create += (c ? ", " : "") + col + " " + LocalType(remote.types[c]);
    select += (c ? ", " : "") + col + " AS " + QuoteIdent(remote.columns[c]);
  }
  if (remote.columns.empty()) return Internal("query response has no columns");
  DA_RETURN_IF_ERROR(conn.Execute(create + ")").WithContext("remote result"));
  {
    DA_ASSIGN_OR_RETURN(db::Appender appender, conn.MakeAppender("main", "r"));
    std::vector<db::Value> values(remote.columns.size());
    for (const auto& row : remote.rows) {
      for (size_t c = 0; c < values.size(); ++c) values[c] = ToValue(row[c]);
      DA_RETURN_IF_ERROR(appender.AppendRow(values).WithContext("remote result"));
    }
    DA_RETURN_IF_ERROR(appender.Close().WithContext("remote result"));
  }
  auto result = conn.Query(select + " FROM r ORDER BY rowid");
  if (!result.ok()) return result.status().WithContext("remote result");
  return RemoteResultTable{std::move(database), std::move(conn), std::move(result).value()};
}

Status PrintRemoteQuery(const HttpClient& http, std::string_view sql, int64_t limit,
                        OutputFormat format, std::ostream& out, bool* truncated) {
  DA_ASSIGN_OR_RETURN(RemoteQueryResult remote, RunRemoteQuery(http, sql, limit));
  if (truncated != nullptr) *truncated = remote.truncated;
  DA_ASSIGN_OR_RETURN(RemoteResultTable table, ToQueryResult(remote));
  WriteResult(table.result, format, out);
  return Status::Ok();
}

}  // namespace da::client
