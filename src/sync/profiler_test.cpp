#include "sync/profiler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "common/hash.h"
#include "common/identifiers.h"
#include "state/state_db.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::sync {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDatasets = DA_DATASETS_DIR;

std::string Lit(const fs::path& p) {
  auto q = QuoteLiteral(p.string());
  EXPECT_OK(q);
  return q.ok() ? *q : "''";
}

/// A plain in-memory DuckDB: the test's independent source of truth, and the profiled DB.
class ProfilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = db::Database::Open(":memory:");
    ASSERT_OK(database);
    db_ = std::make_unique<db::Database>(std::move(database).value());
    auto conn = db_->Connect();
    ASSERT_OK(conn);
    conn_ = std::make_unique<db::Connection>(std::move(conn).value());
  }

  void Exec(const std::string& sql) {
    Status st = conn_->Execute(sql);
    ASSERT_OK(st) << sql << ": " << st.ToString();
  }
  int64_t Int(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_OK(r) << sql << ": " << r.status().ToString();
    return r.ok() ? r->GetInt64(0, 0) : -1;
  }
  double Double(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_OK(r) << sql << ": " << r.status().ToString();
    return r.ok() ? r->GetDouble(0, 0) : NAN;
  }
  std::string Text(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_OK(r) << sql << ": " << r.status().ToString();
    return r.ok() ? r->GetString(0, 0) : "";
  }

  json Profile(const std::string& view, const ProfileOptions& options = {}) {
    auto p = ProfileView(*conn_, view, "tid_" + view, options);
    EXPECT_OK(p);
    if (!p.ok()) return json::object();
    // Whatever the data, the document must serialise (no NaN/inf).
    EXPECT_NO_THROW((void)p->dump());
    return *p;
  }

  static const json& Column(const json& profile, const std::string& name) {
    for (const auto& c : profile["columns"]) {
      if (c["name"] == name) return c;
    }
    static const json kMissing;
    ADD_FAILURE() << "no column " << name << " in " << profile.dump();
    return kMissing;
  }

  static int64_t HistogramTotal(const json& col) {
    int64_t total = 0;
    for (const auto& b : col["histogram"]) total += b["count"].get<int64_t>();
    return total;
  }

  std::unique_ptr<db::Database> db_;
  std::unique_ptr<db::Connection> conn_;
};

