#pragma once
/// Identifier validation and SQL quoting. Every name that reaches SQL passes through here first.
///
/// Source: shared/design/product.md "Identifiers" — strict `^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`;
/// quoted form `^[a-zA-Z0-9_][a-zA-Z0-9_.\-]{0,127}$` for Keboola ids such as `in.c-crm.orders`.
#include <string>
#include <string_view>

#include "common/status.h"

namespace da {

/// True for `^[a-zA-Z_][a-zA-Z0-9_]{0,63}$` (view names, source names, aliases).
bool IsStrictIdentifier(std::string_view s);
/// True for `^[a-zA-Z0-9_][a-zA-Z0-9_.\-]{0,127}$` (table ids, buckets; no quotes, no `;`).
bool IsQuotedIdentifier(std::string_view s);
/// invalid_argument naming `what` and the value when `s` is not a strict identifier.
Status ValidateStrictIdentifier(std::string_view what, std::string_view s);
/// invalid_argument naming `what` and the value when `s` is not a quoted identifier.
Status ValidateQuotedIdentifier(std::string_view what, std::string_view s);

/// `s` made safe for an error message or log line: control characters → '?', at most
/// `max_chars` characters (then "...").
std::string PrintableForMessage(std::string_view s, size_t max_chars = 80);

/// `"name"` with embedded double quotes doubled. Use only on validated identifiers.
std::string QuoteIdent(std::string_view s);
/// `'text'` with embedded single quotes doubled, for places DuckDB takes no bound parameter
/// (file paths inside CREATE VIEW, ATTACH targets). Rejects NUL and other control characters.
Result<std::string> QuoteLiteral(std::string_view s);

/// True for the name of one Parquet file of a multi-file table (a partition or stream month,
/// e.g. "2024-03.parquet"): `[A-Za-z0-9][A-Za-z0-9_.=-]*\.parquet`, at most 200 characters,
/// no "..". Paths, hidden and temp files are refused; server and client both check it.
bool IsDataFileName(std::string_view name);

}  // namespace da
