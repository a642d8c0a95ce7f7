#include "state/registry.h"

#include <gtest/gtest.h>

#include "state/groups.h"
#include "state/sync_state.h"
#include "state/users.h"
#include "support/state_db_fixture.h"
#include "support/status_macros.h"

namespace da::state {
namespace {

using nlohmann::json;

class RegistryTest : public testing::StateDbFixture {
 protected:
  void SetUp() override {
    StateDbFixture::SetUp();
    registry_ = std::make_unique<Registry>(
        *db_, [](const std::string& s) { return s == "files" || s == "keboola"; });
  }

  /// Registers a JSON body as the API does: decoded at the edge, then registered.
  Result<model::TableSpec> RegisterJson(const json& body, const std::string& actor) {
    DA_ASSIGN_OR_RETURN(model::TableSpec spec, model::DecodeRegistration(body));
    return registry_->Register(std::move(spec), actor);
  }
  /// Updates with a JSON patch as the API does.
  Result<model::TableSpec> UpdateJson(const std::string& id, const json& patch,
                                      const std::string& actor) {
    DA_ASSIGN_OR_RETURN(model::TableSpecPatch p, model::DecodePatch(patch));
    return registry_->Update(id, p, actor);
  }

  static json Flights() {
    return json{{"name", "flights"},
                {"source_type", "files"},
                {"source_table", "data/flights-3m.parquet"},
                {"description", "US flights"},
                {"primary_key", {"id", "date"}}};
  }

  int64_t AuditRows(const std::string& action) {
    return Count("SELECT count(*) FROM audit_log WHERE action = $1", {action});
  }

  /// Registers Flights() with `field` replaced by `value`; expects `code` and a message that
  /// names `field`.
  void ExpectRejected(const std::string& field, const json& value, StatusCode code) {
    json body = Flights();
    body[field] = value;
    auto r = RegisterJson(body, "admin@example.com");
    ASSERT_FALSE(r.ok()) << field << " = " << value.dump();
    EXPECT_EQ(r.status().code(), code) << field << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(field), std::string::npos)
        << field << ": " << r.status().message();
    EXPECT_EQ(Count("SELECT count(*) FROM table_registry"), 0);
  }

  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, RegisterStoresEveryFieldAndDerivesId) {
  auto r = RegisterJson(Flights(), "admin@example.com");
  ASSERT_OK(r);
  EXPECT_EQ(r->id, "flights");
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->registered_by, "admin@example.com");
  ASSERT_EQ(r->registered_at.size(), 20u);  // YYYY-MM-DDTHH:MM:SSZ
  EXPECT_EQ(r->registered_at.back(), 'Z');
  EXPECT_EQ(r->updated_at, r->registered_at);

  auto got = registry_->Get("flights");
  ASSERT_OK(got);
  EXPECT_EQ(got->name, "flights");
  EXPECT_EQ(got->source_type, "files");
  EXPECT_EQ(got->source_table, "data/flights-3m.parquet");
  EXPECT_EQ(got->description, "US flights");
  EXPECT_EQ(got->query_mode, model::QueryMode::kLocal);
  EXPECT_EQ(got->sync_strategy, model::SyncStrategy::kFullRefresh);
  EXPECT_EQ(got->primary_key, (std::vector<std::string>{"id", "date"}));
  EXPECT_EQ(got->registered_at, r->registered_at);
  EXPECT_EQ(model::TableSpecToJson(*got), model::TableSpecToJson(*r));
  // primary_key is stored as a JSON array text.
  EXPECT_EQ(Count("SELECT count(*) FROM table_registry WHERE primary_key = '[\"id\",\"date\"]'"),
            1);
}

TEST_F(RegistryTest, ExplicitQuotedIdAndPartitionedDefaults) {
  json body = {{"id", "in.c-crm.orders"},        {"name", "orders"},
               {"source_type", "keboola"},       {"bucket", "in.c-crm"},
               {"sync_strategy", "partitioned"}, {"partition_by", "created_at"}};
  auto r = RegisterJson(body, "a");
  ASSERT_OK(r);
  EXPECT_EQ(r->id, "in.c-crm.orders");
  EXPECT_EQ(r->partition_granularity, model::PartitionGranularity::kMonth);
  EXPECT_EQ(registry_->Get("in.c-crm.orders")->bucket, "in.c-crm");
}

