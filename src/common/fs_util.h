#pragma once
/// Small filesystem helpers that return Status instead of throwing.
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace da {

/// Reads a whole (small) file.
Result<std::string> ReadFile(const std::filesystem::path& path);
/// Writes `data` to `path` atomically: a sibling temp file, fsync, rename. `mode` is applied
/// to the temp file before the rename (e.g. 0600 for secrets).
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data, int mode = 0644);
/// mkdir -p.
Status EnsureDir(const std::filesystem::path& dir);
/// Removes a file if present; errors other than "missing" are returned.
Status RemoveIfExists(const std::filesystem::path& path);
/// Removes a directory tree (or file) if present; errors other than "missing" are returned.
Status RemoveTreeIfExists(const std::filesystem::path& path);

}  // namespace da
