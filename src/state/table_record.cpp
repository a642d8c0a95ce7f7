#include "state/table_record.h"

#include <cstdint>

#include "state/internal.h"

namespace da::state {

nlohmann::json TableRecordToJson(const TableRecord& t) {
  return nlohmann::json{
      {"id", t.id},
      {"name", t.name},
      {"description", t.description},
      {"source_type", t.source_type},
      {"bucket", t.bucket},
      {"source_table", t.source_table},
      {"source_query", t.source_query},
      {"query_mode", t.query_mode},
      {"sync_strategy", t.sync_strategy},
      {"sync_schedule", t.sync_schedule},
      {"primary_key", t.primary_key},
      {"incremental_column", t.incremental_column},
      {"partition_by", t.partition_by},
      {"partition_granularity", t.partition_granularity},
      {"schema_policy", t.schema_policy},
      {"registered_by", t.registered_by},
      {"registered_at", t.registered_at},
      {"updated_at", t.updated_at},
      {"version", t.version},
  };
}

Result<TableRecord> TableRecordFromJson(const nlohmann::json& j) {
  TableRecord t;
  DA_RETURN_IF_ERROR(internal::ApplyRecordJson(j, &t, nullptr));
  return t;
}

namespace internal {
namespace {

std::string TypeName(const nlohmann::json& v) { return v.type_name(); }

Status WrongType(const std::string& field, const char* want, const nlohmann::json& v) {
  return Malformed("field '" + field + "' must be " + want + ", got " + TypeName(v));
}

std::string Trim(std::string s) {
  const char* ws = " \t";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

}  // namespace

Status ApplyRecordJson(const nlohmann::json& j, TableRecord* t, std::vector<std::string>* unknown) {
  if (!j.is_object()) return Malformed("table record must be a JSON object, got " + TypeName(j));
  const std::pair<const char*, std::string TableRecord::*> kStrings[] = {
      {"id", &TableRecord::id},
      {"name", &TableRecord::name},
      {"description", &TableRecord::description},
      {"source_type", &TableRecord::source_type},
      {"bucket", &TableRecord::bucket},
      {"source_table", &TableRecord::source_table},
      {"source_query", &TableRecord::source_query},
      {"query_mode", &TableRecord::query_mode},
      {"sync_strategy", &TableRecord::sync_strategy},
      {"sync_schedule", &TableRecord::sync_schedule},
      {"incremental_column", &TableRecord::incremental_column},
      {"partition_by", &TableRecord::partition_by},
      {"partition_granularity", &TableRecord::partition_granularity},
      {"schema_policy", &TableRecord::schema_policy},
      {"registered_by", &TableRecord::registered_by},
      {"registered_at", &TableRecord::registered_at},
      {"updated_at", &TableRecord::updated_at},
  };
  for (const auto& [key, value] : j.items()) {
    bool handled = false;
    for (const auto& [field, member] : kStrings) {
      if (key != field) continue;
      handled = true;
      if (value.is_null()) {
        t->*member = "";
      } else if (value.is_string()) {
        t->*member = value.get<std::string>();
      } else {
        return WrongType(key, "a string", value);
      }
    }
    if (handled) continue;
    if (key == "primary_key") {
      t->primary_key.clear();
      if (value.is_null()) continue;
      if (value.is_string()) {
        // Accepted for convenience: "a, b" → ["a", "b"]; entries are validated later.
        std::string s = value.get<std::string>();
        size_t start = 0;
        while (start <= s.size()) {
          size_t comma = s.find(',', start);
          if (comma == std::string::npos) comma = s.size();
          std::string part = Trim(s.substr(start, comma - start));
          if (!part.empty()) t->primary_key.push_back(part);
          start = comma + 1;
        }
        continue;
      }
      if (!value.is_array()) return WrongType(key, "an array of strings", value);
      for (const auto& e : value) {
        if (!e.is_string()) return WrongType(key, "an array of strings", e);
        t->primary_key.push_back(e.get<std::string>());
      }
    } else if (key == "version") {
      if (value.is_null()) continue;
      if (!value.is_number_integer() ||
          (value.is_number_unsigned() && value.get<uint64_t>() > INT64_MAX)) {
        return WrongType(key, "a 64-bit integer", value);
      }
      t->version = value.get<int64_t>();
    } else if (unknown != nullptr) {
      unknown->push_back(key);
    }
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace da::state
