#pragma once
/// A GoogleTest fixture for the state layer: `db_` is a migrated StateDb in
/// `dir_/state/system.duckdb`. Link the test with da_state.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "state/state_db.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::testing {

class StateDbFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, state::StateDb::Open(DbPath()));
  }
  std::filesystem::path DbPath() const { return dir_.path() / "state" / "system.duckdb"; }

  /// count(*) of a query that returns one BIGINT; -1 on error (fails the test).
  int64_t Count(const std::string& sql, const std::vector<db::Value>& params = {}) {
    return db_->Read([&](db::Connection& c) -> int64_t {
      auto r = c.Query(sql, params);
      EXPECT_OK(r);
      if (!r.ok()) return -1;
      return r->GetInt64(0, 0);
    });
  }

  TempDir dir_;
  std::unique_ptr<state::StateDb> db_;
};

}  // namespace da::testing
