#pragma once
/// Connector manifests: `connectors/<name>/connector.yaml`, parsed and validated.
///
/// Source: shared/reference/seeds/002 (Connector Kit spec §4.1) plus the Singer extension of
/// issue 3: a manifest names EITHER a built-in connector (`entrypoint: files`) OR an external
/// Singer tap (`command: ["/abs/path/tap", "arg", ...]`). The full reference is
/// docs/connectors.md; in short:
///
///   name: hubspot                 # strict identifier; equals the directory name when installed
///   version: "1.0.0"              # semver (MAJOR.MINOR.PATCH[-pre][+build])
///   description: "..."
///   capabilities: [discover, read]
///   entrypoint: files             # XOR command
///   command: ["/opt/taps/tap-hubspot", "--verbose"]
///   timeout_seconds: 600          # optional: time limit of one tap run
///   auth: {type: token, env_vars: [{name: HUBSPOT_TOKEN, required: true, description: "...",
///                                   config_key: api_key}]}
///   config: {start_date: {type: string, required: false, description: "...", default: "2024-01-01",
///            env: HUBSPOT_START_DATE}}
///   health_check: {command: [...]} | {endpoint: "${url}/ping", method: GET, headers: {...},
///                  expect_status: 200, timeout_seconds: 10}
///   table: {source_table: {description: "..."}}   # optional: what source_table holds
///
/// Every validation error is invalid_argument with the message `<file>: <field>: <problem>`,
/// e.g. `/d/connectors/x/connector.yaml: capabilities[1]: unknown capability 'telepathy' ...`.
/// Unknown keys are errors too (a typo must not silently drop a setting).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kit/capabilities.h"
#include "kit/connector.h"

namespace da::kit {

/// Type of one config field. `path` is a string naming a file or directory (no control
/// characters); it is passed on unchanged.
enum class ConfigFieldType { kString, kInteger, kBoolean, kPath };

/// "string" | "integer" | "boolean" | "path".
std::string_view ConfigFieldTypeName(ConfigFieldType t);

/// One entry of the manifest's `config` map.
struct ConfigField {
  std::string name;  ///< the key (strict identifier), also the Singer config.json key
  ConfigFieldType type = ConfigFieldType::kString;
  bool required = false;
  std::string description;
  std::optional<std::string> default_value;  ///< validated against `type`
  std::string format;                        ///< free-form hint ("uri", "date"), not enforced
  std::string env;  ///< env var supplying the value when instance.yaml has none ("" = none)
};

/// One entry of `auth.env_vars`: an environment variable holding a credential. Only its NAME
/// is ever stored or printed.
struct AuthEnvVar {
  std::string name;  ///< `^[A-Z_][A-Z0-9_]*$`, at most 100 characters
  bool required = false;
  std::string description;
  /// When set, the value is also passed to a Singer tap as config.json[config_key].
  std::string config_key;
};

/// `health_check`: either a command (healthy when it exits 0) or an HTTP request (healthy
/// when it answers `expect_status`). `${name}` in endpoint and header values is replaced by
/// the config value or environment variable of that name when the check runs.
struct HealthCheck {
  std::vector<std::string> command;  ///< non-empty for a command check
  std::string endpoint;              ///< non-empty for an HTTP check (http:// or https://)
  std::string method = "GET";        ///< GET | HEAD
  std::map<std::string, std::string> headers;
  int expect_status = 200;
  int64_t timeout_seconds = 10;
};

/// A validated manifest.
struct Manifest {
  std::filesystem::path file;  ///< where it was loaded from ("" when parsed from text)
  std::string name;
  std::string version;
  std::string description;
  Capability capabilities = Capability::kNone;
  std::string entrypoint;            ///< built-in connector name, or ""
  std::vector<std::string> command;  ///< Singer tap argv, or empty
  std::optional<int64_t> timeout_seconds;
  std::string auth_type = "none";  ///< token | oauth | basic | service_account | none
  std::vector<AuthEnvVar> env_vars;
  std::vector<ConfigField> config;  ///< in file order
  std::optional<HealthCheck> health_check;
  std::string source_table_description;  ///< `table.source_table.description`

  /// True for an external (Singer) connector: `command` is set.
  bool is_external() const { return !command.empty(); }
  /// The directory holding the manifest ("" when parsed from text).
  std::filesystem::path dir() const { return file.parent_path(); }
};

/// How strictly command paths are checked.
struct ManifestCheckOptions {
  /// Check that command[0] (and a health-check command) exists and is executable. Off only
  /// for tests that validate shape alone.
  bool check_executables = true;
};

/// Parses and validates manifest YAML. `origin` names the file in error messages.
Result<Manifest> ParseManifest(std::string_view yaml_text, const std::string& origin,
                               const ManifestCheckOptions& options = {});

/// Reads and validates `file`. not_found when it does not exist; invalid_argument naming the
/// file, the field and the problem otherwise.
Result<Manifest> LoadManifest(const std::filesystem::path& file,
                              const ManifestCheckOptions& options = {});

/// True when `arg` contains a character that only means something to a shell
/// (`;&|$\`<>` and control characters) — never accepted in a command, which runs without one.
bool HasShellMetacharacters(std::string_view arg);

/// The effective per-source configuration of a connector: for each manifest config field the
/// instance.yaml value (`source_config`), else its `env` variable, else its default; values
/// are checked against the field type. Keys of `source_config` that the manifest does not
/// declare pass through unchanged (connectors may accept more than they document).
/// Errors: invalid_argument naming the field for a missing required value or a value of the
/// wrong type (the value itself is not repeated when the field may hold a secret).
Result<ConnectorConfig> ResolveConfig(const Manifest& manifest, const ConnectorConfig& source_config);

/// Names of required auth env vars that are unset or empty (never their values).
std::vector<std::string> MissingAuthEnvVars(const Manifest& manifest);

/// Every environment variable the manifest declares (auth.env_vars and the config fields'
/// `env`), sorted and unique: what a connector program is given on top of
/// BaseChildEnvironment() (common/process_spawn.h); nothing else of the server's environment.
std::vector<std::string> DeclaredEnvVars(const Manifest& manifest);

/// BaseChildEnvironment() plus DeclaredEnvVars(manifest): the inherit_only list for a
/// connector program of this manifest.
std::vector<std::string> ConnectorProgramEnvironment(const Manifest& manifest);

}  // namespace da::kit