TEST_F(RegistryTest, SchemaPolicyDefaultsToEvolveAndPersists) {
  auto r = RegisterJson(Flights(), "a");
  ASSERT_OK(r);
  EXPECT_EQ(r->schema_policy, model::SchemaPolicy::kEvolve);
  EXPECT_EQ(model::TableSpecToJson(*r)["schema_policy"], "evolve");
  EXPECT_EQ(Count("SELECT count(*) FROM table_registry WHERE schema_policy = 'evolve'"), 1);

  auto up = UpdateJson("flights", json{{"schema_policy", "freeze"}}, "a");
  ASSERT_OK(up);
  EXPECT_EQ(registry_->Get("flights")->schema_policy, model::SchemaPolicy::kFreeze);
  // null resets to the default.
  up = UpdateJson("flights", json{{"schema_policy", nullptr}}, "a");
  ASSERT_OK(up);
  EXPECT_EQ(registry_->Get("flights")->schema_policy, model::SchemaPolicy::kEvolve);
  auto bad = UpdateJson("flights", json{{"schema_policy", "FREEZE"}}, "a");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);

  json body = Flights();
  body["name"] = "flights2";
  body["id"] = "flights2";
  body["schema_policy"] = "freeze";
  auto frozen = RegisterJson(body, "a");
  ASSERT_OK(frozen);
  EXPECT_EQ(registry_->Get("flights2")->schema_policy, model::SchemaPolicy::kFreeze);
  // The migration adds sync_history.schema_change for the sync service to fill.
  EXPECT_EQ(Count("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'sync_history' "
                  "AND column_name = 'schema_change'"),
            1);
}

TEST_F(RegistryTest, PrimaryKeyAcceptsCommaSeparatedString) {
  json body = Flights();
  body["primary_key"] = "a, b";
  auto r = RegisterJson(body, "a");
  ASSERT_OK(r);
  EXPECT_EQ(r->primary_key, (std::vector<std::string>{"a", "b"}));
}

TEST_F(RegistryTest, RejectsNonObjectBody) {
  for (const json& body : {json::array(), json("flights"), json(1), json(nullptr)}) {
    auto r = RegisterJson(body, "a");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed) << body.dump();
  }
}

TEST_F(RegistryTest, WrongJsonTypeIsMalformedNamingField) {
  ExpectRejected("name", 5, StatusCode::kMalformed);
  ExpectRejected("description", json::array(), StatusCode::kMalformed);
  ExpectRejected("primary_key", 7, StatusCode::kMalformed);
  ExpectRejected("primary_key", json::array({"a", 1}), StatusCode::kMalformed);
  ExpectRejected("query_mode", true, StatusCode::kMalformed);
  ExpectRejected("source_table", json::object(), StatusCode::kMalformed);
}

