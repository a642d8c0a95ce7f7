#include "state/state_db.h"

#include <gtest/gtest.h>

#include "state/internal.h"
#include "state/migrations.h"
#include "support/state_db_fixture.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::state {
namespace {

using testing::TempDir;

int64_t CountRows(StateDb& db, const std::string& sql) {
  return db.Read([&](db::Connection& c) -> int64_t {
    auto r = c.Query(sql);
    EXPECT_OK(r);
    return r.ok() ? r->GetInt64(0, 0) : -1;
  });
}

TEST(StateDbTest, MigrationsAreNumberedInOrder) {
  const auto& all = Migrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(all[i].sql.empty());
  }
  EXPECT_EQ(StateDb::ExpectedSchemaVersion(), all.back().version);
  EXPECT_EQ(StateDb::ExpectedSchemaVersion(), static_cast<int>(all.size()));
}

TEST(StateDbTest, FreshOpenCreatesDirsAndAppliesVersion1) {
  TempDir dir;
  auto path = dir.path() / "nested" / "state" / "system.duckdb";
  auto db = StateDb::Open(path);
  ASSERT_OK(db);
  EXPECT_TRUE(std::filesystem::exists(path));
  auto v = (*db)->CurrentSchemaVersion();
  ASSERT_OK(v);
  const int64_t latest = StateDb::ExpectedSchemaVersion();
  EXPECT_EQ(*v, latest);
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM schema_version"), latest);
  for (const char* table : {"table_registry", "sync_state", "sync_history", "users",
                            "access_tokens", "audit_log", "schema_version"}) {
    EXPECT_EQ(CountRows(**db, std::string("SELECT count(*) FROM duckdb_tables() WHERE "
                                          "table_name = '") +
                                  table + "'"),
              1)
        << table;
  }
  // applied_at is recorded (UTC, close to now).
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM schema_version WHERE applied_at IS NOT NULL"),
            latest);
}

TEST(StateDbTest, ReopenDoesNotReapply) {
  TempDir dir;
  auto path = dir.path() / "system.duckdb";
  {
    auto db = StateDb::Open(path);
    ASSERT_OK(db);
    ASSERT_TRUE((*db)
                    ->Write([](db::Connection& c) {
                      return c.Execute(
                          "INSERT INTO users (id, email) VALUES ('u1', 'a@example.com')");
                    })
                    .ok());
  }
  auto db = StateDb::Open(path);
  ASSERT_OK(db);
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM schema_version"),
            StateDb::ExpectedSchemaVersion());
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM users"), 1);
  EXPECT_EQ(*(*db)->CurrentSchemaVersion(), StateDb::ExpectedSchemaVersion());
}

