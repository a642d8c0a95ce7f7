#pragma once
/// Test-only: a GoogleTest fixture with a fresh in-memory DuckDB database and one connection.
/// Never include from production code.
#include <gtest/gtest.h>

#include <optional>
#include <utility>

#include "db/duckdb.h"

namespace da::db::testing {

class MemoryDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_.emplace(std::move(db).value());
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    conn_.emplace(std::move(conn).value());
  }

  std::optional<Database> db_;
  std::optional<Connection> conn_;
};

}  // namespace da::db::testing
