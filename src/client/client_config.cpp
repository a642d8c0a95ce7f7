#include "client/client_config.h"

#include <sys/stat.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/fs_util.h"

namespace da::client {
namespace {

const char* NonEmptyEnv(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && v[0] != '\0') ? v : nullptr;
}

std::string StripTrailingSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Result<std::filesystem::path> ClientConfigDir() {
  if (const char* dir = NonEmptyEnv("DA_CONFIG_DIR")) return std::filesystem::path(dir);
  if (const char* xdg = NonEmptyEnv("XDG_CONFIG_HOME")) return std::filesystem::path(xdg) / "da";
  if (const char* home = NonEmptyEnv("HOME")) {
    return std::filesystem::path(home) / ".config" / "da";
  }
  return Internal("cannot locate the config directory: set DA_CONFIG_DIR or HOME");
}

Result<std::filesystem::path> ClientConfigPath() {
  DA_ASSIGN_OR_RETURN(auto dir, ClientConfigDir());
  return dir / "config.json";
}

Result<ClientConfig> LoadClientConfigFile(const std::filesystem::path& path) {
  ClientConfig config;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return config;
  DA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) return Malformed("'" + path.string() + "' is not a JSON object");
    if (j.contains("server")) {
      if (!j["server"].is_string()) return Malformed("'" + path.string() + "': server must be a string");
      std::string server = StripTrailingSlashes(j["server"].get<std::string>());
      if (!server.empty()) config.server = server;
    }
    if (j.contains("token")) {
      if (!j["token"].is_string()) return Malformed("'" + path.string() + "': token must be a string");
      config.token = j["token"].get<std::string>();
    }
  } catch (const nlohmann::json::exception& e) {
    return Malformed("'" + path.string() + "' is not valid JSON: " + e.what());
  }
  return config;
}

Result<ClientConfig> LoadClientConfig() {
  DA_ASSIGN_OR_RETURN(auto path, ClientConfigPath());
  DA_ASSIGN_OR_RETURN(ClientConfig config, LoadClientConfigFile(path));
  if (const char* server = NonEmptyEnv("DA_SERVER")) config.server = StripTrailingSlashes(server);
  if (const char* token = NonEmptyEnv("DA_TOKEN")) config.token = token;
  return config;
}

Result<std::filesystem::path> SaveClientConfig(const ClientConfig& config) {
  DA_ASSIGN_OR_RETURN(auto dir, ClientConfigDir());
  std::error_code ec;
  bool existed = std::filesystem::exists(dir, ec);
  DA_RETURN_IF_ERROR(EnsureDir(dir));
  if (!existed) ::chmod(dir.c_str(), 0700);
  nlohmann::json j = {{"server", StripTrailingSlashes(config.server)}, {"token", config.token}};
  auto path = dir / "config.json";
  DA_RETURN_IF_ERROR(WriteFileAtomic(path, j.dump(2) + "\n", 0600));
  return path;
}

}  // namespace da::client
