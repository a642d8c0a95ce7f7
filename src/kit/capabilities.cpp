#include "kit/capabilities.h"

namespace da::kit {

const std::vector<Capability>& AllCapabilities() {
  static const std::vector<Capability> kAll = {Capability::kDiscover, Capability::kRead,
                                               Capability::kStream, Capability::kRemote,
                                               Capability::kWrite};
  return kAll;
}

std::string_view CapabilityName(Capability c) {
  switch (c) {
    case Capability::kDiscover:
      return "discover";
    case Capability::kRead:
      return "read";
    case Capability::kStream:
      return "stream";
    case Capability::kRemote:
      return "remote";
    case Capability::kWrite:
      return "write";
    default:
      return "";
  }
}

Result<Capability> CapabilityFromName(std::string_view name) {
  for (Capability c : AllCapabilities()) {
    if (CapabilityName(c) == name) return c;
  }
  return InvalidArgument("unknown capability '" + std::string(name.substr(0, 64)) +
                         "' (expected discover, read, stream, remote or write)");
}

std::vector<std::string> CapabilityNames(Capability set) {
  std::vector<std::string> out;
  for (Capability c : AllCapabilities()) {
    if (HasCapability(set, c)) out.emplace_back(CapabilityName(c));
  }
  return out;
}

Result<Capability> CapabilitiesFromNames(const std::vector<std::string>& names) {
  Capability set = Capability::kNone;
  for (const auto& n : names) {
    DA_ASSIGN_OR_RETURN(Capability c, CapabilityFromName(n));
    set = set | c;
  }
  return set;
}

}  // namespace da::kit
