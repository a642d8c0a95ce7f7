// `da connector ...` and `da extract` of an installed connector, end to end through the real
// binary: scaffold a Singer tap into a temporary connectors dir (DA_CONNECTORS_DIR), list it,
// run the contract suite on it, discover it, extract it to Parquet; hostile and broken
// manifests, unknown names.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/fs_util.h"
#include "support/datasets.h"
#include "support/files.h"
#include "support/server_process.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::e2e {
namespace {
using namespace da::testing;  // the test support of tests/support
namespace fs = std::filesystem;

/// A temporary instance: data dir, connectors dir, instance.yaml and the env pointing at them.
struct Instance {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path connectors = tmp.path() / "connectors";
  fs::path config_dir = tmp.path() / "client";
  fs::path instance_yaml = tmp.path() / "instance.yaml";
  fs::path empty_registry = tmp.path() / "empty_registry.json";

  Instance() {
    fs::create_directories(connectors);
    std::ofstream(empty_registry) << R"({"tables": []})";
    // Per-source config: the scaffold's tap emits `count` records.
    std::ofstream(instance_yaml) << "sources:\n  e2e_tap:\n    count: 7\n";
  }

  /// `da <args> --data-dir D --config instance.yaml` with DA_CONNECTORS_DIR set.
  CommandResult Da(std::vector<std::string> args) const {
    args.insert(args.end(), {"--data-dir", data.string(), "--config", instance_yaml.string()});
    return RunDa(args, config_dir, {"DA_CONNECTORS_DIR=" + connectors.string()});
  }

