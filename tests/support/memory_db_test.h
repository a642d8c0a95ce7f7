#pragma once
/// A GoogleTest fixture with a fresh in-memory DuckDB database (`db_`) and one connection
/// (`conn_`), both set in SetUp.
#include <gtest/gtest.h>

#include <optional>
#include <utility>

#include "db/duckdb.h"
#include "support/status_macros.h"

namespace da::testing {

class MemoryDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db::Database db, db::Database::Open(":memory:"));
    db_.emplace(std::move(db));
    ASSERT_OK_AND_ASSIGN(db::Connection conn, db_->Connect());
    conn_.emplace(std::move(conn));
  }

  std::optional<db::Database> db_;
  std::optional<db::Connection> conn_;
};

}  // namespace da::testing
