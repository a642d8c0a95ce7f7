#include "cli/commands.h"
namespace da::cli {
void AddExtractCommand(CLI::App&, int*) {}
}  // namespace da::cli
