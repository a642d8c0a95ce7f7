#include "connectors/catalog.h"

#include <algorithm>
#include <cstdlib>
#include <system_error>
#include <utility>

#include "common/identifiers.h"
#include "common/log.h"
#include "connectors/builtin.h"
#include "connectors/singer/singer_connector.h"

namespace da::connectors {
namespace fs = std::filesystem;

namespace {

/// {name, manifest YAML} of each built-in, generated from connectors/<name>/connector.yaml.
struct EmbeddedManifest {
  const char* name;
  const char* yaml;
};
constexpr EmbeddedManifest kEmbedded[] = {
#include "connectors/builtin_manifests.inc"
};

Result<ConnectorEntry> LoadInstalled(const fs::path& dir, const std::string& name) {
  const fs::path file = dir / name / "connector.yaml";
  DA_ASSIGN_OR_RETURN(kit::Manifest m, kit::LoadManifest(file));
  if (m.name != name) {
    return InvalidArgument(file.string() + ": name: '" + m.name + "' differs from its directory '" +
                           name + "'");
  }
  if (BuiltinConnectors().IsKnown(name)) {
    return InvalidArgument(file.string() + ": name: '" + name +
                           "' is a built-in connector and cannot be redefined");
  }
  if (!m.entrypoint.empty() && !BuiltinConnectors().IsKnown(m.entrypoint)) {
    return InvalidArgument(file.string() + ": entrypoint: '" + m.entrypoint +
                           "' is not a built-in connector");
  }
  return ConnectorEntry{std::move(m), false};
}

}  // namespace

fs::path InstalledConnectorsDir(const InstanceConfig& config) {
  if (const char* v = std::getenv("DA_CONNECTORS_DIR"); v != nullptr && *v != '\0') return v;
  return config.data_dir / "connectors";
}

const std::vector<kit::Manifest>& BuiltinManifests() {
  static const std::vector<kit::Manifest> kManifests = [] {
    std::vector<kit::Manifest> out;
    for (const auto& e : kEmbedded) {
      auto m = kit::ParseManifest(e.yaml, std::string("connectors/") + e.name + "/connector.yaml");
      // The tests check every embedded manifest; a broken one is a build defect.
      if (!m.ok() || m->name != e.name || m->entrypoint != e.name) {
        spdlog::critical("built-in manifest of '{}' is invalid: {}", e.name,
                         m.ok() ? "name/entrypoint mismatch" : m.status().ToString());
        std::abort();
      }
      out.push_back(std::move(*m));
    }
    std::sort(out.begin(), out.end(),
              [](const kit::Manifest& a, const kit::Manifest& b) { return a.name < b.name; });
    return out;
  }();
  return kManifests;
}

ConnectorListing ListConnectors(const InstanceConfig& config) {
  ConnectorListing out;
  for (const auto& m : BuiltinManifests()) out.connectors.push_back({m, true});
  const fs::path dir = InstalledConnectorsDir(config);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<std::string> names;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory()) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (!fs::exists(dir / name / "connector.yaml", ec)) continue;
    if (!IsStrictIdentifier(name)) {
      out.problems.push_back(InvalidArgument((dir / name).string() +
                                             ": the directory name is not a strict identifier"));
      continue;
    }
    auto entry = LoadInstalled(dir, name);
    if (entry.ok()) {
      out.connectors.push_back(std::move(*entry));
    } else {
      out.problems.push_back(entry.status());
    }
  }
  return out;
}

Result<ConnectorEntry> FindConnector(const InstanceConfig& config, const std::string& name) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("connector name", name));
  for (const auto& m : BuiltinManifests()) {
    if (m.name == name) return ConnectorEntry{m, true};
  }
  const fs::path dir = InstalledConnectorsDir(config);
  std::error_code ec;
  if (!fs::exists(dir / name / "connector.yaml", ec)) {
    std::string known;
    for (const auto& m : BuiltinManifests()) known += (known.empty() ? "" : ", ") + m.name;
    return NotFound("unknown connector '" + name + "' (built-in: " + known + "; none installed as " +
                    (dir / name / "connector.yaml").string() + ")");
  }
  return LoadInstalled(dir, name);
}

bool IsKnownConnector(const InstanceConfig& config, const std::string& name) {
  if (BuiltinConnectors().IsKnown(name)) return true;
  auto entry = FindConnector(config, name);
  if (!entry.ok() && entry.status().code() != StatusCode::kNotFound) {
    spdlog::warn("connector '{}' is installed but unusable: {}", PrintableForMessage(name),
                 entry.status().message());
  }
  return entry.ok();
}

Result<kit::ConnectorFactory> MakeFactory(const InstanceConfig& config, const ConnectorEntry& entry) {
  const kit::Manifest& m = entry.manifest;
  if (!m.entrypoint.empty()) {
    const std::string builtin = m.entrypoint;
    if (!BuiltinConnectors().IsKnown(builtin)) {
      return InvalidArgument("entrypoint '" + builtin + "' is not a built-in connector");
    }
    return kit::ConnectorFactory([builtin]() -> std::unique_ptr<kit::Connector> {
      auto c = BuiltinConnectors().Create(builtin);
      return c.ok() ? std::move(*c) : nullptr;
    });
  }
  singer::SingerOptions options;
  options.manifest = m;
  options.state_dir = config.ExtractsDir() / m.name / "singer_state";
  options.default_timeout_ms = config.extract_timeout_sec * 1000;
  return kit::ConnectorFactory([options]() -> std::unique_ptr<kit::Connector> {
    return std::make_unique<singer::SingerConnector>(options);
  });
}

kit::ConnectorRegistry MakeConnectorRegistry(const InstanceConfig& config) {
  kit::ConnectorRegistry registry = BuiltinConnectors();
  ConnectorListing listing = ListConnectors(config);
  for (const auto& p : listing.problems) spdlog::warn("skipping connector: {}", p.message());
  for (const auto& entry : listing.connectors) {
    if (entry.is_builtin) continue;
    auto factory = MakeFactory(config, entry);
    if (!factory.ok()) {
      spdlog::warn("skipping connector {}: {}", entry.manifest.name, factory.status().message());
      continue;
    }
    Status st = registry.Register(entry.manifest.name, std::move(*factory));
    if (!st.ok()) spdlog::warn("skipping connector {}: {}", entry.manifest.name, st.message());
  }
  return registry;
}

}  // namespace da::connectors
