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

nlohmann::json SchemaChangeToJson(const SchemaChange& c) {
  nlohmann::json retyped = nlohmann::json::array();
  for (const auto& r : c.retyped) {
    retyped.push_back({{"name", r.name}, {"from", r.from}, {"to", r.to}});
  }
  return {{"added", ColumnsToJson(c.added)},
          {"removed", ColumnsToJson(c.removed)},
          {"retyped", std::move(retyped)}};
}

Result<SchemaChange> SchemaChangeFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Malformed("schema_change must be a JSON object");
  SchemaChange c;
  if (j.contains("added")) {
    DA_ASSIGN_OR_RETURN(c.added, ColumnsFromJson(j["added"]));
  }
  if (j.contains("removed")) {
    DA_ASSIGN_OR_RETURN(c.removed, ColumnsFromJson(j["removed"]));
  }
  if (j.contains("retyped")) {
    const auto& retyped = j["retyped"];
    if (!retyped.is_array()) return Malformed("schema_change: retyped must be a JSON array");
    try {
      for (const auto& r : retyped) {
        c.retyped.push_back({r.at("name").get<std::string>(), r.at("from").get<std::string>(),
                             r.at("to").get<std::string>()});
      }
    } catch (const nlohmann::json::exception& e) {
      return Malformed(std::string("schema_change: retyped: ") + e.what());
    }
  }
  return c;
}

nlohmann::json ExtractStatsToJson(const ExtractStats& s) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : s.files) {
    files.push_back(
        {{"name", f.name}, {"md5", f.md5}, {"size_bytes", f.size_bytes}, {"rows", f.rows}});
  }
  return {{"table_id", s.table_id},
          {"name", s.name},
          {"status", s.status},
          {"rows", s.rows},
          {"size_bytes", s.size_bytes},
          {"md5", s.md5},
          {"duration_ms", s.duration_ms},
          {"error", s.error},
          {"columns", ColumnsToJson(s.columns)},
          {"schema_change", s.schema_change ? SchemaChangeToJson(*s.schema_change)
                                            : nlohmann::json(nullptr)},
          {"warnings", s.warnings},
          {"files", std::move(files)},
          {"watermark", s.watermark ? nlohmann::json(*s.watermark) : nlohmann::json(nullptr)}};
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
  if (j.contains("schema_change") && !j["schema_change"].is_null()) {
    DA_ASSIGN_OR_RETURN(s.schema_change, SchemaChangeFromJson(j["schema_change"]));
  }
  try {
    if (j.contains("warnings") && !j["warnings"].is_null()) {
      s.warnings = j["warnings"].get<std::vector<std::string>>();
    }
    if (j.contains("files") && !j["files"].is_null()) {
      if (!j["files"].is_array()) return Malformed("extract stats: files must be a JSON array");
      for (const auto& f : j["files"]) {
        s.files.push_back({f.at("name").get<std::string>(), f.value("md5", std::string()),
                           f.value("size_bytes", int64_t{0}), f.value("rows", int64_t{0})});
      }
    }
    if (j.contains("watermark") && !j["watermark"].is_null()) {
      s.watermark = j["watermark"].get<std::string>();
    }
  } catch (const nlohmann::json::exception& e) {
    return Malformed(std::string("extract stats: ") + e.what());
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
