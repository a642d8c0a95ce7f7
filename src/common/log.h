#pragma once
/// Logging: spdlog to stderr. Messages must never contain secrets (tokens, passwords).
#include <spdlog/spdlog.h>

namespace da {
/// Sets the global level from a name ("debug", "info", "warn", "error"); unknown → info.
void InitLogging(const std::string& level);
}  // namespace da
