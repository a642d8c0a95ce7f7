#include "http/client_address.h"

#include <gtest/gtest.h>

namespace da::http {
namespace {

TrustedProxies Parse(std::string_view text) {
  auto p = ParseTrustedProxies(text);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : TrustedProxies{};
}

TEST(TrustedProxies, ParsesAddressesAndCidrsOfBothFamilies) {
  TrustedProxies p = Parse(" 10.0.0.0/8, 192.168.1.5 ,fd00::/8,::1");
  EXPECT_EQ(p.networks.size(), 4u);
  EXPECT_TRUE(p.Contains("10.200.3.4"));
  EXPECT_FALSE(p.Contains("11.0.0.1"));
  EXPECT_TRUE(p.Contains("192.168.1.5"));
  EXPECT_FALSE(p.Contains("192.168.1.6"));
  EXPECT_TRUE(p.Contains("fd12::1"));
  EXPECT_TRUE(p.Contains("::1"));
  EXPECT_FALSE(p.Contains("fe80::1"));
  EXPECT_TRUE(p.Contains("::ffff:10.1.1.1"));  // IPv4-mapped peer of a dual-stack socket
  EXPECT_FALSE(p.Contains("not-an-ip"));
  EXPECT_TRUE(Parse("").empty());
  EXPECT_TRUE(Parse(" , ").empty());
  EXPECT_TRUE(Parse("0.0.0.0/0").Contains("8.8.8.8"));
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0/8", "example.com", "10.0.0.0/", "1.2.3.4/x"}) {
    auto r = ParseTrustedProxies(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// Attack: a client sends `X-Forwarded-For: <someone else>` to move into another rate-limit
// bucket (or to frame an address in the audit log). Without trusted proxies it is ignored.
TEST(ClientAddress, SpoofedForwardedForFromAnUntrustedPeerIsIgnored) {
  EXPECT_EQ(ClientAddress("203.0.113.7", "1.2.3.4", TrustedProxies{}), "203.0.113.7");
  TrustedProxies p = Parse("10.0.0.0/8");
  EXPECT_EQ(ClientAddress("203.0.113.7", "1.2.3.4", p), "203.0.113.7");
}

TEST(ClientAddress, TrustedPeerGivesTheRightMostUntrustedEntry) {
  TrustedProxies p = Parse("10.0.0.0/8,::1");
  EXPECT_EQ(ClientAddress("10.0.0.2", "198.51.100.9", p), "198.51.100.9");
  // The client prepended a spoofed entry; the proxy appended the real one on the right.
  EXPECT_EQ(ClientAddress("10.0.0.2", "1.2.3.4, 198.51.100.9", p), "198.51.100.9");
  // Two proxies in a row: the inner one's own address is skipped.
  EXPECT_EQ(ClientAddress("10.0.0.2", "1.2.3.4, 198.51.100.9, 10.0.0.3", p), "198.51.100.9");
  EXPECT_EQ(ClientAddress("::1", "2001:db8::5", p), "2001:db8::5");
  // No header, or only proxies: the left-most trusted hop.
  EXPECT_EQ(ClientAddress("10.0.0.2", "", p), "10.0.0.2");
  EXPECT_EQ(ClientAddress("10.0.0.2", "10.0.0.5, 10.0.0.4", p), "10.0.0.5");
  // Garbage stops the walk at the last trusted hop.
  EXPECT_EQ(ClientAddress("10.0.0.2", "198.51.100.9, junk", p), "10.0.0.2");
  EXPECT_EQ(ClientAddress("10.0.0.2", "junk, 10.0.0.7", p), "10.0.0.7");
}

}  // namespace
}  // namespace da::http
