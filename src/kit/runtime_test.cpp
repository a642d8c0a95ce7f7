#include "kit/runtime.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/time_util.h"
#include "support/extract_reader.h"
#include "support/files.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::kit {
namespace {
namespace fs = std::filesystem;
using testing::CountView;
using testing::Leftovers;
using testing::ListViews;
using testing::ReadMeta;

/// A real connector that generates data with DuckDB. `source_table` says what to do:
/// "range:N" (COPY path), "rows:N" (appender path), "missing" (not_found), "silent" (returns
/// without writing), "badsql" (tries two statements).
class GenConnector : public Connector {
 public:
  std::string name() const override { return "gen"; }
  Capability capabilities() const override { return Capability::kRead; }
  Status Read(const ReadOptions& o, ParquetSink& sink) override {
    const std::string& what = o.table.source_table;
    if (!fs::is_directory(o.temp_dir)) return Internal("runtime gave no temp dir");
    if (what.starts_with("range:")) {
      int64_t n = std::stoll(what.substr(6));
      return sink.CopyQuery("SELECT range AS i, 'row ' || range AS label FROM range(" +
                            std::to_string(n) + ")");
    }
    if (what.starts_with("rows:")) {
      int64_t n = std::stoll(what.substr(5));
      DA_RETURN_IF_ERROR(sink.BeginRows({{"i", "BIGINT"}, {"day", "DATE"}}));
      for (int64_t i = 0; i < n; ++i) {
        DA_RETURN_IF_ERROR(sink.AppendRow({i, std::string("2024-01-01")}));
      }
      return sink.FinishRows();
    }
    if (what == "missing") return NotFound("source object '" + what + "' not found");
    if (what == "silent") return Status::Ok();
    if (what == "badsql") return sink.CopyQuery("SELECT 1; SELECT 2");
    return InvalidArgument("unknown instruction " + what);
  }
};

model::TableSpec Rec(std::string id, std::string name, std::string what,
                       std::string source = "gen") {
  model::TableSpec t;
  t.id = std::move(id);
  t.name = std::move(name);
  t.source_type = std::move(source);
  t.source_table = std::move(what);
  t.description = "about " + t.name;
  return t;
}

const ExtractStats* Find(const ExtractReport& r, const std::string& id) {
  for (const auto& s : r.tables) {
    if (s.table_id == id) return &s;
  }
  return nullptr;
}

class RuntimeTest : public ::testing::Test {
 protected:
  explicit RuntimeTest(const std::string& dir_suffix = "") : dir_(dir_suffix) {
    EXPECT_OK(registry_.Register("gen", [] { return std::make_unique<GenConnector>(); }));
  }
  ExtractRuntime Runtime() {
    RuntimeOptions o;
    o.extracts_dir = dir_.path() / "extracts";
    o.memory_limit_bytes = 256LL << 20;
    return ExtractRuntime(o, registry_);
  }
  fs::path SourceDir() { return dir_.path() / "extracts" / "gen"; }
  fs::path ExtractDb() { return SourceDir() / "extract.duckdb"; }
  fs::path Parquet(const std::string& id) { return SourceDir() / "data" / (id + ".parquet"); }

