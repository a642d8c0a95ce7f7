#include "connectors/files/files_connector.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "common/hash.h"
#include "common/identifiers.h"
#include "connectors/builtin.h"
#include "kit/runtime.h"
#include "support/extract_reader.h"
#include "support/files.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::connectors::files {
namespace {
namespace fs = std::filesystem;
using testing::CountView;
using testing::Leftovers;
using testing::QueryInt;
using testing::ReadMeta;
using testing::WriteText;

const fs::path kVega = DA_DATASETS_DIR;

model::TableSpec Rec(std::string id, std::string name, std::string source_table) {
  model::TableSpec t;
  t.id = std::move(id);
  t.name = std::move(name);
  t.source_type = "files";
  t.source_table = std::move(source_table);
  return t;
}

const kit::ExtractStats& Stats(const kit::ExtractReport& r, const std::string& id) {
  for (const auto& s : r.tables) {
    if (s.table_id == id) return s;
  }
  static const kit::ExtractStats kNone;
  ADD_FAILURE() << "no stats for " << id;
  return kNone;
}

std::string ColumnsText(const std::vector<kit::ColumnInfo>& cols) {
  std::string out;
  for (const auto& c : cols) out += (out.empty() ? "" : ", ") + c.name + " " + c.type;
  return out;
}

/// Writes a file with DuckDB's COPY (Parquet and gzip fixtures).
void CopyFixture(const std::string& select, const fs::path& target, const std::string& options) {
  auto db = db::Database::Open(":memory:");
  ASSERT_OK(db);
  auto conn = db->Connect();
  ASSERT_OK(conn);
  auto lit = QuoteLiteral(target.string());
  ASSERT_OK(lit);
  Status st = conn->Execute("COPY (" + select + ") TO " + *lit + " (" + options + ")");
  ASSERT_OK(st);
}

class FilesTest : public ::testing::Test {
 protected:
  explicit FilesTest(const std::string& suffix = "") : dir_(suffix) {
    src_ = dir_.path() / "src";
    fs::create_directories(src_);
  }
  kit::ExtractRuntime Runtime(bool with_base_dir = true) {
    kit::RuntimeOptions o;
    o.extracts_dir = dir_.path() / "extracts";
    o.memory_limit_bytes = 256LL << 20;
    if (with_base_dir) o.source_config["files"]["base_dir"] = src_.string();
    o.source_config["files"]["roots"] = src_.string() + ":" + kVega.string();
    return kit::ExtractRuntime(o, BuiltinConnectors());
  }
  Result<kit::ExtractReport> Extract(const std::vector<model::TableSpec>& tables,
                                     const std::set<std::string>& only = {}) {
    return Runtime().Extract("files", tables, only);
  }
  fs::path SourceDir() { return dir_.path() / "extracts" / "files"; }
  fs::path ExtractDb() { return SourceDir() / "extract.duckdb"; }
  fs::path Parquet(const std::string& id) { return SourceDir() / "data" / (id + ".parquet"); }
  Result<db::QueryResult> Query(const std::string& sql) {
    DA_ASSIGN_OR_RETURN(auto db, testing::OpenReadOnly(ExtractDb()));
    DA_ASSIGN_OR_RETURN(auto conn, db.Connect());
    return conn.Query(sql);
  }

