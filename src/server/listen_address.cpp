#include "server/listen_address.h"

namespace da::server {

Result<ListenAddress> ParseListenAddress(const std::string& setting, const std::string& text) {
  auto bad = [&] {
    return InvalidArgument(setting + " must be host:port (port 0 to 65535), got '" +
                           text.substr(0, 80) + "'");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad();
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad();  // an IPv6 address needs its brackets
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  const int port = std::stoi(port_text);
  if (port > 65535) return bad();
  return ListenAddress{host, port};
}

}  // namespace da::server
