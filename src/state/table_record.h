#pragma once
/// A registered table: the registry row and its JSON form.
///
/// The registry `id` is the one canonical key (grants, sync_state, manifest, download URL,
/// Parquet file name). `name` is the view name, unique among registered tables.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace da::state {

struct TableRecord {
  std::string id;                  ///< quoted identifier, e.g. "flights" or "in.c-crm.orders"
  std::string name;                ///< strict identifier: the view name
  std::string description;
  std::string source_type;         ///< connector name, e.g. "files"; also the source (extract dir)
  std::string bucket;              ///< Keboola bucket / BigQuery dataset; "" when unused
  std::string source_table;        ///< connector-specific locator (files: a path or glob)
  std::string source_query;        ///< materialized: the source query; "" otherwise
  std::string query_mode = "local";           ///< local | materialized | remote
  std::string sync_strategy = "full_refresh"; ///< full_refresh | incremental | partitioned
  std::string sync_schedule;       ///< "" = every sync
  std::vector<std::string> primary_key;
  std::string incremental_column;
  std::string partition_by;
  std::string partition_granularity;  ///< day | month | year ("" unless partitioned)
  /// What a change of the table's columns between extractions does: "evolve" (accept and
  /// record it) or "freeze" (fail that table's sync; the previous data keeps serving).
  std::string schema_policy = "evolve";
  std::string registered_by;
  std::string registered_at;       ///< ISO-8601 UTC
  std::string updated_at;          ///< ISO-8601 UTC
  int64_t version = 1;             ///< optimistic-lock counter, +1 per update
};

/// JSON object with every field above (primary_key as an array).
nlohmann::json TableRecordToJson(const TableRecord& t);
/// Parses a full record (as produced by TableRecordToJson); malformed on wrong types.
Result<TableRecord> TableRecordFromJson(const nlohmann::json& j);

}  // namespace da::state
