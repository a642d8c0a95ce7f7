#pragma once
/// `da query --remote`: run SQL on the server (POST /api/query) and print the result with the
/// same formatter as the local query (local_query.h WriteResult).
///
/// Wire contract (docs/api.md "Query"): request `{"sql": "...", "limit": n}`; response
/// `{"columns":[...], "types":[DuckDB SQL type...], "rows":[[...]...], "row_count":n,
/// "truncated":bool}`.
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/http_client.h"
#include "client/local_query.h"
#include "common/status.h"
#include "db/duckdb.h"

namespace da::client {

/// The server's answer to one query.
struct RemoteQueryResult {
  std::vector<std::string> columns;
  std::vector<std::string> types;  ///< DuckDB SQL types, e.g. "BIGINT", "DECIMAL(6,2)"
  nlohmann::json rows = nlohmann::json::array();  ///< array of arrays of JSON scalars
  int64_t row_count = 0;
  bool truncated = false;

  /// Parses the response body. internal when the shape is not the documented one.
  static Result<RemoteQueryResult> FromJson(const nlohmann::json& body);
};

/// POST /api/query with `sql` and `limit` (1..100000; the server checks). Errors: the server's
/// (StatusFromHttpError: 400 → malformed, 403 → permission_denied, 504 → deadline_exceeded, ...)
/// or transport failures (unavailable).
Result<RemoteQueryResult> RunRemoteQuery(const HttpClient& http, std::string_view sql,
                                         int64_t limit);

/// The rows of a remote result held in an in-memory DuckDB, as a db::QueryResult, so
/// WriteResult prints them exactly as it prints local results. Members are declared so the
/// result is destroyed before the database that holds its data.
struct RemoteResultTable {
  db::Database database;
  db::Connection conn;
  db::QueryResult result;
};

/// Loads `remote` into a RemoteResultTable. Column types: BOOLEAN, the integer types and
/// FLOAT/DOUBLE keep theirs, DECIMAL becomes DOUBLE (numbers stay numbers and right-aligned),
/// everything else is VARCHAR holding the server's text. Errors: internal.
Result<RemoteResultTable> ToQueryResult(const RemoteQueryResult& remote);

/// RunRemoteQuery + ToQueryResult + WriteResult(format) to `out`. `truncated` (optional) tells
/// whether the server cut the result at `limit`.
Status PrintRemoteQuery(const HttpClient& http, std::string_view sql, int64_t limit,
                        OutputFormat format, std::ostream& out, bool* truncated = nullptr);

}  // namespace da::client