TEST_F(ProfilerTest, SeattleWeatherMatchesPlainSql) {
  Exec("CREATE VIEW seattle_weather AS SELECT * FROM read_csv(" +
       Lit(kDatasets / "seattle-weather.csv") + ")");
  json p = Profile("seattle_weather");
  EXPECT_EQ(p["table_id"], "tid_seattle_weather");
  EXPECT_EQ(p["rows"], Int("SELECT count(*) FROM seattle_weather"));
  EXPECT_EQ(p["rows"], 1461);
  ASSERT_EQ(p["columns"].size(), 6u);
  EXPECT_EQ(p["profiled_at"].get<std::string>().size(), 20u);

  for (const auto& c : p["columns"]) {
    std::string q = QuoteIdent(c["name"].get<std::string>());
    EXPECT_EQ(c["null_count"], Int("SELECT count(*) - count(" + q + ") FROM seattle_weather"))
        << c["name"];
    EXPECT_EQ(c["null_pct"], 0.0);
    EXPECT_EQ(c["type"], Text("SELECT typeof(" + q + ") FROM seattle_weather LIMIT 1"));
  }

  const json& temp_max = Column(p, "temp_max");
  EXPECT_EQ(temp_max["min"], Double("SELECT min(temp_max) FROM seattle_weather"));
  EXPECT_EQ(temp_max["max"], Double("SELECT max(temp_max) FROM seattle_weather"));
  EXPECT_EQ(temp_max["min"], -1.6);
  EXPECT_EQ(temp_max["max"], 35.6);
  EXPECT_NEAR(temp_max["mean"].get<double>(), Double("SELECT avg(temp_max) FROM seattle_weather"),
              1e-9);
  EXPECT_NEAR(temp_max["stddev"].get<double>(),
              Double("SELECT stddev_samp(temp_max) FROM seattle_weather"), 1e-9);
  // approx_count_distinct is HyperLogLog: within a few percent of the exact count.
  double exact = Double("SELECT count(DISTINCT temp_max) FROM seattle_weather");
  EXPECT_NEAR(temp_max["approx_distinct"].get<double>(), exact, exact * 0.1);

  // Histogram: 10 equal-width bins from min to max; each count equals a plain range count.
  const json& h = temp_max["histogram"];
  ASSERT_EQ(h.size(), 10u);
  EXPECT_EQ(h[0]["lo"], -1.6);
  EXPECT_EQ(h[9]["hi"], 35.6);
  EXPECT_EQ(HistogramTotal(temp_max), 1461);
  for (size_t i = 0; i < h.size(); ++i) {
    std::string lo = std::to_string(h[i]["lo"].get<double>());
    std::string hi = std::to_string(h[i]["hi"].get<double>());
    EXPECT_NEAR(h[i]["hi"].get<double>() - h[i]["lo"].get<double>(), (35.6 + 1.6) / 10, 1e-9);
    std::string upper = i + 1 == h.size() ? "temp_max <= " + hi : "temp_max < " + hi;
    EXPECT_EQ(h[i]["count"], Int("SELECT count(*) FROM seattle_weather WHERE temp_max >= " + lo +
                                 " AND " + upper))
        << "bin " << i;
  }

  // Top weather value and its count, computed independently.
  const json& weather = Column(p, "weather");
  ASSERT_FALSE(weather["top_values"].empty());
  EXPECT_EQ(weather["top_values"][0]["value"],
            Text("SELECT weather FROM seattle_weather GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"));
  EXPECT_EQ(weather["top_values"][0]["value"], "rain");
  EXPECT_EQ(weather["top_values"][0]["count"],
            Int("SELECT count(*) FROM seattle_weather WHERE weather = 'rain'"));
  EXPECT_EQ(weather["top_values"].size(),
            static_cast<size_t>(Int("SELECT count(DISTINCT weather) FROM seattle_weather")));
  EXPECT_EQ(weather["min"], "drizzle");
  EXPECT_EQ(weather["max"], "sun");
  EXPECT_TRUE(weather["mean"].is_null());
  EXPECT_TRUE(weather["histogram"].empty());
  // Most frequent first.
  for (size_t i = 1; i < weather["top_values"].size(); ++i) {
    EXPECT_GE(weather["top_values"][i - 1]["count"], weather["top_values"][i]["count"]);
  }

  // Dates: text min/max, histogram with ISO bounds.
  const json& date = Column(p, "date");
  EXPECT_EQ(date["type"], "DATE");
  EXPECT_EQ(date["min"], "2012-01-01");
  EXPECT_EQ(date["max"], "2015-12-31");
  ASSERT_EQ(date["histogram"].size(), 10u);
  EXPECT_EQ(date["histogram"][0]["lo"], "2012-01-01T00:00:00Z");
  EXPECT_EQ(date["histogram"][9]["hi"], "2015-12-31T00:00:00Z");
  EXPECT_EQ(HistogramTotal(date), 1461);
  EXPECT_TRUE(date["top_values"].empty());  // 1461 distinct days: not low-cardinality
}

