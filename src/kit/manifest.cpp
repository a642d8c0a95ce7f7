#include "kit/manifest.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <system_error>

#include "common/fs_util.h"
#include "common/process_spawn.h"
#include "common/identifiers.h"

namespace da::kit {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxManifestBytes = 1 << 20;

/// Collects the location prefix `<origin>: <field>: ` for errors.
class Checker {
 public:
  explicit Checker(std::string origin) : origin_(std::move(origin)) {}

  Status Error(const std::string& field, const std::string& problem) const {
    return InvalidArgument(origin_ + ": " + field + ": " + problem);
  }

  /// Errors on keys of `node` (a map) outside `allowed`.
  Status OnlyKeys(const YAML::Node& node, const std::string& field,
                  const std::set<std::string>& allowed) const {
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return Error(field.empty() ? PrintableForMessage(key) : field + "." + PrintableForMessage(key),
                     "unknown key (expected one of: " + list + ")");
      }
    }
    return Status::Ok();
  }

  Result<std::string> String(const YAML::Node& node, const std::string& field, bool required) const {
    if (!node || node.IsNull()) {
      if (required) return Error(field, "is required");
      return std::string();
    }
    if (!node.IsScalar()) return Error(field, "must be a string, got " + KindName(node));
    return node.Scalar();
  }

  Result<bool> Bool(const YAML::Node& node, const std::string& field, bool fallback) const {
    if (!node || node.IsNull()) return fallback;
    bool v = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v)) {
      return Error(field, "must be true or false, got " + Shown(node));
    }
    return v;
  }

  Result<int64_t> Int(const YAML::Node& node, const std::string& field, int64_t min,
                      int64_t max) const {
    if (!node.IsScalar()) return Error(field, "must be an integer, got " + KindName(node));
    const std::string& s = node.Scalar();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size() || errno != 0) {
      return Error(field, "must be an integer, got " + Shown(node));
    }
    if (v < min || v > max) {
      return Error(field, "must be between " + std::to_string(min) + " and " +
                              std::to_string(max) + ", got " + s);
    }
    return static_cast<int64_t>(v);
  }

  Result<std::vector<std::string>> StringList(const YAML::Node& node, const std::string& field) const {
    if (!node.IsSequence()) return Error(field, "must be a list, got " + KindName(node));
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item = field + "[" + std::to_string(i) + "]";
      if (!node[i].IsScalar()) return Error(item, "must be a string, got " + KindName(node[i]));
      out.push_back(node[i].Scalar());
    }
    return out;
  }

  static std::string KindName(const YAML::Node& n) {
    if (!n || n.IsNull()) return "nothing";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    return "'" + PrintableForMessage(n.Scalar(), 60) + "'";
  }
  static std::string Shown(const YAML::Node& n) { return KindName(n); }

 private:
  std::string origin_;
};

bool IsEnvVarName(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  if (!(std::isupper(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isupper(u) || std::isdigit(u) || c == '_')) return false;
  }
  return true;
}

bool IsSemver(std::string_view s) {
  size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
    if (part < 2) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  if (i == s.size()) return true;
  if (s[i] != '-' && s[i] != '+') return false;
  if (i + 1 == s.size()) return false;
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+')) {
      return false;
    }
  }
  return true;
}