  testing::TempDir dir_;
  ConnectorRegistry registry_;
};

TEST_F(RuntimeTest, ExtractsAllTablesAndBuildsTheContract) {
  std::vector<model::TableSpec> tables = {Rec("in.c-crm.orders", "orders", "range:1000"),
                                            Rec("events", "events", "rows:250")};
  tables[1].query_mode = model::QueryMode::kMaterialized;
  auto report = Runtime().Extract("gen", tables, {});
  ASSERT_OK(report);
  EXPECT_EQ(report->source, "gen");
  ASSERT_EQ(report->tables.size(), 2u);
  const auto& orders = report->tables[0];
  EXPECT_EQ(orders.table_id, "in.c-crm.orders");
  EXPECT_EQ(orders.status, "ok") << orders.error;
  EXPECT_EQ(orders.rows, 1000);
  EXPECT_EQ(orders.size_bytes, static_cast<int64_t>(fs::file_size(Parquet("in.c-crm.orders"))));
  EXPECT_EQ(orders.md5, *Md5File(Parquet("in.c-crm.orders")));
  EXPECT_EQ(orders.md5.size(), 32u);
  EXPECT_EQ(orders.columns, (std::vector<ColumnInfo>{{"i", "BIGINT"}, {"label", "VARCHAR"}}));
  EXPECT_EQ(report->tables[1].rows, 250);
  EXPECT_EQ(report->tables[1].columns[1].type, "DATE");

  // The contract columns, exactly, in order.
  auto db = testing::OpenReadOnly(ExtractDb());
  ASSERT_OK(db);
  auto conn = db->Connect();
  auto cols = conn->Query(
      "SELECT column_name, data_type, is_nullable FROM "
      "information_schema.columns WHERE table_name = '_meta' "
      "ORDER BY ordinal_position");
  ASSERT_OK(cols);
  std::vector<std::string> got;
  for (size_t i = 0; i < cols->RowCount(); ++i) {
    got.push_back(cols->GetString(0, i) + " " + cols->GetString(1, i) + " " +
                  cols->GetString(2, i));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"table_name VARCHAR NO", "description VARCHAR YES",
                                           "rows BIGINT YES", "size_bytes BIGINT YES",
                                           "extracted_at TIMESTAMP YES", "query_mode VARCHAR YES",
                                           "schema_json VARCHAR YES"}));
  db = Status::Ok();  // close before the helpers reopen it

  auto meta = ReadMeta(ExtractDb());
  ASSERT_OK(meta);
  ASSERT_EQ(meta->size(), 2u);
  EXPECT_EQ((*meta)[0].table_name, "events");
  EXPECT_EQ((*meta)[0].query_mode, "materialized");
  EXPECT_EQ((*meta)[1].table_name, "orders");
  EXPECT_EQ((*meta)[1].description, "about orders");
  EXPECT_EQ((*meta)[1].rows, 1000);
  EXPECT_EQ((*meta)[1].size_bytes, orders.size_bytes);
  EXPECT_EQ((*meta)[1].query_mode, "local");
  EXPECT_EQ(
      nlohmann::json::parse((*meta)[1].schema_json),
      nlohmann::json::parse(R"([{"name":"i","type":"BIGINT"},{"name":"label","type":"VARCHAR"}])"));
  EXPECT_NEAR(static_cast<double>((*meta)[1].extracted_at_us), static_cast<double>(NowMicros()),
              60e6);

  EXPECT_EQ(*ListViews(ExtractDb()), (std::vector<std::string>{"events", "orders"}));
  EXPECT_EQ(*CountView(ExtractDb(), "orders"), 1000);
  EXPECT_EQ(*testing::QueryInt(ExtractDb(), "SELECT sum(i) FROM orders"), 499500);
  EXPECT_EQ(*CountView(ExtractDb(), "events"), 250);
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(RuntimeTest, FailedTableKeepsPreviousParquetAndMetaRow) {
  std::vector<model::TableSpec> tables = {Rec("a", "a", "range:10"), Rec("b", "b", "range:20")};
  ASSERT_OK(Runtime().Extract("gen", tables, {}));
  auto md5_before = *Md5File(Parquet("a"));
  auto meta_before = *ReadMeta(ExtractDb());

  tables[0].source_table = "missing";
  tables[1].source_table = "range:30";
  auto report = Runtime().Extract("gen", tables, {});
  ASSERT_OK(report);
  const auto* a = Find(*report, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->status, "error");
  EXPECT_EQ(a->error, "not_found: source object 'missing' not found");
  EXPECT_EQ(a->rows, 0);
  EXPECT_TRUE(a->md5.empty());
  EXPECT_EQ(Find(*report, "b")->rows, 30);

  EXPECT_EQ(*Md5File(Parquet("a")), md5_before);
  auto meta = *ReadMeta(ExtractDb());
  ASSERT_EQ(meta.size(), 2u);
  EXPECT_EQ(meta[0].rows, 10);
  EXPECT_EQ(meta[0].extracted_at_us, meta_before[0].extracted_at_us);
  EXPECT_EQ(meta[0].schema_json, meta_before[0].schema_json);
  EXPECT_EQ(meta[1].rows, 30);
  EXPECT_EQ(*CountView(ExtractDb(), "a"), 10);
  EXPECT_EQ(*CountView(ExtractDb(), "b"), 30);
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(RuntimeTest, PartialExtractionMergesMeta) {
  std::vector<model::TableSpec> tables = {Rec("a", "a", "range:10"), Rec("b", "b", "range:20")};
  ASSERT_OK(Runtime().Extract("gen", tables, {}));
  auto before = *ReadMeta(ExtractDb());

  tables[0].source_table = "range:11";
  tables[1].source_table = "range:21";
  tables[1].description = "new words";
  auto report = Runtime().Extract("gen", tables, {"a"});
  ASSERT_OK(report);
  ASSERT_EQ(report->tables.size(), 1u);
  EXPECT_EQ(report->tables[0].table_id, "a");
  EXPECT_EQ(report->tables[0].rows, 11);

  auto meta = *ReadMeta(ExtractDb());
  ASSERT_EQ(meta.size(), 2u);
  EXPECT_EQ(meta[0].rows, 11);
  EXPECT_GT(meta[0].extracted_at_us, before[0].extracted_at_us);
  EXPECT_EQ(meta[1].rows, 20);  // not extracted: previous values kept
  EXPECT_EQ(meta[1].extracted_at_us, before[1].extracted_at_us);
  EXPECT_EQ(meta[1].size_bytes, before[1].size_bytes);
  EXPECT_EQ(meta[1].description, "new words");  // registry metadata is current
  EXPECT_EQ(*CountView(ExtractDb(), "b"), 20);
}

TEST_F(RuntimeTest, UnregisteredTableIsPruned) {
  std::vector<model::TableSpec> tables = {Rec("a", "a", "range:10"), Rec("b", "b", "range:20")};
  auto rt = Runtime();
  ASSERT_OK(rt.Extract("gen", tables, {}));
  ASSERT_TRUE(fs::exists(Parquet("b")));

  ASSERT_OK(rt.RebuildExtractDb("gen", {tables[0]}));
  EXPECT_FALSE(fs::exists(Parquet("b")));
  EXPECT_TRUE(fs::exists(Parquet("a")));
  auto meta = *ReadMeta(ExtractDb());
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta[0].table_name, "a");
  EXPECT_EQ(*ListViews(ExtractDb()), std::vector<std::string>{"a"});

  // Dropping the last table leaves an empty but valid extract.
  ASSERT_OK(rt.RebuildExtractDb("gen", {}));
  EXPECT_TRUE(ReadMeta(ExtractDb())->empty());
  EXPECT_FALSE(fs::exists(Parquet("a")));
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(RuntimeTest, RenamedTableGetsNewViewWithoutReextraction) {
  std::vector<model::TableSpec> tables = {Rec("a", "alpha", "range:10")};
  auto rt = Runtime();
  ASSERT_OK(rt.Extract("gen", tables, {}));
  tables[0].name = "alpha_v2";
  ASSERT_OK(rt.RebuildExtractDb("gen", tables));
  auto meta = *ReadMeta(ExtractDb());
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta[0].table_name, "alpha_v2");
  EXPECT_EQ(meta[0].rows, 10);  // derived from the Parquet footer
  EXPECT_EQ(*ListViews(ExtractDb()), std::vector<std::string>{"alpha_v2"});
}