TEST_F(ProfilerTest, MoviesNullsAndQuotedColumnNames) {
  Exec("CREATE VIEW movies AS SELECT * FROM read_json(" + Lit(kDatasets / "movies.json") + ")");
  json p = Profile("movies");
  const int64_t rows = Int("SELECT count(*) FROM movies");
  EXPECT_EQ(p["rows"], rows);
  int64_t columns_with_nulls = 0;
  for (const auto& c : p["columns"]) {
    std::string q = QuoteIdent(c["name"].get<std::string>());
    int64_t nulls = Int("SELECT count(*) - count(" + q + ") FROM movies");
    EXPECT_EQ(c["null_count"], nulls) << c["name"];
    EXPECT_NEAR(c["null_pct"].get<double>(), 100.0 * static_cast<double>(nulls) / static_cast<double>(rows), 1e-4)
        << c["name"];
    if (nulls > 0) ++columns_with_nulls;
  }
  EXPECT_GE(columns_with_nulls, 10);

  const json& rating = Column(p, "MPAA Rating");
  ASSERT_FALSE(rating["top_values"].empty());
  EXPECT_EQ(rating["top_values"][0]["value"],
            Text("SELECT \"MPAA Rating\" FROM movies WHERE \"MPAA Rating\" IS NOT NULL "
                 "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"));
  EXPECT_EQ(rating["top_values"][0]["count"],
            Int("SELECT count(*) FROM movies GROUP BY \"MPAA Rating\" ORDER BY 1 DESC LIMIT 1"));

  const json& running = Column(p, "Running Time min");
  EXPECT_EQ(running["min"], Int("SELECT min(\"Running Time min\") FROM movies"));
  EXPECT_EQ(running["max"], Int("SELECT max(\"Running Time min\") FROM movies"));
  EXPECT_EQ(HistogramTotal(running), Int("SELECT count(\"Running Time min\") FROM movies"));

  // Director has hundreds of distinct names: still a text column, so top values are kept (≤ 10).
  const json& director = Column(p, "Director");
  EXPECT_EQ(director["top_values"].size(), 10u);
  EXPECT_EQ(director["top_values"][0]["count"],
            Int("SELECT count(*) FROM movies WHERE Director IS NOT NULL GROUP BY Director "
                "ORDER BY 1 DESC LIMIT 1"));
}

TEST_F(ProfilerTest, Flights3mViaParquet) {
  auto started = std::chrono::steady_clock::now();
  auto p = ProfileParquet(kDatasets / "flights-3m.parquet", "flights");
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  ASSERT_OK(p);
  std::printf("flights-3m profile: %lld ms\n", static_cast<long long>(elapsed_ms));
  EXPECT_EQ((*p)["table_id"], "flights");
  EXPECT_EQ((*p)["rows"], 3000000);
  ASSERT_EQ((*p)["columns"].size(), 5u);
  const json& delay = Column(*p, "delay");
  std::string src = "read_parquet(" + Lit(kDatasets / "flights-3m.parquet") + ")";
  EXPECT_EQ(delay["type"], "BIGINT");
  EXPECT_EQ(delay["min"], Int("SELECT min(delay) FROM " + src));
  EXPECT_EQ(delay["max"], Int("SELECT max(delay) FROM " + src));
  EXPECT_EQ(HistogramTotal(delay), 3000000);
  const json& origin = Column(*p, "origin");
  ASSERT_EQ(origin["top_values"].size(), 10u);
  EXPECT_EQ(origin["top_values"][0]["value"],
            Text("SELECT origin FROM " + src + " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"));
  EXPECT_EQ(origin["top_values"][0]["count"],
            Int("SELECT count(*) FROM " + src + " GROUP BY origin ORDER BY 1 DESC LIMIT 1"));
  const json& date = Column(*p, "date");
  EXPECT_EQ(date["type"], "TIMESTAMP");
  EXPECT_EQ(HistogramTotal(date), 3000000);
  EXPECT_LT(elapsed_ms, 30000);
}

TEST_F(ProfilerTest, EmptyTable) {
  Exec("CREATE TABLE empty_t (a INTEGER, b VARCHAR, c DATE)");
  json p = Profile("empty_t");
  EXPECT_EQ(p["rows"], 0);
  for (const auto& c : p["columns"]) {
    EXPECT_EQ(c["null_count"], 0);
    EXPECT_EQ(c["null_pct"], 0.0);
    EXPECT_TRUE(c["min"].is_null());
    EXPECT_TRUE(c["top_values"].empty());
    EXPECT_TRUE(c["histogram"].empty());
  }
}

