#pragma once
/// `da query`: run SQL against the workspace's analytics.duckdb (read-only) and print the result.
///
/// Source: upstream-inventory.md §5.3 `agnes query` (local mode). The remote mode (`--remote`,
/// POST /api/query) is not implemented yet.
#include <ostream>
#include <string>
#include <string_view>

#include "client/workspace.h"
#include "common/status.h"
#include "db/duckdb.h"

namespace da::client {

enum class OutputFormat { kTable, kJson, kCsv };

/// "table" | "json" | "csv" (case-sensitive); invalid_argument otherwise.
Result<OutputFormat> ParseOutputFormat(std::string_view name);

/// Writes `result` to `out`:
/// - kTable: aligned columns (`|`-separated, header, `-+-` rule, numbers right-aligned, NULL as
///   "NULL"), then "(N rows)". Widths count UTF-8 code points.
/// - kJson: an array of objects keyed by column name (in column order), one per line; values
///   encoded by db::CellToJson, as POST /api/query does (docs/api.md, "JSON encoding of values").
/// - kCsv: RFC 4180 with a header row; NULL as an empty field; fields quoted when they contain
///   `,`, `"`, CR or LF.
void WriteResult(const db::QueryResult& result, OutputFormat format, std::ostream& out);

/// Opens `ws.DbPath()` read-only, runs `sql` and writes the result to `out` in `format`.
/// Errors: failed_precondition "no workspace database at <path>; run `da sync` first" when the
/// DB is missing; DuckDB's own error (invalid_argument for parser/binder errors) otherwise,
/// with a hint to run `da sync` when a table does not exist.
Status RunLocalQuery(const Workspace& ws, std::string_view sql, OutputFormat format,
                     std::ostream& out);

}  // namespace da::client
