#pragma once
/// Statement analysis for the query sandbox (decisions.md §9): what a user's SQL is and what it
/// reads, decided by DuckDB's own parser, never by substring lists.
///
/// DuckDB 1.4: `json_serialize_sql(sql)` returns the parsed statements as JSON (SELECT only;
/// anything else → `{"error":true,"error_type":"not implemented"}`). AnalyzeAst walks that AST
/// and collects every table reference with the CTE names in scope at that point, every table
/// function and every function call; it refuses what the sandbox does not allow:
///   - a BASE_TABLE that is neither a CTE in scope (unqualified names only) nor a published view
///     of the analytics catalog (catalog empty or the analytics catalog; schema empty or `main`)
///     — replacement scans on paths/URLs (`FROM '/etc/passwd'`), `information_schema.*`,
///     `pg_catalog.*`, DuckDB's `duckdb_*` views, other attached catalogs (`files.airports`);
///   - every table function (`read_csv(...)`, `glob(...)`, `duckdb_settings()`, `query_table`,
///     table macros — all of them), SHOW TABLES / DESCRIBE without a view / SHOW <name>, any
///     unknown table-reference kind, time travel (`AT (...)`);
///   - functions on the denylist (settings, variables, sequences, catalog macros that read
///     system tables: `current_setting`, `getvariable`, `pg_get_viewdef`, ...) and functions
///     qualified with a catalog or a system/attached schema name.
/// DESCRIBE <view>, SUMMARIZE <view> and DESCRIBE/SUMMARIZE SELECT ... are SELECTs over a
/// SHOW_REF whose query is walked like any other (a view the caller may not see is refused as in
/// a SELECT). EXPLAIN [ANALYZE] is not serializable: SplitExplain cuts the words off and the
/// SELECT after them is analyzed.
/// Refusals are permission_denied (HTTP 403) naming the table or function; problems with the
/// statement itself (syntax, not a SELECT, several statements, empty) are invalid_argument.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "db/duckdb.h"

namespace da::query {

/// What the analyzer knows about the database the statement will run on.
struct AnalyzerCatalog {
  /// Queryable views: lower-cased name → name as published. DuckDB matches identifiers
  /// case-insensitively, so `FLIGHTS` and `"Flights"` both name `flights`.
  std::map<std::string, std::string> views;
  /// Name of the analytics catalog (`current_database()` of the reader, e.g. "server").
  std::string analytics_catalog;
  /// Lower-cased names a function must not be qualified with: attached catalogs, system, temp,
  /// pg_catalog, information_schema, the analytics catalog.
  std::set<std::string> reserved_qualifiers;
  /// Lower-cased function names that are refused wherever they appear.
  std::set<std::string> denied_functions;
};

/// What an accepted statement reads.
struct QueryPlan {
  /// Published views referenced (as published), sorted, unique.
  std::vector<std::string> views;
  /// CTE references resolved to a CTE in scope (lower-cased), sorted, unique.
  std::vector<std::string> ctes;
  /// Functions called (lower-cased), sorted, unique.
  std::vector<std::string> functions;
};

/// The static part of the function denylist (lower-case): settings, variables, environment,
/// sequences, catalog/system macros. Callers add the catalog-dependent names (see
/// LoadFunctionDenylist).
const std::set<std::string>& StaticFunctionDenylist();

/// The denylist for the database behind `conn`: StaticFunctionDenylist() plus every function
/// of DuckDB's `pg_catalog` schema and every macro whose body runs a query (such macros read
/// system tables the AST never shows). Errors: DuckDB's, as internal.
Result<std::set<std::string>> LoadFunctionDenylist(db::Connection& conn);

/// Walks one serialized statement (an element of json_serialize_sql's `statements`) and returns
/// what it reads, or the first refusal (permission_denied naming the table or function).
/// Iterative: no recursion on the AST, so deep nesting cannot overflow the stack.
Result<QueryPlan> AnalyzeStatement(const nlohmann::json& statement, const AnalyzerCatalog& catalog);

/// `EXPLAIN [ANALYZE] <statement>` taken apart: whether ANALYZE (or ANALYSE) was given and the
/// text after those words.
struct ExplainSplit {
  bool analyze = false;
  std::string_view inner;  ///< a view into the SQL passed to SplitExplain
};

/// When `sql` starts, after whitespace and comments, with the word EXPLAIN (any case), its
/// parts; else nullopt. Only the words EXPLAIN and ANALYZE are cut off: anything else DuckDB
/// accepts after EXPLAIN (VERBOSE, `(FORMAT ...)`) stays in `inner` and fails its analysis as a
/// SELECT, so what is analyzed is exactly what DuckDB explains.
std::optional<ExplainSplit> SplitExplain(std::string_view sql);

/// Parses `sql` with DuckDB on `conn` (`SELECT json_serialize_sql($1)`) and analyzes it.
/// Errors: invalid_argument for syntax errors (DuckDB's message), an empty statement, more than
/// one statement, or a statement that is not a SELECT; permission_denied from AnalyzeStatement.
/// Nothing is prepared or bound here: binding some statements has side effects (DuckDB 1.4
/// creates the directory of EXPORT DATABASE while preparing it).
/// `ast` (optional) receives the serialized statement.
Result<QueryPlan> AnalyzeSql(db::Connection& conn, std::string_view sql,
                             const AnalyzerCatalog& catalog, nlohmann::json* ast = nullptr);

/// Parses `sql` and returns json_serialize_sql's `statements` array.
/// Errors: invalid_argument with the parser's message; `not_select` (optional) is set when the
/// parser refused because a statement is not a SELECT.
Result<nlohmann::json> SerializeSql(db::Connection& conn, std::string_view sql,
                                    bool* not_select = nullptr);

/// `ast` without its `query_location` fields (positions differ when the same query is embedded
/// in other text). Takes the AST by value: move it in to avoid a copy.
nlohmann::json WithoutLocations(nlohmann::json ast);

}  // namespace da::query