TEST_F(RuntimeTest, HostileRecordsAreRefusedOthersSucceed) {
  std::vector<model::TableSpec> tables = {
      Rec("x\"; DROP TABLE _meta; --", "x", "range:1"),
      Rec("y", "y\"; DROP TABLE _meta; --", "range:1"),
      Rec("../../etc", "etc", "range:1"),
      Rec("meta", "_META", "range:1"),
      Rec("good", "good", "range:5"),
      Rec("dup", "GOOD", "range:1"),
      Rec("remote", "remote", "range:1"),
  };
  tables.back().query_mode = model::QueryMode::kRemote;
  auto report = Runtime().Extract("gen", tables, {});
  ASSERT_OK(report);
  ASSERT_EQ(report->tables.size(), tables.size());
  for (const auto& s : report->tables) {
    if (s.table_id == "good") {
      EXPECT_EQ(s.status, "ok") << s.error;
    } else {
      EXPECT_EQ(s.status, "error") << s.table_id;
      EXPECT_TRUE(s.error.starts_with("invalid_argument: ")) << s.error;
    }
  }
  EXPECT_NE(Find(*report, "dup")->error.find("already used by table 'good'"), std::string::npos);
  EXPECT_NE(Find(*report, "meta")->error.find("reserved"), std::string::npos);
  auto meta = *ReadMeta(ExtractDb());
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta[0].table_name, "good");
  EXPECT_EQ(*ListViews(ExtractDb()), std::vector<std::string>{"good"});
  // Only the valid table's file exists; nothing escaped the data dir.
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(SourceDir() / "data")) {
    files.push_back(e.path().filename().string());
  }
  EXPECT_EQ(files, std::vector<std::string>{"good.parquet"});
}

TEST_F(RuntimeTest, NameClashHidesTableButKeepsItsData) {
  auto rt = Runtime();
  ASSERT_TRUE(rt.Extract("gen", {Rec("a", "alpha", "range:3"), Rec("b", "beta", "range:4")}, {})
                  .ok());
  // b is renamed onto a's view name (case-insensitively): b is not published, its file stays.
  ASSERT_TRUE(rt.RebuildExtractDb("gen", {Rec("a", "alpha", "range:3"), Rec("b", "ALPHA", "x")})
                  .ok());
  EXPECT_EQ(*ListViews(ExtractDb()), std::vector<std::string>{"alpha"});
  EXPECT_TRUE(fs::exists(Parquet("b")));
  ASSERT_TRUE(rt.RebuildExtractDb("gen", {Rec("a", "alpha", "range:3"), Rec("b", "beta2", "x")})
                  .ok());
  EXPECT_EQ(*ListViews(ExtractDb()), (std::vector<std::string>{"alpha", "beta2"}));
  EXPECT_EQ(*CountView(ExtractDb(), "beta2"), 4);
}

