#pragma once
/// Runs a manifest's `health_check` (Connector Kit spec §4.1): a command that must exit 0, or
/// an HTTP request (net::Transfer) that must answer `expect_status`. Called by `da connector test`
/// before the contract suite.
#include <string>
#include <vector>

#include "common/status.h"
#include "kit/connector.h"
#include "kit/manifest.h"

namespace da::connectors {

/// Runs the check of `manifest` with the resolved per-source `config`. `${name}` in the
/// endpoint and header values is replaced by config[name], else the environment variable
/// `name` when the manifest declares it (kit::DeclaredEnvVars; no other server variable). Ok when healthy (also when the manifest has no check). Errors: invalid_argument
/// for a `${name}` that nothing defines; unavailable when the command exits non-zero (with its
/// last output line), the request fails or answers another status; deadline_exceeded on the
/// check's time limit. Messages show the endpoint template, never expanded values (they may
/// hold credentials).
Status RunHealthCheck(const kit::Manifest& manifest, const kit::ConnectorConfig& config);

/// `text` with every `${name}` replaced as described above; invalid_argument naming the first
/// undefined name. `env_names`, when given, lists the environment variables that may be read
/// (others count as undefined).
Result<std::string> ExpandPlaceholders(const std::string& text, const kit::ConnectorConfig& config,
                                       const std::vector<std::string>* env_names = nullptr);

}  // namespace da::connectors
