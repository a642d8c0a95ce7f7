#pragma once
/// Who a request comes from: the socket peer, or — only when the peer is a proxy the operator
/// trusts (`DA_TRUSTED_PROXIES`) — the client that proxy names in `X-Forwarded-For`.
///
/// `DA_TRUSTED_PROXIES`: comma-separated IPv4/IPv6 addresses or CIDRs (`10.0.0.0/8`,
/// `::1/128`, `192.168.1.5`); default none, so a client can never pick its own address by
/// sending the header. Rate limits, the per-client connection cap's key, audit rows and logs all
/// use the address ClientAddress resolves.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace da::http {

/// One network: `bits` leading bits of `bytes` (IPv4 addresses are kept as IPv4-mapped IPv6).
struct Cidr {
  std::array<uint8_t, 16> bytes{};
  int bits = 0;  ///< 0..128
};

/// The networks whose X-Forwarded-For is believed (empty: none).
struct TrustedProxies {
  std::vector<Cidr> networks;
  bool empty() const { return networks.empty(); }
  /// True when `ip` (textual IPv4 or IPv6, IPv4-mapped IPv6 included) lies in one of them.
  bool Contains(std::string_view ip) const;
};

/// Parses the DA_TRUSTED_PROXIES syntax ("" → none). invalid_argument naming the bad entry.
Result<TrustedProxies> ParseTrustedProxies(std::string_view text);
/// DA_TRUSTED_PROXIES from the environment.
Result<TrustedProxies> TrustedProxiesFromEnv();

/// The client's address: `peer` unless `peer` is a trusted proxy; then, walking
/// `x_forwarded_for` (all its values joined by ',') from the right, the first entry that is not
/// itself a trusted proxy (the left-most entry when all are; the last trusted hop when an entry
/// is not an IP address). Never allocates more than the answer.
std::string ClientAddress(std::string_view peer, std::string_view x_forwarded_for,
                          const TrustedProxies& proxies);

}  // namespace da::http
