#include "kit/capabilities.h"
#include "support/status_macros.h"

#include <gtest/gtest.h>

namespace da::kit {

TEST(Capabilities, BitValuesAreTheContract) {
  EXPECT_EQ(static_cast<uint32_t>(Capability::kDiscover), 1u);
  EXPECT_EQ(static_cast<uint32_t>(Capability::kRead), 2u);
  EXPECT_EQ(static_cast<uint32_t>(Capability::kStream), 4u);
  EXPECT_EQ(static_cast<uint32_t>(Capability::kRemote), 8u);
  EXPECT_EQ(static_cast<uint32_t>(Capability::kWrite), 16u);
}

TEST(Capabilities, SetsCombineAndTest) {
  Capability set = Capability::kDiscover | Capability::kRead;
  EXPECT_EQ(static_cast<uint32_t>(set), 3u);
  EXPECT_TRUE(HasCapability(set, Capability::kRead));
  EXPECT_TRUE(HasCapability(set, Capability::kDiscover | Capability::kRead));
  EXPECT_FALSE(HasCapability(set, Capability::kRemote));
  EXPECT_FALSE(HasCapability(set, Capability::kRead | Capability::kRemote));
  EXPECT_FALSE(HasCapability(set, Capability::kNone));
}

TEST(Capabilities, NamesRoundTrip) {
  EXPECT_EQ(CapabilityName(Capability::kStream), "stream");
  EXPECT_EQ(CapabilityName(Capability::kDiscover | Capability::kRead), "");
  Capability set = Capability::kWrite | Capability::kDiscover | Capability::kRemote;
  auto names = CapabilityNames(set);
  EXPECT_EQ(names, (std::vector<std::string>{"discover", "remote", "write"}));
  auto back = CapabilitiesFromNames(names);
  ASSERT_OK(back);
  EXPECT_EQ(*back, set);
  EXPECT_TRUE(CapabilityNames(Capability::kNone).empty());
}

TEST(Capabilities, UnknownNameIsInvalidArgument) {
  auto c = CapabilityFromName("Read");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("'Read'"), std::string::npos);
  auto set = CapabilitiesFromNames({"read", "teleport"});
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("teleport"), std::string::npos);
}

}  // namespace da::kit
