#pragma once
/// Private to src/db: the C handles behind QueryResult, shared by duckdb.cpp and value_json.cpp.
#include <duckdb.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "db/duckdb.h"

namespace da::db {

/// How a result's cells are being read. DuckDB's C API serves a result either through the
/// per-value functions (duckdb_value_*) or through data chunks (duckdb_result_get_chunk),
/// never both: the first use decides, and the other kind then answers nothing.
enum class CellAccess { kNone, kValues, kChunks };

/// A column's logical type, read once from DuckDB: what the chunk reader needs to decode one
/// cell of it (children for LIST/ARRAY/MAP/STRUCT/UNION).
struct TypeNode {
  duckdb_type id = DUCKDB_TYPE_INVALID;
  uint8_t decimal_scale = 0;
  /// DECIMAL: the integer type that stores it; ENUM: the type of its dictionary index.
  duckdb_type storage = DUCKDB_TYPE_INVALID;
  /// ARRAY: the fixed element count.
  idx_t array_size = 0;
  /// STRUCT field names, UNION member names or the ENUM dictionary.
  std::vector<std::string> names;
  /// LIST/ARRAY: the element; MAP: key, value; STRUCT: the fields; UNION: the members.
  std::vector<TypeNode> children;
};

/// Reads `type` (not taken over; the caller destroys it) into a TypeNode.
TypeNode ReadTypeNode(duckdb_logical_type type);

struct QueryResult::Impl {
  duckdb_result result{};
  CellAccess access = CellAccess::kNone;
  std::vector<duckdb_data_chunk> chunks;
  std::vector<idx_t> chunk_ends;  // rows in chunks[0..i], i.e. one past chunk i's last row
  std::vector<std::unique_ptr<TypeNode>> column_types;  // filled on first use per column

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();

  /// Marks the result as read per value; aborts if it is already read by chunks (a bug).
  void UseValues();
  /// Fetches every chunk once; aborts if the result is already read per value (a bug).
  void UseChunks();
  /// The chunk holding `row` and the row's index inside it (after UseChunks).
  std::pair<duckdb_data_chunk, idx_t> Locate(idx_t row) const;
  /// The decoded type of column `col` (cached).
  const TypeNode& ColumnType(idx_t col);
};

}  // namespace da::db
