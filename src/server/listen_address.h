#pragma once
/// A `host:port` listen address from configuration (DA_METRICS_LISTEN).
#include <string>

#include "common/status.h"

namespace da::server {

struct ListenAddress {
  std::string host;  ///< a name or an IP address; an IPv6 address without its brackets
  int port = 0;      ///< 0 = any free port
};

/// Parses `host:port` (`[v6]:port` for IPv6). Errors: invalid_argument naming `setting` and the
/// value when the host is empty or the port is not an integer from 0 to 65535.
Result<ListenAddress> ParseListenAddress(const std::string& setting, const std::string& text);

}  // namespace da::server