TEST_F(RuntimeTest, UnknownIdsAndConnectorFailuresAreReported) {
  std::vector<model::TableSpec> tables = {Rec("a", "a", "silent"), Rec("b", "b", "badsql"),
                                            Rec("c", "c", "range:3")};
  auto report = Runtime().Extract("gen", tables, {"a", "b", "c", "nope"});
  ASSERT_OK(report);
  ASSERT_EQ(report->tables.size(), 4u);
  EXPECT_TRUE(report->tables[0].error.starts_with("internal: ")) << report->tables[0].error;
  EXPECT_TRUE(report->tables[1].error.starts_with("invalid_argument: "));
  EXPECT_EQ(report->tables[2].status, "ok");
  EXPECT_EQ(report->tables[3].table_id, "nope");
  EXPECT_TRUE(report->tables[3].error.starts_with("not_found: ")) << report->tables[3].error;
  EXPECT_EQ(report->OkCount(), 1u);
  EXPECT_FALSE(fs::exists(Parquet("a")));
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(RuntimeTest, BadSourceUnknownConnectorAndConcurrentRunAreRefused) {
  auto rt = Runtime();
  auto bad = rt.Extract("../gen", {}, {});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rt.RebuildExtractDb("a;b", {}).code(), StatusCode::kInvalidArgument);
  auto unknown = rt.Extract("nosuch", {}, {});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir_.path() / "extracts" / "nosuch"));

  fs::create_directories(SourceDir());
  int fd = ::open((SourceDir() / ".extract.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto busy = rt.Extract("gen", {Rec("a", "a", "range:1")}, {});
  EXPECT_EQ(busy.status().code(), StatusCode::kFailedPrecondition);
  ::close(fd);
  auto later = rt.Extract("gen", {Rec("a", "a", "range:1")}, {});
  EXPECT_OK(later);
}

TEST_F(RuntimeTest, StaleTempFilesAreCleaned) {
  testing::WriteText(SourceDir() / "data" / "a.parquet.tmp", "half written");
  testing::WriteText(SourceDir() / "extract.duckdb.tmp", "junk");
  testing::WriteText(SourceDir() / "extract.duckdb.tmp.wal", "junk");
  testing::WriteText(SourceDir() / "tmp" / "duckdb" / "spill.block", "junk");
  auto report = Runtime().Extract("gen", {Rec("a", "a", "range:2")}, {});
  ASSERT_OK(report);
  EXPECT_EQ(report->tables[0].status, "ok") << report->tables[0].error;
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
  EXPECT_EQ(*CountView(ExtractDb(), "a"), 2);
}

TEST_F(RuntimeTest, ReadersOfTheOldFileKeepWorkingAcrossASwap) {
  auto rt = Runtime();
  ASSERT_OK(rt.Extract("gen", {Rec("a", "a", "range:4")}, {}));
  auto old_db = testing::OpenReadOnly(ExtractDb());
  ASSERT_OK(old_db);
  auto old_conn = old_db->Connect();
  ASSERT_OK(old_conn);
  ASSERT_OK(rt.Extract("gen", {Rec("a", "a", "range:4"), Rec("b", "b", "range:1")}, {}));
  auto r = old_conn->Query("SELECT count(*) FROM _meta");
  ASSERT_OK(r);
  EXPECT_EQ(r->GetInt64(0, 0), 1);  // the old file, still readable
  EXPECT_EQ(ReadMeta(ExtractDb())->size(), 2u);
}

class QuotedPathRuntimeTest : public RuntimeTest {
 protected:
  QuotedPathRuntimeTest() : RuntimeTest("it's \"quoted\"") {}
};

TEST_F(QuotedPathRuntimeTest, DataDirWithQuotesIsQuotedNotExecuted) {
  ASSERT_NE(SourceDir().string().find('\''), std::string::npos);
  auto report = Runtime().Extract("gen", {Rec("a", "a", "range:3")}, {});
  ASSERT_OK(report);
  EXPECT_EQ(report->tables[0].status, "ok") << report->tables[0].error;
  EXPECT_EQ(*CountView(ExtractDb(), "a"), 3);
}

}  // namespace
}  // namespace da::kit
