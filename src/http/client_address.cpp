#include "http/client_address.h"

#include <cstdlib>
#include <optional>

#include <boost/asio/ip/address.hpp>

#include "http/message.h"

namespace da::http {
namespace {

/// `ip` as 16 bytes (IPv4 as IPv4-mapped IPv6), or nullopt when it is not an address.
std::optional<std::array<uint8_t, 16>> Bytes(std::string_view ip) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(ip), ec);
  if (ec) return std::nullopt;
  if (a.is_v4()) {
    return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, a.to_v4()).to_bytes();
  }
  return a.to_v6().to_bytes();
}

bool InNetwork(const std::array<uint8_t, 16>& b, const Cidr& n) {
  int bits = n.bits;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((b[i] & mask) != (n.bytes[i] & mask)) return false;
  }
  return true;
}

}  // namespace

bool TrustedProxies::Contains(std::string_view ip) const {
  if (networks.empty()) return false;
  auto b = Bytes(ip);
  if (!b) return false;
  for (const Cidr& n : networks) {
    if (InNetwork(*b, n)) return true;
  }
  return false;
}

Result<TrustedProxies> ParseTrustedProxies(std::string_view text) {
  TrustedProxies out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view entry = TrimOws(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (entry.empty()) continue;
    auto bad = [&] {
      return InvalidArgument("DA_TRUSTED_PROXIES: '" + std::string(entry.substr(0, 60)) +
                             "' is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)");
    };
    size_t slash = entry.find('/');
    auto bytes = Bytes(entry.substr(0, slash));
    if (!bytes) return bad();
    const bool v4 = entry.substr(0, slash).find(':') == std::string_view::npos;
    Cidr cidr;
    cidr.bytes = *bytes;
    cidr.bits = 128;
    if (slash != std::string_view::npos) {
      std::string_view len = entry.substr(slash + 1);
      if (len.empty() || len.size() > 3) return bad();
      int n = 0;
      for (char c : len) {
        if (c < '0' || c > '9') return bad();
        n = n * 10 + (c - '0');
      }
      if (n > (v4 ? 32 : 128)) return bad();
      cidr.bits = v4 ? 96 + n : n;
    }
    out.networks.push_back(cidr);
  }
  return out;
}

Result<TrustedProxies> TrustedProxiesFromEnv() {
  const char* v = std::getenv("DA_TRUSTED_PROXIES");
  return ParseTrustedProxies(v == nullptr ? "" : v);
}

std::string ClientAddress(std::string_view peer, std::string_view x_forwarded_for,
                          const TrustedProxies& proxies) {
  if (proxies.empty() || x_forwarded_for.empty() || !proxies.Contains(peer)) return std::string(peer);
  std::string_view hop = peer;  // the last address known to be a trusted proxy
  std::string_view rest = x_forwarded_for;
  while (!rest.empty()) {
    size_t comma = rest.rfind(',');
    std::string_view entry = TrimOws(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (entry.empty()) continue;
    if (!Bytes(entry)) return std::string(hop);  // not an address: nothing left of it is believed
    if (!proxies.Contains(entry)) return std::string(entry);
    hop = entry;
  }
  return std::string(hop);
}

}  // namespace da::http
