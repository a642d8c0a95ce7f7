#include "connectors/singer/singer_messages.h"
#include "support/status_macros.h"

#include <gtest/gtest.h>

namespace da::connectors::singer {
namespace {
using ojson = nlohmann::ordered_json;

std::string TypeOf(const char* schema) { return JsonSchemaToDuckDbType(ojson::parse(schema)); }

TEST(SingerMessages, PeekReadsTopLevelTypeAndStreamOnly) {
  auto h = PeekMessage(
      R"({"type":"RECORD","stream":"users","record":{"type":"inner","stream":"x","id":1},"time_extracted":"t"})");
  ASSERT_OK(h);
  EXPECT_EQ(h->type, "RECORD");
  EXPECT_EQ(h->stream, "users");
  EXPECT_TRUE(h->record_is_object);
  EXPECT_FALSE(h->has_value);

  auto s = PeekMessage(R"(  {"value": {"a": [1, {"type": "no"}]}, "type": "STATE"}  )");
  ASSERT_OK(s);
  EXPECT_EQ(s->type, "STATE");
  EXPECT_TRUE(s->has_value);
  EXPECT_EQ(s->stream, "");

  auto r = PeekMessage(R"({"type":"RECORD","stream":"s","record":5})");
  ASSERT_OK(r);
  EXPECT_FALSE(r->record_is_object);
}

TEST(SingerMessages, PeekRejectsWhatIsNotOneJsonObject) {
  for (const char* bad : {"not json", "{\"type\": \"RECORD\"", "[1,2]", "\"RECORD\"", "",
                          "{\"type\":\"STATE\",\"value\":{bookmarks: 1}}", "{} {}"}) {
    auto h = PeekMessage(bad);
    EXPECT_FALSE(h.ok()) << "accepted: " << bad;
    EXPECT_EQ(h.status().code(), StatusCode::kMalformed) << bad;
  }
}

TEST(SingerMessages, MapsJsonSchemaTypesToDuckDb) {
  EXPECT_EQ(TypeOf(R"({"type":"integer"})"), "BIGINT");
  EXPECT_EQ(TypeOf(R"({"type":["null","integer"]})"), "BIGINT");
  EXPECT_EQ(TypeOf(R"({"type":"number"})"), "DOUBLE");
  EXPECT_EQ(TypeOf(R"({"type":["integer","number"]})"), "DOUBLE");
  EXPECT_EQ(TypeOf(R"({"type":"boolean"})"), "BOOLEAN");
  EXPECT_EQ(TypeOf(R"({"type":"string"})"), "VARCHAR");
  EXPECT_EQ(TypeOf(R"({"type":["null","string"],"format":"date-time"})"), "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(TypeOf(R"({"type":"string","format":"date"})"), "DATE");
  EXPECT_EQ(TypeOf(R"({"type":"string","format":"time"})"), "TIME");
  EXPECT_EQ(TypeOf(R"({"type":"object","properties":{}})"), "JSON");
  EXPECT_EQ(TypeOf(R"({"type":"array","items":{"type":"string"}})"), "VARCHAR[]");
  EXPECT_EQ(TypeOf(R"({"type":"array","items":{"type":"integer"}})"), "BIGINT[]");
  EXPECT_EQ(TypeOf(R"({"type":"array","items":{"type":"object"}})"), "JSON");
  EXPECT_EQ(TypeOf(R"({"type":"array","items":{"type":"array","items":{"type":"integer"}}})"), "JSON");
  EXPECT_EQ(TypeOf(R"({"type":"array"})"), "JSON");
  EXPECT_EQ(TypeOf(R"({"type":["string","integer"]})"), "VARCHAR");
  EXPECT_EQ(TypeOf(R"({"type":["object","array"]})"), "JSON");
  EXPECT_EQ(TypeOf(R"({"type":["object","string"]})"), "VARCHAR");
  EXPECT_EQ(TypeOf(R"({"anyOf":[{"type":"null"},{"type":"string","format":"date-time"}]})"),
            "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(TypeOf(R"({"anyOf":[{"type":"integer"},{"type":"number"}]})"), "DOUBLE");
  EXPECT_EQ(TypeOf(R"({"anyOf":[{"type":"integer"},{"type":"string"}]})"), "VARCHAR");
  EXPECT_EQ(TypeOf(R"({})"), "JSON");
  EXPECT_EQ(TypeOf(R"({"type":"null"})"), "VARCHAR");
}

TEST(SingerMessages, ColumnsKeepPropertyOrder) {
  auto cols = ColumnsFromSchema(ojson::parse(
      R"({"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"type":"string"},"Mid Name":{"type":"boolean"}}})"));
  ASSERT_OK(cols);
  ASSERT_EQ(cols->size(), 3u);
  EXPECT_EQ((*cols)[0], (kit::ColumnInfo{"zeta", "BIGINT"}));
  EXPECT_EQ((*cols)[1], (kit::ColumnInfo{"alpha", "VARCHAR"}));
  EXPECT_EQ((*cols)[2], (kit::ColumnInfo{"Mid Name", "BOOLEAN"}));
}

TEST(SingerMessages, ColumnsRejectUnusableSchemas) {
  EXPECT_FALSE(ColumnsFromSchema(ojson::parse(R"({"type":"object"})")).ok());
  EXPECT_FALSE(ColumnsFromSchema(ojson::parse(R"([1])")).ok());
  EXPECT_FALSE(ColumnsFromSchema(ojson::parse(R"({"properties":{"a\nb":{}}})")).ok());
  EXPECT_FALSE(ColumnsFromSchema(ojson::parse(R"({"properties":{"__da_line__":{}}})")).ok());
  auto clash = ColumnsFromSchema(ojson::parse(R"({"properties":{"id":{},"ID":{}}})"));
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("case"), std::string::npos);
}

TEST(SingerMessages, MergeIsAUnionByNameThatWidensTypes) {
  std::vector<kit::ColumnInfo> cols = {{"id", "BIGINT"}, {"kind", "VARCHAR"}, {"value", "BIGINT"}};
  ASSERT_OK(MergeColumns(cols, {{"id", "BIGINT"}, {"value", "DOUBLE"}, {"at", "DATE"}}));
  EXPECT_EQ(cols, (std::vector<kit::ColumnInfo>{
                      {"id", "BIGINT"}, {"kind", "VARCHAR"}, {"value", "DOUBLE"}, {"at", "DATE"}}));
  ASSERT_OK(MergeColumns(cols, {{"at", "BIGINT"}}));
  EXPECT_EQ(cols.back(), (kit::ColumnInfo{"at", "VARCHAR"}));
  EXPECT_FALSE(MergeColumns(cols, {{"KIND", "VARCHAR"}}).ok());
}

TEST(SingerMessages, TableNamesAreStrictIdentifiers) {
  EXPECT_EQ(TableNameForStream("users"), "users");
  EXPECT_EQ(TableNameForStream("public-Orders.v2"), "public_orders_v2");
  EXPECT_EQ(TableNameForStream("2024 sales"), "t_2024_sales");
  EXPECT_EQ(TableNameForStream("---"), "stream");
  EXPECT_EQ(TableNameForStream(std::string(100, 'a')).size(), 64u);
}

}  // namespace
}  // namespace da::connectors::singer
