#include "kit/parquet_sink.h"

#include <gtest/gtest.h>

#include "common/identifiers.h"
#include "support/extract_reader.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::kit {
namespace {

class ParquetSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = db::Database::Open(":memory:");
    ASSERT_OK(db);
    db_.emplace(std::move(db).value());
    auto conn = db_->Connect();
    ASSERT_OK(conn);
    conn_.emplace(std::move(conn).value());
    out_ = dir_.path() / "t.parquet.tmp";
  }
  // Reads the written file back through a second connection.
  db::QueryResult ReadBack(const std::string& select_list, const std::string& suffix = "") {
    auto lit = QuoteLiteral(out_.string());
    auto r = conn_->Query("SELECT " + select_list + " FROM read_parquet(" + *lit + ") " + suffix);
    EXPECT_OK(r);
    return std::move(r).value();
  }
  testing::TempDir dir_;
  std::optional<db::Database> db_;
  std::optional<db::Connection> conn_;
  std::filesystem::path out_;
};

TEST_F(ParquetSinkTest, CopyQueryWritesZstdParquet) {
  ParquetSink sink(*conn_, out_);
  ASSERT_OK(sink.CopyQuery("SELECT range AS i, 'v' || range AS s FROM range(1000)"));
  EXPECT_TRUE(sink.finished());
  EXPECT_EQ(sink.rows_written(), 1000);
  auto r = ReadBack("count(*), sum(i), max(s)");
  EXPECT_EQ(r.GetInt64(0, 0), 1000);
  EXPECT_EQ(r.GetInt64(1, 0), 499500);
  EXPECT_EQ(r.GetString(2, 0), "v999");
  auto lit = QuoteLiteral(out_.string());
  auto codec = conn_->Query("SELECT DISTINCT compression FROM parquet_metadata(" + *lit + ")");
  ASSERT_OK(codec);
  ASSERT_EQ(codec->RowCount(), 1u);
  EXPECT_EQ(codec->GetString(0, 0), "ZSTD");
}

TEST_F(ParquetSinkTest, CopyQueryRefusesAnythingButOneSelect) {
  ASSERT_OK(conn_->Execute("CREATE TABLE victim AS SELECT 1 AS x"));
  ParquetSink sink(*conn_, out_);
  Status st = sink.CopyQuery("SELECT 1; DROP TABLE victim");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(sink.CopyQuery("DROP TABLE victim").ok());
  EXPECT_FALSE(sink.finished());
  EXPECT_OK(conn_->Query("SELECT * FROM victim"));
  EXPECT_FALSE(std::filesystem::exists(out_));
}

TEST_F(ParquetSinkTest, AppenderPathCastsAndCleansUp) {
  {
    ParquetSink sink(*conn_, out_);
    ASSERT_OK(sink.BeginRows({{"id", "BIGINT"}, {"day", "DATE"}, {"odd name\"", "VARCHAR"}}));
    ASSERT_OK(sink.AppendRow({int64_t{1}, std::string("2024-02-29"), std::string("a")}));
    ASSERT_OK(sink.AppendRow({int64_t{2}, std::monostate{}, std::string("b'")}));
    EXPECT_EQ(sink.CopyQuery("SELECT 1").code(), StatusCode::kFailedPrecondition);
    ASSERT_OK(sink.FinishRows());
    EXPECT_EQ(sink.rows_written(), 2);
    EXPECT_EQ(sink.BeginRows({{"x", "INT"}}).code(), StatusCode::kFailedPrecondition);
  }
  auto r = ReadBack("id, day::VARCHAR, \"odd name\"\"\"", "ORDER BY id");
  ASSERT_EQ(r.RowCount(), 2u);
  EXPECT_EQ(r.GetString(1, 0), "2024-02-29");
  EXPECT_TRUE(r.IsNull(1, 1));
  EXPECT_EQ(r.GetString(2, 1), "b'");
  auto left =
      conn_->Query("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '_da_sink%'");
  ASSERT_OK(left);
  EXPECT_EQ(left->GetInt64(0, 0), 0);
}

TEST_F(ParquetSinkTest, AppenderRefusesUnsafeTypesAndNames) {
  ParquetSink sink(*conn_, out_);
  EXPECT_EQ(sink.BeginRows({}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sink.BeginRows({{"a", "INT); DROP TABLE x; --"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sink.BeginRows({{"a", "VARCHAR DEFAULT 'x'"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sink.BeginRows({{std::string("a\nb"), "INT"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sink.AppendRow({int64_t{1}}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(sink.FinishRows().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ParquetSinkTest, UnfinishedAppendDropsScratchTable) {
  {
    ParquetSink sink(*conn_, out_);
    ASSERT_OK(sink.BeginRows({{"x", "INTEGER"}}));
    ASSERT_OK(sink.AppendRow({int64_t{7}}));
  }
  auto left =
      conn_->Query("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '_da_sink%'");
  ASSERT_OK(left);
  EXPECT_EQ(left->GetInt64(0, 0), 0);
}

}  // namespace
}  // namespace da::kit
