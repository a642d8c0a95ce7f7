// Unit tests of the service layer against a real state DB (a temporary system.duckdb): access
// denied / not found per kind of resource, admin-only operations called by a non-admin, and one
// happy path per service.
#include "service/services.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/fs_util.h"
#include "service/errors.h"
#include "model/table_spec_json.h"
#include "support/state_db_fixture.h"

namespace da::service {
namespace {

class ServicesTest : public da::testing::StateDbFixture {
 protected:
  void SetUp() override {
    StateDbFixture::SetUp();
    config_.data_dir = dir_.path() / "data";
    // As LoadConfig sets them: files tables read inside <data_dir>/files only.
    config_.sources["files"] = {{"base_dir", (config_.data_dir / "files").string()},
                                {"roots", (config_.data_dir / "files").string()}};
    ASSERT_TRUE(EnsureDir(config_.ExtractsDir()).ok());
    ASSERT_TRUE(EnsureDir(config_.AnalyticsDir()).ok());
    registry_ = std::make_unique<state::Registry>(
        *db_, [](const std::string& s) { return s == "files"; });
    sync_state_ = std::make_unique<state::SyncStateRepo>(*db_);
    users_ = std::make_unique<state::UserRepo>(*db_);
    groups_ = std::make_unique<state::GroupRepo>(*db_, *users_);
    access_.Bind(db_.get(), groups_.get());
    orchestrator_ = std::make_unique<orchestrator::Orchestrator>(
        config_.ExtractsDir(), config_.AnalyticsDir() / "server.duckdb");
    sync_ = std::make_unique<sync::SyncService>(config_, *db_, *registry_, *orchestrator_,
                                                "/nonexistent/da");
    services_ = std::make_unique<Services>(ServiceContext{config_, *db_, *registry_, *sync_state_,
                                                          *users_, *groups_, *orchestrator_,
                                                          *sync_, access_});
    auto admin = users_->CreateUser("admin@x.io", "Admin", true);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = Caller{{admin->id, admin->email, true, "", "pat", admin->name}, "127.0.0.1"};
    auto user = users_->CreateUser("user@x.io", "User", false);
    ASSERT_TRUE(user.ok()) << user.status().ToString();
    user_ = Caller{{user->id, user->email, false, "", "pat", user->name}, "127.0.0.1"};
  }

  /// A `files` table `id` reading `<id>.csv`.
  static model::TableSpec Spec(const std::string& id) {
    model::TableSpec t;
    t.id = id;
    t.name = id;
    t.source_type = "files";
    t.source_table = id + ".csv";
    return t;
  }

  /// Registers a `files` table `id` as the admin.
  void Register(const std::string& id) {
    auto t = services_->registry.Register(admin_, {Spec(id)});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
  }

  /// Grants table `id` to a new group holding the plain user.
  void GrantToUser(const std::string& id) {
    auto g = services_->access.CreateGroup(admin_, {"readers_" + id, ""});
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    ASSERT_TRUE(services_->access.AddMember(admin_, {g->id, "user@x.io"}).ok());
    auto grant = services_->access.CreateGrant(admin_, {g->id, "table", id});
    ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  }

  /// Writes a Parquet-named file for one-file table `id` and records its sync state.
  void WriteData(const std::string& id, const std::string& bytes) {
    auto t = registry_->Get(id);
    ASSERT_TRUE(t.ok());
    auto path = ParquetPath(config_, *t);
    ASSERT_TRUE(EnsureDir(path.parent_path()).ok());
    std::ofstream(path, std::ios::binary) << bytes;
    ASSERT_TRUE(sync_state_->RecordSuccess(id, 3, static_cast<int64_t>(bytes.size()),
                                           Md5Hex(bytes))
                    .ok());
  }

