#pragma once
/// The connectors an instance knows: the built-ins compiled into `da` (each with the manifest
/// shipped in `connectors/<name>/connector.yaml`, embedded at build time) and the installed
/// ones, `<connectors dir>/<name>/connector.yaml`, where the connectors dir is
/// `$DA_CONNECTORS_DIR` or `<data_dir>/connectors`.
///
/// An installed manifest names either a built-in (`entrypoint`) — the same code under another
/// source name — or a Singer tap (`command`), run by connectors/singer. Installed names may
/// not shadow a built-in. Manifests are read from disk on every call (they are small), so a
/// newly installed connector is usable without a restart. Thread-safe.
#include <filesystem>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "kit/connector.h"
#include "kit/manifest.h"

namespace da::connectors {

/// `$DA_CONNECTORS_DIR` when set and non-empty, else `<data_dir>/connectors`.
std::filesystem::path InstalledConnectorsDir(const InstanceConfig& config);

/// The validated manifests of the built-in connectors, sorted by name.
const std::vector<kit::Manifest>& BuiltinManifests();

/// One connector known to the instance.
struct ConnectorEntry {
  kit::Manifest manifest;
  bool is_builtin = false;
};

/// Every known connector, and the installed manifests that could not be used.
struct ConnectorListing {
  std::vector<ConnectorEntry> connectors;  ///< built-ins first, then installed; each sorted by name
  std::vector<Status> problems;            ///< one per unusable installed manifest (names the file)
};

/// Lists built-in and installed connectors. A missing connectors dir is no problem.
ConnectorListing ListConnectors(const InstanceConfig& config);

/// The connector called `name`: a built-in, else `<connectors dir>/<name>/connector.yaml`.
/// Errors: invalid_argument for a name that is not a strict identifier or an installed
/// manifest that does not validate (the message names the file, field and problem) or whose
/// name differs from its directory, shadows a built-in, or has an unknown entrypoint;
/// not_found naming the connectors dir when there is no such connector.
Result<ConnectorEntry> FindConnector(const InstanceConfig& config, const std::string& name);

/// True for a built-in or a valid installed connector — the registry's source_type check.
/// The server passes `[config](const std::string& n) { return IsKnownConnector(config, n); }`
/// to state::Registry.
bool IsKnownConnector(const InstanceConfig& config, const std::string& name);

/// A factory for the connector an entry describes: a built-in's own factory, or a Singer
/// connector whose STATE lives in `<extracts>/<name>/singer_state` and whose time limit
/// defaults to `config.extract_timeout_sec`.
Result<kit::ConnectorFactory> MakeFactory(const InstanceConfig& config, const ConnectorEntry& entry);

/// A registry with every built-in plus every valid installed connector (invalid ones are
/// logged and left out). `da extract` builds its runtime on it.
kit::ConnectorRegistry MakeConnectorRegistry(const InstanceConfig& config);

}  // namespace da::connectors
