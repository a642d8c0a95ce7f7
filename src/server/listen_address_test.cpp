#include "server/listen_address.h"

#include <gtest/gtest.h>

namespace da::server {
namespace {

TEST(ListenAddress, ParsesHostPortAndRefusesAnythingElse) {
  auto v4 = ParseListenAddress("DA_METRICS_LISTEN", "127.0.0.1:9464");
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9464);
  auto any = ParseListenAddress("DA_METRICS_LISTEN", "localhost:0");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->port, 0);
  auto v6 = ParseListenAddress("DA_METRICS_LISTEN", "[::1]:9464");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  for (const char* bad : {"9464", ":9464", "host:", "host:65536", "host:-1", "host:94a", "::1:9464",
                          "[]:1", "[::1:1", "host:123456"}) {
    auto r = ParseListenAddress("DA_METRICS_LISTEN", bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message().rfind("DA_METRICS_LISTEN must be host:port", 0), 0u) << bad;
  }
}

}  // namespace
}  // namespace da::server
