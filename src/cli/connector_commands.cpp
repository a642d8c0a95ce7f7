// da connector list | discover <name> | test <name> | new <name> — the connectors an instance
// knows (built-in and installed, connectors/catalog.h), run locally without the server.
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/connector_scaffold.h"
#include "common/config.h"
#include "common/fs_util.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/status.h"
#include "connectors/catalog.h"
#include "connectors/health_check.h"
#include "kit/contract/contract.h"
#include "kit/manifest.h"

namespace da::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using kit::contract::CheckOutcome;
using kit::contract::CheckResult;

/// Flags every connector subcommand takes.
struct CommonArgs {
  std::string data_dir;
  std::string config_file;
  bool as_json = false;
};

void AddCommonOptions(CLI::App* cmd, CommonArgs& args, bool with_json) {
  cmd->add_option("--data-dir", args.data_dir, "Data directory (default from config)");
  cmd->add_option("--config", args.config_file, "instance.yaml to load");
  if (with_json) cmd->add_flag("--json", args.as_json, "Print JSON instead of text");
}

Result<InstanceConfig> LoadInstance(const CommonArgs& args) {
  ConfigOverrides overrides;
  if (!args.data_dir.empty()) overrides.data_dir = args.data_dir;
  if (!args.config_file.empty()) overrides.config_file = args.config_file;
  DA_ASSIGN_OR_RETURN(InstanceConfig config, LoadConfig(overrides));
  InitLogging(config.log_level);
  return config;
}

/// The per-source config of `name` as instance.yaml gives it (connectors resolve defaults
/// and env vars themselves, as during `da extract`).
kit::ConnectorConfig SourceConfig(const InstanceConfig& config, const std::string& name) {
  auto it = config.sources.find(name);
  return it == config.sources.end() ? kit::ConnectorConfig{} : it->second;
}

/// builtin | singer | entrypoint (an installed manifest running a built-in's code).
std::string KindOf(const connectors::ConnectorEntry& e) {
  if (e.is_builtin) return "builtin";
  return e.manifest.is_external() ? "singer" : "entrypoint";
}