bool HasControlCharacters(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

/// Characters a command path may not contain: everything a shell would interpret, plus
/// whitespace (a path with a space is almost always "program plus argument" pasted as one).
bool IsUnsafePathChar(char c) {
  static constexpr std::string_view kUnsafe = ";&|$`<>\\\"'*?[]{}()!#~ \t";
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f || kUnsafe.find(c) != std::string_view::npos;
}

Result<std::vector<std::string>> CheckCommand(const Checker& check, const YAML::Node& node,
                                              const std::string& field,
                                              const ManifestCheckOptions& options) {
  DA_ASSIGN_OR_RETURN(auto argv, check.StringList(node, field));
  if (argv.empty()) return check.Error(field, "must name a program: [\"/path/to/tap\", ...]");
  const std::string& program = argv[0];
  for (char c : program) {
    if (IsUnsafePathChar(c)) {
      return check.Error(field + "[0]",
                         "program path '" + PrintableForMessage(program) +
                             "' contains shell metacharacters or whitespace; commands run "
                             "without a shell: give the program path alone and each argument "
                             "as its own list item");
    }
  }
  if (program.empty() || program[0] != '/') {
    return check.Error(field + "[0]", "program path '" + PrintableForMessage(program) +
                                          "' must be absolute");
  }
  if (fs::path(program).lexically_normal().string() != program) {
    return check.Error(field + "[0]", "program path '" + PrintableForMessage(program) +
                                          "' must be normalized (no '.', '..' or '//')");
  }
  for (size_t i = 1; i < argv.size(); ++i) {
    if (HasShellMetacharacters(argv[i])) {
      return check.Error(field + "[" + std::to_string(i) + "]",
                         "argument '" + PrintableForMessage(argv[i]) +
                             "' contains shell metacharacters (;&|$`<> or control characters); "
                             "commands run without a shell");
    }
  }
  if (options.check_executables) {
    std::error_code ec;
    if (!fs::is_regular_file(program, ec)) {
      return check.Error(field + "[0]", "program '" + program + "' does not exist or is not a file");
    }
    if (::access(program.c_str(), X_OK) != 0) {
      return check.Error(field + "[0]", "program '" + program + "' is not executable");
    }
  }
  return argv;
}

Status CheckValueType(const Checker& check, const std::string& field, ConfigFieldType type,
                      const std::string& value) {
  switch (type) {
    case ConfigFieldType::kInteger: {
      char* end = nullptr;
      errno = 0;
      (void)std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || end != value.c_str() + value.size() || errno != 0) {
        return check.Error(field, "must be an integer");
      }
      return Status::Ok();
    }
    case ConfigFieldType::kBoolean:
      if (value != "true" && value != "false") return check.Error(field, "must be true or false");
      return Status::Ok();
    case ConfigFieldType::kPath:
      if (value.empty() || HasControlCharacters(value)) {
        return check.Error(field, "must be a non-empty path without control characters");
      }
      return Status::Ok();
    case ConfigFieldType::kString:
      return Status::Ok();
  }
  return Status::Ok();
}

/// YAML booleans are spelled many ways (yes, True, on); config values are normalized to
/// "true"/"false" so a tap sees one spelling.
std::string NormalizeBool(const std::string& v) {
  bool b = false;
  if (YAML::convert<bool>::decode(YAML::Node(v), b)) return b ? "true" : "false";
  return v;
}

Result<std::vector<ConfigField>> ParseConfig(const Checker& check, const YAML::Node& node) {
  std::vector<ConfigField> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) return check.Error("config", "must be a mapping of field name to spec");
  for (const auto& kv : node) {
    ConfigField f;
    f.name = kv.first.IsScalar() ? kv.first.Scalar() : "";
    const std::string field = "config." + PrintableForMessage(f.name);
    if (!IsStrictIdentifier(f.name)) {
      return check.Error(field, "field names must match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$");
    }
    const YAML::Node& spec = kv.second;
    if (!spec.IsMap()) return check.Error(field, "must be a mapping {type, required, description}");
    DA_RETURN_IF_ERROR(check.OnlyKeys(
        spec, field, {"type", "required", "description", "default", "format", "env"}));
    DA_ASSIGN_OR_RETURN(std::string type, check.String(spec["type"], field + ".type", true));
    if (type == "string") {
      f.type = ConfigFieldType::kString;
    } else if (type == "integer") {
      f.type = ConfigFieldType::kInteger;
    } else if (type == "boolean") {
      f.type = ConfigFieldType::kBoolean;
    } else if (type == "path") {
      f.type = ConfigFieldType::kPath;
    } else {
      return check.Error(field + ".type", "unknown type '" + PrintableForMessage(type) +
                                              "' (expected string, integer, boolean or path)");
    }
    DA_ASSIGN_OR_RETURN(f.required, check.Bool(spec["required"], field + ".required", false));
    DA_ASSIGN_OR_RETURN(f.description, check.String(spec["description"], field + ".description", false));
    DA_ASSIGN_OR_RETURN(f.format, check.String(spec["format"], field + ".format", false));
    DA_ASSIGN_OR_RETURN(f.env, check.String(spec["env"], field + ".env", false));
    if (!f.env.empty() && !IsEnvVarName(f.env)) {
      return check.Error(field + ".env", "'" + PrintableForMessage(f.env) +
                                             "' is not an environment variable name "
                                             "(^[A-Z_][A-Z0-9_]*$)");
    }
    if (spec["default"] && !spec["default"].IsNull()) {
      if (!spec["default"].IsScalar()) {
        return check.Error(field + ".default", "must be a scalar value");
      }
      std::string v = spec["default"].Scalar();
      if (f.type == ConfigFieldType::kBoolean) v = NormalizeBool(v);
      DA_RETURN_IF_ERROR(CheckValueType(check, field + ".default", f.type, v));
      f.default_value = v;
    }
    out.push_back(std::move(f));
  }
  return out;
}

