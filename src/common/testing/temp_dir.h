#pragma once
/// Test helper: a fresh directory under the system temp dir, removed with its contents on
/// destruction. Header-only so every layer's tests can use it.
#include <filesystem>
#include <string>
#include <system_error>

#include "common/hash.h"

namespace da::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "da-test-", const std::string& suffix = "")
      : path_(std::filesystem::temp_directory_path() / (prefix + RandomHex(8) + suffix)) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace da::testing
