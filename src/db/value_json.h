#pragma once
/// The one JSON encoding of a DuckDB value, used by POST /api/query, GET /api/v2/sample, the
/// local `da query --format json` and the profiler. The rules (also in docs/api.md, "JSON
/// encoding of values"):
///
///   NULL                                   → null
///   BOOLEAN                                → true / false
///   TINYINT … BIGINT, UTINYINT … UBIGINT   → number (exact: int64 / uint64)
///   HUGEINT, UHUGEINT                      → number while it fits int64/uint64, else its
///                                            decimal digits as a string
///   FLOAT, DOUBLE                          → number (FLOAT: the shortest decimal that reads
///                                            back as the same float); NaN, ±Infinity → null
///   DECIMAL(w,s)                           → number when the value has at most 15
///                                            significant digits (a double holds it exactly),
///                                            else its exact text ("12345678901234567.89")
///   VARCHAR, ENUM                          → string
///   DATE, TIME, TIMESTAMP*, INTERVAL, UUID,
///   TIMETZ, BIT                            → string, DuckDB's text (CAST … AS VARCHAR):
///                                            "2024-02-29", "2024-02-29 10:00:00",
///                                            "1 year 2 days 00:00:03"; TIMESTAMPTZ in UTC "+00"
///   BLOB                                   → string, DuckDB's escaped text ("ab\xFF")
///   LIST, ARRAY                            → array, elements encoded by these rules
///   STRUCT                                 → object, field → value, in field order
///   MAP                                    → object, key's text → value
///   UNION                                  → the active member's value
///   any other type (BIGNUM, …)             → null
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "db/duckdb.h"

namespace da::db {

/// Cell (`col`, `row`) of `result` encoded by the rules above; `Json` is nlohmann::json or
/// nlohmann::ordered_json (the latter keeps STRUCT fields in their order). Reads the result
/// by chunks: do not use QueryResult's per-value accessors on the same result. Out-of-range
/// cells encode as null.
template <class Json = nlohmann::json>
Json CellToJson(const QueryResult& result, size_t col, size_t row);

extern template nlohmann::json CellToJson<nlohmann::json>(const QueryResult&, size_t, size_t);
extern template nlohmann::ordered_json CellToJson<nlohmann::ordered_json>(const QueryResult&,
                                                                          size_t, size_t);

/// Cell (`col`, `row`) of `result` as text: "" for NULL, DuckDB's VARCHAR text for scalars
/// ("true", "12.50", "inf", "2024-02-29", "ab\xFF"), the JSON text of CellToJson for LIST,
/// ARRAY, STRUCT, MAP and UNION. Reads by chunks, as CellToJson.
std::string CellText(const QueryResult& result, size_t col, size_t row);

/// A DOUBLE by the rules above: the number, or null for NaN and ±Infinity.
nlohmann::json DoubleToJson(double value);

/// A value already cast to VARCHAR by SQL (`text`), of DuckDB SQL type `type` ("BIGINT",
/// "DECIMAL(10,2)", "DOUBLE", "BOOLEAN", ...), encoded by the rules above: numbers and
/// booleans parsed, everything else kept as text. Text that does not parse as its numeric type
/// is kept as a string. For scalar types only (nested values have no unambiguous text form).
nlohmann::json ScalarTextToJson(std::string_view type, std::string_view text);

}  // namespace da::db