TEST_F(RegistryTest, UnknownFieldsAreNamed) {
  json body = Flights();
  body["colour"] = "blue";
  body["is_public"] = true;
  auto r = RegisterJson(body, "a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("colour"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("is_public"), std::string::npos) << r.status().message();
}

TEST_F(RegistryTest, EveryValidationRule) {
  const auto kInvalid = StatusCode::kInvalidArgument;
  ExpectRejected("id", "bad id", kInvalid);
  ExpectRejected("id", "x\"; DROP TABLE users; --", kInvalid);
  ExpectRejected("name", "", kInvalid);
  ExpectRejected("name", "1flights", kInvalid);
  ExpectRejected("name", "flights; DROP TABLE users", kInvalid);
  ExpectRejected("name", "in.c-crm", kInvalid);
  ExpectRejected("name", std::string(65, 'a'), kInvalid);
  ExpectRejected("query_mode", "cached", kInvalid);
  ExpectRejected("sync_strategy", "sometimes", kInvalid);
  ExpectRejected("source_type", "ftp", kInvalid);
  ExpectRejected("source_type", "", kInvalid);
  ExpectRejected("source_type", "../etc", kInvalid);
  ExpectRejected("primary_key", json::array({"id", "x) OR 1=1 --"}), kInvalid);
  ExpectRejected("primary_key", json::array({"id", "id"}), kInvalid);
  ExpectRejected("incremental_column", "updated at", kInvalid);
  ExpectRejected("partition_by", "a;b", kInvalid);
  ExpectRejected("partition_granularity", "week", kInvalid);
  ExpectRejected("schema_policy", "melt", kInvalid);
  ExpectRejected("bucket", "in c", kInvalid);
  ExpectRejected("description", std::string(4097, 'd'), kInvalid);
  ExpectRejected("source_table", std::string("a\nb"), kInvalid);
  ExpectRejected("source_table", std::string(4097, 's'), kInvalid);
  ExpectRejected("source_query", "SELECT 1", kInvalid);  // query_mode is local
  ExpectRejected("sync_schedule", std::string("every 5m\r"), kInvalid);

  // Cross-field rules name the field that is missing / conflicting.
  {
    json body = Flights();
    body["sync_strategy"] = "partitioned";
    auto r = RegisterJson(body, "a");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), kInvalid);
    EXPECT_NE(r.status().message().find("partition_by"), std::string::npos);
  }
  {
    json body = Flights();
    body["sync_strategy"] = "partitioned";
    body["partition_by"] = "date";
    body["query_mode"] = "remote";
    auto r = RegisterJson(body, "a");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), kInvalid);
    EXPECT_NE(r.status().message().find("remote"), std::string::npos);
    EXPECT_NE(r.status().message().find("partitioned"), std::string::npos);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM table_registry"), 0);
  EXPECT_EQ(AuditRows("register_table"), 0);
}

TEST_F(RegistryTest, BoundaryValuesAccepted) {
  json body = Flights();
  body["description"] = std::string(4096, 'd');
  body["source_table"] = "data/*.parquet; with spaces and 'quotes'";
  body["name"] = std::string(64, 'a');
  body["query_mode"] = "materialized";
  body["source_query"] = "SELECT * FROM t WHERE x = 'y'";
  body["partition_granularity"] = "day";
  auto r = RegisterJson(body, "a");
  ASSERT_OK(r);
  EXPECT_EQ(registry_->Get(r->id)->source_table, "data/*.parquet; with spaces and 'quotes'");
}

