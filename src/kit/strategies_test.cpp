#include "kit/strategies.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/fs_util.h"
#include "common/hash.h"
#include "kit/extract_state.h"
#include "kit/runtime.h"
#include "kit/storage.h"
#include "support/extract_reader.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::kit {
namespace {
namespace fs = std::filesystem;
using testing::CountView;
using testing::Leftovers;
using testing::QueryInt;
using testing::ReadMeta;

/// A real connector whose tables are SELECT statements (`source_table`), run by DuckDB. It
/// ignores the watermark (like a source that cannot filter) and records what it was asked.
class SqlConnector : public Connector {
 public:
  explicit SqlConnector(std::shared_ptr<std::vector<ReadOptions>> seen) : seen_(std::move(seen)) {}
  std::string name() const override { return "sql"; }
  Capability capabilities() const override { return Capability::kRead | Capability::kStream; }
  Status Read(const ReadOptions& o, ParquetSink& sink) override {
    seen_->push_back(o);
    return sink.CopyQuery(o.table.source_table);
  }

 private:
  std::shared_ptr<std::vector<ReadOptions>> seen_;
};

model::TableSpec Rec(std::string id, std::string sql) {
  model::TableSpec t;
  t.name = id;
  t.id = std::move(id);
  t.source_type = "sql";
  t.source_table = std::move(sql);
  return t;
}

class StrategyTest : public ::testing::Test {
 protected:
  StrategyTest() {
    EXPECT_TRUE(registry_
                    .Register("sql", [seen = seen_] { return std::make_unique<SqlConnector>(seen); })
                    .ok());
  }
  ExtractRuntime Runtime() {
    RuntimeOptions o;
    o.extracts_dir = dir_.path() / "extracts";
    o.memory_limit_bytes = 256LL << 20;
    return ExtractRuntime(o, registry_);
  }
  /// Extracts `t` alone and returns its stats (failing the test when the call fails).
  ExtractStats Run(const model::TableSpec& t) {
    auto report = Runtime().Extract("sql", {t}, {});
    EXPECT_OK(report);
    if (!report.ok() || report->tables.size() != 1) return {};
    // The report survives the JSON round trip the server does.
    auto back = ExtractReportFromJson(ExtractReportToJson(*report));
    EXPECT_OK(back);
    return back->tables[0];
  }
  fs::path SourceDir() { return dir_.path() / "extracts" / "sql"; }
  fs::path ExtractDb() { return SourceDir() / "extract.duckdb"; }
  fs::path Single(const std::string& id) { return SourceDir() / "data" / (id + ".parquet"); }
  int64_t Q(const std::string& sql) {
    auto v = QueryInt(ExtractDb(), sql);
    EXPECT_OK(v) << v.status().ToString() << " in " << sql;
    return v.ok() ? *v : -1;
  }
  TableState StateOf(const std::string& id) {
    auto st = LoadExtractState(SourceDir());
    EXPECT_OK(st);
    return st.ok() && st->tables.count(id) ? st->tables.at(id) : TableState{};
  }

