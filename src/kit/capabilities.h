#pragma once
/// Connector capability flags: what a connector can do (discover, read, stream, remote, write).
///
/// Source: shared/reference/seeds/002 (Connector Kit spec §3.1, `Cap` flags). A set of
/// capabilities is the same enum used as a bitmask: `Capability::kDiscover | Capability::kRead`.
/// In manifests and JSON a capability is its lower-case name ("discover", "read", ...).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace da::kit {

/// One capability, or (combined with `|`) a set of them. kNone is the empty set.
enum class Capability : uint32_t {
  kNone = 0,
  kDiscover = 1,  ///< lists tables and their columns in the source
  kRead = 2,      ///< writes a table's full (or incremental) content as Parquet
  kStream = 4,    ///< receives continuous changes (webhooks, CDC)
  kRemote = 8,    ///< exposes tables through a DuckDB extension (data stays in the source)
  kWrite = 16,    ///< pushes data back to the source
};

/// Set union.
constexpr Capability operator|(Capability a, Capability b) {
  return static_cast<Capability>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}
/// Set intersection.
constexpr Capability operator&(Capability a, Capability b) {
  return static_cast<Capability>(static_cast<uint32_t>(a) & static_cast<uint32_t>(b));
}
/// True when every flag of `flags` is in `set` (false for flags == kNone).
constexpr bool HasCapability(Capability set, Capability flags) {
  return flags != Capability::kNone && (set & flags) == flags;
}

/// Every single capability, in bit order.
const std::vector<Capability>& AllCapabilities();
/// Lower-case name of one capability ("discover", "read", "stream", "remote", "write");
/// "" for kNone or a combined set.
std::string_view CapabilityName(Capability c);
/// The capability named `name` (exact, lower-case). invalid_argument naming the value otherwise.
Result<Capability> CapabilityFromName(std::string_view name);
/// Names of the flags in `set`, in bit order (e.g. {"discover", "read"}).
std::vector<std::string> CapabilityNames(Capability set);
/// The set named by `names` (duplicates allowed). invalid_argument on the first unknown name.
Result<Capability> CapabilitiesFromNames(const std::vector<std::string>& names);

}  // namespace da::kit
