#include "common/hash.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/fs_util.h"
#include "support/status_macros.h"

namespace da {

TEST(Hash, Md5OfKnownStrings) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Hash, Md5FileMatchesBytes) {
  auto path = std::filesystem::temp_directory_path() / ("da_hash_" + RandomHex(6));
  ASSERT_OK(WriteFileAtomic(path, "abc"));
  auto md5 = Md5File(path);
  ASSERT_OK(md5);
  EXPECT_EQ(*md5, "900150983cd24fb0d6963f7d28e17f72");
  std::filesystem::remove(path);
  EXPECT_EQ(Md5File(path).status().code(), StatusCode::kNotFound);
}

TEST(Hash, RandomHexLength) {
  EXPECT_EQ(RandomHex(16).size(), 32u);
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

}  // namespace da
