#pragma once
/// A column of a table: as a connector reads it, as the extract stores it, as a published view
/// shows it.
#include <string>

namespace da::model {

struct ColumnInfo {
  std::string name;      ///< as in the source / the view
  std::string type;      ///< DuckDB type name, e.g. "BIGINT", "DECIMAL(18,3)", "VARCHAR[]"
  bool nullable = true;  ///< false only when a catalog knows a NOT NULL constraint

  bool operator==(const ColumnInfo&) const = default;
};

}  // namespace da::model
