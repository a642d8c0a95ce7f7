// The connector contract suite run against every built-in connector and the fixture taps.
#include "kit/contract/contract_gtest.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "connectors/catalog.h"
#include "connectors/files/files_connector.h"
#include "support/singer_taps.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::connectors {
namespace {
namespace fs = std::filesystem;
using kit::contract::CheckOutcome;
using kit::contract::ContractParam;
using kit::contract::ContractTarget;

/// Directory holding the installed fixture taps for this test binary (created on first use,
/// removed at exit).
const fs::path& TapsHome() {
  static const auto* dir = new da::testing::TempDir("da-contract-taps-");
  return dir->path();
}

ContractTarget FilesTarget() {
  ContractTarget t;
  t.source = "files";
  t.factory = [] { return std::make_unique<files::FilesConnector>(); };
  t.config = {{"base_dir", DA_DATASETS_DIR},
              {"paths", "seattle-weather.csv, penguins.json, unemployment.tsv"}};
  for (const auto& m : BuiltinManifests()) {
    if (m.name == "files") t.manifest = m;
  }
  return t;
}

/// A fixture tap installed under TapsHome() as connector `name`, as `da` would run it.
ContractTarget TapTarget(const std::string& name, const std::string& tap_file,
                         const std::string& extra = "", kit::ConnectorConfig config = {}) {
  testing::WriteTapManifest(TapsHome(), name, tap_file, "[discover, read]", extra);
  ::setenv("DA_CONNECTORS_DIR", TapsHome().c_str(), 1);
  InstanceConfig instance;
  instance.data_dir = TapsHome() / "data";
  auto entry = FindConnector(instance, name);
  ContractTarget t;
  t.source = name;
  if (!entry.ok()) {
    ADD_FAILURE() << entry.status().ToString();
    return t;
  }
  auto factory = MakeFactory(instance, *entry);
  if (factory.ok()) t.factory = *factory;
  t.manifest = entry->manifest;
  t.config = std::move(config);
  return t;
}

DA_INSTANTIATE_CONNECTOR_CONTRACT(
    Builtin, ContractParam{"files", [] { return FilesTarget(); }});

DA_INSTANTIATE_CONNECTOR_CONTRACT(
    Taps,
    ContractParam{"two_streams",
                  [] {
                    ::setenv("DA_CONTRACT_TWO_TOKEN", "s3cret-token-value", 1);
                    return TapTarget("two_streams", "tap_two_streams.js",
                                     "auth:\n  type: token\n  env_vars:\n"
                                     "    - {name: DA_CONTRACT_TWO_TOKEN, config_key: token}\n"
                                     "config:\n  count: {type: integer, default: 25}\n");
                  }},
    ContractParam{"schema_change", [] { return TapTarget("schema_change", "tap_schema_change.js"); }},
    ContractParam{"batch",
                  [] {
                    return TapTarget("batch", "tap_batch.js",
                                     "config:\n  batch_dir: {type: path, required: true}\n",
                                     {{"batch_dir", (TapsHome() / "batches").string()}});
                  }},
    ContractParam{"million_small",
                  [] {
                    return TapTarget("million_small", "tap_million.js", "",
                                     {{"rows", "5000"}});
                  }},
    ContractParam{"scaffold_like", [] { return TapTarget("scaffold_like", "tap_schema_change.js"); }});

// The suite must be able to fail: each of these connectors breaks one rule.

TEST(ConnectorContractNegative, ACredentialLeakingIntoTheDataFails) {
  // A tap that echoes its credential into a record: simulated by a "credential" whose value
  // the data holds ("user 3" is a users.name value).
  ::setenv("DA_CONTRACT_LEAKY", "user 3", 1);
  ContractTarget t = TapTarget("leaky", "tap_two_streams.js",
                               "auth:\n  env_vars: [{name: DA_CONTRACT_LEAKY}]\n");
  kit::contract::ContractRun run(t);
  auto r = run.Run("credentials_are_env_var_names");
  EXPECT_EQ(r.outcome, CheckOutcome::kFail);
  EXPECT_NE(r.detail.find("the value of DA_CONTRACT_LEAKY appears in the data"), std::string::npos)
      << r.detail;
  EXPECT_EQ(r.detail.find("user 3"), std::string::npos) << "the secret itself was printed";
  ::unsetenv("DA_CONTRACT_LEAKY");
}

TEST(ConnectorContractNegative, DeclaredAndWrittenSchemasMustAgree) {
  // Discover of tap_schema_change declares the final schema; a tap whose data types differ
  // from its catalog is caught by the read check. Use the files connector with a table whose
  // declared columns come from one file and data from another.
  ContractTarget t = FilesTarget();
  class Lying : public files::FilesConnector {
   public:
    Result<std::vector<kit::TableInfo>> Discover(const kit::ConnectorConfig& c) override {
      auto tables = FilesConnector::Discover(c);
      if (tables.ok() && !tables->empty()) (*tables)[0].columns[0].type = "VARCHAR";
      return tables;
    }
  };
  t.factory = [] { return std::make_unique<Lying>(); };
  kit::contract::ContractRun run(t);
  auto r = run.Run("read_matches_declared_schema");
  EXPECT_EQ(r.outcome, CheckOutcome::kFail);
  EXPECT_NE(r.detail.find("declared columns"), std::string::npos) << r.detail;
}

TEST(ConnectorContractNegative, InvalidTableNamesFailDiscovery) {
  ContractTarget t = FilesTarget();
  class BadNames : public files::FilesConnector {
   public:
    Result<std::vector<kit::TableInfo>> Discover(const kit::ConnectorConfig& c) override {
      auto tables = FilesConnector::Discover(c);
      if (tables.ok() && !tables->empty()) (*tables)[0].name = "drop table; --";
      return tables;
    }
  };
  t.factory = [] { return std::make_unique<BadNames>(); };
  kit::contract::ContractRun run(t);
  auto r = run.Run("discover_returns_valid_tables");
  EXPECT_EQ(r.outcome, CheckOutcome::kFail);
  EXPECT_NE(r.detail.find("not a strict identifier"), std::string::npos) << r.detail;
}

TEST(ConnectorContractNegative, AFailingTapFailsTheExtractCheck) {
  testing::WriteTapManifest(TapsHome(), "broken_tap", "tap_exit_nonzero.sh", "[read]");
  ::setenv("DA_CONNECTORS_DIR", TapsHome().c_str(), 1);
  InstanceConfig instance;
  auto entry = FindConnector(instance, "broken_tap");
  ASSERT_OK(entry);
  ContractTarget t;
  t.source = "broken_tap";
  t.factory = *MakeFactory(instance, *entry);
  model::TableSpec rec;
  rec.id = rec.name = "things";
  rec.source_type = "broken_tap";
  rec.source_table = "things";
  t.tables = {rec};
  auto results = kit::contract::RunContract(t);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, CheckOutcome::kSkip);  // no discover capability
  EXPECT_EQ(results[1].outcome, CheckOutcome::kFail);
  EXPECT_EQ(results[2].outcome, CheckOutcome::kFail);
  EXPECT_NE(results[2].detail.find("exited with code 3"), std::string::npos) << results[2].detail;
  EXPECT_FALSE(kit::contract::AllPassed(results));
}

}  // namespace
}  // namespace da::connectors
