#pragma once
/// The connector contract suite: one set of checks any connector can be run through.
///
/// Source: shared/reference/seeds/002 (Connector Kit spec §7.3, contract tests). The checks:
///   discover_returns_valid_tables   Discover gives >= 1 table; strict-identifier names,
///                                   unique; >= 1 column each, unique names, valid DuckDB
///                                   types; primary keys name columns; source_table set.
///   read_matches_declared_schema    Read of each discovered table (at most max_tables)
///                                   writes a Parquet file whose columns (names, types, order)
///                                   equal the declared ones.
///   full_extract_builds_valid_db    ExtractRuntime::Extract over those tables: every table ok;
///                                   extract.duckdb has the contract `_meta` columns, one view
///                                   per table, count(view) = _meta.rows = reported rows,
///                                   schema_json = the view's columns; no .tmp/.wal leftovers.
///   credentials_are_env_var_names   The manifest names credentials only by environment
///                                   variable (never a token-like value); a remote connector
///                                   declares one; the value of every such variable that is set
///                                   appears in no file the extraction published.
/// Used by `da connector test` (plain results) and by gtest suites (contract_gtest.h).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "kit/connector.h"
#include "kit/manifest.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::kit::contract {

/// What the suite runs against.
struct ContractTarget {
  std::string source;        ///< connector (and source) name, a strict identifier
  ConnectorFactory factory;  ///< makes the connector under test
  ConnectorConfig config;    ///< per-source config for Discover and Read
  /// Tables to read and extract when the connector cannot discover (otherwise derived from
  /// Discover: id = name = the discovered name, source_table as discovered).
  std::vector<model::TableSpec> tables;
  std::optional<Manifest> manifest;  ///< checked by credentials_are_env_var_names when set
  size_t max_tables = 3;             ///< at most this many tables are read and extracted
};

enum class CheckOutcome { kPass, kFail, kSkip };

/// "pass" | "fail" | "skip".
std::string_view CheckOutcomeName(CheckOutcome o);

struct CheckResult {
  std::string name;
  CheckOutcome outcome = CheckOutcome::kFail;
  std::string detail;  ///< why it failed or was skipped; a short summary when it passed
  int64_t duration_ms = 0;
};

/// The check names, in run order.
const std::vector<std::string>& CheckNames();

/// Runs checks against one target, sharing discovery and the extraction between checks.
/// Scratch files live in a temporary directory removed by the destructor.
class ContractRun {
 public:
  explicit ContractRun(ContractTarget target);
  ~ContractRun();
  ContractRun(const ContractRun&) = delete;
  ContractRun& operator=(const ContractRun&) = delete;

  /// Runs one check by name (an unknown name is a failed check).
  CheckResult Run(const std::string& check);
  /// Runs every check in CheckNames() order.
  std::vector<CheckResult> RunAll();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Convenience: ContractRun(target).RunAll().
std::vector<CheckResult> RunContract(ContractTarget target);

/// True when no result failed (skips are fine).
bool AllPassed(const std::vector<CheckResult>& results);

}  // namespace da::kit::contract