std::string Joined(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

/// Prints rows as left-aligned columns two spaces apart (trailing blanks trimmed).
void PrintColumns(const std::vector<std::vector<std::string>>& rows, const std::string& indent = "") {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  for (const auto& r : rows) {
    std::string line = indent;
    for (size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

void PrintJson(const json& j) {
  std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

// ----------------------------------------------------------------------------------- list

Status RunList(const CommonArgs& args) {
  DA_ASSIGN_OR_RETURN(InstanceConfig config, LoadInstance(args));
  const connectors::ConnectorListing listing = connectors::ListConnectors(config);
  for (const auto& p : listing.problems) std::fprintf(stderr, "warning: %s\n", p.message().c_str());
  if (args.as_json) {
    json out = {{"connectors_dir", connectors::InstalledConnectorsDir(config).string()},
                {"connectors", json::array()},
                {"problems", json::array()}};
    for (const auto& e : listing.connectors) {
      out["connectors"].push_back({{"name", e.manifest.name},
                                   {"version", e.manifest.version},
                                   {"kind", KindOf(e)},
                                   {"capabilities", kit::CapabilityNames(e.manifest.capabilities)},
                                   {"description", e.manifest.description},
                                   {"manifest", e.manifest.file.string()}});
    }
    for (const auto& p : listing.problems) out["problems"].push_back(p.message());
    PrintJson(out);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "VERSION", "KIND", "CAPABILITIES", "DESCRIPTION"}};
  for (const auto& e : listing.connectors) {
    rows.push_back({e.manifest.name, e.manifest.version, KindOf(e),
                    Joined(kit::CapabilityNames(e.manifest.capabilities), ","),
                    PrintableForMessage(e.manifest.description, 60)});
  }
  PrintColumns(rows);
  return Status::Ok();
}

// ------------------------------------------------------------------------------- discover

Status RunDiscover(const CommonArgs& args, const std::string& name) {
  DA_ASSIGN_OR_RETURN(InstanceConfig config, LoadInstance(args));
  DA_ASSIGN_OR_RETURN(connectors::ConnectorEntry entry, connectors::FindConnector(config, name));
  if (!kit::HasCapability(entry.manifest.capabilities, kit::Capability::kDiscover)) {
    return FailedPrecondition("connector '" + name + "' cannot discover (capabilities: " +
                              Joined(kit::CapabilityNames(entry.manifest.capabilities), ", ") + ")");
  }
  DA_ASSIGN_OR_RETURN(kit::ConnectorFactory factory, connectors::MakeFactory(config, entry));
  std::unique_ptr<kit::Connector> connector = factory();
  if (!connector) return Internal("connector '" + name + "' could not be created");
  auto tables = connector->Discover(SourceConfig(config, name));
  if (!tables.ok()) return tables.status().WithContext("discover " + name);

  if (args.as_json) {
    json out = {{"connector", name}, {"tables", json::array()}};
    for (const auto& t : *tables) {
      out["tables"].push_back({{"name", t.name},
                               {"source_table", t.source_table},
                               {"description", t.description},
                               {"primary_key", t.primary_key},
                               {"columns", kit::ColumnsToJson(t.columns)}});
    }
    PrintJson(out);
    return Status::Ok();
  }
  for (size_t i = 0; i < tables->size(); ++i) {
    const kit::TableInfo& t = (*tables)[i];
    std::string head = t.name + "  (source_table: " + PrintableForMessage(t.source_table, 200);
    if (!t.primary_key.empty()) head += "; primary key: " + Joined(t.primary_key, ", ");
    head += ")";
    std::printf("%s%s\n", i == 0 ? "" : "\n", head.c_str());
    if (!t.description.empty()) std::printf("  %s\n", PrintableForMessage(t.description, 200).c_str());
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : t.columns) rows.push_back({PrintableForMessage(c.name, 120), c.type});
    PrintColumns(rows, "  ");
  }
  return Status::Ok();
}

// ----------------------------------------------------------------------------------- test

struct TestArgs {
  CommonArgs common;
  std::string name;
  std::vector<std::string> tables;  // NAME=SOURCE_TABLE, for connectors that cannot discover
};

/// A scratch data dir (removed by the destructor): the Singer STATE a test run writes must
/// not touch the instance's real extracts.
class ScratchDir {
 public:
  ScratchDir() {
    std::error_code ec;
    std::string tmpl = (fs::temp_directory_path(ec) / "da-connector-test-XXXXXX").string();
    if (ec) tmpl = "/tmp/da-connector-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    if (!path_.empty()) (void)RemoveTreeIfExists(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

CheckResult RunHealth(const kit::Manifest& manifest, const kit::ConnectorConfig& source_config) {
  CheckResult r{"health_check", CheckOutcome::kFail, "", 0};
  if (!manifest.health_check) {
    r.outcome = CheckOutcome::kSkip;
    r.detail = "the manifest declares no health_check";
    return r;
  }
  auto resolved = kit::ResolveConfig(manifest, source_config);
  if (!resolved.ok()) {
    r.detail = resolved.status().message();
    return r;
  }
  Status st = connectors::RunHealthCheck(manifest, *resolved);
  if (!st.ok()) {
    r.detail = st.ToString();
    return r;
  }
  const kit::HealthCheck& hc = *manifest.health_check;
  r.outcome = CheckOutcome::kPass;
  r.detail = hc.command.empty() ? hc.method + " " + hc.endpoint + " answered " +
                                      std::to_string(hc.expect_status)
                                : hc.command[0] + " exited 0";
  return r;
}

Result<std::vector<model::TableSpec>> ParseTestTables(const std::string& source,
                                                        const std::vector<std::string>& specs) {
  std::vector<model::TableSpec> out;
  for (const auto& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      return InvalidArgument("--table '" + PrintableForMessage(spec) + "' must be NAME=SOURCE_TABLE");
    }
    model::TableSpec t;
    t.id = t.name = spec.substr(0, eq);
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("--table name", t.name));
    t.source_type = source;
    t.source_table = spec.substr(eq + 1);
    out.push_back(std::move(t));
  }
  return out;
}

/// Runs the health check and the contract suite; the exit code is 0 only when no check failed.
Result<int> RunTest(const TestArgs& args) {
  DA_ASSIGN_OR_RETURN(InstanceConfig config, LoadInstance(args.common));
  DA_ASSIGN_OR_RETURN(connectors::ConnectorEntry entry, connectors::FindConnector(config, args.name));
  DA_ASSIGN_OR_RETURN(auto tables, ParseTestTables(args.name, args.tables));
  ScratchDir scratch;
  if (scratch.path().empty()) return Unavailable("cannot create a scratch directory for the test");
  InstanceConfig scratch_config = config;
  scratch_config.data_dir = scratch.path();
  DA_ASSIGN_OR_RETURN(kit::ConnectorFactory factory, connectors::MakeFactory(scratch_config, entry));

  if (tables.empty() &&
      !kit::HasCapability(entry.manifest.capabilities, kit::Capability::kDiscover)) {
    std::fprintf(stderr, "hint: connector %s cannot discover: name the tables to read with "
                 "--table NAME=SOURCE_TABLE\n", args.name.c_str());
  }
  const kit::ConnectorConfig source_config = SourceConfig(config, args.name);
  std::vector<CheckResult> results = {RunHealth(entry.manifest, source_config)};
  kit::contract::ContractTarget target;
  target.source = args.name;
  target.factory = std::move(factory);
  target.config = source_config;
  target.tables = std::move(tables);
  target.manifest = entry.manifest;
  for (auto& r : kit::contract::RunContract(std::move(target))) results.push_back(std::move(r));

  const bool passed = kit::contract::AllPassed(results);
  if (args.common.as_json) {
    json out = {{"connector", args.name}, {"passed", passed}, {"checks", json::array()}};
    for (const auto& r : results) {
      out["checks"].push_back({{"name", r.name},
                               {"outcome", kit::contract::CheckOutcomeName(r.outcome)},
                               {"detail", r.detail},
                               {"duration_ms", r.duration_ms}});
    }
    PrintJson(out);
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : results) {
      rows.push_back({std::string(kit::contract::CheckOutcomeName(r.outcome)), r.name,
                      PrintableForMessage(r.detail, 400)});
    }
    PrintColumns(rows);
  }
  size_t failed = 0;
  for (const auto& r : results) failed += r.outcome == CheckOutcome::kFail;
  if (failed > 0) {
    std::fprintf(stderr, "error: connector %s failed %zu of %zu checks\n", args.name.c_str(),
                 failed, results.size());
    return 1;
  }
  return 0;
}

// ------------------------------------------------------------------------------------ new

struct NewArgs {
  CommonArgs common;
  std::string name;
  std::string caps = "read,discover";
  std::string lang = "singer";
  std::string dir;
};

/// Default --dir: the installed connectors dir for a Singer tap; for C++, src/connectors of
/// the da source tree the command runs in.
Result<fs::path> DefaultScaffoldDir(const NewArgs& args, ScaffoldLanguage lang) {
  if (!args.dir.empty()) return fs::path(args.dir);
  if (lang == ScaffoldLanguage::kCpp) {
    std::error_code ec;
    if (fs::exists("src/connectors/builtin.cpp", ec)) return fs::path("src/connectors");
    return InvalidArgument("--dir is required with --lang cpp outside a da source tree "
                           "(no src/connectors/builtin.cpp here)");
  }
  DA_ASSIGN_OR_RETURN(InstanceConfig config, LoadInstance(args.common));
  return connectors::InstalledConnectorsDir(config);
}

Status RunNew(const NewArgs& args) {
  ScaffoldRequest request;
  request.name = args.name;
  DA_ASSIGN_OR_RETURN(request.language, ScaffoldLanguageFromName(args.lang));
  std::vector<std::string> caps;
  size_t start = 0;
  while (start <= args.caps.size()) {
    size_t comma = args.caps.find(',', start);
    if (comma == std::string::npos) comma = args.caps.size();
    std::string item = args.caps.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) caps.push_back(item);
    start = comma + 1;
  }
  if (caps.empty()) return InvalidArgument("--caps must name at least one capability");
  auto parsed = kit::CapabilitiesFromNames(caps);
  if (!parsed.ok()) return parsed.status().WithContext("--caps");
  request.capabilities = *parsed;
  DA_ASSIGN_OR_RETURN(request.dir, DefaultScaffoldDir(args, request.language));
  DA_ASSIGN_OR_RETURN(ScaffoldResult result, WriteScaffold(request));
  for (const auto& f : result.files) std::printf("created %s\n", f.string().c_str());
  if (request.language == ScaffoldLanguage::kSinger) {
    std::printf("next: da connector test %s%s\n", args.name.c_str(),
                kit::HasCapability(request.capabilities, kit::Capability::kDiscover)
                    ? ""
                    : (" --table items=items"));
  } else {
    std::printf("next: follow %s to compile it into da, then da connector test %s\n",
                (result.connector_dir / "README.md").string().c_str(), args.name.c_str());
  }
  return Status::Ok();
}

/// Runs `body` and stores its exit code; a Status error is printed as one line on stderr.
template <typename F>
void Guarded(int* exit_code, const char* what, F&& body) {
  try {
    Status st = body();
    if (!st.ok()) {
      std::fprintf(stderr, "error: %s\n", st.message().c_str());
      const int code = ExitCodeFor(st.code());
      *exit_code = code == 0 ? 1 : code;
      return;
    }
    *exit_code = 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: connector %s: %s\n", what, e.what());
    *exit_code = 1;
  }
}

}  // namespace

