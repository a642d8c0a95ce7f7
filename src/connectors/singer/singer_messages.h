#pragma once
/// Singer wire format: classifying stdout lines and mapping JSON Schema to DuckDB types.
///
/// Source: Singer specification (github.com/singer-io/getting-started, SPEC.md): a tap writes
/// one JSON message per line to stdout — SCHEMA {stream, schema, key_properties}, RECORD
/// {stream, record, time_extracted?}, STATE {value}; the Meltano SDK adds BATCH {stream,
/// encoding: {format: "jsonl", compression: "gzip"|"none"}, manifest: ["file:///...", ...]}.
/// `--discover` prints a catalog {"streams": [{tap_stream_id, stream, schema, key_properties,
/// metadata}]}.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kit/table_info.h"

namespace da::connectors::singer {

/// The top-level facts of one message line, read without building a DOM (the RECORD hot path).
struct MessageHead {
  std::string type;                 ///< "SCHEMA", "RECORD", "STATE", "BATCH", ... ("" if absent)
  std::string stream;               ///< "" when absent
  bool record_is_object = false;    ///< a top-level "record" key holds an object
  bool has_value = false;           ///< a top-level "value" key is present (STATE)
};

/// Checks that `line` is exactly one JSON object and returns its head. malformed with the
/// parser's message (position included) otherwise. Never throws.
Result<MessageHead> PeekMessage(std::string_view line);

/// DuckDB type name for a JSON Schema property: "integer" → BIGINT, "number" → DOUBLE,
/// "boolean" → BOOLEAN, "string" → VARCHAR (format date-time → TIMESTAMP WITH TIME ZONE,
/// date → DATE, time → TIME), "object" → JSON, "array" of a scalar type → `<type>[]`, other
/// arrays → JSON. "null" is ignored in type lists and anyOf/oneOf; integer+number → DOUBLE;
/// object+array → JSON; any other mix → VARCHAR; no type at all → JSON.
std::string JsonSchemaToDuckDbType(const nlohmann::ordered_json& property_schema);

/// Columns of a stream schema ({"type": "object", "properties": {...}}), in property order.
/// invalid_argument for a schema without a properties object, a property name with control
/// characters or the reserved name `__da_line__`, or two names equal case-insensitively
/// (DuckDB column names are case-insensitive).
Result<std::vector<kit::ColumnInfo>> ColumnsFromSchema(const nlohmann::ordered_json& schema);

/// Widens `into` by `more`, matching names exactly: new columns are appended, a column in
/// both keeps its type when equal, becomes DOUBLE for BIGINT/DOUBLE, VARCHAR otherwise.
/// invalid_argument when a new name equals an existing one only case-insensitively.
Status MergeColumns(std::vector<kit::ColumnInfo>& into, const std::vector<kit::ColumnInfo>& more);

/// A strict identifier proposed as view name for a stream: lower-cased, runs of other
/// characters → '_', a leading digit gets a `t_` prefix, at most 64 characters.
std::string TableNameForStream(std::string_view stream);

/// The reserved key the connector adds to each buffered record (the tap's stdout line number).
inline constexpr const char* kLineKey = "__da_line__";

}  // namespace da::connectors::singer
