#pragma once
/// Installing the fixture taps of tests/fixtures/taps as connectors.
/// DA_TAPS_DIR comes with da_test_support.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace da::testing {

/// Absolute path of a fixture tap, e.g. TapPath("tap_two_streams.js").
inline std::filesystem::path TapPath(const std::string& file) {
  return std::filesystem::path(DA_TAPS_DIR) / file;
}

/// Writes `<connectors_dir>/<name>/connector.yaml` running fixture `tap_file` with `args`;
/// `extra` is appended verbatim (config, auth, timeout_seconds...). Returns the file.
inline std::filesystem::path WriteTapManifest(const std::filesystem::path& connectors_dir,
                                              const std::string& name, const std::string& tap_file,
                                              const std::string& caps = "[discover, read]",
                                              const std::string& extra = "",
                                              const std::vector<std::string>& args = {}) {
  const auto dir = connectors_dir / name;
  std::filesystem::create_directories(dir);
  std::string command = "[\"" + TapPath(tap_file).string() + "\"";
  for (const auto& a : args) command += ", \"" + a + "\"";
  command += "]";
  std::ofstream out(dir / "connector.yaml", std::ios::trunc);
  out << "name: " << name << "\n"
      << "version: \"0.1.0\"\n"
      << "description: \"fixture tap " << tap_file << "\"\n"
      << "capabilities: " << caps << "\n"
      << "command: " << command << "\n"
      << extra;
  return dir / "connector.yaml";
}

}  // namespace da::testing
