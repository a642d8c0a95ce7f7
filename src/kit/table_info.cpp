#include "kit/table_info.h"

namespace da::kit {

nlohmann::json ColumnsToJson(const std::vector<ColumnInfo>& columns) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : columns) out.push_back({{"name", c.name}, {"type", c.type}});
  return out;
}

Result<std::vector<ColumnInfo>> ColumnsFromJson(const nlohmann::json& j) {
  if (!j.is_array()) return Malformed("columns must be a JSON array");
  std::vector<ColumnInfo> out;
  try {
    for (const auto& c : j) {
      out.push_back({c.at("name").get<std::string>(), c.at("type").get<std::string>()});
    }
  } catch (const nlohmann::json::exception& e) {
    return Malformed(std::string("columns: ") + e.what());
  }
  return out;
}

nlohmann::json ExtractStatsToJson(const ExtractStats& s) {
  return {{"table_id", s.table_id},
          {"name", s.name},
          {"status", s.status},
          {"rows", s.rows},
          {"size_bytes", s.size_bytes},
          {"md5", s.md5},
          {"duration_ms", s.duration_ms},
          {"error", s.error},
          {"columns", ColumnsToJson(s.columns)}};
}

Result<ExtractStats> ExtractStatsFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Malformed("extract stats must be a JSON object");
  ExtractStats s;
  try {
    s.table_id = j.value("table_id", s.table_id);
    s.name = j.value("name", s.name);
    s.status = j.value("status", s.status);
    s.rows = j.value("rows", s.rows);
    s.size_bytes = j.value("size_bytes", s.size_bytes);
    s.md5 = j.value("md5", s.md5);
    s.duration_ms = j.value("duration_ms", s.duration_ms);
    s.error = j.value("error", s.error);
  } catch (const nlohmann::json::exception& e) {
    return Malformed(std::string("extract stats: ") + e.what());
  }
  if (j.contains("columns")) {
    DA_ASSIGN_OR_RETURN(s.columns, ColumnsFromJson(j["columns"]));
  }
  return s;
}

nlohmann::json TableInfoToJson(const TableInfo& t) {
  return {{"name", t.name},
          {"columns", ColumnsToJson(t.columns)},
          {"primary_key", t.primary_key},
          {"description", t.description},
          {"source_table", t.source_table}};
}

}  // namespace da::kit