  testing::TempDir dir_;
  std::shared_ptr<std::vector<ReadOptions>> seen_ = std::make_shared<std::vector<ReadOptions>>();
  ConnectorRegistry registry_;
};

// ------------------------------------------------------------------ schema evolution

TEST_F(StrategyTest, EvolveRecordsTheChangeAndKeepsServing) {
  auto t = Rec("w",
               "SELECT range AS id, CAST(range AS DOUBLE) AS wind, 'sun' AS weather FROM range(10)");
  ExtractStats first = Run(t);
  ASSERT_EQ(first.status, "ok") << first.error;
  EXPECT_FALSE(first.schema_change.has_value());  // the first run has nothing to compare with
  EXPECT_EQ(StateOf("w").columns.size(), 3u);

  ExtractStats same = Run(t);
  EXPECT_FALSE(same.schema_change.has_value());

  t.source_table =
      "SELECT range AS id, CAST(range AS VARCHAR) AS wind, 2 AS gust FROM range(12)";
  ExtractStats changed = Run(t);
  ASSERT_EQ(changed.status, "ok") << changed.error;
  ASSERT_TRUE(changed.schema_change.has_value());
  EXPECT_EQ(changed.schema_change->added, (std::vector<ColumnInfo>{{"gust", "INTEGER"}}));
  EXPECT_EQ(changed.schema_change->removed, (std::vector<ColumnInfo>{{"weather", "VARCHAR"}}));
  EXPECT_EQ(changed.schema_change->retyped,
            (std::vector<RetypedColumn>{{"wind", "DOUBLE", "VARCHAR"}}));
  nlohmann::json j = ExtractStatsToJson(changed);
  EXPECT_EQ(j["schema_change"]["removed"][0]["name"], "weather");
  EXPECT_EQ(Q("SELECT count(*) FROM w"), 12);
  TableState st = StateOf("w");
  EXPECT_EQ(st.columns, changed.columns);
  ASSERT_TRUE(st.last_schema_change.has_value());
  EXPECT_EQ(*st.last_schema_change, *changed.schema_change);
  EXPECT_FALSE(st.last_schema_change_at.empty());

  // Accepted: the next run compares with the new schema.
  EXPECT_FALSE(Run(t).schema_change.has_value());
}

TEST_F(StrategyTest, FreezeFailsTheTableAndKeepsThePreviousData) {
  auto t = Rec("f", "SELECT range AS id, 'a' AS label FROM range(5)");
  t.schema_policy = model::SchemaPolicy::kFreeze;
  ASSERT_EQ(Run(t).status, "ok");
  const std::string md5 = *Md5File(Single("f"));
  const auto meta = *ReadMeta(ExtractDb());
  const TableState state_before = StateOf("f");

  t.source_table = "SELECT range AS id, 1 AS label, now() AS extra FROM range(7)";
  ExtractStats s = Run(t);
  EXPECT_EQ(s.status, "error");
  EXPECT_TRUE(s.error.starts_with("failed_precondition: ")) << s.error;
  EXPECT_NE(s.error.find("freeze"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("added extra (TIMESTAMP WITH TIME ZONE)"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("retyped label: VARCHAR -> INTEGER"), std::string::npos) << s.error;
  ASSERT_TRUE(s.schema_change.has_value());  // the refused change is reported too
  EXPECT_EQ(s.schema_change->added.size(), 1u);
  EXPECT_TRUE(s.md5.empty());

  EXPECT_EQ(*Md5File(Single("f")), md5);
  auto meta_after = *ReadMeta(ExtractDb());
  ASSERT_EQ(meta_after.size(), 1u);
  EXPECT_EQ(meta_after[0].rows, 5);
  EXPECT_EQ(meta_after[0].extracted_at_us, meta[0].extracted_at_us);
  EXPECT_EQ(Q("SELECT count(*) FROM f"), 5);
  EXPECT_EQ(StateOf("f"), state_before);
  EXPECT_TRUE(Leftovers(SourceDir()).empty());

  // Switching the policy to evolve accepts the change.
  t.schema_policy = model::SchemaPolicy::kEvolve;
  ExtractStats ok = Run(t);
  EXPECT_EQ(ok.status, "ok") << ok.error;
  EXPECT_TRUE(ok.schema_change.has_value());
  EXPECT_EQ(Q("SELECT count(*) FROM f"), 7);
}

TEST_F(StrategyTest, FreezeProtectsDataExtractedBeforeAnyStateExisted) {
  auto t = Rec("g", "SELECT range AS id FROM range(3)");
  ASSERT_EQ(Run(t).status, "ok");
  ASSERT_TRUE(fs::remove(ExtractStatePath(SourceDir())));
  t.schema_policy = model::SchemaPolicy::kFreeze;
  t.source_table = "SELECT range AS id, 'x' AS more FROM range(3)";
  ExtractStats s = Run(t);
  EXPECT_EQ(s.status, "error");
  EXPECT_NE(s.error.find("added more (VARCHAR)"), std::string::npos) << s.error;
}

// ------------------------------------------------------------------ incremental

TEST_F(StrategyTest, IncrementalMergesByKeyNewRowWins) {
  auto t = Rec("inc", "SELECT range AS id, range AS updated, 'v1' AS v FROM range(100)");
  t.sync_strategy = model::SyncStrategy::kIncremental;
  t.incremental_column = "updated";
  t.primary_key = {"id"};
  ExtractStats first = Run(t);
  ASSERT_EQ(first.status, "ok") << first.error;
  EXPECT_EQ(first.rows, 100);
  EXPECT_EQ(first.watermark, "99");
  ASSERT_EQ(seen_->size(), 1u);
  EXPECT_FALSE(seen_->back().watermark.has_value());
  EXPECT_EQ(seen_->back().incremental_column, "updated");
  EXPECT_EQ(first.md5, *Md5File(Single("inc")));

  // The source now has ids 0..149; id 10 was updated (updated = 200) and appears twice in the
  // read (an older version too): the newest version wins over both the stored row and the
  // older duplicate. Rows at or below the watermark are not read again.
  t.source_table =
      "SELECT range AS id, CASE WHEN range = 10 THEN 200 ELSE range END AS updated, "
      "CASE WHEN range = 10 THEN 'new' ELSE 'v2' END AS v FROM range(150) "
      "UNION ALL SELECT 10, 150, 'older'";
  ExtractStats second = Run(t);
  ASSERT_EQ(second.status, "ok") << second.error;
  ASSERT_EQ(seen_->size(), 2u);
  EXPECT_EQ(seen_->back().watermark, "99");
  EXPECT_EQ(second.rows, 150);
  EXPECT_EQ(second.watermark, "200");
  EXPECT_TRUE(second.warnings.empty());
  EXPECT_EQ(Q("SELECT count(*) FROM inc"), 150);
  EXPECT_EQ(Q("SELECT count(DISTINCT id) FROM inc"), 150);
  EXPECT_EQ(Q("SELECT count(*) FROM inc WHERE id = 10 AND v = 'new' AND updated = 200"), 1);
  EXPECT_EQ(Q("SELECT count(*) FROM inc WHERE v = 'v1'"), 99);  // untouched old rows
  EXPECT_EQ(Q("SELECT count(*) FROM inc WHERE v = 'v2'"), 50);
  EXPECT_EQ(StateOf("inc").watermark, "200");
  EXPECT_EQ(StateOf("inc").incremental_column, "updated");
  EXPECT_EQ(ReadMeta(ExtractDb())->at(0).rows, 150);

  // Nothing new: the file keeps its rows and the watermark stays.
  ExtractStats third = Run(t);
  EXPECT_EQ(third.rows, 150);
  EXPECT_EQ(third.watermark, "200");
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(StrategyTest, IncrementalCompositeKeyAndTimestampWatermark) {
  auto t = Rec("c",
               "SELECT * FROM (VALUES (1, 'a', TIMESTAMP '2024-01-01 10:00:00', 1), "
               "(1, 'b', TIMESTAMP '2024-01-01 11:00:00', 2), "
               "(2, 'a', TIMESTAMP '2024-01-01 12:00:00', 3)) v(k1, k2, ts, n)");
  t.sync_strategy = model::SyncStrategy::kIncremental;
  t.incremental_column = "ts";
  t.primary_key = {"k1", "k2"};
  ExtractStats first = Run(t);
  ASSERT_EQ(first.status, "ok") << first.error;
  EXPECT_EQ(first.watermark, "2024-01-01 12:00:00");
  t.source_table =
      "SELECT * FROM (VALUES (1, 'b', TIMESTAMP '2024-01-02 00:00:00', 20), "
      "(2, 'b', TIMESTAMP '2024-01-02 00:00:00', 30), "
      "(1, 'a', TIMESTAMP '2023-12-31 00:00:00', 99)) v(k1, k2, ts, n)";
  ExtractStats second = Run(t);
  ASSERT_EQ(second.status, "ok") << second.error;
  EXPECT_EQ(Q("SELECT count(*) FROM c"), 4);
  EXPECT_EQ(Q("SELECT n FROM c WHERE k1 = 1 AND k2 = 'b'"), 20);  // (1,b) replaced
  EXPECT_EQ(Q("SELECT n FROM c WHERE k1 = 1 AND k2 = 'a'"), 1);   // older than the watermark
  EXPECT_EQ(Q("SELECT n FROM c WHERE k1 = 2 AND k2 = 'b'"), 30);  // (2,b) added, (2,a) kept
  EXPECT_EQ(second.watermark, "2024-01-02 00:00:00");
}

TEST_F(StrategyTest, IncrementalWithoutKeyAppendsWithAWarning) {
  auto t = Rec("log", "SELECT range AS seq FROM range(10)");
  t.sync_strategy = model::SyncStrategy::kIncremental;
  t.incremental_column = "seq";
  ASSERT_EQ(Run(t).status, "ok");
  t.source_table = "SELECT range AS seq FROM range(15)";
  ExtractStats s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_EQ(s.rows, 15);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("no primary_key: 5 new rows were appended"), std::string::npos)
      << s.warnings[0];
  EXPECT_EQ(Q("SELECT count(DISTINCT seq) FROM log"), 15);
}

TEST_F(StrategyTest, WatermarkIsRederivedWhenStateAndDataDisagree) {
  auto t = Rec("log", "SELECT range AS seq FROM range(10)");
  t.sync_strategy = model::SyncStrategy::kIncremental;
  t.incremental_column = "seq";
  ASSERT_EQ(Run(t).status, "ok");
  // As if a run was killed after renaming its file but before saving the state: the stored
  // data is newer than the state says.
  const TableState stale = StateOf("log");
  t.source_table = "SELECT range AS seq FROM range(20)";
  ASSERT_EQ(Run(t).status, "ok");
  ASSERT_TRUE(UpdateExtractState(SourceDir(), [&](ExtractState& s) { s.tables["log"] = stale; })
                  .ok());
  t.source_table = "SELECT range AS seq FROM range(25)";
  ExtractStats s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_EQ(seen_->back().watermark, "19");  // from the data, not the stale "9"
  EXPECT_EQ(Q("SELECT count(*) FROM log"), 25);  // no duplicates
  EXPECT_EQ(Q("SELECT count(DISTINCT seq) FROM log"), 25);
  bool warned = false;
  for (const auto& w : s.warnings) warned |= w.find("interrupted run") != std::string::npos;
  EXPECT_TRUE(warned);

  // No state at all (deleted): the watermark comes from the stored data too.
  ASSERT_TRUE(fs::remove(ExtractStatePath(SourceDir())));
  t.source_table = "SELECT range AS seq FROM range(26)";
  ASSERT_EQ(Run(t).status, "ok");
  EXPECT_EQ(seen_->back().watermark, "24");
  EXPECT_EQ(Q("SELECT count(*) FROM log"), 26);
}

TEST_F(StrategyTest, IncrementalColumnOrKeyMissingFailsClearly) {
  auto t = Rec("m", "SELECT range AS id FROM range(3)");
  t.sync_strategy = model::SyncStrategy::kIncremental;
  t.incremental_column = "updated";
  ExtractStats s = Run(t);
  EXPECT_EQ(s.status, "error");
  EXPECT_NE(s.error.find("incremental_column 'updated' is not a column"), std::string::npos)
      << s.error;
  t.incremental_column = "id";
  t.primary_key = {"nope"};
  s = Run(t);
  EXPECT_NE(s.error.find("primary_key column 'nope'"), std::string::npos) << s.error;
  EXPECT_FALSE(fs::exists(Single("m")));
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

// ------------------------------------------------------------------ partitioned

TEST_F(StrategyTest, PartitionedWritesOneFilePerPeriodAndOneView) {
  auto t = Rec("p",
               "SELECT range AS id, DATE '2024-01-30' + CAST(range AS INTEGER) AS day "
               "FROM range(40)");  // 2024-01-30 .. 2024-03-09
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "day";
  t.partition_granularity = model::PartitionGranularity::kMonth;
  ExtractStats s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_EQ(s.rows, 40);
  EXPECT_TRUE(s.md5.empty());
  ASSERT_EQ(s.files.size(), 3u);
  EXPECT_EQ(s.files[0].name, "2024-01.parquet");
  EXPECT_EQ(s.files[0].rows, 2);
  EXPECT_EQ(s.files[1].rows, 29);
  EXPECT_EQ(s.files[2].rows, 9);
  int64_t total = 0;
  for (const auto& f : s.files) {
    EXPECT_EQ(f.md5, *Md5File(SourceDir() / "data" / "p" / f.name));
    EXPECT_EQ(f.size_bytes, static_cast<int64_t>(fs::file_size(SourceDir() / "data" / "p" / f.name)));
    total += f.size_bytes;
  }
  EXPECT_EQ(s.size_bytes, total);
  EXPECT_EQ(Q("SELECT count(*) FROM p"), 40);
  auto meta = *ReadMeta(ExtractDb());
  EXPECT_EQ(meta[0].rows, 40);
  EXPECT_EQ(meta[0].size_bytes, total);
  EXPECT_FALSE(fs::exists(Single("p")));

  // Day and year granularity name files accordingly.
  t.partition_granularity = model::PartitionGranularity::kYear;
  t.id = t.name = "py";
  s = Run(t);
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_EQ(s.files[0].name, "2024.parquet");
  t.partition_granularity = model::PartitionGranularity::kDay;
  t.id = t.name = "pd";
  s = Run(t);
  EXPECT_EQ(s.files.size(), 40u);
  EXPECT_EQ(s.files[0].name, "2024-01-30.parquet");
}

TEST_F(StrategyTest, PartitionedRewritesOnlyTouchedPartitions) {
  auto t = Rec("p",
               "SELECT range AS id, TIMESTAMP '2024-01-01' + INTERVAL (range) DAY AS ts, "
               "'v1' AS v FROM range(91)");  // Jan, Feb, Mar 2024
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "ts";
  t.incremental_column = "ts";
  t.primary_key = {"id"};
  ExtractStats first = Run(t);
  ASSERT_EQ(first.status, "ok") << first.error;
  ASSERT_EQ(first.files.size(), 3u);
  const auto mtime_jan = fs::last_write_time(SourceDir() / "data" / "p" / "2024-01.parquet");

  // Past the watermark (2024-03-31): a new version of id 88 (March) and four new rows in
  // April. January and February are not touched.
  t.source_table =
      "SELECT 88 AS id, TIMESTAMP '2024-03-31 12:00:00' AS ts, 'v2' AS v UNION ALL "
      "SELECT range, TIMESTAMP '2024-04-01' + INTERVAL (range - 200) DAY, 'v2' "
      "FROM range(200, 204)";
  ExtractStats second = Run(t);
  ASSERT_EQ(second.status, "ok") << second.error;
  ASSERT_EQ(second.files.size(), 4u);
  EXPECT_EQ(second.files[0], first.files[0]);  // January untouched: same bytes, same MD5
  EXPECT_EQ(second.files[1], first.files[1]);
  EXPECT_NE(second.files[2].md5, first.files[2].md5);
  EXPECT_EQ(fs::last_write_time(SourceDir() / "data" / "p" / "2024-01.parquet"), mtime_jan);
  EXPECT_EQ(second.files[3].name, "2024-04.parquet");
  EXPECT_EQ(second.files[3].rows, 4);
  EXPECT_EQ(second.files[2].rows, first.files[2].rows);  // id 88 was merged, not duplicated
  EXPECT_EQ(Q("SELECT count(*) FROM p"), 95);
  EXPECT_EQ(Q("SELECT count(*) FROM p WHERE id = 88 AND v = 'v2'"), 1);
  EXPECT_EQ(second.watermark, "2024-04-04 00:00:00");
}

TEST_F(StrategyTest, PartitionedFullReadReplacesPartitionsWithoutKey) {
  auto t = Rec("r", "SELECT range AS n, DATE '2024-01-01' AS d FROM range(10)");
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "d";
  ASSERT_EQ(Run(t).status, "ok");
  t.source_table = "SELECT range AS n, DATE '2024-01-01' AS d FROM range(4)";
  ExtractStats s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_EQ(s.rows, 4);
  EXPECT_TRUE(s.warnings.empty());
}

TEST_F(StrategyTest, UnparseablePartitionValuesAreReportedNotDropped) {
  auto t = Rec("u",
               "SELECT * FROM (VALUES (1, '2024-01-05'), (2, 'not a date'), (3, NULL), "
               "(4, '2024/02/03 10:00')) v(id, happened)");
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "happened";
  ExtractStats s = Run(t);
  EXPECT_EQ(s.status, "error");
  EXPECT_TRUE(s.error.starts_with("invalid_argument: 2 row(s)")) << s.error;
  EXPECT_NE(s.error.find("'not a date'"), std::string::npos) << s.error;
  EXPECT_FALSE(fs::exists(SourceDir() / "data" / "u"));

  // The good rows alone go through, text dates in both spellings included.
  t.source_table =
      "SELECT * FROM (VALUES (1, '2024-01-05'), (4, '2024/02/03 10:00'), "
      "(5, '2024-02-29T23:30:00-01:00')) v(id, happened)";
  s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  // 2024-02-29T23:30-01:00 is 2024-03-01 00:30 UTC: March, not February.
  ASSERT_EQ(s.files.size(), 3u);
  EXPECT_EQ(s.files[0].name, "2024-01.parquet");
  EXPECT_EQ(s.files[1].name, "2024-02.parquet");
  EXPECT_EQ(s.files[2].name, "2024-03.parquet");
  EXPECT_EQ(s.files[1].rows, 1);
}

TEST_F(StrategyTest, StrategyChangeReplacesTheOtherForm) {
  auto t = Rec("s", "SELECT range AS id, DATE '2024-05-01' AS d FROM range(6)");
  ASSERT_EQ(Run(t).status, "ok");
  ASSERT_TRUE(fs::exists(Single("s")));
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "d";
  ExtractStats s = Run(t);
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_FALSE(fs::exists(Single("s")));
  EXPECT_EQ(s.files.size(), 1u);
  EXPECT_EQ(Q("SELECT count(*) FROM s"), 6);
  t.sync_strategy = model::SyncStrategy::kFullRefresh;
  ASSERT_EQ(Run(t).status, "ok");
  EXPECT_FALSE(fs::exists(SourceDir() / "data" / "s"));
  EXPECT_EQ(Q("SELECT count(*) FROM s"), 6);
}

TEST_F(StrategyTest, UnregisteringAPartitionedTablePrunesItsDirectory) {
  auto t = Rec("gone", "SELECT DATE '2024-05-01' AS d");
  t.sync_strategy = model::SyncStrategy::kPartitioned;
  t.partition_by = "d";
  ASSERT_EQ(Run(t).status, "ok");
  ASSERT_TRUE(fs::exists(SourceDir() / "data" / "gone"));
  ASSERT_OK(Runtime().RebuildExtractDb("sql", {}));
  EXPECT_FALSE(fs::exists(SourceDir() / "data" / "gone"));
  EXPECT_TRUE(LoadExtractState(SourceDir())->tables.empty());
}

// ------------------------------------------------------------------ WriteMerged

TEST(WriteMerged, NullKeysMatchAndColumnsLineUpByName) {
  testing::TempDir dir;
  auto db = db::Database::Open(":memory:");
  ASSERT_OK(db);
  auto conn = db->Connect();
  ASSERT_OK(conn);
  const fs::path old_file = dir.path() / "old.parquet";
  ASSERT_TRUE(conn->Execute("COPY (SELECT * FROM (VALUES (1, NULL, 'old'), (2, 'x', 'old')) "
                            "v(a, b, val)) TO '" +
                            old_file.string() + "' (FORMAT parquet)")
                  .ok());
  MergeSpec spec;
  spec.new_rows_sql = "SELECT * FROM (VALUES (1, NULL, 'new', 7)) v(a, b, val, extra)";
  spec.primary_key = {"a", "b"};
  spec.existing = old_file;
  const fs::path out = dir.path() / "out.parquet";
  Status st = WriteMerged(*conn, spec, out);
  ASSERT_OK(st);
  auto r = conn->Query("SELECT a, coalesce(b, '-'), val, coalesce(extra, 0) FROM '" +
                       out.string() + "' ORDER BY a");
  ASSERT_OK(r);
  ASSERT_EQ(r->RowCount(), 2u);
  EXPECT_EQ(r->GetString(2, 0), "new");  // (1, NULL) matched by IS NOT DISTINCT FROM
  EXPECT_EQ(r->GetInt64(3, 0), 7);
  EXPECT_EQ(r->GetString(2, 1), "old");
  EXPECT_EQ(r->GetInt64(3, 1), 0);
  auto cols = conn->Query("DESCRIBE SELECT * FROM '" + out.string() + "'");
  EXPECT_EQ(cols->GetString(0, 3), "extra");  // stored columns first, new ones last
}

TEST(PeriodExpr, ParsesTheSupportedSpellingsInUtc) {
  auto db = db::Database::Open(":memory:");
  ASSERT_OK(db);
  auto conn = db->Connect();
  ASSERT_OK(conn);
  ASSERT_OK(PrepareStrategyConnection(*conn));
  auto expr = PeriodExpr("v", "VARCHAR", model::PartitionGranularity::kDay);
  ASSERT_OK(expr);
  auto r = conn->Query("SELECT coalesce(" + *expr +
                       ", '?') FROM (VALUES ('2024-03-01T00:30:00+01:00'), "
                       "('2024-03-01T00:30:00.000+0100'), ('2001/01/01 06:55'), ('2024-02-29'), "
                       "('2024-03-01 23:59:59'), ('garbage'), ('')) t(v)");
  ASSERT_OK(r);
  std::vector<std::string> got;
  for (size_t i = 0; i < r->RowCount(); ++i) got.push_back(r->GetString(0, i));
  EXPECT_EQ(got, (std::vector<std::string>{"2024-02-29", "2024-02-29", "2001-01-01", "2024-02-29",
                                           "2024-03-01", "?", "?"}));
  auto tz = PeriodExpr("v", "TIMESTAMP WITH TIME ZONE", model::PartitionGranularity::kMonth);
  ASSERT_OK(tz);
  auto r2 = conn->Query("SELECT " + *tz + " FROM (SELECT TIMESTAMPTZ '2024-03-01 00:30:00+01' v)");
  ASSERT_OK(r2);
  EXPECT_EQ(r2->GetString(0, 0), "2024-02");
  EXPECT_EQ(PeriodFormat(model::PartitionGranularity::kUnset), "%Y-%m");
  EXPECT_EQ(PeriodFormat(model::PartitionGranularity::kYear), "%Y");
}

}  // namespace
}  // namespace da::kit
