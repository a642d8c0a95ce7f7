#include "model/table_spec.h"

#include <gtest/gtest.h>

#include "model/table_spec_json.h"

namespace da::model {
namespace {

using nlohmann::json;

TEST(TableSpecTest, EnumsParseTheirWireNamesAndNameTheFieldOtherwise) {
  EXPECT_EQ(*ParseQueryMode("remote"), QueryMode::kRemote);
  EXPECT_EQ(*ParseQueryMode(""), QueryMode::kLocal);
  EXPECT_EQ(*ParseSyncStrategy("partitioned"), SyncStrategy::kPartitioned);
  EXPECT_EQ(*ParseSchemaPolicy("freeze"), SchemaPolicy::kFreeze);
  EXPECT_EQ(*ParsePartitionGranularity("year"), PartitionGranularity::kYear);
  EXPECT_EQ(*ParsePartitionGranularity(""), PartitionGranularity::kUnset);
  auto bad = ParseQueryMode("Remote");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "query_mode 'Remote' must be one of local, materialized, remote");
  EXPECT_EQ(ParseSyncStrategy("x\n").status().message(),
            "sync_strategy 'x?' must be one of full_refresh, incremental, partitioned");
  EXPECT_EQ(ToString(SyncStrategy::kFullRefresh), "full_refresh");
  EXPECT_EQ(ToString(PartitionGranularity::kUnset), "");
}

TEST(TableSpecTest, FullRecordJsonRoundTripsWithEnumsAsNames) {
  TableSpec t;
  t.id = "in.c-crm.orders";
  t.name = "orders";
  t.source_type = "keboola";
  t.query_mode = QueryMode::kMaterialized;
  t.sync_strategy = SyncStrategy::kPartitioned;
  t.partition_by = "created";
  t.partition_granularity = PartitionGranularity::kDay;
  t.schema_policy = SchemaPolicy::kFreeze;
  t.primary_key = {"a", "b"};
  t.version = 7;
  json j = TableSpecToJson(t);
  EXPECT_EQ(j["query_mode"], "materialized");
  EXPECT_EQ(j["sync_strategy"], "partitioned");
  EXPECT_EQ(j["partition_granularity"], "day");
  EXPECT_EQ(j["schema_policy"], "freeze");
  EXPECT_EQ(j["primary_key"], json::array({"a", "b"}));
  auto back = TableSpecFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(TableSpecToJson(*back), j);
}

TEST(TableSpecTest, RegistrationRejectsUnknownFieldsWrongTypesAndBadEnums) {
  auto unknown = DecodeRegistration(json{{"name", "t"}, {"colour", "red"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "unknown field(s): 'colour'");
  auto type = DecodeRegistration(json{{"name", 5}});
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().code(), StatusCode::kMalformed);
  EXPECT_EQ(type.status().message(), "field 'name' must be a string, got number");
  auto bad_enum = DecodeRegistration(json{{"name", "t"}, {"query_mode", "cloud"}});
  ASSERT_FALSE(bad_enum.ok());
  EXPECT_EQ(bad_enum.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeRegistration(json::array()).status().code(), StatusCode::kMalformed);
  // Server-managed fields and version are accepted and ignored; a comma list is a key.
  auto ok = DecodeRegistration(json{{"name", "t"},
                                    {"registered_by", "x"},
                                    {"version", 9},
                                    {"primary_key", "a, b"},
                                    {"sync_strategy", nullptr}});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->registered_by, "");
  EXPECT_EQ(ok->version, 1);
  EXPECT_EQ(ok->primary_key, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ok->sync_strategy, SyncStrategy::kFullRefresh);
}

TEST(TableSpecTest, APatchCarriesOnlyItsFieldsAndTheExpectedVersion) {
  auto patch = DecodePatch(json{{"description", "d"}, {"query_mode", "remote"}, {"version", 3},
                                {"id", "t"}});
  ASSERT_TRUE(patch.ok()) << patch.status().message();
  EXPECT_EQ(patch->fields, (std::set<std::string>{"description", "query_mode"}));
  EXPECT_EQ(patch->version, 3);
  EXPECT_EQ(patch->id, "t");
  TableSpec t;
  t.name = "keep";
  t.description = "old";
  ApplyPatch(*patch, &t);
  EXPECT_EQ(t.name, "keep");
  EXPECT_EQ(t.description, "d");
  EXPECT_EQ(t.query_mode, QueryMode::kRemote);
  EXPECT_EQ(PatchToJson(*patch),
            (json{{"description", "d"}, {"query_mode", "remote"}, {"version", 3}, {"id", "t"}}));
  auto null_id = DecodePatch(json{{"id", nullptr}});
  ASSERT_TRUE(null_id.ok());
  EXPECT_FALSE(null_id->id.has_value());
}

TEST(TableSpecTest, ValidateChecksCrossFieldRules) {
  TableSpec t;
  t.id = "t";
  t.name = "t";
  t.source_type = "files";
  EXPECT_TRUE(Validate(t).ok());
  t.source_query = "SELECT 1";
  EXPECT_EQ(Validate(t).message(),
            "source_query is only allowed with query_mode 'materialized', not 'local'");
  t.source_query.clear();
  t.sync_strategy = SyncStrategy::kPartitioned;
  EXPECT_EQ(Validate(t).message(), "partition_by is required when sync_strategy is 'partitioned'");
  t.partition_by = "day";
  t.query_mode = QueryMode::kRemote;
  EXPECT_EQ(Validate(t).code(), StatusCode::kInvalidArgument);
  t.query_mode = QueryMode::kLocal;
  EXPECT_TRUE(Validate(t).ok());
  Normalize(&t);
  EXPECT_EQ(t.partition_granularity, PartitionGranularity::kMonth);
}

}  // namespace
}  // namespace da::model
