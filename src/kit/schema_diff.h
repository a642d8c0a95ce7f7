#pragma once
/// Schema evolution: how a table's columns changed between two extractions.
///
/// Source: shared/reference/seeds/002 §5.6 (`_check_schema_evolution`): added and removed
/// column names plus type changes of the columns both runs have. Here the previous schema comes
/// from the source's extract state (kit/extract_state.h) and types are DuckDB type names.
#include <string>
#include <vector>

#include "kit/table_info.h"

namespace da::kit {

/// The change from `previous` to `current`: `added` in `current` order, `removed` and
/// `retyped` in `previous` order. Names compare exactly; a new order alone is no change.
SchemaChange DiffColumns(const std::vector<ColumnInfo>& previous,
                         const std::vector<ColumnInfo>& current);

/// One line for messages and logs, e.g.
/// "added wind_gust (DOUBLE); removed weather (VARCHAR); retyped wind: DOUBLE -> VARCHAR".
/// "no change" for an empty change.
std::string DescribeSchemaChange(const SchemaChange& change);

}  // namespace da::kit
