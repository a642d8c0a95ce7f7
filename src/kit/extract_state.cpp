#include "kit/extract_state.h"

#include <system_error>

#include "common/fs_util.h"
#include "common/log.h"
#include "kit/storage.h"

namespace da::kit {
namespace fs = std::filesystem;

namespace {

constexpr int kFormat = 1;

nlohmann::json FilesToJson(const std::vector<StoredFile>& files) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : files) {
    out.push_back({{"name", f.stats.name},
                   {"md5", f.stats.md5},
                   {"size_bytes", f.stats.size_bytes},
                   {"rows", f.stats.rows},
                   {"mtime_ns", f.mtime_ns}});
  }
  return out;
}

nlohmann::json TableStateToJson(const TableState& t) {
  return {{"columns", ColumnsToJson(t.columns)},
          {"sync_strategy", t.sync_strategy},
          {"incremental_column", t.incremental_column},
          {"watermark", t.watermark ? nlohmann::json(*t.watermark) : nlohmann::json(nullptr)},
          {"last_extracted_at", t.last_extracted_at},
          {"files", FilesToJson(t.files)},
          {"last_schema_change", t.last_schema_change
                                     ? SchemaChangeToJson(*t.last_schema_change)
                                     : nlohmann::json(nullptr)},
          {"last_schema_change_at", t.last_schema_change_at}};
}

Result<TableState> TableStateFromJson(const std::string& id, const nlohmann::json& j) {
  const std::string where = "extract state of table '" + id + "'";
  if (!j.is_object()) return Malformed(where + " must be a JSON object");
  TableState t;
  if (j.contains("columns")) {
    auto cols = ColumnsFromJson(j["columns"]);
    if (!cols.ok()) return Malformed(where + ": " + cols.status().message());
    t.columns = std::move(cols).value();
  }
  if (j.contains("last_schema_change") && !j["last_schema_change"].is_null()) {
    auto change = SchemaChangeFromJson(j["last_schema_change"]);
    if (!change.ok()) return Malformed(where + ": " + change.status().message());
    t.last_schema_change = std::move(change).value();
  }
  try {
    t.sync_strategy = j.value("sync_strategy", std::string());
    t.incremental_column = j.value("incremental_column", std::string());
    if (j.contains("watermark") && !j["watermark"].is_null()) {
      t.watermark = j["watermark"].get<std::string>();
    }
    t.last_extracted_at = j.value("last_extracted_at", std::string());
    t.last_schema_change_at = j.value("last_schema_change_at", std::string());
    if (j.contains("files")) {
      if (!j["files"].is_array()) return Malformed(where + ": files must be a JSON array");
      for (const auto& f : j["files"]) {
        t.files.push_back({{f.at("name").get<std::string>(), f.at("md5").get<std::string>(),
                            f.at("size_bytes").get<int64_t>(), f.at("rows").get<int64_t>()},
                           f.value("mtime_ns", int64_t{0})});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Malformed(where + ": " + e.what());
  }
  return t;
}

}  // namespace

nlohmann::json ExtractStateToJson(const ExtractState& s) {
  nlohmann::json tables = nlohmann::json::object();
  for (const auto& [id, t] : s.tables) tables[id] = TableStateToJson(t);
  nlohmann::json registered = nullptr;
  if (s.registered) {
    registered = nlohmann::json::array();
    for (const auto& r : *s.registered) registered.push_back(model::TableSpecToJson(r));
  }
  return {{"format", kFormat}, {"registered", std::move(registered)}, {"tables", std::move(tables)}};
}

Result<ExtractState> ExtractStateFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Malformed("extract state must be a JSON object");
  ExtractState s;
  if (!j.contains("format") || !j["format"].is_number_integer() ||
      j["format"].get<int64_t>() != kFormat) {
    return Malformed("extract state: unknown format (expected \"format\": " +
                     std::to_string(kFormat) + ")");
  }
  if (j.contains("registered") && !j["registered"].is_null()) {
    if (!j["registered"].is_array()) {
      return Malformed("extract state: registered must be a JSON array");
    }
    std::vector<model::TableSpec> records;
    for (const auto& r : j["registered"]) {
      auto rec = model::TableSpecFromJson(r);
      if (!rec.ok()) return Malformed("extract state: registered: " + rec.status().message());
      records.push_back(std::move(rec).value());
    }
    s.registered = std::move(records);
  }
  if (j.contains("tables")) {
    if (!j["tables"].is_object()) return Malformed("extract state: tables must be a JSON object");
    for (const auto& [id, t] : j["tables"].items()) {
      DA_ASSIGN_OR_RETURN(auto ts, TableStateFromJson(id, t));
      s.tables.emplace(id, std::move(ts));
    }
  }
  return s;
}

fs::path ExtractStatePath(const fs::path& source_dir) { return source_dir / "state.json"; }

Result<ExtractState> LoadExtractState(const fs::path& source_dir) {
  const fs::path path = ExtractStatePath(source_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return ExtractState{};
  auto text = ReadFile(path);
  if (!text.ok()) return Unavailable("cannot read extract state '" + path.string() + "'");
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Malformed("extract state '" + path.string() +
                     "' is not valid JSON; fix or delete it (incremental tables then re-read "
                     "from their stored data's largest value)");
  }
  auto state = ExtractStateFromJson(j);
  if (!state.ok()) {
    return Malformed("extract state '" + path.string() + "': " + state.status().message());
  }
  return state;
}

Status UpdateExtractState(const fs::path& source_dir,
                          const std::function<void(ExtractState&)>& mutate) {
  DA_RETURN_IF_ERROR(EnsureDir(source_dir));
  DA_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(source_dir / ".state.lock", true));
  // Temp files of a writer killed between write and rename (WriteFileAtomic's naming).
  DA_ASSIGN_OR_RETURN(auto files, ListFiles(source_dir));
  for (const auto& f : files) {
    if (f.filename().string().starts_with("state.json.tmp-")) (void)RemovePath(f);
  }
  DA_ASSIGN_OR_RETURN(ExtractState state, LoadExtractState(source_dir));
  mutate(state);
  return WriteFileAtomic(ExtractStatePath(source_dir), ExtractStateToJson(state).dump(2) + "\n");
}

}  // namespace da::kit