TEST(StateDbTest, NewerDatabaseOpensUnchanged) {
  TempDir dir;
  auto path = dir.path() / "system.duckdb";
  {
    auto raw = db::Database::Open(path.string());
    ASSERT_OK(raw);
    auto c = raw->Connect();
    ASSERT_OK(c);
    ASSERT_TRUE(c->Execute("CREATE TABLE schema_version (version INTEGER NOT NULL, "
                           "applied_at TIMESTAMP DEFAULT now()); "
                           "INSERT INTO schema_version (version) VALUES (99)")
                    .ok());
  }
  auto db = StateDb::Open(path);
  ASSERT_OK(db);
  EXPECT_EQ(*(*db)->CurrentSchemaVersion(), 99);
  // Nothing was applied: no tables of migration 1 exist.
  EXPECT_EQ(CountRows(**db,
                      "SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                      "'table_registry'"),
            0);
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM schema_version"), 1);
}

TEST(StateDbTest, OpenReadOnlyDoesNotMigrateOrWrite) {
  TempDir dir;
  auto path = dir.path() / "system.duckdb";
  auto missing = StateDb::OpenReadOnly(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  {
    // An empty DB file: read-only open must leave it at version 0.
    auto raw = db::Database::Open(path.string());
    ASSERT_OK(raw);
    auto c = raw->Connect();
    ASSERT_OK(c);
    ASSERT_OK(c->Execute("CREATE TABLE marker (x INTEGER)"));
  }
  auto ro = StateDb::OpenReadOnly(path);
  ASSERT_OK(ro);
  EXPECT_EQ(*(*ro)->CurrentSchemaVersion(), 0);
  Status write =
      (*ro)->Write([](db::Connection& c) { return c.Execute("INSERT INTO marker VALUES (1)"); });
  EXPECT_FALSE(write.ok());
}

TEST(StateDbTest, OpenReadOnlySeesMigratedData) {
  TempDir dir;
  auto path = dir.path() / "system.duckdb";
  { ASSERT_OK(StateDb::Open(path)); }
  auto ro = StateDb::OpenReadOnly(path);
  ASSERT_OK(ro);
  EXPECT_EQ(*(*ro)->CurrentSchemaVersion(), StateDb::ExpectedSchemaVersion());
}

TEST(StateDbTest, AFailedWriteRollsBackAndKeepsTheGeneration) {
  TempDir dir;
  auto db = StateDb::Open(dir.path() / "system.duckdb");
  ASSERT_OK(db);
  const uint64_t before = (*db)->Generation();
  Status s = (*db)->Write([](db::Connection& c) -> Status {
    DA_RETURN_IF_ERROR(c.Execute("INSERT INTO users (id, email) VALUES ('u1', 'a@x')"));
    return c.Execute("INSERT INTO users (id, email) VALUES ('u2', 'a@x')");  // duplicate email
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM users"), 0);
  EXPECT_EQ((*db)->Generation(), before);
  // An error the function returns after writing rolls its rows back too.
  Result<int> refused = (*db)->Write([](db::Connection& c) -> Result<int> {
    DA_RETURN_IF_ERROR(c.Execute("INSERT INTO users (id, email) VALUES ('u3', 'b@x')"));
    return FailedPrecondition("changed my mind");
  });
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM users"), 0);
  EXPECT_EQ((*db)->Generation(), before);
}

// Cache invalidation belongs to the layer that writes: every committed Write moves the
// generation the read caches compare, and a write outside Write cannot happen at all.
TEST(StateDbTest, ACommittedWriteMovesTheGenerationAndReadsCannotWrite) {
  TempDir dir;
  auto db = StateDb::Open(dir.path() / "system.duckdb");
  ASSERT_OK(db);
  const uint64_t before = (*db)->Generation();
  Result<std::string> id = (*db)->Write([](db::Connection& c) -> Result<std::string> {
    DA_RETURN_IF_ERROR(c.Execute("INSERT INTO users (id, email) VALUES ('u1', 'a@x')"));
    return std::string("u1");
  });
  ASSERT_OK(id);
  EXPECT_EQ(*id, "u1");
  EXPECT_EQ((*db)->Generation(), before + 1);
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM users"), 1);

  Status sneaky = (*db)->Read([](db::Connection& c) {
    return c.Execute("UPDATE users SET email = 'b@x' WHERE id = 'u1'");
  });
  EXPECT_FALSE(sneaky.ok());
  EXPECT_NE(sneaky.message().find("read-only"), std::string::npos) << sneaky.message();
  EXPECT_EQ((*db)->Generation(), before + 1);
  EXPECT_EQ(CountRows(**db, "SELECT count(*) FROM users WHERE email = 'a@x'"), 1);
  // The connection is usable afterwards: the read-only transaction was ended.
  EXPECT_TRUE((*db)->Write([](db::Connection& c) {
                     return c.Execute("UPDATE users SET name = 'A' WHERE id = 'u1'");
                   }).ok());
  EXPECT_EQ((*db)->Generation(), before + 2);
}

TEST(StateDbTest, ParseIsoMicros) {
  EXPECT_EQ(*internal::ParseIsoMicros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*internal::ParseIsoMicros("1970-01-01T00:00:01.5Z"), 1500000);
  EXPECT_EQ(*internal::ParseIsoMicros("1970-01-01 00:00:01.000002"), 1000002);
  EXPECT_EQ(*internal::ParseIsoMicros("1970-01-02"), 86400LL * 1000000);
  EXPECT_EQ(*internal::ParseIsoMicros("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*internal::ParseIsoMicros("2026-11-22T04:15:00Z"), 1795320900LL * 1000000);
  for (const char* bad : {"", "2026", "2026-13-01", "2026-02-30", "2026-01-01T25:00:00",
                          "2026-01-01T00:00:00X", "2026-01-01T00:00:00.Z", "yesterday"}) {
    auto r = internal::ParseIsoMicros(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace da::state