TEST_F(RegistryTest, ValidateChecksCompleteRecord) {
  model::TableSpec t;
  t.id = "t";
  t.name = "t";
  t.source_type = "files";
  EXPECT_OK(registry_->Validate(t));
  t.source_type = "unknown";
  EXPECT_EQ(registry_->Validate(t).code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, DuplicateIdAndNameAreAlreadyExists) {
  ASSERT_OK(RegisterJson(Flights(), "a"));
  auto again = RegisterJson(Flights(), "a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "table 'flights' is already registered");

  json other = Flights();
  other["id"] = "flights_copy";
  auto same_name = RegisterJson(other, "a");
  ASSERT_FALSE(same_name.ok());
  EXPECT_EQ(same_name.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(same_name.status().message().find("'flights'"), std::string::npos);
  EXPECT_EQ(Count("SELECT count(*) FROM table_registry"), 1);
  EXPECT_EQ(AuditRows("register_table"), 1);
}

TEST_F(RegistryTest, UpdateKeepsOmittedFieldsAndBumpsVersion) {
  auto reg = RegisterJson(Flights(), "a");
  ASSERT_OK(reg);
  auto up = UpdateJson("flights", json{{"description", "new"}, {"version", 1}}, "b");
  ASSERT_OK(up);
  EXPECT_EQ(up->version, 2);
  EXPECT_EQ(up->description, "new");
  auto got = registry_->Get("flights");
  ASSERT_OK(got);
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(got->description, "new");
  EXPECT_EQ(got->source_table, "data/flights-3m.parquet");
  EXPECT_EQ(got->primary_key, (std::vector<std::string>{"id", "date"}));
  EXPECT_EQ(got->registered_by, "a");
  EXPECT_EQ(got->registered_at, reg->registered_at);
  EXPECT_EQ(model::TableSpecToJson(*got), model::TableSpecToJson(*up));

  // Without version the update applies; server-managed fields in the body are ignored.
  auto up2 = UpdateJson(
      "flights", json{{"name", "flights2"}, {"id", "flights"}, {"registered_by", "mallory"}}, "b");
  ASSERT_OK(up2);
  EXPECT_EQ(up2->version, 3);
  EXPECT_EQ(registry_->Get("flights")->name, "flights2");
  EXPECT_EQ(registry_->Get("flights")->registered_by, "a");
  EXPECT_EQ(AuditRows("update_table"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'update_table' AND "
                  "resource = 'flights' AND actor = 'b' AND params LIKE '%flights2%'"),
            1);
}

TEST_F(RegistryTest, VersionMismatchIsAbortedAndChangesNothing) {
  ASSERT_OK(RegisterJson(Flights(), "a"));
  ASSERT_OK(UpdateJson("flights", json{{"description", "v2"}}, "a"));
  auto r = UpdateJson("flights", json{{"description", "stale"}, {"version", 1}}, "a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_EQ(r.status().message(), "version mismatch: expected 1, stored 2");
  auto got = registry_->Get("flights");
  EXPECT_EQ(got->description, "v2");
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(AuditRows("update_table"), 1);
}

TEST_F(RegistryTest, UpdateErrors) {
  ASSERT_OK(RegisterJson(Flights(), "a"));
  json other = Flights();
  other["name"] = "weather";
  other["id"] = "weather";
  ASSERT_OK(RegisterJson(other, "a"));

  auto missing = UpdateJson("nope", json{{"description", "x"}}, "a");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  auto change_id = UpdateJson("flights", json{{"id", "other"}}, "a");
  EXPECT_EQ(change_id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(change_id.status().message().find("id"), std::string::npos);

  auto rename = UpdateJson("flights", json{{"name", "weather"}}, "a");
  EXPECT_EQ(rename.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(rename.status().message().find("'weather'"), std::string::npos);

  auto bad = UpdateJson("flights", json{{"query_mode", "bogus"}}, "a");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("query_mode"), std::string::npos);

  auto wrong_type = UpdateJson("flights", json{{"version", "1"}}, "a");
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kMalformed);
  EXPECT_NE(wrong_type.status().message().find("version"), std::string::npos);

  auto unknown = UpdateJson("flights", json{{"folder", "x"}}, "a");
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("folder"), std::string::npos);

  EXPECT_EQ(UpdateJson("flights", json::array(), "a").status().code(),
            StatusCode::kMalformed);

  auto got = registry_->Get("flights");
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->name, "flights");
  EXPECT_EQ(AuditRows("update_table"), 0);
}

TEST_F(RegistryTest, LeavingMaterializedClearsSourceQuery) {
  json body = Flights();
  body["query_mode"] = "materialized";
  body["source_query"] = "SELECT 1";
  ASSERT_OK(RegisterJson(body, "a"));
  auto up = UpdateJson("flights", json{{"query_mode", "local"}}, "a");
  ASSERT_OK(up);
  EXPECT_EQ(registry_->Get("flights")->source_query, "");
}

// Attack: grants outliving their table. A table unregistered and later registered again under
// the same id must not be visible at once to the groups the old one was granted to.
TEST_F(RegistryTest, UnregisterDeletesTheTablesGrantsSoALaterTableStartsWithNone) {
  UserRepo users(*db_);
  GroupRepo groups(*db_, users);
  auto analyst = users.CreateUser("analyst@example.com", "A", false);
  ASSERT_OK(analyst);
  auto g = groups.CreateGroup("flight-readers", "");
  ASSERT_OK(g);
  ASSERT_OK(groups.AddMember(g->id, "analyst@example.com"));
  ASSERT_OK(RegisterJson(Flights(), "a"));
  json other = Flights();
  other["name"] = "weather";
  ASSERT_OK(RegisterJson(other, "a"));
  ASSERT_OK(groups.CreateGrant(g->id, "table", "flights", "a"));
  ASSERT_OK(groups.CreateGrant(kEveryoneGroupId, "table", "flights", "a"));
  ASSERT_OK(groups.CreateGrant(g->id, "table", "weather", "a"));
  EXPECT_EQ(*groups.GrantedTableIds(analyst->id), (std::vector<std::string>{"flights", "weather"}));

  ASSERT_OK(registry_->Unregister("flights", "admin-1"));
  EXPECT_EQ(Count("SELECT count(*) FROM resource_grants WHERE resource_id = 'flights'"), 0);
  EXPECT_EQ(*groups.GrantedTableIds(analyst->id), (std::vector<std::string>{"weather"}));
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'unregister_table' AND "
                  "actor = 'admin-1' AND json_extract(params, '$.grants_removed')::INT = 2 AND "
                  "json_array_length(params, '$.grants') = 2"),
            1);
  // The audit row names each deleted grant with its group.
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'unregister_table' AND "
                  "params::VARCHAR LIKE '%\"group_id\":\"everyone\"%' AND "
                  "params::VARCHAR LIKE '%\"group_id\":\"" + g->id + "\"%'"),
            1);
  // A new table under the same id: nobody but admins sees it until it is granted again.
  ASSERT_OK(RegisterJson(Flights(), "a"));
  EXPECT_EQ(*groups.GrantedTableIds(analyst->id), (std::vector<std::string>{"weather"}));
  auto access = groups.TableAccess("flights");
  ASSERT_OK(access);
  for (const auto& e : *access) EXPECT_NE(e.user.email, "analyst@example.com");
}

