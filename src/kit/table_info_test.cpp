#include "kit/table_info.h"

#include <gtest/gtest.h>

#include "kit/runtime.h"
#include "support/status_macros.h"

namespace da::kit {

TEST(ExtractStatsJson, HasExactlyTheReportKeys) {
  ExtractStats s;
  s.table_id = "in.c-crm.orders";
  s.name = "orders";
  s.status = "ok";
  s.rows = 3000000;
  s.size_bytes = 123456789012;
  s.md5 = "0123456789abcdef0123456789abcdef";
  s.duration_ms = 42;
  s.columns = {{"id", "BIGINT"}, {"when", "TIMESTAMP"}};
  auto j = ExtractStatsToJson(s);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"columns", "duration_ms", "error", "files", "md5",
                                            "name", "rows", "schema_change", "size_bytes",
                                            "status", "table_id", "warnings", "watermark"}));
  EXPECT_TRUE(j["schema_change"].is_null());
  EXPECT_TRUE(j["watermark"].is_null());
  EXPECT_EQ(j["files"], nlohmann::json::array());
  EXPECT_EQ(j["warnings"], nlohmann::json::array());
  EXPECT_EQ(j["size_bytes"].get<int64_t>(), 123456789012);
  EXPECT_EQ(j["columns"][1]["type"], "TIMESTAMP");

  auto back = ExtractStatsFromJson(j);
  ASSERT_OK(back);
  EXPECT_EQ(back->table_id, s.table_id);
  EXPECT_EQ(back->rows, s.rows);
  EXPECT_EQ(back->md5, s.md5);
  EXPECT_EQ(back->columns, s.columns);
  EXPECT_TRUE(back->ok());
}

TEST(ExtractStatsJson, WrongTypesAreMalformed) {
  auto r = ExtractStatsFromJson({{"table_id", "a"}, {"rows", "many"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kMalformed);
  auto c = ExtractStatsFromJson({{"table_id", "a"}, {"columns", {{{"name", 1}}}}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kMalformed);
}

TEST(ExtractReportJson, RoundTripsAndCounts) {
  ExtractReport r;
  r.source = "files";
  ExtractStats ok;
  ok.table_id = "a";
  ok.status = "ok";
  ExtractStats bad;
  bad.table_id = "b";
  bad.error = "not_found: x";
  r.tables = {ok, bad};
  EXPECT_EQ(r.OkCount(), 1u);
  EXPECT_EQ(r.ErrorCount(), 1u);
  auto j = ExtractReportToJson(r);
  EXPECT_EQ(j["source"], "files");
  ASSERT_EQ(j["tables"].size(), 2u);
  EXPECT_EQ(j["tables"][1]["status"], "error");
  auto back = ExtractReportFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_OK(back);
  EXPECT_EQ(back->tables[1].error, "not_found: x");
  EXPECT_FALSE(ExtractReportFromJson({{"source", "x"}, {"tables", 3}}).ok());
}

TEST(TableInfoJson, CarriesColumnsAndLocator) {
  TableInfo t{"weather", {{"date", "DATE"}}, {"date"}, "d", "weather.csv"};
  auto j = TableInfoToJson(t);
  EXPECT_EQ(j["name"], "weather");
  EXPECT_EQ(j["columns"][0]["name"], "date");
  EXPECT_EQ(j["primary_key"][0], "date");
  EXPECT_EQ(j["source_table"], "weather.csv");
}

}  // namespace da::kit
