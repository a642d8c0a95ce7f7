#pragma once
/// The registered table, da's central domain type: what to extract from where, how it is
/// queried and how it is kept up to date. Parsed once at the edge (model/table_spec_json.h),
/// persisted by the state layer (state/registry.h), read by the kit and the connectors.
///
/// The registry `id` is the one canonical key (grants, sync_state, manifest, download URL,
/// Parquet file name). `name` is the view name, unique among registered tables.
/// Source: shared/reference/seeds/003 (registry module) and decisions.md §1.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace da::model {

/// Where a table's rows are read at query time.
enum class QueryMode {
  kLocal,         ///< "local": extracted into Parquet, synced to analysts
  kMaterialized,  ///< "materialized": the result of `source_query`, extracted like local
  kRemote,        ///< "remote": never stored; queried in the source on demand
};

/// How an extraction updates the stored data (kit/strategies.h).
enum class SyncStrategy {
  kFullRefresh,  ///< "full_refresh": each extraction replaces the data
  kIncremental,  ///< "incremental": new rows merged by primary key (or appended)
  kPartitioned,  ///< "partitioned": one Parquet file per period of `partition_by`
};

/// What a change of the table's columns between extractions does.
enum class SchemaPolicy {
  kEvolve,  ///< "evolve": accept and record it
  kFreeze,  ///< "freeze": fail that table's sync; the previous data keeps serving
};

/// The period of one partition file of a partitioned table.
enum class PartitionGranularity {
  kUnset,  ///< "": month when partitioned
  kDay,    ///< "day"
  kMonth,  ///< "month"
  kYear,   ///< "year"
};

/// The wire and storage names above ("local", "full_refresh", "evolve", "day", "" for kUnset).
std::string_view ToString(QueryMode v);
std::string_view ToString(SyncStrategy v);
std::string_view ToString(SchemaPolicy v);
std::string_view ToString(PartitionGranularity v);

/// Parses a wire name; "" gives the default (local, full_refresh, evolve, unset). Any other
/// text → invalid_argument "<field> '<text>' must be one of a, b, c" (text shown at most 80
/// bytes, control characters as '?').
Result<QueryMode> ParseQueryMode(std::string_view text);
Result<SyncStrategy> ParseSyncStrategy(std::string_view text);
Result<SchemaPolicy> ParseSchemaPolicy(std::string_view text);
Result<PartitionGranularity> ParsePartitionGranularity(std::string_view text);

// JSON: the enums encode as their wire names (nlohmann ADL hooks). Decoding goes through the
// Parse functions above, which report bad values; these hooks are for encoding.
void to_json(nlohmann::json& j, QueryMode v);
void to_json(nlohmann::json& j, SyncStrategy v);
void to_json(nlohmann::json& j, SchemaPolicy v);
void to_json(nlohmann::json& j, PartitionGranularity v);

struct TableSpec {
  std::string id;                  ///< quoted identifier, e.g. "flights" or "in.c-crm.orders"
  std::string name;                ///< strict identifier: the view name
  std::string description;
  std::string source_type;         ///< connector name, e.g. "files"; also the source (extract dir)
  std::string bucket;              ///< Keboola bucket / BigQuery dataset; "" when unused
  std::string source_table;        ///< connector-specific locator (files: a path or glob)
  std::string source_query;        ///< materialized: the source query; "" otherwise
  QueryMode query_mode = QueryMode::kLocal;
  SyncStrategy sync_strategy = SyncStrategy::kFullRefresh;
  std::string sync_schedule;       ///< "" = every sync
  std::vector<std::string> primary_key;
  std::string incremental_column;
  std::string partition_by;
  PartitionGranularity partition_granularity = PartitionGranularity::kUnset;
  SchemaPolicy schema_policy = SchemaPolicy::kEvolve;
  std::string registered_by;
  std::string registered_at;       ///< ISO-8601 UTC
  std::string updated_at;          ///< ISO-8601 UTC
  int64_t version = 1;             ///< optimistic-lock counter, +1 per update

  /// Stored data exists for the table (query mode local or materialized).
  bool IsStored() const { return query_mode != QueryMode::kRemote; }
};

/// Applies the defaults the reference applies: a partitioned table without a granularity is
/// partitioned by month.
void Normalize(TableSpec* t);

/// Checks a complete spec on its own (no knowledge of installed connectors): identifiers
/// (name, id, source_type, bucket, primary_key entries, incremental_column, partition_by),
/// lengths (description 4096 characters, source_table 4096, source_query 1 MiB, sync_schedule
/// 256), control characters, the schedule's syntax, and the cross-field rules (source_query
/// only when materialized; partitioned needs partition_by and is not remote).
/// invalid_argument naming the field otherwise.
Status Validate(const TableSpec& t);

/// The value as shown in messages: at most 80 bytes, control characters replaced by '?'.
std::string Shown(std::string_view s);

}  // namespace da::model
