#pragma once
/// Discover-and-register planning: classes each discovered table against the registry.
///
///  new             no registered table has its id or its view name → registered (unless dry run)
///  existing_match  the same id is registered with the same coordinates (source_type, bucket,
///                  source_table) → nothing to do
///  existing_drift  the same id with other coordinates, or the same view name under another id
///                  → reported with both sides, never overwritten
///  invalid         the id is not a quoted identifier (SQL or path characters, too long) or the
///                  name is not a strict identifier → skipped with the reason
/// Source: shared/reference/seeds/004 (`da admin discover-and-register`, Keboola rows).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kit/table_info.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::connectors {

/// One table of the plan.
struct PlanEntry {
  std::string klass;   ///< new | existing_match | existing_drift | invalid
  std::string reason;  ///< why drift / invalid ("" otherwise)
  model::TableSpec discovered;  ///< what would be registered
  std::optional<model::TableSpec> existing;  ///< the registered side of a match / drift
};

/// The record a discovered table would be registered as: id = source_table (Keboola table
/// id), bucket = the id up to its last '.', query_mode local, full_refresh.
model::TableSpec CandidateRecord(const std::string& source, const kit::TableInfo& t);

/// Classes `discovered` against `registered` (all registered tables) in discovery order.
std::vector<PlanEntry> BuildRegisterPlan(const std::string& source,
                                         const std::vector<kit::TableInfo>& discovered,
                                         const std::vector<model::TableSpec>& registered);

/// `{"class","id","name","bucket","source_table","reason"?, "discovered": {...},
/// "existing": {...}?}` (records shown by their coordinates only).
nlohmann::json PlanEntryToJson(const PlanEntry& e);

/// What registering the discovered `r` stores: its coordinates, key and description, query
/// mode local and full refresh (Registry::Register).
model::TableSpec RegistrationSpec(const model::TableSpec& r);

}  // namespace da::connectors
