#pragma once
/// A fresh directory under the system temp dir, removed with its contents on destruction.
///
///   da::testing::TempDir dir;                 // /tmp/da-test-<16 hex>
///   da::testing::TempDir quoted("da-", "'q"); // a suffix, e.g. to put a quote into the path
#include <filesystem>
#include <string>
#include <system_error>

#include "common/hash.h"

namespace da::testing {

class TempDir {
 public:
  /// Creates `<temp dir>/<prefix><16 random hex digits><suffix>`.
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
