#pragma once
/// The contract suite as GoogleTest tests: one TEST_P per check, instantiated per connector.
///
/// Include this header in exactly one test source of a binary, then:
///
///   DA_INSTANTIATE_CONNECTOR_CONTRACT(Files, ::da::kit::contract::ContractParam{
///       "files", [] { return MakeFilesTarget(); }});
///
/// `make` runs inside each test, so per-test setup (temp dirs, env vars) belongs there. A check
/// that does not apply to the connector (e.g. discover on a read-only connector) is skipped.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "kit/contract/contract.h"

namespace da::kit::contract {

/// One connector under test: a label (a valid gtest name) and how to build its target.
struct ContractParam {
  std::string label;
  std::function<ContractTarget()> make;
};

inline std::ostream& operator<<(std::ostream& os, const ContractParam& p) { return os << p.label; }

class ConnectorContractTest : public ::testing::TestWithParam<ContractParam> {
 protected:
  /// Runs `check` against the parameter's target and reports it as this test's outcome.
  void Expect(const std::string& check) {
    ContractRun run(GetParam().make());
    CheckResult r = run.Run(check);
    if (r.outcome == CheckOutcome::kSkip) GTEST_SKIP() << r.detail;
    EXPECT_EQ(r.outcome, CheckOutcome::kPass) << GetParam().label << " " << check << ": " << r.detail;
  }
};

}  // namespace da::kit::contract

/// The fixture under a global, unqualified name, as gtest's instantiation macro requires.
using DaConnectorContract = ::da::kit::contract::ConnectorContractTest;

TEST_P(DaConnectorContract, DiscoverReturnsValidTables) { Expect("discover_returns_valid_tables"); }
TEST_P(DaConnectorContract, ReadMatchesDeclaredSchema) { Expect("read_matches_declared_schema"); }
TEST_P(DaConnectorContract, FullExtractBuildsValidDb) { Expect("full_extract_builds_valid_db"); }
TEST_P(DaConnectorContract, CredentialsAreEnvVarNames) { Expect("credentials_are_env_var_names"); }

/// Instantiates the contract tests for the given ContractParam values (at any namespace scope).
#define DA_INSTANTIATE_CONNECTOR_CONTRACT(prefix, ...)                                     \
  INSTANTIATE_TEST_SUITE_P(                                                                \
      prefix, DaConnectorContract, ::testing::Values(__VA_ARGS__),                         \
      [](const ::testing::TestParamInfo<::da::kit::contract::ContractParam>& param_info) { \
        return param_info.param.label;                                                     \
      })
