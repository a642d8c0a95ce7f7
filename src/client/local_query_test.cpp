#include "client/local_query.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/fs_util.h"
#include "support/parquet_writer.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::client {
namespace {

using testing::TempDir;
using testing::WriteParquet;

db::QueryResult MustQuery(const std::string& sql) {
  static auto db = db::Database::Open(":memory:");
  auto conn = db->Connect();
  EXPECT_OK(conn);
  auto r = conn->Query(sql);
  EXPECT_OK(r);
  return std::move(r).value();
}

std::string Render(const std::string& sql, OutputFormat f) {
  auto r = MustQuery(sql);
  std::ostringstream out;
  WriteResult(r, f, out);
  return out.str();
}

const char* kSql =
    "SELECT * FROM (VALUES (1, 'a', 2.5, true), (22, NULL, NULL, false), "
    "(333, 'say \"hi\", ok', -1.0, NULL)) t(n, s, d, b) ORDER BY n";

TEST(LocalQueryTest, ParsesFormats) {
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(ParseOutputFormat("xml").status().code(), StatusCode::kInvalidArgument);
}

TEST(LocalQueryTest, TableFormatAlignsColumns) {
  EXPECT_EQ(Render(kSql, OutputFormat::kTable),
            "  n | s            |    d | b\n"
            "----+--------------+------+------\n"
            "  1 | a            |  2.5 | true\n"
            " 22 | NULL         | NULL | false\n"
            "333 | say \"hi\", ok | -1.0 | NULL\n"
            "(3 rows)\n");
  EXPECT_EQ(Render("SELECT 'žluť' AS w, 'x\ny' AS nl", OutputFormat::kTable),
            "w    | nl\n"
            "-----+-----\n"
            "žluť | x\\ny\n"
            "(1 row)\n");
}

TEST(LocalQueryTest, JsonFormatIsAnArrayOfObjects) {
  std::string out = Render(kSql, OutputFormat::kJson);
  auto j = nlohmann::json::parse(out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["n"], 1);
  EXPECT_EQ(j[0]["s"], "a");
  EXPECT_EQ(j[0]["b"], true);
  EXPECT_TRUE(j[1]["s"].is_null());
  EXPECT_TRUE(j[1]["d"].is_null());
  EXPECT_EQ(j[2]["s"], "say \"hi\", ok");
  EXPECT_DOUBLE_EQ(j[0]["d"].get<double>(), 2.5);  // DECIMAL literal → number
  // HUGEINT sums are numbers too.
  auto sum = nlohmann::json::parse(Render("SELECT sum(range) AS s FROM range(10)", OutputFormat::kJson));
  EXPECT_EQ(sum[0]["s"], 45);
  EXPECT_EQ(Render("SELECT 1 AS x WHERE false", OutputFormat::kJson), "[]\n");
  // Keys keep the column order.
  EXPECT_EQ(Render("SELECT 2 AS z, 1 AS a", OutputFormat::kJson), "[\n{\"z\":2,\"a\":1}\n]\n");
}

TEST(LocalQueryTest, CsvFormatQuotesPerRfc4180) {
  EXPECT_EQ(Render(kSql, OutputFormat::kCsv),
            "n,s,d,b\r\n"
            "1,a,2.5,true\r\n"
            "22,,,false\r\n"
            "333,\"say \"\"hi\"\", ok\",-1.0,\r\n");
}

TEST(LocalQueryTest, RunsAgainstTheWorkspaceDatabase) {
  TempDir tmp;
  Workspace ws{tmp.path()};
  ASSERT_OK(EnsureDir(ws.DataDir()));
  WriteParquet(ws.ParquetPath("t1"), 12);
  SyncState state;
  state.tables["t1"] = {"orders", "", 0, 12, ""};
  ASSERT_OK(RebuildViews(ws, state));

  std::ostringstream out;
  Status st = RunLocalQuery(ws, "SELECT count(*) AS n, max(i) AS m FROM orders", OutputFormat::kCsv, out);
  ASSERT_OK(st);
  EXPECT_EQ(out.str(), "n,m\r\n12,11\r\n");

  std::ostringstream none;
  st = RunLocalQuery(ws, "SELECT * FROM customers", OutputFormat::kTable, none);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("customers"), std::string::npos);
  EXPECT_NE(st.message().find("da sync"), std::string::npos) << st.message();
  EXPECT_EQ(none.str(), "");

  // Read-only: writes are refused.
  std::ostringstream w;
  st = RunLocalQuery(ws, "CREATE TABLE x AS SELECT 1", OutputFormat::kTable, w);
  EXPECT_FALSE(st.ok());
}

TEST(LocalQueryTest, MissingWorkspaceDatabaseSuggestsSync) {
  TempDir tmp;
  Workspace ws{tmp.path()};
  std::ostringstream out;
  Status st = RunLocalQuery(ws, "SELECT 1", OutputFormat::kTable, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("run `da sync` first"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(ws.DbPath()));
}

}  // namespace
}  // namespace da::client
