#include "client/workspace.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/fs_util.h"
#include "support/extract_reader.h"
#include "support/files.h"
#include "support/parquet_writer.h"
#include "support/scoped_env.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::client {
namespace {

using testing::CountRows;
using testing::ScopedEnv;
using testing::TempDir;
using testing::WriteParquet;

TEST(WorkspaceTest, ResolvePrefersFlagThenEnvThenCwd) {
  TempDir tmp;
  {
    ScopedEnv env("DA_WORKSPACE", (tmp.path() / "env").string());
    auto ws = ResolveWorkspace((tmp.path() / "flag").string());
    ASSERT_OK(ws);
    EXPECT_EQ(ws->root, tmp.path() / "flag");
    ws = ResolveWorkspace("");
    ASSERT_OK(ws);
    EXPECT_EQ(ws->root, tmp.path() / "env");
  }
  ScopedEnv env("DA_WORKSPACE", std::nullopt);
  auto ws = ResolveWorkspace("");
  ASSERT_OK(ws);
  EXPECT_EQ(ws->root, std::filesystem::current_path().lexically_normal());
  EXPECT_TRUE(ws->root.is_absolute());
  EXPECT_EQ(ws->ParquetPath("in.c-crm.orders"), ws->root / "data" / "in.c-crm.orders.parquet");
  EXPECT_EQ(ws->PartPath("t1"), ws->root / "data" / ".t1.parquet.part");
  EXPECT_EQ(ws->StatePath(), ws->root / ".da" / "sync_state.json");
}

TEST(WorkspaceTest, SyncStateRoundTrip) {
  TempDir tmp;
  Workspace ws{tmp.path()};
  auto empty = LoadSyncState(ws);
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->tables.empty());
  EXPECT_EQ(empty->last_sync, "");

  SyncState state;
  state.last_sync = "2026-01-02T03:04:05Z";
  state.tables["in.c-crm.orders"] = {"orders", std::string(32, 'a'), 1234, 56, "2026-01-02T03:04:00Z"};
  state.tables["flights"] = {"flights", std::string(32, 'b'), 99, 3'000'000, "2026-01-01T00:00:00Z"};
  ASSERT_OK(SaveSyncState(ws, state));

  auto back = LoadSyncState(ws);
  ASSERT_OK(back);
  EXPECT_EQ(back->last_sync, "2026-01-02T03:04:05Z");
  ASSERT_EQ(back->tables.size(), 2u);
  const LocalTable& o = back->tables.at("in.c-crm.orders");
  EXPECT_EQ(o.name, "orders");
  EXPECT_EQ(o.md5, std::string(32, 'a'));
  EXPECT_EQ(o.size_bytes, 1234);
  EXPECT_EQ(o.rows, 56);
  EXPECT_EQ(o.synced_at, "2026-01-02T03:04:00Z");
  EXPECT_EQ(back->tables.at("flights").rows, 3'000'000);

  // The on-disk shape is the documented one.
  auto j = nlohmann::json::parse(testing::ReadBytes(ws.StatePath()));
  EXPECT_EQ(j["tables"]["flights"]["size_bytes"], 99);
  EXPECT_EQ(j["last_sync"], "2026-01-02T03:04:05Z");
}

TEST(WorkspaceTest, MalformedSyncStateIsAnError) {
  TempDir tmp;
  Workspace ws{tmp.path()};
  ASSERT_OK(EnsureDir(ws.MetaDir()));
  ASSERT_OK(WriteFileAtomic(ws.StatePath(), "[1,2]"));
  EXPECT_EQ(LoadSyncState(ws).status().code(), StatusCode::kMalformed);
  ASSERT_OK(WriteFileAtomic(ws.StatePath(), R"({"tables":{"t":{"size_bytes":"x"}}})"));
  EXPECT_EQ(LoadSyncState(ws).status().code(), StatusCode::kMalformed);
}

class ViewRebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_.root = tmp_.path() / "ws";
    ASSERT_OK(EnsureDir(ws_.DataDir()));
  }
  void AddTable(const std::string& id, const std::string& name, int64_t rows) {
    WriteParquet(ws_.ParquetPath(id), rows);
    state_.tables[id] = {name, "", 0, rows, ""};
  }
  TempDir tmp_;
  Workspace ws_;
  SyncState state_;
};