TEST_F(RegistryTest, UnregisterRemovesStateAndHistory) {
  ASSERT_OK(RegisterJson(Flights(), "a"));
  json other = Flights();
  other["name"] = "weather";
  ASSERT_OK(RegisterJson(other, "a"));
  SyncStateRepo sync(*db_);
  for (const char* id : {"flights", "weather"}) {
    ASSERT_OK(sync.RecordSuccess(id, 10, 100, std::string(32, 'a')));
    ASSERT_OK(sync.AppendHistory({"run1", id, "", "ok", 10, 100, 5, "", ""}));
    ASSERT_OK(sync.AppendHistory({"run2", id, "", "error", 0, 0, 5, "boom", ""}));
  }
  auto removed = registry_->Unregister("flights", "c");
  ASSERT_OK(removed);
  EXPECT_EQ(removed->id, "flights");
  EXPECT_EQ(registry_->Get("flights").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM sync_state WHERE table_id = 'flights'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM sync_history WHERE table_id = 'flights'"), 0);
  // The other table keeps its rows.
  EXPECT_EQ(Count("SELECT count(*) FROM sync_state WHERE table_id = 'weather'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM sync_history WHERE table_id = 'weather'"), 2);
  EXPECT_EQ(AuditRows("unregister_table"), 1);

  EXPECT_EQ(registry_->Unregister("flights", "c").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(AuditRows("unregister_table"), 1);
  // The name is free again.
  EXPECT_OK(RegisterJson(Flights(), "a"));
  EXPECT_EQ(AuditRows("register_table"), 3);
}

TEST_F(RegistryTest, ListIsOrderedById) {
  for (const char* name : {"zeta", "alpha", "mid"}) {
    json body = Flights();
    body["name"] = name;
    ASSERT_OK(RegisterJson(body, "a"));
  }
  auto all = registry_->List();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "alpha");
  EXPECT_EQ((*all)[1].id, "mid");
  EXPECT_EQ((*all)[2].id, "zeta");
}

TEST_F(RegistryTest, TableSpecJsonRoundTrip) {
  auto r = RegisterJson(Flights(), "a");
  ASSERT_OK(r);
  json j = model::TableSpecToJson(*r);
  EXPECT_TRUE(j["primary_key"].is_array());
  auto back = model::TableSpecFromJson(j);
  ASSERT_OK(back);
  EXPECT_EQ(model::TableSpecToJson(*back), j);
  j["version"] = "2";
  EXPECT_EQ(model::TableSpecFromJson(j).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(model::TableSpecFromJson(json::array()).status().code(), StatusCode::kMalformed);
}

TEST(DeriveTableIdTest, TrimsLowersAndReplacesSpaces) {
  EXPECT_EQ(DeriveTableId("My Table "), "my_table");
  EXPECT_EQ(DeriveTableId("  Flights"), "flights");
  EXPECT_EQ(DeriveTableId("   "), "");
}

}  // namespace
}  // namespace da::state
