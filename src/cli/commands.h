#pragma once
/// The subcommand table of the `da` binary. Each Add*Commands registers its subcommands on
/// `app`; a subcommand's callback runs the command and stores its process exit code in
/// `*exit_code` (0 ok; otherwise ExitCodeFor(status.code()) after printing one line to stderr).
#include <CLI/CLI.hpp>

namespace da::cli {

void AddServeCommand(CLI::App& app, int* exit_code);     ///< da serve
void AddExtractCommand(CLI::App& app, int* exit_code);   ///< da extract <source>
void AddClientCommands(CLI::App& app, int* exit_code);   ///< da sync (pull) | query
void AddAuthCommands(CLI::App& app, int* exit_code);     ///< da login | logout | whoami | tokens
/// da admin users | groups | grants (added under the `da admin` subcommand).
void AddAccessAdminCommands(CLI::App* admin, int* exit_code);
void AddAdminCommands(CLI::App& app, int* exit_code);    ///< da admin register-table | ...
void AddCatalogCommands(CLI::App& app, int* exit_code);  ///< da catalog | describe <id>
void AddConnectorCommands(CLI::App& app, int* exit_code);  ///< da connector list | discover | test | new

}  // namespace da::cli
