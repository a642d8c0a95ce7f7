#pragma once
/// da admin runs | run <id> | cancel <id> — sync runs over /api/sync/runs (admin).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace da::cli {

/// Registers `runs`, `run` and `cancel` under the `admin` subcommand.
void AddRunCommands(CLI::App* admin, int* exit_code);

/// Prints a run (the JSON of GET /api/sync/runs/{id}): one summary line, then one line per
/// table outcome (TABLE STATUS ROWS SIZE SECONDS REASON).
void PrintRun(const nlohmann::json& run);

/// True when the run finished without failed tables (status `ok`).
bool RunSucceeded(const nlohmann::json& run);

}  // namespace da::cli