TEST_F(ProfilerTest, EdgeValues) {
  Exec("CREATE TABLE edge AS SELECT * FROM (VALUES "
       "(1, NULL::INTEGER, 'nan'::DOUBLE, [1, 2], {'k': 1}, 'x'::BLOB, 1.50::DECIMAL(10,2), true, "
       "  TIMESTAMP '2020-01-01 10:00:00'),"
       "(1, NULL, 'inf'::DOUBLE, [3], {'k': 2}, 'y'::BLOB, 2.25, false, TIMESTAMP '2020-01-01 10:00:00'),"
       "(1, NULL, 1.0, NULL, NULL, NULL, NULL, true, NULL)"
       ") t(constant, all_null, weird, list_col, struct_col, blob_col, dec, flag, ts)");
  json p = Profile("edge");
  EXPECT_EQ(p["rows"], 3);

  const json& constant = Column(p, "constant");
  ASSERT_EQ(constant["histogram"].size(), 1u);  // one distinct value: one bin
  EXPECT_EQ(constant["histogram"][0], (json{{"lo", 1.0}, {"hi", 1.0}, {"count", 3}}));
  EXPECT_EQ(constant["top_values"], (json::array({{{"value", 1}, {"count", 3}}})));
  EXPECT_EQ(constant["stddev"], 0.0);

  const json& all_null = Column(p, "all_null");
  EXPECT_EQ(all_null["null_count"], 3);
  EXPECT_EQ(all_null["null_pct"], 100.0);
  EXPECT_TRUE(all_null["min"].is_null());
  EXPECT_TRUE(all_null["mean"].is_null());
  EXPECT_TRUE(all_null["histogram"].empty());

  const json& weird = Column(p, "weird");  // NaN sorts last in DuckDB: max is NaN
  EXPECT_EQ(weird["min"], 1.0);
  EXPECT_TRUE(weird["max"].is_null());
  EXPECT_EQ(weird["mean"], 1.0);  // over finite values only
  EXPECT_TRUE(weird["stddev"].is_null());
  EXPECT_TRUE(weird["histogram"].empty());

  for (const char* nested : {"list_col", "struct_col"}) {
    const json& c = Column(p, nested);
    EXPECT_EQ(c["null_count"], 1) << nested;
    EXPECT_TRUE(c["approx_distinct"].is_null()) << nested;
    EXPECT_TRUE(c["min"].is_null()) << nested;
    EXPECT_TRUE(c["top_values"].empty()) << nested;
  }
  const json& blob = Column(p, "blob_col");
  EXPECT_EQ(blob["null_count"], 1);
  EXPECT_TRUE(blob["min"].is_null());
  EXPECT_TRUE(blob["top_values"].empty());

  const json& dec = Column(p, "dec");
  EXPECT_EQ(dec["type"], "DECIMAL(10,2)");
  EXPECT_EQ(dec["min"], 1.5);
  EXPECT_EQ(dec["max"], 2.25);
  EXPECT_EQ(HistogramTotal(dec), 2);

  const json& flag = Column(p, "flag");
  EXPECT_EQ(flag["top_values"], (json::array({{{"value", true}, {"count", 2}},
                                              {{"value", false}, {"count", 1}}})));

  const json& ts = Column(p, "ts");
  ASSERT_EQ(ts["histogram"].size(), 1u);
  EXPECT_EQ(ts["histogram"][0]["lo"], "2020-01-01T10:00:00Z");
  EXPECT_EQ(ts["histogram"][0]["count"], 2);
}