  testing::TempDir dir_;
  fs::path src_;
};

TEST(FilesHelpers, FormatFromExtension) {
  EXPECT_EQ(*FormatFromPath("/a/b.csv"), FileFormat::kCsv);
  EXPECT_EQ(*FormatFromPath("B.CSV.GZ"), FileFormat::kCsv);
  EXPECT_EQ(*FormatFromPath("x.tsv"), FileFormat::kTsv);
  EXPECT_EQ(*FormatFromPath("x.tab"), FileFormat::kTsv);
  EXPECT_EQ(*FormatFromPath("x.json.gz"), FileFormat::kJson);
  EXPECT_EQ(*FormatFromPath("x.ndjson"), FileFormat::kNdjson);
  EXPECT_EQ(*FormatFromPath("x.jsonl"), FileFormat::kNdjson);
  EXPECT_EQ(*FormatFromPath("/d/*.parquet"), FileFormat::kParquet);
  for (const char* bad : {"x.parquet.gz", "x.xlsx", "x", "x.gz", "/d/*"}) {
    auto f = FormatFromPath(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(FilesHelpers, ResolveLocatorRules) {
  kit::ConnectorConfig none;
  kit::ConnectorConfig base{{"base_dir", "/srv/files"}};
  EXPECT_EQ(*ResolveLocator("/abs/a.csv", none), fs::path("/abs/a.csv"));
  EXPECT_EQ(*ResolveLocator("sub/./a.csv", base), fs::path("/srv/files/sub/a.csv"));
  EXPECT_EQ(ResolveLocator("a.csv", none).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveLocator("../etc/passwd.csv", base).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveLocator("", base).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveLocator("a\n.csv", base).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsGlob("/d/*.csv"));
  EXPECT_FALSE(IsGlob("/d/a.csv"));
}

TEST(FilesHelpers, SanitizeTableNameGivesStrictIdentifiers) {
  EXPECT_EQ(SanitizeTableName("seattle-weather"), "seattle_weather");
  EXPECT_EQ(SanitizeTableName("Sales 2024 (final)"), "sales_2024_final");
  EXPECT_EQ(SanitizeTableName("2024"), "t_2024");
  EXPECT_EQ(SanitizeTableName("_x"), "_x");
  EXPECT_EQ(SanitizeTableName("x\"; DROP TABLE y; --"), "x_drop_table_y");
  EXPECT_EQ(SanitizeTableName("***"), "table");
  EXPECT_EQ(SanitizeTableName(std::string(100, 'a')).size(), 64u);
  for (const char* s : {"a b", "9", "é.csv", "'", "__", "-a-"}) {
    EXPECT_TRUE(IsStrictIdentifier(SanitizeTableName(s))) << s;
  }
}

TEST(FilesHelpers, BuiltinRegistryKnowsFiles) {
  EXPECT_TRUE(BuiltinConnectors().IsKnown("files"));
  EXPECT_FALSE(BuiltinConnectors().IsKnown("nope"));
  auto c = BuiltinConnectors().Create("files");
  ASSERT_OK(c);
  EXPECT_EQ((*c)->name(), "files");
  EXPECT_TRUE(kit::HasCapability((*c)->capabilities(),
                                 kit::Capability::kDiscover | kit::Capability::kRead));
}

TEST_F(FilesTest, EveryFormatRoundTripsWithValues) {
  WriteText(src_ / "orders.csv",
            "id,name,amount,day\n1,alpha,1.5,2024-01-02\n2,beta,,2024-02-03\n3,\"ga,mma\",7.25,"
            "2024-03-04\n");
  WriteText(src_ / "rates.tsv", "id\trate\n1001\t.097\n1003\t.091\n");
  WriteText(
      src_ / "people.json",
      R"([{"id": 1, "who": "ann", "tags": ["a", "b"]}, {"id": 2, "who": "bob", "tags": []}])");
  WriteText(src_ / "events.jsonl", "{\"e\": \"click\", \"n\": 3}\n{\"e\": \"view\", \"n\": 4}\n");
  CopyFixture("SELECT range AS k, range * 2 AS v FROM range(100)", src_ / "nums.parquet",
              "FORMAT parquet");
  CopyFixture("SELECT 'x' || range AS s, range AS n FROM range(50)", src_ / "packed.csv.gz",
              "FORMAT csv, HEADER true, COMPRESSION gzip");
  CopyFixture("SELECT range AS n FROM range(7)", src_ / "packed.ndjson.gz",
              "FORMAT json, COMPRESSION gzip");

  auto report = Extract({Rec("orders", "orders", "orders.csv"), Rec("rates", "rates", "rates.tsv"),
                         Rec("people", "people", "people.json"),
                         Rec("events", "events", (src_ / "events.jsonl").string()),
                         Rec("nums", "nums", "nums.parquet"),
                         Rec("packed_csv", "packed_csv", "packed.csv.gz"),
                         Rec("packed_json", "packed_json", "packed.ndjson.gz")});
  ASSERT_OK(report);
  for (const auto& s : report->tables) {
    EXPECT_EQ(s.status, "ok") << s.table_id << ": " << s.error;
    EXPECT_EQ(s.md5, *Md5File(Parquet(s.table_id))) << s.table_id;
  }

  EXPECT_EQ(ColumnsText(Stats(*report, "orders").columns),
            "id BIGINT, name VARCHAR, amount DOUBLE, day DATE");
  EXPECT_EQ(Stats(*report, "orders").rows, 3);
  auto o = Query("SELECT name, amount, day::VARCHAR FROM orders ORDER BY id");
  ASSERT_OK(o);
  EXPECT_EQ(o->GetString(0, 2), "ga,mma");
  EXPECT_TRUE(o->IsNull(1, 1));
  EXPECT_DOUBLE_EQ(o->GetDouble(1, 2), 7.25);
  EXPECT_EQ(o->GetString(2, 0), "2024-01-02");

  EXPECT_EQ(ColumnsText(Stats(*report, "rates").columns), "id BIGINT, rate DOUBLE");
  auto r = Query("SELECT rate FROM rates WHERE id = 1003");
  ASSERT_OK(r);
  EXPECT_DOUBLE_EQ(r->GetDouble(0, 0), 0.091);

  EXPECT_EQ(ColumnsText(Stats(*report, "people").columns),
            "id BIGINT, who VARCHAR, tags VARCHAR[]");
  auto p = Query("SELECT who, len(tags) FROM people ORDER BY id");
  ASSERT_OK(p);
  EXPECT_EQ(p->GetString(0, 1), "bob");
  EXPECT_EQ(p->GetInt64(1, 0), 2);

  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT sum(n) FROM events WHERE e = 'view'"), 4);
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT sum(v) FROM nums"), 9900);
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT n FROM packed_csv WHERE s = 'x42'"), 42);
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT sum(n) FROM packed_json"), 21);
  EXPECT_EQ(ReadMeta(ExtractDb())->size(), 7u);
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(FilesTest, VegaSampleFiles) {
  auto report = Runtime(false).Extract(
      "files",
      {Rec("airports", "airports", (kVega / "airports.csv").string()),
       Rec("seattle_weather", "seattle_weather", (kVega / "seattle-weather.csv").string()),
       Rec("movies", "movies", (kVega / "movies.json").string())},
      {});
  ASSERT_OK(report);
  for (const auto& s : report->tables) EXPECT_EQ(s.status, "ok") << s.table_id << ": " << s.error;
  EXPECT_EQ(Stats(*report, "airports").rows, 3376);
  EXPECT_EQ(ColumnsText(Stats(*report, "airports").columns),
            "iata VARCHAR, name VARCHAR, city VARCHAR, state VARCHAR, country VARCHAR, "
            "latitude DOUBLE, longitude DOUBLE");
  auto a = Query("SELECT name, city, state FROM airports WHERE iata = '00M'");
  ASSERT_OK(a);
  ASSERT_EQ(a->RowCount(), 1u);
  EXPECT_EQ(a->GetString(0, 0), "Thigpen");
  EXPECT_EQ(a->GetString(1, 0), "Bay Springs");

  EXPECT_EQ(Stats(*report, "seattle_weather").rows, 1461);
  auto w =
      Query("SELECT precipitation, weather FROM seattle_weather WHERE date = DATE '2012-01-02'");
  ASSERT_OK(w);
  ASSERT_EQ(w->RowCount(), 1u);
  EXPECT_DOUBLE_EQ(w->GetDouble(0, 0), 10.9);
  EXPECT_EQ(w->GetString(1, 0), "rain");
  EXPECT_EQ(*CountView(ExtractDb(), "movies"), Stats(*report, "movies").rows);
  EXPECT_GT(Stats(*report, "movies").rows, 3000);
}

TEST_F(FilesTest, Flights3mStreamsInFlatMemory) {
  auto report = Runtime(false).Extract(
      "files", {Rec("flights", "flights", (kVega / "flights-3m.parquet").string())}, {});
  ASSERT_OK(report);
  const auto& s = Stats(*report, "flights");
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_EQ(s.rows, 3000000);
  EXPECT_EQ(s.md5, *Md5File(Parquet("flights")));
  EXPECT_EQ(s.size_bytes, static_cast<int64_t>(fs::file_size(Parquet("flights"))));
  EXPECT_EQ(*CountView(ExtractDb(), "flights"), 3000000);
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT count(*) FROM flights WHERE origin = 'SEA'"),
            *QueryInt(ExtractDb(), "SELECT count(*) FROM read_parquet('" +
                                       (kVega / "flights-3m.parquet").string() +
                                       "') WHERE origin = 'SEA'"));
  auto meta = ReadMeta(ExtractDb());
  ASSERT_EQ(meta->size(), 1u);
  EXPECT_EQ((*meta)[0].rows, 3000000);
  // The runtime ran with memory_limit=256MB; the whole test process stays well under 1 GiB.
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  EXPECT_LT(usage.ru_maxrss, 1024L * 1024L) << "peak RSS (KiB)";
}

TEST_F(FilesTest, GlobOfSeveralCsvsIsOneTable) {
  WriteText(src_ / "sales" / "2024-01.csv", "id,amount\n1,10\n2,20\n");
  WriteText(src_ / "sales" / "2024-02.csv", "id,amount\n3,30\n");
  WriteText(src_ / "sales" / "2024-03.csv", "id,amount,note\n4,40,late\n");
  WriteText(src_ / "sales" / "readme.txt", "not data");
  auto report = Extract({Rec("sales", "sales", "sales/*.csv")});
  ASSERT_OK(report);
  const auto& s = Stats(*report, "sales");
  ASSERT_EQ(s.status, "ok") << s.error;
  EXPECT_EQ(s.rows, 4);
  EXPECT_EQ(ColumnsText(s.columns), "id BIGINT, amount BIGINT, note VARCHAR");
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT sum(amount) FROM sales"), 100);
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT count(note) FROM sales"), 1);

  auto none = Extract({Rec("sales", "sales", "sales/*.csv"), Rec("q", "q", "nothing/*.csv")});
  ASSERT_OK(none);
  EXPECT_EQ(Stats(*none, "q").error.substr(0, 11), "not_found: ");
  EXPECT_NE(Stats(*none, "q").error.find("nothing/*.csv"), std::string::npos);
}

TEST_F(FilesTest, MissingAndUnparseableFilesFailAloneAndKeepPreviousData) {
  WriteText(src_ / "a.csv", "x\n1\n2\n");
  WriteText(src_ / "b.json", R"([{"y": 1}, {"y": 2}, {"y": 3}])");
  WriteText(src_ / "c.csv", "z\n5\n");
  CopyFixture("SELECT range AS p FROM range(4)", src_ / "d.parquet", "FORMAT parquet");
  std::vector<model::TableSpec> tables = {Rec("a", "a", "a.csv"), Rec("b", "b", "b.json"),
                                            Rec("c", "c", "c.csv"), Rec("d", "d", "d.parquet")};
  auto first = Extract(tables);
  ASSERT_OK(first);
  ASSERT_EQ(first->OkCount(), 4u);
  auto meta_before = *ReadMeta(ExtractDb());
  const std::string md5_a = *Md5File(Parquet("a"));
  const std::string md5_b = *Md5File(Parquet("b"));
  const std::string md5_d = *Md5File(Parquet("d"));

  fs::remove(src_ / "a.csv");
  WriteText(src_ / "b.json", R"([{"y": 1}, {"y": )");
  WriteText(src_ / "c.csv", "z\n6\n7\n");
  WriteText(src_ / "d.parquet", "PAR1 this is not parquet at all");
  auto second = Extract(tables);
  ASSERT_OK(second);
  const auto& a = Stats(*second, "a");
  EXPECT_EQ(a.status, "error");
  EXPECT_TRUE(a.error.starts_with("not_found: ")) << a.error;
  EXPECT_NE(a.error.find((src_ / "a.csv").string()), std::string::npos) << a.error;
  for (const char* id : {"b", "d"}) {
    const auto& s = Stats(*second, id);
    EXPECT_EQ(s.status, "error") << id;
    EXPECT_TRUE(s.error.starts_with("invalid_argument: cannot read '")) << s.error;
    EXPECT_EQ(s.error.find('\n'), std::string::npos) << s.error;
  }
  EXPECT_NE(Stats(*second, "b").error.find("Malformed JSON"), std::string::npos);
  EXPECT_NE(Stats(*second, "d").error.find("No magic bytes"), std::string::npos);
  EXPECT_EQ(Stats(*second, "c").rows, 2);

  EXPECT_EQ(*Md5File(Parquet("a")), md5_a);
  EXPECT_EQ(*Md5File(Parquet("b")), md5_b);
  EXPECT_EQ(*Md5File(Parquet("d")), md5_d);
  auto meta = *ReadMeta(ExtractDb());
  ASSERT_EQ(meta.size(), 4u);
  for (size_t i : {0u, 1u, 3u}) {
    EXPECT_EQ(meta[i].table_name, meta_before[i].table_name);
    EXPECT_EQ(meta[i].rows, meta_before[i].rows);
    EXPECT_EQ(meta[i].size_bytes, meta_before[i].size_bytes);
    EXPECT_EQ(meta[i].extracted_at_us, meta_before[i].extracted_at_us);
  }
  EXPECT_EQ(meta[2].rows, 2);
  EXPECT_EQ(*CountView(ExtractDb(), "a"), 2);
  EXPECT_EQ(*CountView(ExtractDb(), "b"), 3);
  EXPECT_EQ(*CountView(ExtractDb(), "d"), 4);
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT sum(z) FROM c"), 13);
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(FilesTest, CsvValueContradictingInferredTypeFailsWithOneLineMessage) {
  std::string csv = "n,s\n";
  for (int i = 0; i < 30000; ++i) csv += std::to_string(i) + ",x\n";
  csv += "abc,y\n";  // beyond DuckDB's 20480-row sniffing sample
  WriteText(src_ / "late.csv", csv);
  auto report = Extract({Rec("late", "late", "late.csv")});
  ASSERT_OK(report);
  const auto& s = Stats(*report, "late");
  EXPECT_EQ(s.status, "error");
  EXPECT_TRUE(s.error.starts_with("invalid_argument: cannot read '")) << s.error;
  EXPECT_NE(s.error.find("Could not convert string \"abc\""), std::string::npos) << s.error;
  EXPECT_EQ(s.error.find('\n'), std::string::npos);
  EXPECT_FALSE(fs::exists(Parquet("late")));
  EXPECT_TRUE(Leftovers(SourceDir()).empty());
}

TEST_F(FilesTest, LocatorRulesApplyAtReadTime) {
  WriteText(src_ / "a.csv", "x\n1\n");
  WriteText(src_ / "a.xlsx", "x\n1\n");
  auto no_base = Runtime(false).Extract("files", {Rec("a", "a", "a.csv")}, {});
  ASSERT_OK(no_base);
  EXPECT_TRUE(no_base->tables[0].error.starts_with("invalid_argument: "))
      << no_base->tables[0].error;
  EXPECT_NE(no_base->tables[0].error.find("base_dir"), std::string::npos);
  auto r = Extract({Rec("up", "up", "../src/a.csv"), Rec("x", "x", "a.xlsx"),
                    Rec("dir", "dir", (src_ / "sub.csv").string())});
  fs::create_directories(src_ / "sub.csv");
  auto r2 = Extract({Rec("dir", "dir", (src_ / "sub.csv").string())});
  ASSERT_OK(r);
  ASSERT_OK(r2);
  EXPECT_TRUE(Stats(*r, "up").error.starts_with("invalid_argument: "));
  EXPECT_TRUE(Stats(*r, "x").error.starts_with("invalid_argument: unsupported file type"));
  EXPECT_TRUE(Stats(*r, "dir").error.starts_with("not_found: "));
  EXPECT_TRUE(Stats(*r2, "dir").error.starts_with("invalid_argument: ")) << Stats(*r2, "dir").error;
}

class QuotedFilesTest : public FilesTest {
 protected:
  QuotedFilesTest() : FilesTest("o'brien \"data\"") {}
};

TEST_F(QuotedFilesTest, PathsWithQuotesAreQuotedNeverExecuted) {
  WriteText(src_ / "it's.csv", "v\n1\n2\n");
  // A locator crafted to break out of the literal: it must stay a (missing) file name.
  const std::string hostile = "x.csv', auto_detect=true); COPY (SELECT 1) TO '/tmp/pwned.csv";
  auto report = Extract({Rec("quote", "quote", "it's.csv"), Rec("hostile", "hostile", hostile),
                         Rec("hostile_abs", "hostile_abs", (src_ / hostile).string())});
  ASSERT_OK(report);
  EXPECT_EQ(Stats(*report, "quote").status, "ok") << Stats(*report, "quote").error;
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT sum(v) FROM quote"), 3);
  EXPECT_EQ(Stats(*report, "hostile").status, "error");
  EXPECT_EQ(Stats(*report, "hostile_abs").status, "error");
  EXPECT_FALSE(fs::exists("/tmp/pwned.csv"));
  EXPECT_FALSE(fs::exists(src_ / "x.csv"));
}

TEST_F(FilesTest, DiscoverListsBaseDirWithInferredColumns) {
  WriteText(src_ / "Seattle Weather.csv", "date,temp\n2012-01-01,12.8\n");
  WriteText(src_ / "seattle_weather.tsv", "a\tb\n1\t2\n");
  WriteText(src_ / "_meta.csv", "m\n1\n");
  WriteText(src_ / "people.jsonl", "{\"id\": 1}\n");
  WriteText(src_ / "broken.json", "{{{{");
  WriteText(src_ / "notes.txt", "skip me");
  FilesConnector c;
  auto tables = c.Discover({{"base_dir", src_.string()}});
  ASSERT_OK(tables);
  std::vector<std::string> got;
  for (const auto& t : *tables)
    got.push_back(t.name + "=" + t.source_table + ":" + ColumnsText(t.columns));
  // Sorted by file name (bytes: upper case first); names deduplicated and never reserved.
  EXPECT_EQ(got,
            (std::vector<std::string>{"seattle_weather=Seattle Weather.csv:date DATE, temp DOUBLE",
                                      "_meta_2=_meta.csv:m BIGINT", "people=people.jsonl:id BIGINT",
                                      "seattle_weather_2=seattle_weather.tsv:a BIGINT, b BIGINT"}));

  auto listed = c.Discover({{"base_dir", src_.string()},
                            {"roots", src_.string() + ":" + kVega.string()},
                            {"paths", "people.jsonl, " + (kVega / "airports.csv").string()}});
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].name, "airports");
  EXPECT_EQ((*listed)[1].columns.size(), 7u);

  WriteText(src_ / "sales" / "1.csv", "n\n1\n");
  auto glob = c.Discover({{"base_dir", src_.string()}, {"paths", "sales/*.csv"}});
  ASSERT_OK(glob);
  EXPECT_EQ((*glob)[0].name, "sales");

  EXPECT_EQ(c.Discover({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Discover({{"base_dir", (src_ / "nope").string()}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(c.Discover({{"base_dir", src_.string()}, {"paths", "gone.csv"}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(c.Discover({{"base_dir", src_.string()}, {"paths", "broken.json"}}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace da::connectors::files

namespace da::connectors::files {
namespace {

/// Runtime options of a files source under `memory_limit_bytes`, `concurrency` tables at once.
class BudgetTest : public FilesTest {
 protected:
  kit::RuntimeOptions BudgetOptions(int64_t memory_limit_bytes, int concurrency) {
    kit::RuntimeOptions o;
    o.extracts_dir = dir_.path() / "extracts";
    o.memory_limit_bytes = memory_limit_bytes;
    o.source_config["files"]["base_dir"] = src_.string();
    o.source_config["files"]["table_concurrency"] = std::to_string(concurrency);
    return o;
  }
};

// Four tables read at once share one extraction's memory budget: their conversions are admitted
// one at a time (kit/memory_gate.h), so none fails for running beside the others, even when the
// budget is small next to what the four conversions would reserve together.
TEST_F(BudgetTest, FourTablesAtOnceUnderASmallMemoryLimitAllSucceed) {
  std::vector<model::TableSpec> tables;
  for (int i = 0; i < 4; ++i) {
    const std::string name = "wide_" + std::to_string(i);
    CopyFixture("SELECT range AS id, md5(range::VARCHAR) AS h, repeat(chr(65 + (range % 26)::INT), 200) AS pad, "
                "range * 0.5 AS v, (DATE '2020-01-01' + (range % 1000)::INT) AS day FROM range(300000)",
                src_ / (name + ".csv.gz"), "FORMAT csv, HEADER true, COMPRESSION gzip");
    tables.push_back(Rec(name, name, name + ".csv.gz"));
  }
  kit::RuntimeOptions o = BudgetOptions(128LL << 20, 4);
  kit::ExtractRuntime runtime(o, BuiltinConnectors());
  for (int round = 0; round < 2; ++round) {
    auto report = runtime.Extract("files", tables, {});
    ASSERT_OK(report);
    for (const auto& t : tables) {
      const auto& s = Stats(*report, t.id);
      EXPECT_EQ(s.status, "ok") << t.id << ": " << s.error;
      EXPECT_EQ(s.rows, 300000) << t.id;
    }
  }
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT sum(id) FROM wide_3"), 299999LL * 300000 / 2);
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT count(DISTINCT h) FROM wide_0"), 300000);
}

// A conversion that cannot fit the budget even alone fails that table alone, as
// resource_exhausted naming the limit and how to raise it, never with DuckDB's allocator text.
TEST_F(BudgetTest, ATableThatNeedsMoreThanTheWholeBudgetSaysWhichLimitToRaise) {
  // DuckDB's CSV reader reserves a 32 MiB buffer (less for a smaller file) per thread, so a
  // 30 MB CSV cannot be read within 24 MiB; a small Parquet file can.
  CopyFixture("SELECT 1 AS id, repeat('x', 30000000) AS blob", src_ / "huge.csv",
              "FORMAT csv, HEADER true");
  CopyFixture("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(id, name)", src_ / "small.parquet",
              "FORMAT parquet");
  kit::RuntimeOptions o = BudgetOptions(24LL << 20, 2);
  kit::ExtractRuntime runtime(o, BuiltinConnectors());
  auto report = runtime.Extract("files", {Rec("huge", "huge", "huge.csv"), Rec("small", "small", "small.parquet")}, {});
  ASSERT_OK(report);
  EXPECT_EQ(Stats(*report, "small").status, "ok") << Stats(*report, "small").error;
  const std::string error = Stats(*report, "huge").error;
  EXPECT_TRUE(error.starts_with("resource_exhausted: table 'huge' needs more memory than the "
                                "extraction memory limit of 24.0 MiB"))
      << error;
  EXPECT_NE(error.find("DA_EXTRACT_MEMORY_LIMIT"), std::string::npos) << error;
  EXPECT_NE(error.find("sources.files.memory_limit"), std::string::npos) << error;
  EXPECT_EQ(error.find("Out of Memory"), std::string::npos) << error;

  // The source's own memory_limit wins over the instance-wide one, and names itself.
  o.source_config["files"]["memory_limit"] = "20MiB";
  auto again = kit::ExtractRuntime(o, BuiltinConnectors()).Extract("files", {Rec("huge", "huge", "huge.csv")}, {});
  ASSERT_OK(again);
  EXPECT_NE(Stats(*again, "huge").error.find("20.0 MiB (set by sources.files.memory_limit)"), std::string::npos)
      << Stats(*again, "huge").error;
  o.source_config["files"]["memory_limit"] = "plenty";
  auto bad = kit::ExtractRuntime(o, BuiltinConnectors()).Extract("files", {Rec("small", "small", "small.parquet")}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("sources.files.memory_limit 'plenty'"), std::string::npos);
}

// Attack: an admin-registered files table (or one registered with a stolen admin token)
// names another user's file, e.g. ~/.config/da/config.json or /etc/passwd, directly or through
// a symlink inside an allowed directory. Registration refuses it (HTTP 422 at the service).
TEST_F(FilesTest, RegistrationOutsideTheRootsIsRefused) {
  const fs::path outside = dir_.path() / "outside";
  WriteText(outside / "secret.csv", "token\nhunter2\n");
  fs::create_directory_symlink(outside, src_ / "link");
  FilesConnector c;
  const kit::ConnectorConfig config{{"base_dir", src_.string()}, {"roots", src_.string()}};
  EXPECT_OK(c.ValidateSourceTable((src_ / "a.csv").string(), config));
  EXPECT_OK(c.ValidateSourceTable("a.csv", config));
  EXPECT_OK(c.ValidateSourceTable("sales/*.csv", config));
  EXPECT_OK(c.ValidateSourceTable("not/yet/there.csv", config));
  for (const std::string bad :
       {(outside / "secret.csv").string(), std::string("/etc/passwd.csv"),
        (src_ / "link" / "secret.csv").string(), std::string("link/secret.csv"),
        std::string("link/*.csv"), (src_ / ".." / "outside" / "secret.csv").string(),
        std::string("/*/*.csv"), (dir_.path() / "*" / "secret.csv").string()}) {
    Status st = c.ValidateSourceTable(bad, config);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("outside the directories files tables may read"),
              std::string::npos)
        << st.message();
  }
  // No roots and no base_dir: nothing may be read.
  EXPECT_EQ(c.ValidateSourceTable((src_ / "a.csv").string(), {}).code(),
            StatusCode::kInvalidArgument);
  // The roots are the wall; base_dir does not widen them.
  const kit::ConnectorConfig narrow{{"base_dir", outside.string()}, {"roots", src_.string()}};
  EXPECT_EQ(c.ValidateSourceTable("secret.csv", narrow).code(), StatusCode::kInvalidArgument);
}

// Attack: a symlink planted inside a root after registration (or a glob whose matches include
// one) points at a file outside; extraction resolves every match and refuses it, reading
// nothing from outside.
TEST_F(FilesTest, ExtractionRefusesASymlinkThatLeadsOutOfTheRoots) {
  const fs::path outside = dir_.path() / "outside";
  WriteText(outside / "secret.csv", "id,amount\n99,999\n");
  WriteText(src_ / "sales" / "a.csv", "id,amount\n1,10\n");
  fs::create_symlink(outside / "secret.csv", src_ / "sales" / "b.csv");
  fs::create_symlink(outside / "secret.csv", src_ / "single.csv");
  WriteText(outside / "ok.csv", "id,amount\n5,50\n");
  fs::create_symlink(src_ / "sales" / "a.csv", src_ / "inside_link.csv");
  auto report = Extract({Rec("sales", "sales", "sales/*.csv"), Rec("single", "single", "single.csv"),
                         Rec("abs", "abs", (outside / "ok.csv").string()),
                         Rec("fine", "fine", "inside_link.csv")});
  ASSERT_OK(report);
  for (const char* id : {"sales", "single", "abs"}) {
    const auto& s = Stats(*report, id);
    EXPECT_EQ(s.status, "error") << id;
    EXPECT_NE(s.error.find("outside the directories files tables may read"), std::string::npos)
        << id << ": " << s.error;
  }
  EXPECT_FALSE(fs::exists(Parquet("sales")));
  EXPECT_FALSE(fs::exists(Parquet("single")));
  // A symlink that stays inside the roots is read.
  EXPECT_EQ(Stats(*report, "fine").status, "ok") << Stats(*report, "fine").error;
  EXPECT_EQ(*QueryInt(ExtractDb(), "SELECT sum(amount) FROM fine"), 10);
}

}  // namespace
}  // namespace da::connectors::files