void AddConnectorCommands(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand(
      "connector", "Built-in and installed connectors: list, discover, test, scaffold a new one");
  group->require_subcommand(1);

  auto list = std::make_shared<CommonArgs>();
  CLI::App* list_cmd = group->add_subcommand(
      "list", "List connectors (name, version, kind, capabilities); unusable installed "
              "manifests are reported on stderr");
  AddCommonOptions(list_cmd, *list, true);
  list_cmd->callback([list, exit_code] { Guarded(exit_code, "list", [&] { return RunList(*list); }); });

  auto discover = std::make_shared<std::pair<CommonArgs, std::string>>();
  CLI::App* discover_cmd = group->add_subcommand(
      "discover", "Run a connector's discovery with its instance.yaml config; print tables and columns");
  discover_cmd->add_option("name", discover->second, "Connector name")->required();
  AddCommonOptions(discover_cmd, discover->first, true);
  discover_cmd->callback([discover, exit_code] {
    Guarded(exit_code, "discover", [&] { return RunDiscover(discover->first, discover->second); });
  });

  auto test = std::make_shared<TestArgs>();
  CLI::App* test_cmd = group->add_subcommand(
      "test", "Run the connector's health check and the contract suite; one line per check "
              "(pass|fail|skip  <check>  <detail>); exit 0 only when none failed");
  test_cmd->add_option("name", test->name, "Connector name")->required();
  test_cmd->add_option("--table", test->tables,
                       "NAME=SOURCE_TABLE to read and extract (repeatable; needed when the "
                       "connector cannot discover)");
  AddCommonOptions(test_cmd, test->common, true);
  test_cmd->callback([test, exit_code] {
    int code = 0;
    Guarded(exit_code, "test", [&]() -> Status {
      DA_ASSIGN_OR_RETURN(code, RunTest(*test));
      return Status::Ok();
    });
    if (*exit_code == 0) *exit_code = code;
  });

  auto create = std::make_shared<NewArgs>();
  CLI::App* new_cmd = group->add_subcommand(
      "new", "Scaffold a connector that passes `da connector test` unchanged: a Singer tap "
             "(installed at once) or a C++ kit::Connector");
  new_cmd->add_option("name", create->name, "Connector name (a strict identifier)")->required();
  new_cmd->add_option("--caps", create->caps, "Capabilities, comma-separated (read[,discover])")
      ->capture_default_str();
  new_cmd->add_option("--lang", create->lang, "singer (a Node tap) or cpp")->capture_default_str();
  new_cmd->add_option("--dir", create->dir,
                      "Parent directory (default: the installed connectors dir for singer, "
                      "src/connectors for cpp)");
  AddCommonOptions(new_cmd, create->common, false);
  new_cmd->callback([create, exit_code] { Guarded(exit_code, "new", [&] { return RunNew(*create); }); });
}

}  // namespace da::cli
