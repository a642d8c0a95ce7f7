// Unit tests of the keboola connector's pure parts: config, export filter, form encoding,
// date placeholders, column typing and the discover-and-register plan. The HTTP paths are
// exercised against the Storage API emulator in tests/e2e/keboola_e2e_test.cpp.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "connectors/keboola/keboola_config.h"
#include "connectors/keboola/keboola_connector.h"
#include "connectors/keboola/register_plan.h"
#include "support/status_macros.h"

namespace da::connectors::keboola {
namespace {

TEST(KeboolaConfigTest, TrailingSlashTrimmedAndHttpsRequired) {
  unsetenv("KEBOOLA_STACK_URL");
  unsetenv("KEBOOLA_STORAGE_TOKEN");
  auto c = ResolveKeboolaConfig({{"stack_url", "https://connection.keboola.com//"}, {"token", "t0ken"}});
  ASSERT_OK(c);
  EXPECT_EQ(c->stack_url, "https://connection.keboola.com");
  EXPECT_EQ(c->incremental_window_days, 7);
  EXPECT_FALSE(ResolveKeboolaConfig({{"stack_url", "http://x"}, {"token", "t"}}).ok());
  EXPECT_FALSE(ResolveKeboolaConfig({{"stack_url", "https://x/v2"}, {"token", "t"}}).ok());
  EXPECT_FALSE(ResolveKeboolaConfig({{"stack_url", "https://x"}}).ok());
  auto bad = ResolveKeboolaConfig({{"stack_url", "https://x"}, {"token", "t"}, {"job_timeout_seconds", "0"}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  setenv("KEBOOLA_STACK_URL", "https://env.example/", 1);
  setenv("KEBOOLA_STORAGE_TOKEN", "envtoken", 1);
  auto e = ResolveKeboolaConfig({});
  ASSERT_OK(e);
  EXPECT_EQ(e->stack_url, "https://env.example");
  EXPECT_EQ(e->token, "envtoken");
  unsetenv("KEBOOLA_STACK_URL");
  unsetenv("KEBOOLA_STORAGE_TOKEN");
}

TEST(ExportFilterTest, ParsesAndEncodesAsPhpBracketForm) {
  auto f = ParseExportFilter(R"({"where_filters": [{"column": "status", "operator": "eq",
      "values": ["open", "new"]}, {"column": "amount", "operator": "gt", "values": [10],
      "data_type": "DOUBLE"}], "columns": ["id", "status"], "changed_since": "{today-2d}",
      "limit": 5, "file_type": "parquet"})");
  ASSERT_OK(f);
  EXPECT_EQ(f->where_filters.size(), 2u);
  EXPECT_EQ(f->where_filters[1].values, std::vector<std::string>({"10"}));
  const std::time_t now = 1718000000;  // 2024-06-10 06:13:20 UTC
  auto form = ExportForm(*f, "parquet", true, now);
  ASSERT_OK(form);
  EXPECT_EQ(*form,
            "whereFilters%5B0%5D%5Bcolumn%5D=status&whereFilters%5B0%5D%5Boperator%5D=eq&"
            "whereFilters%5B0%5D%5Bvalues%5D%5B0%5D=open&whereFilters%5B0%5D%5Bvalues%5D%5B1%5D=new&"
            "whereFilters%5B1%5D%5Bcolumn%5D=amount&whereFilters%5B1%5D%5Boperator%5D=gt&"
            "whereFilters%5B1%5D%5Bvalues%5D%5B0%5D=10&whereFilters%5B1%5D%5BdataType%5D=DOUBLE&"
            "columns=id%2Cstatus&changedSince=2024-06-08&limit=5&fileType=parquet");
  auto csv = ExportForm(ExportFilter{}, "csv", true, now);
  EXPECT_EQ(*csv, "gzip=1");
}

TEST(ExportFilterTest, RejectsBadShapes) {
  EXPECT_OK(ParseExportFilter(""));
  for (const char* bad : {"[1]", "{\"where_filters\": {}}", "{\"nope\": 1}",
                          R"({"where_filters": [{"column": "a", "operator": "like", "values": ["x"]}]})",
                          R"({"where_filters": [{"column": "a", "operator": "gt", "values": ["1", "2"]}]})",
                          R"({"where_filters": [{"column": "a;drop", "operator": "eq", "values": ["1"]}]})",
                          R"({"file_type": "xlsx"})", R"({"limit": -1})", "{broken"}) {
    auto f = ParseExportFilter(bad);
    EXPECT_FALSE(f.ok()) << bad;
    if (!f.ok()) {
      EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(ExportFilterTest, ChunkedFirstLoadKnobs) {
  auto f = ParseExportFilter(R"({"initial_load_chunk_days": 14, "max_history_days": 365})");
  ASSERT_OK(f);
  EXPECT_EQ(f->initial_load_chunk_days, 14);
  EXPECT_EQ(f->max_history_days, 365);
  auto none = ParseExportFilter("{}");
  ASSERT_OK(none);
  EXPECT_FALSE(none->initial_load_chunk_days.has_value());
  EXPECT_FALSE(none->max_history_days.has_value());
  for (const char* bad : {R"({"initial_load_chunk_days": 0})", R"({"initial_load_chunk_days": "30"})",
                          R"({"initial_load_chunk_days": 2.5})", R"({"max_history_days": -1})",
                          R"({"max_history_days": 36501})"}) {
    auto r = ParseExportFilter(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("must be an integer in [1, "), std::string::npos) << bad;
  }
  const kit::ConnectorConfig base = {{"stack_url", "https://x"}, {"token", "t"}};
  auto c = ResolveKeboolaConfig(base);
  ASSERT_OK(c);
  EXPECT_EQ(c->initial_load_chunk_days, 30);
  EXPECT_EQ(c->max_history_days, 0);
  auto set = base;
  set["initial_load_chunk_days"] = "7";
  set["max_history_days"] = "90";
  c = ResolveKeboolaConfig(set);
  ASSERT_OK(c);
  EXPECT_EQ(c->initial_load_chunk_days, 7);
  EXPECT_EQ(c->max_history_days, 90);
  for (const char* key : {"initial_load_chunk_days", "max_history_days"}) {
    for (const char* v : {"0", "-3", "x"}) {
      auto bad = base;
      bad[key] = v;
      auto r = ResolveKeboolaConfig(bad);
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << key << "=" << v;
      EXPECT_NE(r.status().message().find(key), std::string::npos);
    }
  }
}

TEST(ExportFilterTest, DatePlaceholders) {
  const std::time_t now = 1718000000;
  EXPECT_EQ(*ExpandDatePlaceholders("{today}", now), "2024-06-10");
  EXPECT_EQ(*ExpandDatePlaceholders("{yesterday}", now), "2024-06-09");
  EXPECT_EQ(*ExpandDatePlaceholders("from {today+1d}", now), "from 2024-06-11");
  EXPECT_EQ(*ExpandDatePlaceholders("{now-1h}", now), "1717996400");
  EXPECT_EQ(*ExpandDatePlaceholders("-7 days", now), "-7 days");
  EXPECT_FALSE(ExpandDatePlaceholders("{tomorrow}", now).ok());
}

TEST(KeboolaTypesTest, BaseTypesUserProviderFirstAndEmptyMapAsList) {
  auto meta = nlohmann::json::parse(R"({
    "a": [{"key": "KBC.datatype.basetype", "value": "STRING", "provider": "keboola.ex"},
          {"key": "KBC.datatype.basetype", "value": "INTEGER", "provider": "user"}],
    "n": [{"key": "KBC.datatype.basetype", "value": "NUMERIC", "provider": "x"},
          {"key": "KBC.datatype.length", "value": "12,2", "provider": "x"}],
    "t": [{"key": "KBC.datatype.basetype", "value": "TIMESTAMP", "provider": "x"}]})");
  EXPECT_EQ(ColumnType(meta, "a"), "BIGINT");
  EXPECT_EQ(ColumnType(meta, "n"), "DECIMAL(12,2)");
  EXPECT_EQ(ColumnType(meta, "t"), "TIMESTAMP");
  EXPECT_EQ(ColumnType(meta, "missing"), "VARCHAR");
  EXPECT_EQ(ColumnType(nlohmann::json::array(), "a"), "VARCHAR");  // PHP's [] for {}
  EXPECT_EQ(ViewName("Seattle-Weather 2"), "seattle_weather_2");
  EXPECT_EQ(ViewName("2020"), "t_2020");
}

TEST(RegisterPlanTest, ClassesNewMatchDriftInvalid) {
  auto info = [](const std::string& id, const std::string& name) {
    kit::TableInfo t;
    t.source_table = id;
    t.name = name;
    return t;
  };
  model::TableSpec match = CandidateRecord("keboola", info("in.c-a.one", "one"));
  model::TableSpec drift_id = CandidateRecord("keboola", info("in.c-a.two", "two"));
  drift_id.source_type = "files";
  model::TableSpec drift_name;
  drift_name.id = "other";
  drift_name.name = "Three";
  auto plan = BuildRegisterPlan(
      "keboola",
      {info("in.c-a.one", "one"), info("in.c-a.two", "two"), info("in.c-a.three", "three"),
       info("in.c-a.x'; drop", "x_drop"), info("in.c-a/../etc", "etc"), info("in.c-a.four", "four")},
      {match, drift_id, drift_name});
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(plan[0].klass, "existing_match");
  EXPECT_EQ(plan[1].klass, "existing_drift");
  EXPECT_EQ(plan[1].existing->source_type, "files");
  EXPECT_EQ(plan[2].klass, "existing_drift");
  EXPECT_EQ(plan[2].existing->id, "other");
  EXPECT_EQ(plan[3].klass, "invalid");
  EXPECT_EQ(plan[4].klass, "invalid");
  EXPECT_EQ(plan[5].klass, "new");
  EXPECT_EQ(plan[5].discovered.bucket, "in.c-a");
  auto j = PlanEntryToJson(plan[1]);
  EXPECT_EQ(j["existing"]["source_type"], "files");
  EXPECT_EQ(j["discovered"]["source_type"], "keboola");
}

}  // namespace
}  // namespace da::connectors::keboola
