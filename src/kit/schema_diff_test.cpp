#include "kit/schema_diff.h"
#include "support/status_macros.h"

#include <gtest/gtest.h>

namespace da::kit {
namespace {

TEST(SchemaDiff, SameColumnsInAnotherOrderIsNoChange) {
  std::vector<ColumnInfo> a = {{"id", "BIGINT"}, {"name", "VARCHAR"}};
  std::vector<ColumnInfo> b = {{"name", "VARCHAR"}, {"id", "BIGINT"}};
  EXPECT_TRUE(DiffColumns(a, b).empty());
  EXPECT_EQ(DescribeSchemaChange(DiffColumns(a, b)), "no change");
}

TEST(SchemaDiff, ReportsAddedRemovedAndRetyped) {
  std::vector<ColumnInfo> before = {{"date", "DATE"}, {"wind", "DOUBLE"}, {"weather", "VARCHAR"}};
  std::vector<ColumnInfo> after = {{"date", "DATE"}, {"gust", "DOUBLE"}, {"wind", "VARCHAR"},
                                   {"Weather", "VARCHAR"}};
  SchemaChange c = DiffColumns(before, after);
  EXPECT_EQ(c.added, (std::vector<ColumnInfo>{{"gust", "DOUBLE"}, {"Weather", "VARCHAR"}}));
  EXPECT_EQ(c.removed, (std::vector<ColumnInfo>{{"weather", "VARCHAR"}}));
  EXPECT_EQ(c.retyped, (std::vector<RetypedColumn>{{"wind", "DOUBLE", "VARCHAR"}}));
  EXPECT_EQ(DescribeSchemaChange(c),
            "added gust (DOUBLE), Weather (VARCHAR); removed weather (VARCHAR); retyped wind: "
            "DOUBLE -> VARCHAR");
}

TEST(SchemaDiff, JsonRoundTrip) {
  SchemaChange c;
  c.added = {{"a", "BIGINT"}};
  c.retyped = {{"b", "INTEGER", "BIGINT"}};
  nlohmann::json j = SchemaChangeToJson(c);
  EXPECT_EQ(j, nlohmann::json::parse(R"({"added":[{"name":"a","type":"BIGINT"}],"removed":[],
      "retyped":[{"name":"b","from":"INTEGER","to":"BIGINT"}]})"));
  auto back = SchemaChangeFromJson(j);
  ASSERT_OK(back);
  EXPECT_EQ(*back, c);
  EXPECT_EQ(SchemaChangeFromJson(nlohmann::json::parse(R"({"retyped":[{"name":"b"}]})"))
                .status()
                .code(),
            StatusCode::kMalformed);
  EXPECT_EQ(SchemaChangeFromJson(nlohmann::json::array()).status().code(), StatusCode::kMalformed);
}

TEST(ExtractStatsJson, NewFieldsRoundTrip) {
  ExtractStats s;
  s.table_id = "t";
  s.status = "ok";
  s.schema_change = SchemaChange{{{"x", "DATE"}}, {}, {}};
  s.warnings = {"careful"};
  s.files = {{"2001-01.parquet", "0123456789abcdef0123456789abcdef", 10, 2}};
  s.watermark = "2001-01-31";
  nlohmann::json j = ExtractStatsToJson(s);
  EXPECT_EQ(j["schema_change"]["added"][0]["name"], "x");
  EXPECT_EQ(j["files"][0]["rows"], 2);
  EXPECT_EQ(j["watermark"], "2001-01-31");
  auto back = ExtractStatsFromJson(j);
  ASSERT_OK(back);
  EXPECT_EQ(back->schema_change, s.schema_change);
  EXPECT_EQ(back->warnings, s.warnings);
  EXPECT_EQ(back->files, s.files);
  EXPECT_EQ(back->watermark, s.watermark);
  // Reports of older binaries (no new keys) still parse.
  auto old = ExtractStatsFromJson({{"table_id", "t"}, {"status", "ok"}});
  ASSERT_OK(old);
  EXPECT_FALSE(old->schema_change.has_value());
  EXPECT_FALSE(old->watermark.has_value());
  EXPECT_EQ(ExtractStatsFromJson({{"files", "x"}}).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(ExtractStatsFromJson({{"watermark", 3}}).status().code(), StatusCode::kMalformed);
}

}  // namespace
}  // namespace da::kit