TEST_F(ProfilerTest, OverflowingVarianceLeavesOutMoments) {
  Exec("CREATE TABLE huge AS SELECT * FROM (VALUES (1e308::DOUBLE, 'a'), (-1e308, 'b'), (NULL, 'a')) "
       "t(x, s)");
  json p = Profile("huge");
  EXPECT_EQ(p["rows"], 3);
  const json& x = Column(p, "x");
  EXPECT_EQ(x["min"], -1e308);
  EXPECT_EQ(x["max"], 1e308);
  EXPECT_EQ(x["null_count"], 1);
  EXPECT_TRUE(x["mean"].is_null());
  EXPECT_TRUE(x["stddev"].is_null());
  EXPECT_EQ(Column(p, "s")["top_values"][0], (json{{"value", "a"}, {"count", 2}}));
}

TEST_F(ProfilerTest, ManyColumnsUseSeveralGroupingChunks) {
  std::string select = "SELECT ";
  for (int i = 0; i < 40; ++i) {
    select += (i ? ", " : "") + std::string("(range % ") + std::to_string(i + 2) + ") AS c" +
              std::to_string(i);
  }
  Exec("CREATE VIEW wide AS " + select + " FROM range(1000)");
  json p = Profile("wide");
  ASSERT_EQ(p["columns"].size(), 40u);
  for (int i = 0; i < 40; ++i) {
    const json& c = p["columns"][static_cast<size_t>(i)];
    EXPECT_EQ(HistogramTotal(c), 1000) << i;
    int64_t distinct = i + 2;
    if (distinct <= 15) {  // well below the limit of 20, whatever HyperLogLog's error
      // value 0 is among the most frequent (ties broken by value text)
      ASSERT_FALSE(c["top_values"].empty()) << i;
      EXPECT_EQ(c["top_values"][0]["count"], (1000 + distinct - 1) / distinct) << i;
    }
  }
}

