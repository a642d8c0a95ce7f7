#include "model/table_spec.h"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "common/identifiers.h"
#include "common/schedule.h"

namespace da::model {
namespace {

constexpr size_t kMaxDescriptionChars = 4096;
constexpr size_t kMaxSourceTableChars = 4096;
constexpr size_t kMaxScheduleChars = 256;
constexpr size_t kMaxSourceQueryBytes = 1 << 20;

template <typename E, size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<QueryMode, 3> kQueryModes{{{QueryMode::kLocal, "local"},
                                           {QueryMode::kMaterialized, "materialized"},
                                           {QueryMode::kRemote, "remote"}}};
constexpr Names<SyncStrategy, 3> kSyncStrategies{{{SyncStrategy::kFullRefresh, "full_refresh"},
                                                  {SyncStrategy::kIncremental, "incremental"},
                                                  {SyncStrategy::kPartitioned, "partitioned"}}};
constexpr Names<SchemaPolicy, 2> kSchemaPolicies{
    {{SchemaPolicy::kEvolve, "evolve"}, {SchemaPolicy::kFreeze, "freeze"}}};
constexpr Names<PartitionGranularity, 3> kGranularities{{{PartitionGranularity::kDay, "day"},
                                                         {PartitionGranularity::kMonth, "month"},
                                                         {PartitionGranularity::kYear, "year"}}};

template <typename E, size_t N>
std::string_view NameOf(const Names<E, N>& names, E v) {
  for (const auto& [value, name] : names) {
    if (value == v) return name;
  }
  return "";
}

/// `text` as one of `names`; "" gives `empty`; otherwise invalid_argument listing the names.
template <typename E, size_t N>
Result<E> ParseName(const char* field, const Names<E, N>& names, std::string_view text, E empty) {
  if (text.empty()) return empty;
  std::string list;
  for (const auto& [value, name] : names) {
    if (name == text) return value;
    list += list.empty() ? std::string(name) : ", " + std::string(name);
  }
  return InvalidArgument(std::string(field) + " '" + Shown(text) + "' must be one of " + list);
}

/// Counts UTF-8 code points (bytes that are not continuation bytes).
size_t Utf8Length(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool HasControlChars(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

std::string_view ToString(QueryMode v) { return NameOf(kQueryModes, v); }
std::string_view ToString(SyncStrategy v) { return NameOf(kSyncStrategies, v); }
std::string_view ToString(SchemaPolicy v) { return NameOf(kSchemaPolicies, v); }
std::string_view ToString(PartitionGranularity v) { return NameOf(kGranularities, v); }

Result<QueryMode> ParseQueryMode(std::string_view text) {
  return ParseName("query_mode", kQueryModes, text, QueryMode::kLocal);
}
Result<SyncStrategy> ParseSyncStrategy(std::string_view text) {
  return ParseName("sync_strategy", kSyncStrategies, text, SyncStrategy::kFullRefresh);
}
Result<SchemaPolicy> ParseSchemaPolicy(std::string_view text) {
  return ParseName("schema_policy", kSchemaPolicies, text, SchemaPolicy::kEvolve);
}
Result<PartitionGranularity> ParsePartitionGranularity(std::string_view text) {
  return ParseName("partition_granularity", kGranularities, text, PartitionGranularity::kUnset);
}

void to_json(nlohmann::json& j, QueryMode v) { j = std::string(ToString(v)); }
void to_json(nlohmann::json& j, SyncStrategy v) { j = std::string(ToString(v)); }
void to_json(nlohmann::json& j, SchemaPolicy v) { j = std::string(ToString(v)); }
void to_json(nlohmann::json& j, PartitionGranularity v) { j = std::string(ToString(v)); }

std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 80));
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  if (s.size() > 80) out += "...";
  return out;
}

void Normalize(TableSpec* t) {
  if (t->sync_strategy == SyncStrategy::kPartitioned &&
      t->partition_granularity == PartitionGranularity::kUnset) {
    t->partition_granularity = PartitionGranularity::kMonth;
  }
}

Status Validate(const TableSpec& t) {
  if (t.name.empty()) return InvalidArgument("name is required");
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("name", t.name));
  if (t.id.empty()) return InvalidArgument("id is required");
  DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("id", t.id));
  if (t.source_type.empty()) return InvalidArgument("source_type is required");
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("source_type", t.source_type));
  if (!t.bucket.empty()) DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("bucket", t.bucket));
  if (Utf8Length(t.description) > kMaxDescriptionChars) {
    return InvalidArgument("description is " + std::to_string(Utf8Length(t.description)) +
                           " characters long; the limit is " +
                           std::to_string(kMaxDescriptionChars));
  }
  if (HasControlChars(t.source_table)) {
    return InvalidArgument("source_table '" + Shown(t.source_table) +
                           "' contains control characters");
  }
  if (Utf8Length(t.source_table) > kMaxSourceTableChars) {
    return InvalidArgument("source_table '" + Shown(t.source_table) + "' is longer than " +
                           std::to_string(kMaxSourceTableChars) + " characters");
  }
  if (t.source_query.size() > kMaxSourceQueryBytes) {
    return InvalidArgument("source_query is longer than " + std::to_string(kMaxSourceQueryBytes) +
                           " bytes");
  }
  if (t.source_query.find('\0') != std::string::npos) {
    return InvalidArgument("source_query contains a NUL character");
  }
  if (!t.source_query.empty() && t.query_mode != QueryMode::kMaterialized) {
    return InvalidArgument("source_query is only allowed with query_mode 'materialized', not '" +
                           std::string(ToString(t.query_mode)) + "'");
  }
  if (HasControlChars(t.sync_schedule) || t.sync_schedule.size() > kMaxScheduleChars) {
    return InvalidArgument("sync_schedule '" + Shown(t.sync_schedule) +
                           "' contains control characters or is longer than " +
                           std::to_string(kMaxScheduleChars) + " characters");
  }
  if (!t.sync_schedule.empty()) DA_RETURN_IF_ERROR(ParseSchedule(t.sync_schedule).status());
  std::set<std::string> seen;
  for (const std::string& col : t.primary_key) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("primary_key entry", col));
    if (!seen.insert(col).second) {
      return InvalidArgument("primary_key entry '" + col + "' appears twice");
    }
  }
  if (!t.incremental_column.empty()) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("incremental_column", t.incremental_column));
  }
  if (!t.partition_by.empty()) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("partition_by", t.partition_by));
  }
  if (t.sync_strategy == SyncStrategy::kPartitioned) {
    if (t.partition_by.empty()) {
      return InvalidArgument("partition_by is required when sync_strategy is 'partitioned'");
    }
    if (t.query_mode == QueryMode::kRemote) {
      return InvalidArgument(
          "sync_strategy 'partitioned' is not allowed with query_mode 'remote' (remote tables "
          "are not stored)");
    }
  }
  return Status::Ok();
}

}  // namespace da::model
