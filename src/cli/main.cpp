// da — one binary, many subcommands (see commands.h).
#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"da — the AI Data Analyst platform"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "da 0.1.0");
  int exit_code = 0;
  da::cli::AddServeCommand(app, &exit_code);
  da::cli::AddExtractCommand(app, &exit_code);
  da::cli::AddClientCommands(app, &exit_code);
  da::cli::AddAuthCommands(app, &exit_code);
  da::cli::AddAdminCommands(app, &exit_code);
  da::cli::AddCatalogCommands(app, &exit_code);
  da::cli::AddConnectorCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
