#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <utility>

#include "common/memory_size.h"

namespace da {
namespace {
std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

Result<int64_t> ParseInt(const std::string& what, const std::string& text) {
  try {
    size_t used = 0;
    int64_t v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    return InvalidArgument(what + " must be an integer, got '" + text + "'");
  }
}

/// The query limits from `lookup(key)` → (origin for messages, text), keys as in instance.yaml's
/// `query:` block.
template <class Lookup>
Status ApplyQueryLimits(const Lookup& lookup, InstanceConfig& cfg) {
  for (auto [key, field] : {std::pair{"memory_limit", &cfg.query_memory_limit_bytes},
                            std::pair{"temp_limit", &cfg.query_temp_limit_bytes},
                            std::pair{"max_answer_bytes", &cfg.query_max_answer_bytes}}) {
    if (auto v = lookup(key)) {
      DA_ASSIGN_OR_RETURN(*field, ParseMemorySize(v->first, v->second));
    }
  }
  for (auto [key, field] : {std::pair{"threads", &cfg.query_threads},
                            std::pair{"concurrency", &cfg.query_concurrency}}) {
    if (auto v = lookup(key)) {
      DA_ASSIGN_OR_RETURN(*field, ParseInt(v->first, v->second));
      if (*field < 1 || *field > 1024) {
        return InvalidArgument(v->first + " must be between 1 and 1024, got '" + v->second + "'");
      }
    }
  }
  return Status::Ok();
}

Status ApplyFile(const std::filesystem::path& file, InstanceConfig& cfg) {
  try {
    YAML::Node root = YAML::LoadFile(file.string());
    if (!root || root.IsNull()) return Status::Ok();
    if (!root.IsMap()) return InvalidArgument(file.string() + ": top level must be a mapping");
    if (auto server = root["server"]) {
      if (server["host"]) cfg.host = server["host"].as<std::string>();
      if (server["port"]) cfg.port = server["port"].as<int>();
    }
    if (root["data_dir"]) cfg.data_dir = root["data_dir"].as<std::string>();
    if (auto health = root["health"]) {
      if (health["stale_after_hours"]) cfg.stale_after_hours = health["stale_after_hours"].as<double>();
    }
    if (root["log_level"]) cfg.log_level = root["log_level"].as<std::string>();
    if (auto query = root["query"]) {
      if (query["timeout_sec"]) cfg.query_timeout_sec = query["timeout_sec"].as<int64_t>();
      DA_RETURN_IF_ERROR(ApplyQueryLimits(
          [&query, &file](const char* key) -> std::optional<std::pair<std::string, std::string>> {
            if (!query[key]) return std::nullopt;
            return std::make_pair(file.string() + ": query." + key, query[key].as<std::string>());
          },
          cfg));
    }
    if (auto sync = root["sync"]) {
      if (sync["extract_timeout_sec"]) cfg.extract_timeout_sec = sync["extract_timeout_sec"].as<int64_t>();
      if (sync["extract_memory_limit"]) {
        DA_ASSIGN_OR_RETURN(cfg.extract_memory_limit_bytes,
                            ParseMemorySize(file.string() + ": sync.extract_memory_limit",
                                            sync["extract_memory_limit"].as<std::string>()));
      }
      if (sync["scheduler_tick_sec"]) cfg.scheduler_tick_sec = sync["scheduler_tick_sec"].as<int64_t>();
    }
    if (auto sources = root["sources"]) {
      for (const auto& src : sources) {
        auto& dst = cfg.sources[src.first.as<std::string>()];
        for (const auto& kv : src.second) dst[kv.first.as<std::string>()] = kv.second.as<std::string>();
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file.string() + ": " + e.what());
  }
  return Status::Ok();
}
}  // namespace

int64_t InstanceConfig::ExtractMemoryLimitBytes() const {
  return extract_memory_limit_bytes > 0 ? extract_memory_limit_bytes : DefaultExtractMemoryLimitBytes();
}

Result<InstanceConfig> LoadConfig(const ConfigOverrides& overrides) {
  InstanceConfig cfg;
  std::optional<std::string> file = overrides.config_file;
  if (!file) file = Env("DA_CONFIG");
  if (file) {
    if (!std::filesystem::exists(*file)) return InvalidArgument("config file '" + *file + "' not found");
    DA_RETURN_IF_ERROR(ApplyFile(*file, cfg));
  } else if (std::filesystem::exists("config/instance.yaml")) {
    DA_RETURN_IF_ERROR(ApplyFile("config/instance.yaml", cfg));
  }
  if (auto v = Env("DA_HOST")) cfg.host = *v;
  if (auto v = Env("DA_PORT")) {
    DA_ASSIGN_OR_RETURN(int64_t p, ParseInt("DA_PORT", *v));
    cfg.port = static_cast<int>(p);
  }
  if (auto v = Env("DA_DATA_DIR")) cfg.data_dir = *v;
  if (auto v = Env("DA_LOG_LEVEL")) cfg.log_level = *v;
  if (auto v = Env("DA_EXTRACT_TIMEOUT_SEC")) {
    DA_ASSIGN_OR_RETURN(cfg.extract_timeout_sec, ParseInt("DA_EXTRACT_TIMEOUT_SEC", *v));
  }
  if (auto v = Env("DA_EXTRACT_MEMORY_LIMIT")) {
    DA_ASSIGN_OR_RETURN(cfg.extract_memory_limit_bytes, ParseMemorySize("DA_EXTRACT_MEMORY_LIMIT", *v));
  }
  if (auto v = Env("DA_SCHEDULER_TICK_SEC")) {
    DA_ASSIGN_OR_RETURN(cfg.scheduler_tick_sec, ParseInt("DA_SCHEDULER_TICK_SEC", *v));
  }
  if (cfg.scheduler_tick_sec < 0) {
    return InvalidArgument("scheduler_tick_sec must be 0 (off) or positive, got " +
                           std::to_string(cfg.scheduler_tick_sec));
  }
  if (auto v = Env("DA_QUERY_TIMEOUT_SEC")) {
    DA_ASSIGN_OR_RETURN(cfg.query_timeout_sec, ParseInt("DA_QUERY_TIMEOUT_SEC", *v));
  }
  DA_RETURN_IF_ERROR(ApplyQueryLimits(
      [](const char* key) -> std::optional<std::pair<std::string, std::string>> {
        std::string name = "DA_QUERY_" + std::string(key);
        for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (auto v = Env(name.c_str())) return std::make_pair(name, *v);
        return std::nullopt;
      },
      cfg));
  if (auto v = Env("DA_STALE_AFTER_HOURS")) {
    char* end = nullptr;
    double hours = std::strtod(v->c_str(), &end);
    if (end == v->c_str() || *end != '\0') {
      return InvalidArgument("DA_STALE_AFTER_HOURS must be a number, got '" + *v + "'");
    }
    cfg.stale_after_hours = hours;
  }
  if (!(cfg.stale_after_hours >= 0)) {
    return InvalidArgument("stale_after_hours must be >= 0, got " +
                           std::to_string(cfg.stale_after_hours));
  }
  if (overrides.host) cfg.host = *overrides.host;
  if (overrides.port) cfg.port = *overrides.port;
  if (overrides.data_dir) cfg.data_dir = *overrides.data_dir;
  if (overrides.log_level) cfg.log_level = *overrides.log_level;
  if (overrides.extract_memory_limit) {
    DA_ASSIGN_OR_RETURN(cfg.extract_memory_limit_bytes,
                        ParseMemorySize("--memory-limit", *overrides.extract_memory_limit));
  }
  if (cfg.port < 0 || cfg.port > 65535) return InvalidArgument("port out of range: " + std::to_string(cfg.port));
  std::error_code ec;
  auto abs = std::filesystem::absolute(cfg.data_dir, ec);
  if (!ec) cfg.data_dir = abs.lexically_normal();
  // The files connector reads only inside its roots (docs/security.md): the environment wins
  // over instance.yaml, and the default is <data_dir>/files.
  auto& files = cfg.sources["files"];
  if (auto v = Env("DA_FILES_ROOTS")) {
    files["roots"] = *v;
  } else if (files.find("roots") == files.end() || files["roots"].empty()) {
    files["roots"] = (cfg.data_dir / "files").string();
  }
  return cfg;
}

}  // namespace da
