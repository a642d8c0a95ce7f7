#include "cli/commands.h"
namespace da::cli {
void AddAdminCommands(CLI::App&, int*) {}
}  // namespace da::cli
