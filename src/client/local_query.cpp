#include "client/local_query.h"

#include <algorithm>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/value_json.h"

namespace da::client {
namespace {

const std::set<std::string>& IntegerTypes() {
  static const std::set<std::string> kTypes = {"TINYINT",  "SMALLINT",  "INTEGER",  "BIGINT",
                                               "HUGEINT",  "UTINYINT",  "USMALLINT", "UINTEGER",
                                               "UBIGINT",  "UHUGEINT"};
  return kTypes;
}

bool IsNumericType(const std::string& type) {
  return IntegerTypes().contains(type) || type == "FLOAT" || type == "DOUBLE" || type == "DECIMAL";
}

/// Number of UTF-8 code points (continuation bytes are not counted).
size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

/// Control characters would break the table layout; show them escaped.
std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

void Pad(std::ostream& out, size_t n) {
  for (size_t i = 0; i < n; ++i) out << ' ';
}

void WriteTable(const db::QueryResult& r, std::ostream& out) {
  size_t cols = r.ColumnCount();
  size_t rows = r.RowCount();
  std::vector<std::string> header(cols);
  std::vector<bool> right(cols);
  std::vector<size_t> width(cols);
  std::vector<std::vector<std::string>> cells(rows, std::vector<std::string>(cols));
  for (size_t c = 0; c < cols; ++c) {
    header[c] = Printable(r.ColumnName(c));
    right[c] = IsNumericType(r.ColumnTypeName(c));
    width[c] = DisplayWidth(header[c]);
  }
  for (size_t row = 0; row < rows; ++row) {
    for (size_t c = 0; c < cols; ++c) {
      cells[row][c] = r.IsNull(c, row) ? "NULL" : Printable(r.GetString(c, row));
      width[c] = std::max(width[c], DisplayWidth(cells[row][c]));
    }
  }
  auto write_row = [&](const std::vector<std::string>& v) {
    for (size_t c = 0; c < cols; ++c) {
      if (c > 0) out << " | ";
      size_t pad = width[c] - DisplayWidth(v[c]);
      bool last = c + 1 == cols;
      if (right[c]) {
        Pad(out, pad);
        out << v[c];
      } else {
        out << v[c];
        if (!last) Pad(out, pad);
      }
    }
    out << '\n';
  };
  write_row(header);
  for (size_t c = 0; c < cols; ++c) {
    if (c > 0) out << "-+-";
    out << std::string(width[c], '-');
  }
  out << '\n';
  for (const auto& row : cells) write_row(row);
  out << '(' << rows << (rows == 1 ? " row)" : " rows)") << '\n';
}

void WriteJson(const db::QueryResult& r, std::ostream& out) {
  size_t cols = r.ColumnCount();
  std::vector<std::string> names(cols);
  for (size_t c = 0; c < cols; ++c) names[c] = r.ColumnName(c);
  // One object per line inside the array keeps memory flat for big results.
  out << '[';
  for (size_t row = 0; row < r.RowCount(); ++row) {
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (size_t c = 0; c < cols; ++c) {
      obj[names[c]] = db::CellToJson<nlohmann::ordered_json>(r, c, row);
    }
    out << (row == 0 ? "\n" : ",\n")
        << obj.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  out << (r.RowCount() == 0 ? "]\n" : "\n]\n");
}

void WriteCsvField(std::ostream& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << s;
    return;
  }
  out << '"';
  for (char ch : s) {
    if (ch == '"') out << '"';
    out << ch;
  }
  out << '"';
}

void WriteCsv(const db::QueryResult& r, std::ostream& out) {
  size_t cols = r.ColumnCount();
  for (size_t c = 0; c < cols; ++c) {
    if (c > 0) out << ',';
    WriteCsvField(out, r.ColumnName(c));
  }
  out << "\r\n";
  for (size_t row = 0; row < r.RowCount(); ++row) {
    for (size_t c = 0; c < cols; ++c) {
      if (c > 0) out << ',';
      if (!r.IsNull(c, row)) WriteCsvField(out, r.GetString(c, row));
    }
    out << "\r\n";
  }
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "csv") return OutputFormat::kCsv;
  return InvalidArgument("unknown output format '" + std::string(name) +
                         "' (expected table, json or csv)");
}

void WriteResult(const db::QueryResult& result, OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kTable: WriteTable(result, out); break;
    case OutputFormat::kJson: WriteJson(result, out); break;
    case OutputFormat::kCsv: WriteCsv(result, out); break;
  }
}

Status RunLocalQuery(const Workspace& ws, std::string_view sql, OutputFormat format,
                     std::ostream& out) {
  auto path = ws.DbPath();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return FailedPrecondition("no workspace database at " + path.string() +
                              "; run `da sync` first");
  }
  db::DatabaseOptions options;
  options.read_only = true;
  auto db = db::Database::Open(path.string(), options);
  if (!db.ok()) return db.status().WithContext("opening " + path.string());
  DA_ASSIGN_OR_RETURN(auto conn, db->Connect());
  auto result = conn.Query(sql);
  if (!result.ok()) {
    const std::string& msg = result.status().message();
    if (msg.find("does not exist") != std::string::npos && msg.find("Table") != std::string::npos) {
      return {result.status().code(),
              msg + "\nhint: run `da sync` to fetch the latest tables; remote tables are not "
                    "queryable locally"};
    }
    return result.status();
  }
  WriteResult(*result, format, out);
  return Status::Ok();
}

}  // namespace da::client
