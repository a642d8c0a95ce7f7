#include "common/memory_size.h"

#include <gtest/gtest.h>

namespace da {
namespace {

TEST(MemorySize, ParsesDecimalAndBinaryUnits) {
  EXPECT_EQ(*ParseMemorySize("x", "256MB"), 256'000'000);
  EXPECT_EQ(*ParseMemorySize("x", "256 mib"), 256LL << 20);
  EXPECT_EQ(*ParseMemorySize("x", "1.5GiB"), (3LL << 30) / 2);
  EXPECT_EQ(*ParseMemorySize("x", "2GB"), 2'000'000'000);
  EXPECT_EQ(*ParseMemorySize("x", "1TB"), 1'000'000'000'000);
  EXPECT_EQ(*ParseMemorySize("x", "4194304"), 4LL << 20);
}

TEST(MemorySize, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "MB", "-1GB", "1.2.3GB", "12 parsecs", "0", "512KB", "1GB; DROP", "2PB"}) {
    auto r = ParseMemorySize("DA_EXTRACT_MEMORY_LIMIT", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("DA_EXTRACT_MEMORY_LIMIT"), std::string::npos);
  }
}

TEST(MemorySize, SettingAndDisplay) {
  EXPECT_EQ(MemorySizeSetting(256LL << 20), "256MiB");
  EXPECT_EQ(MemorySizeSetting(1), "1MiB");
  EXPECT_EQ(FormatMemorySize(256LL << 20), "256.0 MiB");
  EXPECT_EQ(FormatMemorySize(3LL << 29), "1.5 GiB");
}

TEST(MemorySize, DefaultIsAQuarterOfWhatTheMachineGives) {
  const int64_t available = AvailableMemoryBytes();
  ASSERT_GT(available, 0);
  EXPECT_EQ(DefaultExtractMemoryLimitBytes(), std::max<int64_t>(256LL << 20, available / 4));
}

}  // namespace
}  // namespace da
