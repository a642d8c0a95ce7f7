#include "db/duckdb.h"

#include <gtest/gtest.h>

#include "support/memory_db_test.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::db {

using DuckDbTest = testing::MemoryDbTest;

TEST_F(DuckDbTest, QueryReturnsTypedCells) {
  auto r = conn_->Query("SELECT 42::BIGINT AS n, 'x' AS s, NULL::INT AS z, 1.5 AS d, true AS b");
  ASSERT_OK(r);
  EXPECT_EQ(r->RowCount(), 1u);
  EXPECT_EQ(r->ColumnCount(), 5u);
  EXPECT_EQ(r->ColumnName(0), "n");
  EXPECT_EQ(r->ColumnTypeName(0), "BIGINT");
  EXPECT_EQ(r->GetInt64(0, 0), 42);
  EXPECT_EQ(r->GetString(1, 0), "x");
  EXPECT_TRUE(r->IsNull(2, 0));
  EXPECT_FALSE(r->GetOptString(2, 0).has_value());
  EXPECT_DOUBLE_EQ(r->GetDouble(3, 0), 1.5);
  EXPECT_TRUE(std::get<bool>(r->GetValue(4, 0)));
}

TEST_F(DuckDbTest, ErrorsCarryDuckDbMessage) {
  auto r = conn_->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no_such_table"), std::string::npos);
}

TEST_F(DuckDbTest, PreparedParametersAreBoundNotPasted) {
  ASSERT_OK(conn_->Execute("CREATE TABLE t(a VARCHAR, b BIGINT)"));
  std::string evil = "x'); DROP TABLE t; --";
  ASSERT_OK(conn_->Execute("INSERT INTO t VALUES ($1, $2)", {evil, int64_t{7}}));
  auto r = conn_->Query("SELECT a, b FROM t WHERE a = ?", {evil});
  ASSERT_OK(r);
  ASSERT_EQ(r->RowCount(), 1u);
  EXPECT_EQ(r->GetString(0, 0), evil);
  EXPECT_EQ(r->GetInt64(1, 0), 7);
  EXPECT_FALSE(conn_->Query("SELECT ?", {}).ok());
}

TEST_F(DuckDbTest, AppenderWritesRows) {
  ASSERT_OK(conn_->Execute("CREATE TABLE t(a VARCHAR, b BIGINT, c DOUBLE)"));
  {
    auto app = conn_->MakeAppender("main", "t");
    ASSERT_OK(app);
    for (int64_t i = 0; i < 1000; ++i) {
      ASSERT_OK(app->AppendRow({std::string("r") + std::to_string(i), i, std::monostate{}}));
    }
    ASSERT_OK(app->Close());
  }
  auto r = conn_->Query("SELECT count(*), sum(b), count(c) FROM t");
  ASSERT_OK(r);
  EXPECT_EQ(r->GetInt64(0, 0), 1000);
  EXPECT_EQ(r->GetInt64(1, 0), 499500);
  EXPECT_EQ(r->GetInt64(2, 0), 0);
}

TEST_F(DuckDbTest, StatementTypesComeFromTheParser) {
  auto t = conn_->StatementTypes("SELECT 1; SELECT 'a;b'");
  ASSERT_OK(t);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0], "SELECT");
  auto bad = conn_->StatementTypes("SELEC 1");
  EXPECT_FALSE(bad.ok());
}

TEST(DuckDbOpen, ReadOnlyRefusesWrites) {
  std::string path = ::testing::TempDir() + "/ro_test.duckdb";
  std::remove(path.c_str());
  {
    auto db = Database::Open(path);
    ASSERT_OK(db);
    auto c = db->Connect();
    ASSERT_OK(c->Execute("CREATE TABLE x AS SELECT 1 AS a"));
  }
  auto db = Database::Open(path, {.read_only = true, .settings = {}});
  ASSERT_OK(db);
  auto c = db->Connect();
  EXPECT_EQ(c->Query("SELECT a FROM x")->GetInt64(0, 0), 1);
  EXPECT_FALSE(c->Execute("INSERT INTO x VALUES (2)").ok());
  std::remove(path.c_str());
}

}  // namespace da::db