Result<HealthCheck> ParseHealthCheck(const Checker& check, const YAML::Node& node,
                                     const ManifestCheckOptions& options) {
  if (!node.IsMap()) return check.Error("health_check", "must be a mapping");
  DA_RETURN_IF_ERROR(check.OnlyKeys(node, "health_check",
                                    {"command", "endpoint", "method", "headers", "expect_status",
                                     "timeout_seconds"}));
  HealthCheck hc;
  const bool has_command = node["command"] && !node["command"].IsNull();
  const bool has_endpoint = node["endpoint"] && !node["endpoint"].IsNull();
  if (has_command == has_endpoint) {
    return check.Error("health_check", "needs exactly one of command or endpoint");
  }
  if (has_command) {
    DA_ASSIGN_OR_RETURN(hc.command, CheckCommand(check, node["command"], "health_check.command", options));
  } else {
    DA_ASSIGN_OR_RETURN(hc.endpoint, check.String(node["endpoint"], "health_check.endpoint", true));
    if (!hc.endpoint.starts_with("http://") && !hc.endpoint.starts_with("https://") &&
        !hc.endpoint.starts_with("${")) {
      return check.Error("health_check.endpoint", "must be an http:// or https:// URL");
    }
    if (HasControlCharacters(hc.endpoint)) {
      return check.Error("health_check.endpoint", "contains control characters");
    }
  }
  if (node["method"]) {
    DA_ASSIGN_OR_RETURN(hc.method, check.String(node["method"], "health_check.method", true));
    if (hc.method != "GET" && hc.method != "HEAD") {
      return check.Error("health_check.method", "must be GET or HEAD");
    }
  }
  if (const YAML::Node& headers = node["headers"]; headers && !headers.IsNull()) {
    if (!headers.IsMap()) return check.Error("health_check.headers", "must be a mapping");
    for (const auto& kv : headers) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      const std::string field = "health_check.headers." + PrintableForMessage(key);
      if (key.empty() || HasControlCharacters(key) || key.find(':') != std::string::npos) {
        return check.Error(field, "is not a valid header name");
      }
      DA_ASSIGN_OR_RETURN(std::string value, check.String(kv.second, field, true));
      if (HasControlCharacters(value)) return check.Error(field, "contains control characters");
      hc.headers[key] = value;
    }
  }
  if (node["expect_status"]) {
    DA_ASSIGN_OR_RETURN(int64_t s, check.Int(node["expect_status"], "health_check.expect_status", 100, 599));
    hc.expect_status = static_cast<int>(s);
  }
  if (node["timeout_seconds"]) {
    DA_ASSIGN_OR_RETURN(hc.timeout_seconds,
                        check.Int(node["timeout_seconds"], "health_check.timeout_seconds", 1, 3600));
  }
  return hc;
}

Status ParseAuth(const Checker& check, const YAML::Node& node, Manifest& m) {
  if (!node || node.IsNull()) return Status::Ok();
  if (!node.IsMap()) return check.Error("auth", "must be a mapping {type, env_vars}");
  DA_RETURN_IF_ERROR(check.OnlyKeys(node, "auth", {"type", "env_vars"}));
  DA_ASSIGN_OR_RETURN(std::string type, check.String(node["type"], "auth.type", false));
  if (!type.empty()) {
    static const std::set<std::string> kTypes = {"token", "oauth", "basic", "service_account", "none"};
    if (!kTypes.count(type)) {
      return check.Error("auth.type", "unknown type '" + PrintableForMessage(type) +
                                          "' (expected token, oauth, basic, service_account or none)");
    }
    m.auth_type = type;
  }
  const YAML::Node& vars = node["env_vars"];
  if (!vars || vars.IsNull()) return Status::Ok();
  if (!vars.IsSequence()) return check.Error("auth.env_vars", "must be a list");
  std::set<std::string> seen;
  for (size_t i = 0; i < vars.size(); ++i) {
    const std::string field = "auth.env_vars[" + std::to_string(i) + "]";
    const YAML::Node& v = vars[i];
    AuthEnvVar e;
    if (v.IsScalar()) {
      e.name = v.Scalar();
    } else if (v.IsMap()) {
      DA_RETURN_IF_ERROR(check.OnlyKeys(v, field, {"name", "required", "description", "config_key"}));
      DA_ASSIGN_OR_RETURN(e.name, check.String(v["name"], field + ".name", true));
      DA_ASSIGN_OR_RETURN(e.required, check.Bool(v["required"], field + ".required", false));
      DA_ASSIGN_OR_RETURN(e.description, check.String(v["description"], field + ".description", false));
      DA_ASSIGN_OR_RETURN(e.config_key, check.String(v["config_key"], field + ".config_key", false));
      if (!e.config_key.empty() && !IsStrictIdentifier(e.config_key)) {
        return check.Error(field + ".config_key", "must match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$");
      }
    } else {
      return check.Error(field, "must be a mapping {name, required, description}");
    }
    // The value of a credential must never land in a manifest: the name is checked to look
    // like an environment variable, which no token does.
    if (!IsEnvVarName(e.name)) {
      return check.Error(field + ".name", "'" + PrintableForMessage(e.name, 20) +
                                              "' is not an environment variable name "
                                              "(^[A-Z_][A-Z0-9_]*$, at most 100 characters); "
                                              "name the variable, never paste the secret");
    }
    if (!seen.insert(e.name).second) return check.Error(field + ".name", "'" + e.name + "' is listed twice");
    m.env_vars.push_back(std::move(e));
  }
  return Status::Ok();
}

}  // namespace