TEST_F(ViewRebuildTest, CreatesOneViewPerTableNamedByName) {
  AddTable("in.c-crm.orders", "orders", 42);
  AddTable("flights", "flights", 1000);
  auto r = RebuildViews(ws_, state_);
  ASSERT_OK(r);
  EXPECT_EQ(r->views, (std::vector<std::string>{"flights", "orders"}));
  EXPECT_TRUE(r->skipped.empty());
  EXPECT_EQ(CountRows(ws_.DbPath(), "orders"), 42);
  EXPECT_EQ(CountRows(ws_.DbPath(), "flights"), 1000);
  EXPECT_FALSE(std::filesystem::exists(ws_.root / "analytics.duckdb.tmp"));
  EXPECT_FALSE(std::filesystem::exists(ws_.root / "analytics.duckdb.wal"));
}

TEST_F(ViewRebuildTest, SkipsBadNamesMissingFilesAndDuplicates) {
  AddTable("good", "good", 3);
  AddTable("evil", "x\"; DROP TABLE y; --", 3);
  AddTable("zdup", "GOOD", 3);  // ids sort after "good": the first id wins
  state_.tables["gone"] = {"gone", "", 0, 0, ""};
  ASSERT_OK(WriteFileAtomic(ws_.ParquetPath("corrupt"), "not parquet at all"));
  state_.tables["corrupt"] = {"corrupt", "", 0, 0, ""};
  auto r = RebuildViews(ws_, state_);
  ASSERT_OK(r);
  EXPECT_EQ(r->views, (std::vector<std::string>{"good"}));
  ASSERT_EQ(r->skipped.size(), 4u);
  std::string all;
  for (const auto& s : r->skipped) all += s + "\n";
  EXPECT_NE(all.find("evil: view name"), std::string::npos) << all;
  EXPECT_NE(all.find("zdup: view name 'GOOD' is already used"), std::string::npos) << all;
  EXPECT_NE(all.find("gone: file"), std::string::npos) << all;
  EXPECT_NE(all.find("corrupt:"), std::string::npos) << all;
  EXPECT_EQ(CountRows(ws_.DbPath(), "good"), 3);
}

TEST_F(ViewRebuildTest, RebuildDropsViewsOfRemovedTablesWhileAReaderIsOpen) {
  AddTable("a", "a", 5);
  AddTable("b", "b", 7);
  ASSERT_OK(RebuildViews(ws_, state_));

  db::DatabaseOptions ro;
  ro.read_only = true;
  auto reader_db = db::Database::Open(ws_.DbPath().string(), ro);
  ASSERT_OK(reader_db);
  auto reader = reader_db->Connect();
  ASSERT_OK(reader);

  state_.tables.erase("b");
  auto r = RebuildViews(ws_, state_);
  ASSERT_OK(r);
  EXPECT_EQ(r->views, (std::vector<std::string>{"a"}));
  EXPECT_EQ(CountRows(ws_.DbPath(), "a"), 5);
  EXPECT_EQ(CountRows(ws_.DbPath(), "b"), -1);
  // The reader keeps its snapshot of the old file.
  auto old = reader->Query("SELECT count(*) FROM b");
  ASSERT_OK(old);
  EXPECT_EQ(old->GetInt64(0, 0), 7);
}

TEST_F(ViewRebuildTest, EmptyStateStillCreatesTheDatabase) {
  auto r = RebuildViews(ws_, state_);
  ASSERT_OK(r);
  EXPECT_TRUE(r->views.empty());
  EXPECT_TRUE(std::filesystem::is_regular_file(ws_.DbPath()));
}

TEST(WorkspaceLockTest, SecondAcquireFailsUntilReleased) {
  TempDir tmp;
  Workspace ws{tmp.path()};
  {
    auto first = WorkspaceLock::Acquire(ws);
    ASSERT_OK(first);
    auto second = WorkspaceLock::Acquire(ws);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(second.status().message().find("another da sync"), std::string::npos);
  }
  EXPECT_OK(WorkspaceLock::Acquire(ws));
}

}  // namespace
}  // namespace da::client
