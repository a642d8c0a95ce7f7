#pragma once
/// Test helpers for the state layer: a temporary directory holding a fresh system.duckdb.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/hash.h"
#include "common/testing/temp_dir.h"
#include "state/state_db.h"

namespace da::state::testing {

using da::testing::TempDir;

/// Fixture base: `db_` is a migrated StateDb in `dir_/state/system.duckdb`.
class StateDbFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = StateDb::Open(DbPath());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  std::filesystem::path DbPath() const { return dir_.path() / "state" / "system.duckdb"; }

  /// count(*) of a query that returns one BIGINT; -1 on error (fails the test).
  int64_t Count(const std::string& sql, const std::vector<db::Value>& params = {}) {
    return db_->Read([&](db::Connection& c) -> int64_t {
      auto r = c.Query(sql, params);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return -1;
      return r->GetInt64(0, 0);
    });
  }

  TempDir dir_;
  std::unique_ptr<StateDb> db_;
};

}  // namespace da::state::testing
