#include "common/text.h"

#include <gtest/gtest.h>

namespace da {
namespace {

TEST(AsciiLowerTest, LowersAsciiLettersOnly) {
  EXPECT_EQ(AsciiLower("Flights_2024 MiB"), "flights_2024 mib");
  EXPECT_EQ(AsciiLower(""), "");
  // UTF-8 bytes pass through unchanged whatever the locale.
  EXPECT_EQ(AsciiLower("\xC3\x89T\xC3\xA9"), "\xC3\x89t\xC3\xA9");
}

}  // namespace
}  // namespace da
