// da extract <source> — run one source's extraction (usually as the server's child process)
// and print the ExtractReport as one JSON line on stdout. Logs go to stderr.
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/config.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/status.h"
#include "connectors/catalog.h"
#include "kit/runtime.h"
#include "state/registry.h"
#include "state/state_db.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::cli {
namespace {

struct ExtractArgs {
  std::string source;
  std::string data_dir;
  std::string tables;         // comma-separated ids; "" = all
  std::string registry_json;  // file or "-" (stdin); "" = read the state DB
  std::string config_file;
  std::string memory_limit;  // "" = the configured or default extraction memory limit
  int threads = kit::RuntimeOptions::DefaultThreads();
};

/// `{"tables": [model::TableSpecToJson...]}` from a file or stdin.
Result<std::vector<model::TableSpec>> LoadRegistryJson(const std::string& from) {
  std::string text;
  if (from == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(from, std::ios::binary);
    if (!in) return NotFound("registry file '" + from + "' cannot be opened");
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Malformed(std::string("registry JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("tables") || !j["tables"].is_array()) {
    return Malformed("registry JSON must be {\"tables\": [...]}");
  }
  std::vector<model::TableSpec> out;
  for (const auto& t : j["tables"]) {
    DA_ASSIGN_OR_RETURN(auto rec, model::TableSpecFromJson(t));
    out.push_back(std::move(rec));
  }
  return out;
}

Result<std::vector<model::TableSpec>> LoadRegistryDb(const InstanceConfig& config) {
  DA_ASSIGN_OR_RETURN(auto db, state::StateDb::OpenReadOnly(config.SystemDbPath()));
  state::Registry registry(*db, [config](const std::string& name) {
    return connectors::IsKnownConnector(config, name);
  });
  return registry.List();
}

std::set<std::string> SplitIds(const std::string& s) {
  std::set<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.insert(item.substr(b, e - b + 1));
  }
  return out;
}

/// Runs the command; returns the process exit code (0 all ok or none selected, 1 all
/// failed, 2 partial; ExitCodeFor(code) when nothing could be extracted at all).
int RunExtract(const ExtractArgs& args) {
  auto fail = [](const Status& st) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    int code = ExitCodeFor(st.code());
    return code == 0 ? 1 : code;
  };
  if (Status st = ValidateStrictIdentifier("source", args.source); !st.ok()) return fail(st);

  ConfigOverrides overrides;
  if (!args.data_dir.empty()) overrides.data_dir = args.data_dir;
  if (!args.config_file.empty()) overrides.config_file = args.config_file;
  if (!args.memory_limit.empty()) overrides.extract_memory_limit = args.memory_limit;
  auto config = LoadConfig(overrides);
  if (!config.ok()) return fail(config.status());
  InitLogging(config->log_level);

  // Installed connectors count too; an unusable manifest of this name says why.
  if (!connectors::IsKnownConnector(*config, args.source)) {
    auto entry = connectors::FindConnector(*config, args.source);
    if (!entry.ok() && entry.status().code() != StatusCode::kNotFound) return fail(entry.status());
    std::string known;
    for (const auto& c : connectors::ListConnectors(*config).connectors) {
      known += (known.empty() ? "" : ", ") + c.manifest.name;
    }
    return fail(NotFound("unknown connector '" + args.source + "' (known: " + known +
                         "; installed connectors live in " +
                         connectors::InstalledConnectorsDir(*config).string() + ")"));
  }

  auto records =
      args.registry_json.empty() ? LoadRegistryDb(*config) : LoadRegistryJson(args.registry_json);
  if (!records.ok()) return fail(records.status().WithContext("cannot load the table registry"));
  std::vector<model::TableSpec> source_tables;
  for (auto& t : *records) {
    if (t.source_type != args.source) continue;
    if (!t.IsStored()) continue;
    source_tables.push_back(std::move(t));
  }

  kit::RuntimeOptions options = kit::RuntimeOptions::FromConfig(*config);
  options.threads = args.threads;
  const kit::ConnectorRegistry registry = connectors::MakeConnectorRegistry(*config);
  kit::ExtractRuntime runtime(std::move(options), registry);
  const std::set<std::string> only_ids = SplitIds(args.tables);
  spdlog::info("extracting source {} into {} ({} registered, {} selected)", args.source,
               runtime.SourceDir(args.source).string(), source_tables.size(),
               only_ids.empty() ? source_tables.size() : only_ids.size());
  auto report = runtime.Extract(args.source, source_tables, only_ids);
  if (!report.ok()) return fail(report.status());

  std::cout << kit::ExtractReportToJson(*report).dump() << std::endl;
  const size_t ok = report->OkCount();
  const size_t failed = report->ErrorCount();
  spdlog::info("source {}: {} tables ok, {} failed", args.source, ok, failed);
  if (failed == 0) return 0;
  return ok == 0 ? 1 : 2;
}

}  // namespace

void AddExtractCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ExtractArgs>();
  CLI::App* cmd = app.add_subcommand(
      "extract",
      "Extract one source's registered tables to Parquet and rebuild its extract.duckdb; "
      "prints the report as one JSON line (exit 0 all ok, 1 all failed, 2 partial)");
  cmd->add_option("source", args->source, "Source (connector) name: a built-in (e.g. files) or an installed connector")->required();
  cmd->add_option("--data-dir", args->data_dir, "Data directory (default from config)");
  cmd->add_option("--tables", args->tables, "Comma-separated table ids to extract (default all)");
  cmd->add_option("--registry-json", args->registry_json,
                  "Table records as {\"tables\": [...]} from FILE or - (stdin) instead of the "
                  "state DB");
  cmd->add_option("--config", args->config_file, "instance.yaml to load");
  cmd->add_option("--memory-limit", args->memory_limit,
                  "Memory budget of the extraction, shared by the tables it reads (e.g. 512MB, "
                  "2GB; default DA_EXTRACT_MEMORY_LIMIT / sync.extract_memory_limit, else a "
                  "quarter of RAM); a source's memory_limit config overrides it");
  cmd->add_option("--threads", args->threads, "DuckDB threads of the extraction")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->callback([args, exit_code] {
    try {
      *exit_code = RunExtract(*args);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: extract: %s\n", e.what());
      *exit_code = 1;
    }
  });
}

}  // namespace da::cli