  InstanceConfig config_;
  std::unique_ptr<state::Registry> registry_;
  std::unique_ptr<state::SyncStateRepo> sync_state_;
  std::unique_ptr<state::UserRepo> users_;
  std::unique_ptr<state::GroupRepo> groups_;
  auth::AccessPolicy access_;
  std::unique_ptr<orchestrator::Orchestrator> orchestrator_;
  std::unique_ptr<sync::SyncService> sync_;
  std::unique_ptr<Services> services_;
  Caller admin_;
  Caller user_;
};

TEST_F(ServicesTest, TableAccessAnswersNotFoundThenPermissionDenied) {
  Register("orders");
  const TableAccess& access = services_->table_access;
  auto unknown = access.Visible(user_.principal, "nope");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  auto bad_id = access.Visible(user_.principal, "a/../b");
  EXPECT_EQ(bad_id.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bad_id.status().message(), "table 'a/../b' not found");
  auto hidden = access.Visible(user_.principal, "orders");
  EXPECT_EQ(hidden.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(hidden.status().message(), "access denied: the table is not granted to you");
  EXPECT_TRUE(access.Visible(admin_.principal, "orders").ok());
  GrantToUser("orders");
  EXPECT_TRUE(access.Visible(user_.principal, "orders").ok());
}

// Attack: a files table registered over a file outside the files roots (another user's
// ~/.config/da/config.json) would publish it to every grantee; registration refuses it.
TEST_F(ServicesTest, RegistryRefusesAFilesTableOutsideTheRoots) {
  model::TableSpec t = Spec("stolen");
  t.source_table = (dir_.path() / "home" / ".config" / "da" / "config.json").string();
  auto refused = services_->registry.Register(admin_, {t});
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message().rfind("source_table: files: '", 0), 0u)
      << refused.status().message();
  EXPECT_EQ(services_->registry.Get(admin_, {"stolen"}).status().code(), StatusCode::kNotFound);
  Register("orders");
  auto moved = services_->registry.Update(
      admin_, {"orders", model::DecodePatch({{"source_table", "/etc/passwd.csv"}}).value()});
  EXPECT_EQ(moved.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ServicesTest, RegistryIsAdminOnlyAndRegisters) {
  auto denied = services_->registry.Register(user_, {Spec("t")});
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->registry.List(user_).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->registry.Get(admin_, {"missing"}).status().code(), StatusCode::kNotFound);

  Register("orders");
  auto got = services_->registry.Get(admin_, {"orders"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto j = ToJson(*got);
  EXPECT_EQ(j["id"], "orders");
  EXPECT_TRUE(j["sync_state"].is_null());
  EXPECT_TRUE(j["last_schema_change"].is_null());
  auto patch = model::DecodePatch({{"description", "all orders"}});
  ASSERT_TRUE(patch.ok()) << patch.status().ToString();
  auto updated = services_->registry.Update(admin_, {"orders", *patch});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->table.description, "all orders");
  EXPECT_EQ(services_->registry.Update(admin_, {"missing", *patch}).status().code(),
            StatusCode::kNotFound);
  auto gone = services_->registry.Unregister(admin_, {"orders"});
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(ToJson(*gone), (nlohmann::json{{"deleted", "orders"}}));
  EXPECT_EQ(services_->registry.List(admin_)->tables.size(), 0u);
}

TEST_F(ServicesTest, CatalogListsOnlyVisibleTablesAndChecksEachTable) {
  Register("orders");
  Register("secrets");
  GrantToUser("orders");
  auto catalog = services_->catalog.Catalog(user_);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  ASSERT_EQ(catalog->tables.size(), 1u);
  EXPECT_EQ(catalog->tables[0].table.id, "orders");
  EXPECT_EQ(ToJson(*catalog)["count"], 1);
  EXPECT_EQ(services_->catalog.Catalog(admin_)->tables.size(), 2u);

  auto v1 = services_->catalog.Tables(user_);
  ASSERT_TRUE(v1.ok());
  auto v1_json = nlohmann::json::parse(*v1->text);
  ASSERT_EQ(v1_json["tables"].size(), 1u);
  EXPECT_EQ(v1_json["tables"][0]["status"], "never_synced");

  EXPECT_EQ(services_->catalog.Schema(user_, {"nope"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(services_->catalog.Schema(user_, {"secrets"}).status().code(),
            StatusCode::kPermissionDenied);
  auto unpublished = services_->catalog.Schema(user_, {"orders"});
  EXPECT_EQ(unpublished.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unpublished.status().message().find("has no published view"), std::string::npos);
  EXPECT_EQ(services_->catalog.Sample(user_, {"secrets", 5}).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->catalog.Sample(user_, {"orders", 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(services_->catalog.Profile(user_, {"secrets", false}).status().code(),
            StatusCode::kPermissionDenied);
  auto refresh = services_->catalog.Profile(user_, {"orders", true});
  EXPECT_EQ(refresh.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refresh.status().message(), "refresh=true needs an admin");
  auto never = services_->catalog.Profile(user_, {"orders", false});
  EXPECT_EQ(never.status().message(), "table 'orders' has not been profiled yet");
}

TEST_F(ServicesTest, CatalogFollowsAGrantAndItsRevocation) {
  Register("orders");
  EXPECT_EQ(nlohmann::json::parse(*services_->catalog.Tables(user_)->text)["tables"].size(), 0u);
  GrantToUser("orders");
  EXPECT_EQ(nlohmann::json::parse(*services_->catalog.Tables(user_)->text)["tables"].size(), 1u);
  auto grants = services_->access.ListGrants(admin_, {"", "table"});
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->grants.size(), 1u);
  ASSERT_TRUE(services_->access.DeleteGrant(admin_, {grants->grants[0].id}).ok());
  EXPECT_EQ(nlohmann::json::parse(*services_->catalog.Tables(user_)->text)["tables"].size(), 0u);
}

TEST_F(ServicesTest, DistributionResolvesDownloadsOfVisibleTablesOnly) {
  Register("orders");
  Register("secrets");
  GrantToUser("orders");
  auto& dist = services_->distribution;
  auto none = dist.Download(user_, {"orders"});
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), "table 'orders' has no data to download");
  WriteData("orders", "PAR1-bytes");
  WriteData("secrets", "PAR1-secret");

  auto target = dist.Download(user_, {"orders"});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ(target->filename, "orders.parquet");
  EXPECT_TRUE(std::filesystem::exists(target->path));
  EXPECT_EQ(dist.Download(user_, {"secrets"}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dist.Download(user_, {"missing"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(dist.File(user_, {"secrets", "2024-01.parquet"}).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(dist.File(user_, {"orders", "../x"}).status().code(), StatusCode::kNotFound);

  auto manifest = dist.Manifest(user_);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  auto j = ToJson(*manifest);
  ASSERT_EQ(j["tables"].size(), 1u);
  EXPECT_EQ(j["tables"][0]["id"], "orders");
  EXPECT_EQ(j["tables"][0]["md5"], Md5Hex("PAR1-bytes"));
  EXPECT_EQ(j["tables"][0]["download_url"], "/api/data/orders/download");
  EXPECT_EQ(ToJson(*dist.Manifest(admin_))["tables"].size(), 2u);
}

TEST_F(ServicesTest, QueryRunsForTheCaller) {
  query::QueryRequest request;
  request.sql = "SELECT 42 AS answer";
  auto out = services_->query.Run(user_, request);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->row_count(), 1u);
  request.sql = "SELECT * FROM secrets";
  Register("secrets");
  EXPECT_FALSE(services_->query.Run(user_, request).ok());
}

TEST_F(ServicesTest, SyncChecksAdminAndAnswersRuns) {
  EXPECT_EQ(services_->sync.Trigger(user_, {}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->sync.ListRuns(user_, {}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->sync.Cancel(user_, {"r1"}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(services_->sync.LockStatus().locked);
  auto latest = services_->sync.LatestRun(user_);
  EXPECT_EQ(latest.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(latest.status().message(), "no sync run yet");
  auto unknown = services_->sync.GetRun(admin_, {"r1"});
  EXPECT_EQ(unknown.status().message(), "sync run 'r1' not found");
  auto runs = services_->sync.ListRuns(admin_, {});
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  EXPECT_EQ(ToJson(*runs), (nlohmann::json{{"runs", nlohmann::json::array()}}));
  EXPECT_EQ(services_->sync.Trigger(admin_, {std::vector<std::string>{"nope"}}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(ServicesTest, AccessIsAdminOnlyButEffectiveAccessIsTheCallers) {
  EXPECT_EQ(services_->access.ListGroups(user_).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->access.CreateGroup(user_, {"g", ""}).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->access.Audit(user_, {}).status().code(), StatusCode::kPermissionDenied);
  auto g = services_->access.CreateGroup(admin_, {"analysts", ""});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(services_->access.CreateGrant(admin_, {g->id, "table", "missing"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(services_->access.WhoCanSee(admin_, {"missing"}).status().code(),
            StatusCode::kNotFound);

  Register("orders");
  GrantToUser("orders");
  auto mine = services_->access.EffectiveAccess(user_);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(mine->tables.size(), 1u);
  EXPECT_EQ(mine->tables[0].via, std::vector<std::string>{"readers_orders"});
  auto who = services_->access.WhoCanSee(admin_, {"orders"});
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(ToJson(*who)["groups"][0]["name"], "readers_orders");
  auto audit = services_->access.Audit(admin_, {});
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  EXPECT_FALSE(audit->entries.empty());
}

TEST_F(ServicesTest, UsersPasswordsTokensAndSessions) {
  EXPECT_EQ(services_->users.ListUsers(user_).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(services_->users.CreateUser(user_, {"z@x.io", ""}).status().code(),
            StatusCode::kPermissionDenied);
  auto other = services_->users.SetPassword(user_, {admin_.principal.user_id, "a-long-passphrase-1"});
  EXPECT_EQ(other.status().code(), StatusCode::kPermissionDenied);
  // Your own password: never with a PAT; from a session, the first one needs no current one.
  EXPECT_EQ(services_->users.SetPassword(user_, {user_.principal.user_id, "a-long-passphrase-1"})
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  Caller in_session = user_;
  in_session.principal.token_kind = state::kTokenKindSession;
  ASSERT_TRUE(
      services_->users.SetPassword(in_session, {user_.principal.user_id, "a-long-passphrase-1"})
          .ok());

  auto wrong = services_->users.PasswordSignIn({{}, "10.0.0.1"}, {"user@x.io", "nope-nope-nope"});
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), "wrong email or password");
  auto session = services_->users.PasswordSignIn({{}, "10.0.0.1"}, {"user@x.io", "a-long-passphrase-1"});
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(session->user.email, "user@x.io");
  EXPECT_FALSE(session->token.token.empty());

  EXPECT_EQ(services_->users.CreateToken(user_, {"ci", std::nullopt}).status().code(),
            StatusCode::kPermissionDenied);  // the caller used a PAT
  Caller by_session = user_;
  by_session.principal.token_kind = state::kTokenKindSession;
  auto pat = services_->users.CreateToken(by_session, {"ci", 30});
  ASSERT_TRUE(pat.ok()) << pat.status().ToString();
  EXPECT_EQ(ToJson(*pat)["name"], "ci");
  EXPECT_EQ(services_->users.ListTokens(user_)->tokens.size(), 1u);
  auto me = services_->users.Me(user_, {true});
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(ToJson(*me)["auth"], "session_cookie");
}

TEST_F(ServicesTest, ExternalIdentitiesFindOrCreateTheAccount) {
  ExternalIdentity id;
  id.issuer = "https://idp.example.test";
  id.subject = "sub-1";
  id.email = "new@x.io";
  id.email_verified = true;
  id.name = "New";
  // Invite-only (the default): nobody is created.
  auto refused = services_->users.ExternalUser({{}, "10.0.0.1"}, id);
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(), "not_invited");
  id.policy.mode = auth::OidcSignUpPolicy::Mode::kOpen;
  auto created = services_->users.ExternalUser({{}, "10.0.0.1"}, id);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->email, "new@x.io");
  auto again = services_->users.ExternalUser({{}, "10.0.0.1"}, id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, created->id);
  // Issue 13: another subject with the same email is refused; an unverified email too.
  ExternalIdentity other = id;
  other.subject = "sub-2";
  EXPECT_EQ(services_->users.ExternalUser({{}, "10.0.0.1"}, other).status().message(), "identity_mismatch");
  ExternalIdentity unverified = id;
  unverified.email_verified = false;
  EXPECT_EQ(services_->users.ExternalUser({{}, "10.0.0.1"}, unverified).status().message(), "email_unverified");
  ASSERT_TRUE(services_->users.UpdateUser(admin_, {created->id, std::nullopt, false}).ok());
  auto inactive = services_->users.ExternalUser({{}, "10.0.0.1"}, id);
  EXPECT_EQ(inactive.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(ServicesTest, DiscoveryIsAdminOnlyAndGenericOverConnectors) {
  EXPECT_EQ(services_->discovery.DiscoverAndRegister(user_, {"files", true, std::nullopt})
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  auto bad_source = services_->discovery.DiscoverAndRegister(admin_, {"a b", true, std::nullopt});
  EXPECT_EQ(bad_source.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(services_->discovery.DiscoverAndRegister(admin_, {"nope", true, std::nullopt})
                .status()
                .code(),
            StatusCode::kNotFound);

  auto base = dir_.path() / "files";
  ASSERT_TRUE(EnsureDir(base).ok());
  std::ofstream(base / "orders.csv") << "id,amount\n1,10\n2,20\n";
  config_.sources["files"]["base_dir"] = base.string();
  config_.sources["files"]["roots"] = base.string();
  auto dry = services_->discovery.DiscoverAndRegister(admin_, {"files", true, std::nullopt});
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->source, "files");
  EXPECT_EQ(dry->plan.size(), 1u);
  EXPECT_EQ(dry->summary["new"], 1);
  EXPECT_TRUE(dry->registered.empty());
  auto real = services_->discovery.DiscoverAndRegister(admin_, {"files", false, std::nullopt});
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  EXPECT_EQ(real->registered.size(), 1u);
}

TEST(ServiceErrors, WireCodesSurviveAsPrefixes) {
  auto wire = SplitWireError(SyncAlreadyInProgress("a sync run is already in progress"));
  ASSERT_TRUE(wire.has_value());
  EXPECT_EQ(wire->code, "sync_already_in_progress");
  EXPECT_EQ(wire->message, "a sync run is already in progress");
  EXPECT_FALSE(SplitWireError(NotFound("x")).has_value());
}

}  // namespace
}  // namespace da::service
