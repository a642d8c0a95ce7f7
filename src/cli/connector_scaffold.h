#pragma once
/// `da connector new`: writes a working connector skeleton that passes the contract suite
/// (kit/contract/contract.h) unchanged.
///
///  singer  `<dir>/<name>/connector.yaml` (command: the absolute path of the tap) and
///          `<dir>/<name>/tap.js`, an executable Node program speaking Singer
///          (--discover, --config, --catalog, --state) that emits one sample stream `items`.
///          Written into the installed connectors dir it is usable at once.
///  cpp     `<dir>/<name>/<name>_connector.{h,cpp}` (a kit::Connector), `connector.yaml`
///          (entrypoint: <name>) and README.md saying how to compile it into `da`.
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "kit/capabilities.h"

namespace da::cli {

enum class ScaffoldLanguage { kSinger, kCpp };

/// "singer" → kSinger, "cpp" → kCpp; invalid_argument otherwise.
Result<ScaffoldLanguage> ScaffoldLanguageFromName(const std::string& name);

struct ScaffoldRequest {
  std::string name;                ///< connector name: a strict identifier, not a built-in
  kit::Capability capabilities = kit::Capability::kDiscover | kit::Capability::kRead;
  ScaffoldLanguage language = ScaffoldLanguage::kSinger;
  std::filesystem::path dir;       ///< parent directory; `<dir>/<name>` must not exist
};

struct ScaffoldResult {
  std::filesystem::path connector_dir;      ///< `<dir>/<name>` (absolute)
  std::vector<std::filesystem::path> files; ///< every file written, in writing order
};

/// Writes the skeleton. Errors: invalid_argument for a name that is not a strict identifier
/// (or, for cpp, a C++ keyword), capabilities without read or beyond read/discover, or a
/// directory whose path a manifest command cannot hold (whitespace, shell metacharacters);
/// already_exists when `<dir>/<name>` exists or the name is a built-in connector; unavailable
/// for I/O failures (nothing is left behind then).
Result<ScaffoldResult> WriteScaffold(const ScaffoldRequest& request);

}  // namespace da::cli
