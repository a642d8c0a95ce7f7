#pragma once
/// The analyst CLI's own configuration: which server to talk to and with which token.
///
/// File: `<dir>/config.json` = `{"server": "<url>", "token": "<token>"}`, written atomically with
/// mode 0600 (it holds a secret). `<dir>` is `$DA_CONFIG_DIR` if set, else `$XDG_CONFIG_HOME/da`,
/// else `$HOME/.config/da`. Precedence when loading: `DA_SERVER` / `DA_TOKEN` environment
/// variables > the file > defaults (server `http://127.0.0.1:8000`, no token).
#include <filesystem>
#include <string>

#include "common/status.h"

namespace da::client {

inline constexpr const char* kDefaultServerUrl = "http://127.0.0.1:8000";

struct ClientConfig {
  std::string server = kDefaultServerUrl;  ///< base URL, no trailing '/'
  std::string token;                       ///< "" when not logged in
};

/// The configuration directory (see the file comment); internal error when neither
/// DA_CONFIG_DIR, XDG_CONFIG_HOME nor HOME is set.
Result<std::filesystem::path> ClientConfigDir();
/// `ClientConfigDir() / "config.json"`.
Result<std::filesystem::path> ClientConfigPath();

/// Loads file + environment. A missing file is not an error (defaults apply); a file that is
/// not a JSON object with string fields → malformed naming the path.
Result<ClientConfig> LoadClientConfig();

/// Reads only the file (no environment); missing → defaults. Errors as LoadClientConfig.
Result<ClientConfig> LoadClientConfigFile(const std::filesystem::path& path);

/// Writes `config` to ClientConfigPath() atomically with mode 0600, creating the directory
/// (mode 0700) when needed. Returns the path written.
Result<std::filesystem::path> SaveClientConfig(const ClientConfig& config);

}  // namespace da::client