  /// Writes `<connectors>/<name>/connector.yaml`.
  fs::path WriteManifest(const std::string& name, const std::string& yaml) const {
    fs::create_directories(connectors / name);
    const fs::path file = connectors / name / "connector.yaml";
    std::ofstream(file) << yaml;
    return file;
  }
};

bool HasLine(const std::string& text, const std::string& prefix) {
  for (const auto& l : Lines(text)) {
    if (l.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(ConnectorCli, ScaffoldedSingerTapIsListedTestedDiscoveredAndExtracted) {
  Instance inst;
  auto created = inst.Da({"connector", "new", "e2e_tap", "--caps", "read,discover"});
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  const fs::path dir = inst.connectors / "e2e_tap";
  ASSERT_TRUE(fs::exists(dir / "connector.yaml"));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "tap.js").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & S_IXUSR, 0u) << "the tap must be executable";
  auto manifest = ReadFile(dir / "connector.yaml");
  ASSERT_OK(manifest);
  EXPECT_NE(manifest->find("command: [\"" + (dir / "tap.js").string() + "\"]"), std::string::npos)
      << *manifest;

  // list: text and JSON.
  auto list = inst.Da({"connector", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(HasLine(list.out, "files ")) << list.out;
  bool listed = false;
  for (const auto& l : Lines(list.out)) {
    if (l.rfind("e2e_tap ", 0) == 0) {
      listed = true;
      EXPECT_NE(l.find("0.1.0"), std::string::npos) << l;
      EXPECT_NE(l.find("singer"), std::string::npos) << l;
      EXPECT_NE(l.find("discover,read"), std::string::npos) << l;
    }
  }
  EXPECT_TRUE(listed) << list.out;
  auto list_json = inst.Da({"connector", "list", "--json"});
  ASSERT_EQ(list_json.exit_code, 0) << list_json.err;
  auto lj = nlohmann::json::parse(list_json.out);
  EXPECT_TRUE(lj["problems"].empty()) << lj.dump();
  nlohmann::json entry;
  for (const auto& c : lj["connectors"]) {
    if (c["name"] == "e2e_tap") entry = c;
  }
  ASSERT_FALSE(entry.is_null()) << lj.dump();
  EXPECT_EQ(entry["kind"], "singer");
  EXPECT_EQ(entry["capabilities"], nlohmann::json({"discover", "read"}));
  EXPECT_EQ(entry["manifest"], (dir / "connector.yaml").string());

  // test: the health check and every contract check, none failing.
  auto test = inst.Da({"connector", "test", "e2e_tap"});
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  const auto lines = Lines(test.out);
  ASSERT_EQ(lines.size(), 5u) << test.out;
  for (const auto& l : lines) {
    EXPECT_TRUE(l.rfind("pass  ", 0) == 0 || l.rfind("skip  ", 0) == 0) << l;
  }
  for (const char* check : {"discover_returns_valid_tables", "read_matches_declared_schema",
                            "full_extract_builds_valid_db", "credentials_are_env_var_names"}) {
    EXPECT_TRUE(HasLine(test.out, std::string("pass  ") + check)) << check << "\n" << test.out;
  }
  EXPECT_TRUE(HasLine(test.out, "skip  health_check")) << test.out;
  // The contract's extraction used the configured count and left the real data dir alone.
  EXPECT_NE(test.out.find("7 rows"), std::string::npos) << test.out;
  EXPECT_FALSE(fs::exists(inst.data / "extracts" / "e2e_tap"));
  auto test_json = inst.Da({"connector", "test", "e2e_tap", "--json"});
  ASSERT_EQ(test_json.exit_code, 0) << test_json.err;
  auto tj = nlohmann::json::parse(test_json.out);
  EXPECT_EQ(tj["passed"], true);
  EXPECT_EQ(tj["checks"].size(), 5u);

  // discover: the stream and its columns.
  auto discover = inst.Da({"connector", "discover", "e2e_tap"});
  ASSERT_EQ(discover.exit_code, 0) << discover.err;
  EXPECT_TRUE(HasLine(discover.out, "items  (source_table: items; primary key: id)")) << discover.out;
  EXPECT_TRUE(HasLine(discover.out, "  updated_at  TIMESTAMP WITH TIME ZONE")) << discover.out;
  auto discover_json = inst.Da({"connector", "discover", "e2e_tap", "--json"});
  ASSERT_EQ(discover_json.exit_code, 0) << discover_json.err;
  auto dj = nlohmann::json::parse(discover_json.out);
  ASSERT_EQ(dj["tables"].size(), 1u);
  EXPECT_EQ(dj["tables"][0]["source_table"], "items");
  EXPECT_EQ(dj["tables"][0]["primary_key"], nlohmann::json({"id"}));
  EXPECT_EQ(dj["tables"][0]["columns"].size(), 5u);

  // da extract of the installed connector, tables from a registry JSON.
  const fs::path registry = inst.tmp.path() / "registry.json";
  std::ofstream(registry) << nlohmann::json{
      {"tables",
       {{{"id", "items"}, {"name", "items"}, {"source_type", "e2e_tap"}, {"source_table", "items"}}}}}
                                 .dump();
  auto extract = inst.Da({"extract", "e2e_tap", "--registry-json", registry.string()});
  ASSERT_EQ(extract.exit_code, 0) << extract.out << extract.err;
  auto report = nlohmann::json::parse(Lines(extract.out).back());
  ASSERT_EQ(report["tables"].size(), 1u);
  EXPECT_EQ(report["tables"][0]["status"], "ok") << report.dump();
  EXPECT_EQ(report["tables"][0]["rows"], 7);
  const fs::path parquet = inst.data / "extracts" / "e2e_tap" / "data" / "items.parquet";
  ASSERT_TRUE(fs::exists(parquet));
  EXPECT_EQ(DuckDbRows("SELECT count(*), sum(id), min(name), count(DISTINCT updated_at) FROM "
                       "read_parquet('" + parquet.string() + "')"),
            std::vector<std::string>{"7,28,item 1,7"});
  EXPECT_TRUE(fs::exists(inst.data / "extracts" / "e2e_tap" / "extract.duckdb"));

  // The name is taken now; bad names are refused before anything is written.
  auto again = inst.Da({"connector", "new", "e2e_tap"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  auto bad = inst.Da({"connector", "new", "bad-name"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("not a strict identifier"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(inst.connectors / "bad-name"));
  auto builtin = inst.Da({"connector", "new", "files"});
  EXPECT_NE(builtin.exit_code, 0);
  EXPECT_NE(builtin.err.find("built-in"), std::string::npos) << builtin.err;
}

TEST(ConnectorCli, HostileManifestsAreReportedAndNeverRun) {
  Instance inst;
  const fs::path marker = inst.tmp.path() / "pwned";
  const fs::path semicolon = inst.WriteManifest(
      "evil_path", "name: evil_path\nversion: \"1.0.0\"\ndescription: \"x\"\ncapabilities: [read]\n"
                   "command: [\"/bin/touch;/bin/sh\", \"" + marker.string() + "\"]\n");
  const fs::path subst = inst.WriteManifest(
      "evil_arg", "name: evil_arg\nversion: \"1.0.0\"\ndescription: \"x\"\n"
                  "capabilities: [discover, read]\n"
                  "command: [\"/bin/sh\", \"-c\", \"$(touch " + marker.string() + ")\"]\n");

  auto list = inst.Da({"connector", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.err.find(semicolon.string() + ": command[0]"), std::string::npos) << list.err;
  EXPECT_NE(list.err.find(subst.string() + ": command[2]"), std::string::npos) << list.err;
  EXPECT_NE(list.err.find("shell metacharacters"), std::string::npos) << list.err;
  EXPECT_EQ(list.out.find("evil"), std::string::npos) << list.out;
  auto list_json = inst.Da({"connector", "list", "--json"});
  ASSERT_EQ(list_json.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(list_json.out)["problems"].size(), 2u);

  for (const char* name : {"evil_path", "evil_arg"}) {
    auto test = inst.Da({"connector", "test", name});
    EXPECT_NE(test.exit_code, 0) << name;
    EXPECT_NE(test.err.find("connector.yaml: command["), std::string::npos) << test.err;
    auto discover = inst.Da({"connector", "discover", name});
    EXPECT_NE(discover.exit_code, 0) << name;
    auto extract = inst.Da({"extract", name, "--registry-json", inst.empty_registry.string()});
    EXPECT_NE(extract.exit_code, 0) << name;
    EXPECT_NE(extract.err.find("shell metacharacters"), std::string::npos) << extract.err;
  }
  EXPECT_FALSE(fs::exists(marker)) << "a hostile command was run";
}

TEST(ConnectorCli, ABrokenTapFailsTheContractSuite) {
  Instance inst;
  const fs::path tap = inst.tmp.path() / "broken_tap.sh";
  std::ofstream(tap) << "#!/bin/sh\necho 'broken_tap: cannot reach the source' >&2\nexit 3\n";
  fs::permissions(tap, fs::perms::owner_all);
  inst.WriteManifest("broken", "name: broken\nversion: \"1.0.0\"\ndescription: \"always fails\"\n"
                               "capabilities: [discover, read]\ncommand: [\"" + tap.string() + "\"]\n"
                               "health_check: {command: [\"" + tap.string() + "\"]}\n");
  auto test = inst.Da({"connector", "test", "broken"});
  EXPECT_EQ(test.exit_code, 1) << test.out << test.err;
  EXPECT_TRUE(HasLine(test.out, "fail  health_check")) << test.out;
  EXPECT_TRUE(HasLine(test.out, "fail  discover_returns_valid_tables")) << test.out;
  EXPECT_NE(test.out.find("cannot reach the source"), std::string::npos) << test.out;
  EXPECT_NE(test.err.find("failed"), std::string::npos) << test.err;
  auto discover = inst.Da({"connector", "discover", "broken"});
  EXPECT_NE(discover.exit_code, 0);
  EXPECT_NE(discover.err.find("cannot reach the source"), std::string::npos) << discover.err;
}

TEST(ConnectorCli, UnknownConnectorsFailWithAClearMessage) {
  Instance inst;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"connector", "test", "nope"}, {"connector", "discover", "nope"}}) {
    auto r = inst.Da(args);
    EXPECT_NE(r.exit_code, 0) << args[1];
    EXPECT_NE(r.err.find("unknown connector 'nope'"), std::string::npos) << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  }
  auto extract = inst.Da({"extract", "nope", "--registry-json", inst.empty_registry.string()});
  EXPECT_NE(extract.exit_code, 0);
  EXPECT_NE(extract.err.find("unknown connector 'nope' (known: files"), std::string::npos)
      << extract.err;
}

TEST(ConnectorCli, CppScaffoldWritesAConnectorAndHowToRegisterIt) {
  Instance inst;
  const fs::path src = inst.tmp.path() / "src";
  auto r = inst.Da({"connector", "new", "my_api", "--lang", "cpp", "--dir", src.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"my_api_connector.h", "my_api_connector.cpp", "connector.yaml", "README.md"}) {
    EXPECT_TRUE(fs::exists(src / "my_api" / f)) << f;
  }
  auto header = ReadFile(src / "my_api" / "my_api_connector.h");
  ASSERT_OK(header);
  EXPECT_NE(header->find("class MyApiConnector : public kit::Connector"), std::string::npos);
  auto readme = ReadFile(src / "my_api" / "README.md");
  ASSERT_OK(readme);
  EXPECT_NE(readme->find("src/connectors/builtin.cpp"), std::string::npos);
  auto keyword = inst.Da({"connector", "new", "delete", "--lang", "cpp", "--dir", src.string()});
  EXPECT_NE(keyword.exit_code, 0);
  EXPECT_FALSE(fs::exists(src / "delete"));
}

}  // namespace
}  // namespace da::e2e
