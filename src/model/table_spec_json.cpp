#include "model/table_spec_json.h"

#include <cstdint>
#include <utility>

namespace da::model {
namespace {

/// Fields the server sets itself; accepted in request bodies and ignored.
const std::set<std::string> kServerManaged = {"registered_by", "registered_at", "updated_at"};

Status WrongType(const std::string& field, const char* want, const nlohmann::json& v) {
  return Malformed("field '" + field + "' must be " + want + ", got " + v.type_name());
}

std::string Trim(const std::string& s) {
  const char* ws = " \t";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

using StringMember = std::string TableSpec::*;
constexpr std::pair<const char*, StringMember> kStrings[] = {
    {"id", &TableSpec::id},
    {"name", &TableSpec::name},
    {"description", &TableSpec::description},
    {"source_type", &TableSpec::source_type},
    {"bucket", &TableSpec::bucket},
    {"source_table", &TableSpec::source_table},
    {"source_query", &TableSpec::source_query},
    {"sync_schedule", &TableSpec::sync_schedule},
    {"incremental_column", &TableSpec::incremental_column},
    {"partition_by", &TableSpec::partition_by},
    {"registered_by", &TableSpec::registered_by},
    {"registered_at", &TableSpec::registered_at},
    {"updated_at", &TableSpec::updated_at},
};
constexpr const char* kEnums[] = {"query_mode", "sync_strategy", "schema_policy",
                                  "partition_granularity"};

Status ParseEnum(const std::string& field, const std::string& text, TableSpec* t) {
  if (field == "query_mode") {
    DA_ASSIGN_OR_RETURN(t->query_mode, ParseQueryMode(text));
  } else if (field == "sync_strategy") {
    DA_ASSIGN_OR_RETURN(t->sync_strategy, ParseSyncStrategy(text));
  } else if (field == "schema_policy") {
    DA_ASSIGN_OR_RETURN(t->schema_policy, ParseSchemaPolicy(text));
  } else {
    DA_ASSIGN_OR_RETURN(t->partition_granularity, ParsePartitionGranularity(text));
  }
  return Status::Ok();
}

/// Copies the fields present in the JSON object `j` into `*t` (JSON null clears a field to its
/// default). Keys that are not TableSpec fields go to `*unknown` when non-null, else are
/// ignored; the names of the fields applied go to `*given` when non-null. Type errors are
/// reported first (malformed), then unknown keys, then bad enum values (invalid_argument).
Status ApplyJson(const nlohmann::json& j, TableSpec* t, std::vector<std::string>* unknown,
                 std::set<std::string>* given) {
  if (!j.is_object()) {
    return Malformed("request body must be a JSON object, got " + std::string(j.type_name()));
  }
  std::vector<std::pair<std::string, std::string>> enums;
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
    for (const char* field : kEnums) {
      if (key != field) continue;
      handled = true;
      if (value.is_null()) {
        enums.emplace_back(key, "");
      } else if (value.is_string()) {
        enums.emplace_back(key, value.get<std::string>());
      } else {
        return WrongType(key, "a string", value);
      }
    }
    if (handled) {
      if (given != nullptr) given->insert(key);
      continue;
    }
    if (key == "primary_key") {
      if (given != nullptr) given->insert(key);
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
  if (unknown != nullptr && !unknown->empty()) {
    std::string list;
    for (const auto& u : *unknown) list += (list.empty() ? "'" : ", '") + Shown(u) + "'";
    return InvalidArgument("unknown field(s): " + list);
  }
  for (const auto& [field, text] : enums) DA_RETURN_IF_ERROR(ParseEnum(field, text, t));
  return Status::Ok();
}

/// `body` without the keys in `skip` (body must be an object).
nlohmann::json Without(const nlohmann::json& body, const std::set<std::string>& skip) {
  nlohmann::json filtered = nlohmann::json::object();
  for (const auto& [key, value] : body.items()) {
    if (skip.count(key) == 0) filtered[key] = value;
  }
  return filtered;
}

}  // namespace

nlohmann::json TableSpecToJson(const TableSpec& t) {
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

Result<TableSpec> TableSpecFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return Malformed("table record must be a JSON object, got " + std::string(j.type_name()));
  }
  TableSpec t;
  DA_RETURN_IF_ERROR(ApplyJson(j, &t, nullptr, nullptr));
  return t;
}

Result<TableSpec> DecodeRegistration(const nlohmann::json& body) {
  if (!body.is_object()) {
    return Malformed("request body must be a JSON object, got " + std::string(body.type_name()));
  }
  std::set<std::string> skip = kServerManaged;
  skip.insert("version");
  TableSpec t;
  std::vector<std::string> unknown;
  DA_RETURN_IF_ERROR(ApplyJson(Without(body, skip), &t, &unknown, nullptr));
  return t;
}

Result<TableSpecPatch> DecodePatch(const nlohmann::json& body) {
  if (!body.is_object()) {
    return Malformed("request body must be a JSON object, got " + std::string(body.type_name()));
  }
  TableSpecPatch patch;
  std::vector<std::string> unknown;
  DA_RETURN_IF_ERROR(ApplyJson(Without(body, kServerManaged), &patch.values, &unknown,
                               &patch.fields));
  patch.fields.erase("id");
  if (auto it = body.find("id"); it != body.end() && !it->is_null()) patch.id = patch.values.id;
  if (auto it = body.find("version"); it != body.end() && !it->is_null()) {
    patch.version = patch.values.version;
  }
  return patch;
}

void ApplyPatch(const TableSpecPatch& patch, TableSpec* t) {
  const TableSpec& v = patch.values;
  for (const auto& [field, member] : kStrings) {
    if (patch.Has(field)) t->*member = v.*member;
  }
  if (patch.Has("query_mode")) t->query_mode = v.query_mode;
  if (patch.Has("sync_strategy")) t->sync_strategy = v.sync_strategy;
  if (patch.Has("schema_policy")) t->schema_policy = v.schema_policy;
  if (patch.Has("partition_granularity")) t->partition_granularity = v.partition_granularity;
  if (patch.Has("primary_key")) t->primary_key = v.primary_key;
}

nlohmann::json PatchToJson(const TableSpecPatch& patch) {
  nlohmann::json all = TableSpecToJson(patch.values);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& field : patch.fields) out[field] = all[field];
  if (patch.id) out["id"] = *patch.id;
  if (patch.version) out["version"] = *patch.version;
  return out;
}

}  // namespace da::model