std::string_view ConfigFieldTypeName(ConfigFieldType t) {
  switch (t) {
    case ConfigFieldType::kString:
      return "string";
    case ConfigFieldType::kInteger:
      return "integer";
    case ConfigFieldType::kBoolean:
      return "boolean";
    case ConfigFieldType::kPath:
      return "path";
  }
  return "string";
}

bool HasShellMetacharacters(std::string_view arg) {
  static constexpr std::string_view kMeta = ";&|$`<>";
  for (char c : arg) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || kMeta.find(c) != std::string_view::npos) return true;
  }
  return false;
}

Result<Manifest> ParseManifest(std::string_view yaml_text, const std::string& origin,
                               const ManifestCheckOptions& options) {
  const Checker check(origin);
  if (yaml_text.size() > kMaxManifestBytes) {
    return InvalidArgument(origin + ": manifest is larger than 1 MiB");
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": not valid YAML: " + e.what());
  }
  if (!root || !root.IsMap()) return InvalidArgument(origin + ": the top level must be a mapping");
  Manifest m;
  try {
    DA_RETURN_IF_ERROR(check.OnlyKeys(root, "",
                                      {"name", "version", "description", "capabilities",
                                       "entrypoint", "command", "timeout_seconds", "auth",
                                       "config", "health_check", "table"}));
    DA_ASSIGN_OR_RETURN(m.name, check.String(root["name"], "name", true));
    if (!IsStrictIdentifier(m.name)) {
      return check.Error("name", "'" + PrintableForMessage(m.name) +
                                     "' is not a strict identifier (^[a-zA-Z_][a-zA-Z0-9_]{0,63}$)");
    }
    DA_ASSIGN_OR_RETURN(m.version, check.String(root["version"], "version", true));
    if (!IsSemver(m.version)) {
      return check.Error("version", "'" + PrintableForMessage(m.version) +
                                        "' is not a semantic version (MAJOR.MINOR.PATCH, e.g. \"1.0.0\")");
    }
    DA_ASSIGN_OR_RETURN(m.description, check.String(root["description"], "description", true));
    if (m.description.empty()) return check.Error("description", "must not be empty");

    if (!root["capabilities"] || root["capabilities"].IsNull()) {
      return check.Error("capabilities", "is required (a list such as [discover, read])");
    }
    DA_ASSIGN_OR_RETURN(auto caps, check.StringList(root["capabilities"], "capabilities"));
    if (caps.empty()) return check.Error("capabilities", "must name at least one capability");
    for (size_t i = 0; i < caps.size(); ++i) {
      auto c = CapabilityFromName(caps[i]);
      if (!c.ok()) return check.Error("capabilities[" + std::to_string(i) + "]", c.status().message());
      m.capabilities = m.capabilities | *c;
    }

    const bool has_entrypoint = root["entrypoint"] && !root["entrypoint"].IsNull();
    const bool has_command = root["command"] && !root["command"].IsNull();
    if (has_entrypoint == has_command) {
      return check.Error(has_entrypoint ? "entrypoint" : "command",
                         has_entrypoint ? "give either entrypoint (a built-in connector) or command "
                                          "(a Singer tap), not both"
                                        : "is required: give entrypoint (a built-in connector) or "
                                          "command (a Singer tap)");
    }
    if (has_entrypoint) {
      DA_ASSIGN_OR_RETURN(m.entrypoint, check.String(root["entrypoint"], "entrypoint", true));
      if (!IsStrictIdentifier(m.entrypoint)) {
        return check.Error("entrypoint", "'" + PrintableForMessage(m.entrypoint) +
                                             "' is not a built-in connector name");
      }
    } else {
      DA_ASSIGN_OR_RETURN(m.command, CheckCommand(check, root["command"], "command", options));
    }
    if (root["timeout_seconds"]) {
      DA_ASSIGN_OR_RETURN(int64_t t, check.Int(root["timeout_seconds"], "timeout_seconds", 1, 7 * 86400));
      m.timeout_seconds = t;
    }
    DA_RETURN_IF_ERROR(ParseAuth(check, root["auth"], m));
    DA_ASSIGN_OR_RETURN(m.config, ParseConfig(check, root["config"]));
    for (const auto& e : m.env_vars) {
      if (e.config_key.empty()) continue;
      for (const auto& f : m.config) {
        if (f.name == e.config_key) {
          return check.Error("auth.env_vars." + e.name + ".config_key",
                             "'" + e.config_key + "' is also a config field");
        }
      }
    }
    if (root["health_check"] && !root["health_check"].IsNull()) {
      DA_ASSIGN_OR_RETURN(m.health_check, ParseHealthCheck(check, root["health_check"], options));
    }
    if (const YAML::Node& table = root["table"]; table && !table.IsNull()) {
      if (!table.IsMap()) return check.Error("table", "must be a mapping {source_table: {...}}");
      DA_RETURN_IF_ERROR(check.OnlyKeys(table, "table", {"source_table"}));
      if (const YAML::Node& st = table["source_table"]; st && !st.IsNull()) {
        if (!st.IsMap()) return check.Error("table.source_table", "must be a mapping");
        DA_RETURN_IF_ERROR(check.OnlyKeys(st, "table.source_table", {"type", "required", "description"}));
        DA_ASSIGN_OR_RETURN(m.source_table_description,
                            check.String(st["description"], "table.source_table.description", false));
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": " + e.what());
  }
  return m;
}

