#include "cli/commands.h"
namespace da::cli {
void AddClientCommands(CLI::App&, int*) {}
}  // namespace da::cli
