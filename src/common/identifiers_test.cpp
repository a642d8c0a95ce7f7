#include "common/identifiers.h"
#include "support/status_macros.h"

#include <gtest/gtest.h>

namespace da {

TEST(Identifiers, StrictAcceptsPlainNames) {
  EXPECT_TRUE(IsStrictIdentifier("flights"));
  EXPECT_TRUE(IsStrictIdentifier("_x1"));
  EXPECT_TRUE(IsStrictIdentifier(std::string(64, 'a')));
}

TEST(Identifiers, StrictRejectsSqlAndOddShapes) {
  EXPECT_FALSE(IsStrictIdentifier(""));
  EXPECT_FALSE(IsStrictIdentifier("1abc"));
  EXPECT_FALSE(IsStrictIdentifier(std::string(65, 'a')));
  EXPECT_FALSE(IsStrictIdentifier("a; DROP TABLE x"));
  EXPECT_FALSE(IsStrictIdentifier("a\"b"));
  EXPECT_FALSE(IsStrictIdentifier("in.c-crm"));
}

TEST(Identifiers, QuotedAllowsKeboolaIds) {
  EXPECT_TRUE(IsQuotedIdentifier("in.c-crm.orders"));
  EXPECT_FALSE(IsQuotedIdentifier("x'y"));
  EXPECT_FALSE(IsQuotedIdentifier("a;b"));
  EXPECT_FALSE(IsQuotedIdentifier(".hidden"));
}

TEST(Identifiers, Quoting) {
  EXPECT_EQ(QuoteIdent("a\"b"), "\"a\"\"b\"");
  auto lit = QuoteLiteral("/tmp/o'neil.csv");
  ASSERT_OK(lit);
  EXPECT_EQ(*lit, "'/tmp/o''neil.csv'");
  EXPECT_FALSE(QuoteLiteral(std::string("a\0b", 3)).ok());
  EXPECT_EQ(ValidateStrictIdentifier("view name", "x y").code(), StatusCode::kInvalidArgument);
}

}  // namespace da

namespace da {
TEST(IdentifiersTest, DataFileNames) {
  for (const char* ok : {"2024-03.parquet", "2024.parquet", "2024-03-01.parquet", "p=1.parquet"}) {
    EXPECT_TRUE(IsDataFileName(ok)) << ok;
  }
  for (const char* bad : {"", ".parquet", "../x.parquet", "a/b.parquet", ".2024.parquet",
                          "2024.parquet.tmp", "x..parquet", "-x.parquet", "a b.parquet",
                          "2024.csv", "x\n.parquet"}) {
    EXPECT_FALSE(IsDataFileName(bad)) << bad;
  }
  EXPECT_FALSE(IsDataFileName(std::string(200, 'a') + ".parquet"));
}
}  // namespace da