Result<Manifest> LoadManifest(const fs::path& file, const ManifestCheckOptions& options) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return NotFound("manifest '" + file.string() + "' not found");
  auto size = fs::file_size(file, ec);
  if (!ec && size > kMaxManifestBytes) {
    return InvalidArgument(file.string() + ": manifest is larger than 1 MiB");
  }
  DA_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  DA_ASSIGN_OR_RETURN(Manifest m, ParseManifest(text, file.string(), options));
  m.file = fs::absolute(file, ec).lexically_normal();
  if (ec) m.file = file;
  return m;
}

Result<ConnectorConfig> ResolveConfig(const Manifest& manifest, const ConnectorConfig& source_config) {
  const Checker check(manifest.file.empty() ? "connector '" + manifest.name + "'"
                                            : manifest.file.string());
  ConnectorConfig out = source_config;
  for (const auto& f : manifest.config) {
    std::optional<std::string> value;
    if (auto it = source_config.find(f.name); it != source_config.end()) {
      value = it->second;
    } else if (!f.env.empty()) {
      if (const char* v = std::getenv(f.env.c_str()); v != nullptr && *v != '\0') value = v;
    }
    if (!value && f.default_value) value = f.default_value;
    if (!value) {
      if (f.required) {
        return check.Error("config." + f.name,
                           "is required: set sources." + manifest.name + "." + f.name +
                               " in instance.yaml" +
                               (f.env.empty() ? std::string() : " or the environment variable " + f.env));
      }
      out.erase(f.name);
      continue;
    }
    if (f.type == ConfigFieldType::kBoolean) *value = NormalizeBool(*value);
    DA_RETURN_IF_ERROR(CheckValueType(check, "config." + f.name, f.type, *value));
    out[f.name] = *value;
  }
  return out;
}

std::vector<std::string> MissingAuthEnvVars(const Manifest& manifest) {
  std::vector<std::string> out;
  for (const auto& e : manifest.env_vars) {
    if (!e.required) continue;
    const char* v = std::getenv(e.name.c_str());
    if (v == nullptr || *v == '\0') out.push_back(e.name);
  }
  return out;
}

std::vector<std::string> DeclaredEnvVars(const Manifest& manifest) {
  std::set<std::string> names;
  for (const auto& e : manifest.env_vars) {
    if (!e.name.empty()) names.insert(e.name);
  }
  for (const auto& f : manifest.config) {
    if (!f.env.empty()) names.insert(f.env);
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> ConnectorProgramEnvironment(const Manifest& manifest) {
  std::vector<std::string> out = BaseChildEnvironment();
  for (auto& name : DeclaredEnvVars(manifest)) out.push_back(std::move(name));
  return out;
}

}  // namespace da::kit