TEST_F(ProfilerTest, BadNamesAreRefused) {
  EXPECT_EQ(ProfileView(*conn_, "x; DROP TABLE y", "t").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ProfileView(*conn_, "no_such_view", "t").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(ProfileParquet("/nonexistent/file.parquet", "t").ok());
  EXPECT_EQ(ProfileParquet("/tmp/bad\nname.parquet", "t").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ProfilerTest, DescribeAndSchemaHash) {
  Exec("CREATE TABLE t1 (a INTEGER NOT NULL, \"b c\" VARCHAR)");
  Exec("ATTACH ':memory:' AS other");
  Exec("CREATE TABLE other.main.t2 (x INTEGER)");
  auto cols = DescribeView(*conn_, "T1");  // case-insensitive like DuckDB itself
  ASSERT_OK(cols);
  ASSERT_EQ(cols->size(), 2u);
  EXPECT_EQ((*cols)[0].name, "a");
  EXPECT_EQ((*cols)[0].type, "INTEGER");
  EXPECT_FALSE((*cols)[0].nullable);
  EXPECT_EQ((*cols)[1].name, "b c");
  EXPECT_TRUE((*cols)[1].nullable);
  EXPECT_EQ(SchemaHash(*cols), Md5Hex("a\tINTEGER\nb c\tVARCHAR\n"));
  // Only the current database's main schema: attached catalogs are not published views.
  EXPECT_EQ(DescribeView(*conn_, "t2").status().code(), StatusCode::kNotFound);
  auto all = DescribeAllViews(*conn_);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 1u);
  EXPECT_EQ(SchemaHash(all->at("t1")), SchemaHash(*cols));
  auto changed = *cols;
  changed[0].type = "BIGINT";
  EXPECT_NE(SchemaHash(changed), SchemaHash(*cols));
}

/// ProfileTable / ProfileTables against a real orchestrator, registry and state DB.
class ProfileTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = state::StateDb::Open(dir_.path() / "state" / "system.duckdb");
    ASSERT_OK(db);
    state_ = std::move(db).value();
    registry_ = std::make_unique<state::Registry>(
        *state_, [](const std::string& s) { return s == "files"; });
    profiles_ = std::make_unique<state::ProfileRepo>(*state_);
    orchestrator_ = std::make_unique<orchestrator::Orchestrator>(
        dir_.path() / "extracts", dir_.path() / "analytics" / "server.duckdb");
  }

  /// extracts/files/extract.duckdb with one Parquet-backed view per (name, select).
  void MakeExtract(const std::vector<std::pair<std::string, std::string>>& tables) {
    fs::path dir = dir_.path() / "extracts" / "files";
    fs::create_directories(dir / "data");
    auto database = db::Database::Open((dir / "extract.duckdb").string());
    ASSERT_OK(database);
    auto conn = database->Connect();
    ASSERT_OK(conn);
    ASSERT_TRUE(conn->Execute("CREATE TABLE _meta(table_name VARCHAR NOT NULL, description "
                              "VARCHAR, rows BIGINT, size_bytes BIGINT, extracted_at TIMESTAMP, "
                              "query_mode VARCHAR DEFAULT 'local', schema_json VARCHAR)")
                    .ok());
    for (const auto& [name, select] : tables) {
      std::string path = Lit(dir / "data" / (name + ".parquet"));
      ASSERT_OK(conn->Execute("COPY (" + select + ") TO " + path + " (FORMAT parquet)"));
      ASSERT_TRUE(conn->Execute("CREATE VIEW " + QuoteIdent(name) +
                                " AS SELECT * FROM read_parquet(" + path + ")")
                      .ok());
      ASSERT_OK(conn->Execute("INSERT INTO _meta (table_name) VALUES ($1)", {name}));
    }
  }

  void Register(const std::string& name, const std::string& mode = "local") {
    model::TableSpec spec;
    spec.name = name;
    spec.source_type = "files";
    spec.query_mode = *model::ParseQueryMode(mode);
    auto r = registry_->Register(spec, "test");
    ASSERT_OK(r);
  }

  da::testing::TempDir dir_;
  std::unique_ptr<state::StateDb> state_;
  std::unique_ptr<state::Registry> registry_;
  std::unique_ptr<state::ProfileRepo> profiles_;
  std::unique_ptr<orchestrator::Orchestrator> orchestrator_;
};

TEST_F(ProfileTablesTest, ProfilesPublishedTablesAndStoresThem) {
  MakeExtract({{"weather", "SELECT * FROM read_csv(" + Lit(kDatasets / "seattle-weather.csv") + ")"},
               {"small", "SELECT range AS n FROM range(7)"}});
  auto rebuilt = orchestrator_->Rebuild();
  ASSERT_OK(rebuilt);
  Register("weather");
  Register("small");
  Register("unsynced");             // registered, no view: skipped
  Register("upstream", "remote");   // remote: skipped
  ASSERT_TRUE(ProfileTables(*orchestrator_, *registry_, *profiles_,
                            {"weather", "small", "unsynced", "upstream", "unknown_id"})
                  .ok());
  auto ids = profiles_->ListTableIds();
  ASSERT_OK(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"small", "weather"}));
  auto stored = profiles_->Get("weather");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->profile["rows"], 1461);
  EXPECT_EQ((*stored)->profile["table_id"], "weather");
  EXPECT_EQ((*stored)->profile["profiled_at"], (*stored)->profiled_at);

  auto one = ProfileTable(*orchestrator_, *registry_, *profiles_, "small");
  ASSERT_OK(one);
  EXPECT_EQ((*one)["rows"], 7);
  EXPECT_EQ((*one)["columns"][0]["max"], 6);
  EXPECT_EQ(ProfileTable(*orchestrator_, *registry_, *profiles_, "unsynced").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ProfileTable(*orchestrator_, *registry_, *profiles_, "upstream").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ProfileTable(*orchestrator_, *registry_, *profiles_, "unknown_id").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace da::sync
