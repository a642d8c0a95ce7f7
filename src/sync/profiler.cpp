#include "sync/profiler.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "common/hash.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/time_util.h"
#include "db/value_json.h"

namespace da::sync {
namespace {

using nlohmann::json;

/// GROUPING() returns a bit mask, so one grouping query handles a bounded number of columns.
constexpr size_t kGroupingChunk = 16;

enum class Kind { kNumeric, kTemporal, kText, kBoolean, kBlob, kNested, kOther };

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s).substr(0, prefix.size()) == prefix;
}

/// Classifies a DuckDB type name as reported by duckdb_columns().
Kind KindOf(const std::string& type) {
  static const char* const kNumeric[] = {"TINYINT",  "SMALLINT",  "INTEGER",  "BIGINT",
                                         "HUGEINT",  "UTINYINT",  "USMALLINT", "UINTEGER",
                                         "UBIGINT",  "UHUGEINT",  "FLOAT",     "DOUBLE"};
  static const char* const kTemporal[] = {"DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS",
                                          "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"};
  if (!type.empty() && type.back() == ']') return Kind::kNested;  // LIST "T[]" / ARRAY "T[n]"
  if (StartsWith(type, "STRUCT") || StartsWith(type, "MAP") || StartsWith(type, "UNION")) {
    return Kind::kNested;
  }
  if (StartsWith(type, "DECIMAL")) return Kind::kNumeric;
  for (const char* t : kNumeric) {
    if (type == t) return Kind::kNumeric;
  }
  for (const char* t : kTemporal) {
    if (type == t) return Kind::kTemporal;
  }
  if (type == "VARCHAR" || StartsWith(type, "ENUM")) return Kind::kText;
  if (type == "BOOLEAN") return Kind::kBoolean;
  if (type == "BLOB" || type == "BIT") return Kind::kBlob;
  return Kind::kOther;
}

std::string DoubleLiteral(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);
  return "CAST('" + std::string(buf, r.ptr) + "' AS DOUBLE)";
}

/// What the profiler knows and computes about one column.
struct ColumnWork {
  ColumnInfo info;
  Kind kind = Kind::kOther;
  std::string quoted;
  // Pass 1 results.
  int64_t non_null = 0;
  json approx_distinct = nullptr;
  json min = nullptr, max = nullptr, mean = nullptr, stddev = nullptr;
  std::optional<double> lo, hi;  // numeric value or epoch microseconds, when finite
  // Pass 2 plan and results.
  bool wants_top = false;
  bool wants_histogram = false;
  double width = 0;
  std::vector<json> top_values;
  std::vector<int64_t> bins;
};

/// Pass 1: row count and the per-column aggregates, one scan. Without `with_moments` no
/// mean/stddev is computed (the fallback when they overflow).
Result<int64_t> RunStatsPass(db::Connection& conn, const std::string& relation,
                             std::vector<ColumnWork>& cols, bool with_moments) {
  std::vector<std::string> exprs = {"count(*)"};
  struct Slots {
    int count = -1, distinct = -1, min = -1, max = -1, mean = -1, stddev = -1, lo = -1, hi = -1;
  };
  std::vector<Slots> slots(cols.size());
  auto add = [&](std::string e) {
    exprs.push_back(std::move(e));
    return static_cast<int>(exprs.size()) - 1;
  };
  for (size_t i = 0; i < cols.size(); ++i) {
    const ColumnWork& c = cols[i];
    const std::string& q = c.quoted;
    Slots& s = slots[i];
    s.count = add("count(" + q + ")");
    if (c.kind == Kind::kNested) continue;
    s.distinct = add("approx_count_distinct(" + q + ")");
    if (c.kind == Kind::kBlob) continue;
    if (c.kind == Kind::kNumeric) {
      // As text, encoded by db::ScalarTextToJson: the one JSON encoding of values (a DECIMAL
      // or HUGEINT stays exact, NaN/±inf become null).
      s.min = add("CAST(min(" + q + ") AS VARCHAR)");
      s.max = add("CAST(max(" + q + ") AS VARCHAR)");
      if (with_moments) {
        // NaN and ±inf would poison the mean and make stddev_samp fail: finite values only.
        bool floating = c.info.type == "FLOAT" || c.info.type == "DOUBLE";
        std::string filter = floating ? " FILTER (WHERE isfinite(" + q + "))" : "";
        s.mean = add("CAST(avg(" + q + ")" + filter + " AS DOUBLE)");
        s.stddev = add("CAST(stddev_samp(" + q + ")" + filter + " AS DOUBLE)");
      }
      s.lo = add("CAST(min(" + q + ") AS DOUBLE)");
      s.hi = add("CAST(max(" + q + ") AS DOUBLE)");
    } else {
      s.min = add("CAST(min(" + q + ") AS VARCHAR)");
      s.max = add("CAST(max(" + q + ") AS VARCHAR)");
    }
    if (c.kind == Kind::kTemporal) {
      // 'infinity' timestamps have no epoch; they leave the column without a histogram.
      s.lo = add("CASE WHEN isfinite(min(" + q + ")) THEN epoch_us(min(" + q + ")) END");
      s.hi = add("CASE WHEN isfinite(max(" + q + ")) THEN epoch_us(max(" + q + ")) END");
    }
  }
  std::string sql = "SELECT ";
  for (size_t i = 0; i < exprs.size(); ++i) sql += (i ? ", " : "") + exprs[i];
  sql += " FROM " + relation;
  DA_ASSIGN_OR_RETURN(db::QueryResult r, conn.Query(sql));
  int64_t rows = r.GetInt64(0, 0);
  auto number = [&](int slot) -> json {
    if (slot < 0 || r.IsNull(static_cast<size_t>(slot), 0)) return nullptr;
    return db::DoubleToJson(r.GetDouble(static_cast<size_t>(slot), 0));
  };
  auto opt_double = [&](int slot) -> std::optional<double> {
    if (slot < 0 || r.IsNull(static_cast<size_t>(slot), 0)) return std::nullopt;
    double d = r.GetDouble(static_cast<size_t>(slot), 0);
    if (!std::isfinite(d)) return std::nullopt;
    return d;
  };
  for (size_t i = 0; i < cols.size(); ++i) {
    ColumnWork& c = cols[i];
    const Slots& s = slots[i];
    c.non_null = r.GetInt64(static_cast<size_t>(s.count), 0);
    if (s.distinct >= 0) c.approx_distinct = r.GetInt64(static_cast<size_t>(s.distinct), 0);
    if (s.min >= 0) {
      auto value = [&](int slot) -> json {
        if (r.IsNull(static_cast<size_t>(slot), 0)) return nullptr;
        return db::ScalarTextToJson(c.info.type, r.GetString(static_cast<size_t>(slot), 0));
      };
      c.min = value(s.min);
      c.max = value(s.max);
    }
    if (c.kind == Kind::kNumeric) {
      c.mean = number(s.mean);
      c.stddev = number(s.stddev);
    }
    c.lo = opt_double(s.lo);
    c.hi = opt_double(s.hi);
  }
  return rows;
}

void PlanGroupingPass(std::vector<ColumnWork>& cols, const ProfileOptions& options) {
  for (ColumnWork& c : cols) {
    if (c.non_null == 0) continue;
    bool scalar = c.kind != Kind::kNested && c.kind != Kind::kBlob;
    bool low_cardinality = c.approx_distinct.is_number_integer() &&
                           c.approx_distinct.get<int64_t>() <= options.low_cardinality_max;
    c.wants_top = options.top_values > 0 &&
                  (c.kind == Kind::kText || c.kind == Kind::kBoolean || (scalar && low_cardinality));
    if ((c.kind == Kind::kNumeric || c.kind == Kind::kTemporal) && c.lo && c.hi &&
        options.histogram_bins > 0) {
      c.width = (*c.hi - *c.lo) / options.histogram_bins;
      // A zero (or denormal-underflowed) width means one distinct value: one bin, no query.
      c.wants_histogram = c.width > 0 && std::isfinite(c.width);
      c.bins.assign(c.wants_histogram ? static_cast<size_t>(options.histogram_bins) : 1, 0);
      if (!c.wants_histogram) c.bins[0] = c.non_null;
    }
  }
}

/// The bin index expression of a histogram column: NULL for NULL values, else 0..bins-1.
std::string BinExpr(const ColumnWork& c, int bins) {
  std::string x = c.kind == Kind::kTemporal ? "CAST(epoch_us(" + c.quoted + ") AS DOUBLE)"
                                            : "CAST(" + c.quoted + " AS DOUBLE)";
  // The CASE matters: greatest()/least() skip NULL arguments, so NULL would land in bin 0.
  return "CASE WHEN " + c.quoted + " IS NULL THEN NULL ELSE CAST(least(greatest(CAST(floor((" +
         x + " - " + DoubleLiteral(*c.lo) + ") / " + DoubleLiteral(c.width) +
         ") AS BIGINT), 0), " + std::to_string(bins - 1) + ") AS VARCHAR) END";
}

/// A top value, grouped as VARCHAR text, encoded as its column's type is.
json TopValueJson(const ColumnWork& c, const std::string& text) {
  return db::ScalarTextToJson(c.info.type, text);
}

/// Pass 2: one GROUPING SETS scan per chunk of top-value and histogram requests.
Status RunGroupingPass(db::Connection& conn, const std::string& relation,
                       std::vector<ColumnWork>& cols, const ProfileOptions& options) {
  struct Request {
    size_t column;
    bool is_histogram;
  };
  std::vector<Request> requests;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].wants_top) requests.push_back({i, false});
    if (cols[i].wants_histogram) requests.push_back({i, true});
  }
  const int keep = std::max(options.top_values, options.histogram_bins);
  for (size_t start = 0; start < requests.size(); start += kGroupingChunk) {
    size_t k = std::min(kGroupingChunk, requests.size() - start);
    std::string select, aliases, sets;
    for (size_t j = 0; j < k; ++j) {
      const Request& req = requests[start + j];
      const ColumnWork& c = cols[req.column];
      std::string alias = "c" + std::to_string(j);
      std::string expr = req.is_histogram ? BinExpr(c, options.histogram_bins)
                                          : "CAST(" + c.quoted + " AS VARCHAR)";
      select += (j ? ", " : "") + expr + " AS " + alias;
      aliases += (j ? ", " : "") + alias;
      sets += std::string(j ? ", " : "") + "(" + alias + ")";
    }
    std::string sql =
        "WITH src AS (SELECT " + select + " FROM " + relation + "), "
        "g AS (SELECT GROUPING(" + aliases + ") AS gid, coalesce(" + aliases + ") AS v, "
        "count(*) AS n FROM src GROUP BY GROUPING SETS (" + sets + ")) "
        "SELECT gid, v, n FROM (SELECT gid, v, n, row_number() OVER "
        "(PARTITION BY gid ORDER BY n DESC, v) AS rn FROM g WHERE v IS NOT NULL) "
        "WHERE rn <= " + std::to_string(keep) + " ORDER BY gid, rn";
    DA_ASSIGN_OR_RETURN(db::QueryResult r, conn.Query(sql));
    for (size_t row = 0; row < r.RowCount(); ++row) {
      int64_t gid = r.GetInt64(0, row);
      // GROUPING(c0..c{k-1}) sets bit (k-1-j) for every alias j that is not grouped.
      size_t j = k;
      for (size_t b = 0; b < k; ++b) {
        if (((gid >> (k - 1 - b)) & 1) == 0) {
          j = b;
          break;
        }
      }
      if (j == k) continue;
      const Request& req = requests[start + j];
      ColumnWork& c = cols[req.column];
      std::string v = r.GetString(1, row);
      int64_t n = r.GetInt64(2, row);
      if (req.is_histogram) {
        int64_t bin = std::stoll(v);
        if (bin >= 0 && static_cast<size_t>(bin) < c.bins.size()) c.bins[static_cast<size_t>(bin)] = n;
      } else if (c.top_values.size() < static_cast<size_t>(options.top_values)) {
        c.top_values.push_back({{"value", TopValueJson(c, v)}, {"count", n}});
      }
    }
  }
  return Status::Ok();
}

json BoundJson(const ColumnWork& c, double x) {
  if (c.kind == Kind::kTemporal) return IsoFromMicros(std::llround(x));
  return db::DoubleToJson(x);
}

json HistogramJson(const ColumnWork& c) {
  json out = json::array();
  if (c.bins.empty()) return out;
  if (!c.wants_histogram) {  // one distinct value
    out.push_back({{"lo", BoundJson(c, *c.lo)}, {"hi", BoundJson(c, *c.hi)}, {"count", c.bins[0]}});
    return out;
  }
  for (size_t i = 0; i < c.bins.size(); ++i) {
    double lo = *c.lo + static_cast<double>(i) * c.width;
    double hi = i + 1 == c.bins.size() ? *c.hi : *c.lo + static_cast<double>(i + 1) * c.width;
    out.push_back({{"lo", BoundJson(c, lo)}, {"hi", BoundJson(c, hi)}, {"count", c.bins[i]}});
  }
  return out;
}

Result<json> ProfileRelation(db::Connection& conn, const std::string& relation,
                             std::vector<ColumnInfo> columns, const std::string& table_id,
                             const ProfileOptions& options) {
  const int64_t started = NowMicros();
  std::vector<ColumnWork> cols;
  cols.reserve(columns.size());
  for (ColumnInfo& info : columns) {
    ColumnWork c;
    c.kind = KindOf(info.type);
    c.quoted = QuoteIdent(info.name);
    c.info = std::move(info);
    cols.push_back(std::move(c));
  }
  auto stats = RunStatsPass(conn, relation, cols, /*with_moments=*/true);
  if (!stats.ok() && stats.status().message().find("out of range") != std::string::npos) {
    // Huge finite values can overflow the variance; profile the rest without moments.
    spdlog::warn("profiler: {}: {}; mean/stddev left out", table_id, stats.status().message());
    stats = RunStatsPass(conn, relation, cols, /*with_moments=*/false);
  }
  if (!stats.ok()) return stats.status();
  const int64_t rows = *stats;
  if (rows > 0) {
    PlanGroupingPass(cols, options);
    DA_RETURN_IF_ERROR(RunGroupingPass(conn, relation, cols, options));
  }
  json out_cols = json::array();
  for (const ColumnWork& c : cols) {
    int64_t nulls = rows - c.non_null;
    double pct = rows > 0 ? std::round(100.0 * static_cast<double>(nulls) /
                                       static_cast<double>(rows) * 10000.0) / 10000.0
                          : 0.0;
    out_cols.push_back({{"name", c.info.name},
                        {"type", c.info.type},
                        {"null_count", nulls},
                        {"null_pct", pct},
                        {"approx_distinct", c.approx_distinct},
                        {"min", c.min},
                        {"max", c.max},
                        {"mean", c.mean},
                        {"stddev", c.stddev},
                        {"top_values", c.top_values},
                        {"histogram", HistogramJson(c)}});
  }
  return json{{"table_id", table_id},
              {"rows", rows},
              {"profiled_at", IsoFromMicros(started)},
              {"duration_ms", (NowMicros() - started) / 1000},
              {"columns", std::move(out_cols)}};
}

constexpr const char* kColumnsQuery =
    "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
    "WHERE database_name = current_database() AND schema_name = 'main'";

ColumnInfo ColumnAt(const db::QueryResult& r, size_t row) {
  return {r.GetString(1, row), r.GetString(2, row), r.IsNull(3, row) || r.GetBool(3, row)};
}

/// Profiles `record`'s view on `reader` and stores it; see ProfileTable.
Result<json> ProfileOnReader(orchestrator::AnalyticsReader& reader, const model::TableSpec& t,
                             state::ProfileRepo& profiles, const ProfileOptions& options) {
  if (!t.IsStored()) {
    return FailedPrecondition("table '" + t.id +
                              "' is remote: its data stays upstream and is not profiled");
  }
  const int64_t at = NowMicros();
  DA_ASSIGN_OR_RETURN(json profile, ProfileView(reader.conn(), t.name, t.id, options));
  // The stored time and the document's own profiled_at are the same instant.
  profile["profiled_at"] = IsoFromMicros(at);
  DA_RETURN_IF_ERROR(profiles.Put(t.id, profile, at));
  return profile;
}

}  // namespace

Result<std::vector<ColumnInfo>> DescribeView(db::Connection& conn, const std::string& view_name) {
  DA_ASSIGN_OR_RETURN(
      db::QueryResult r,
      conn.Query(std::string(kColumnsQuery) + " AND lower(table_name) = lower($1) "
                                              "ORDER BY column_index",
                 {view_name}));
  if (r.RowCount() == 0) {
    return NotFound("no published view '" + PrintableForMessage(view_name) + "'");
  }
  std::vector<ColumnInfo> out;
  out.reserve(r.RowCount());
  for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(ColumnAt(r, i));
  return out;
}

Result<std::map<std::string, std::vector<ColumnInfo>>> DescribeAllViews(db::Connection& conn) {
  DA_ASSIGN_OR_RETURN(db::QueryResult r,
                      conn.Query(std::string(kColumnsQuery) + " ORDER BY table_name, column_index"));
  std::map<std::string, std::vector<ColumnInfo>> out;
  for (size_t i = 0; i < r.RowCount(); ++i) out[r.GetString(0, i)].push_back(ColumnAt(r, i));
  return out;
}

std::string SchemaHash(const std::vector<ColumnInfo>& columns) {
  std::string canonical;
  for (const ColumnInfo& c : columns) canonical += c.name + "\t" + c.type + "\n";
  return Md5Hex(canonical);
}

Result<json> ProfileView(db::Connection& conn, const std::string& view_name,
                         const std::string& table_id, const ProfileOptions& options) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("view name", view_name));
  DA_ASSIGN_OR_RETURN(std::vector<ColumnInfo> columns, DescribeView(conn, view_name));
  return ProfileRelation(conn, QuoteIdent(view_name), std::move(columns), table_id, options);
}

Result<json> ProfileParquet(const std::filesystem::path& parquet, const std::string& table_id,
                            const ProfileOptions& options) {
  DA_ASSIGN_OR_RETURN(std::string literal, QuoteLiteral(parquet.string()));
  DA_ASSIGN_OR_RETURN(db::Database database,
                      db::Database::Open(":memory:", {false,
                                                      {{"autoinstall_known_extensions", "false"},
                                                       {"autoload_known_extensions", "false"}}}));
  DA_ASSIGN_OR_RETURN(db::Connection conn, database.Connect());
  DA_RETURN_IF_ERROR(
      conn.Execute("CREATE VIEW profiled AS SELECT * FROM read_parquet(" + literal + ")")
          .WithContext("profile " + PrintableForMessage(parquet.string())));
  return ProfileView(conn, "profiled", table_id, options);
}

Result<json> ProfileTable(orchestrator::Orchestrator& orchestrator, state::Registry& registry,
                          state::ProfileRepo& profiles, const std::string& table_id,
                          const ProfileOptions& options) {
  DA_ASSIGN_OR_RETURN(model::TableSpec t, registry.Get(table_id));
  DA_ASSIGN_OR_RETURN(orchestrator::AnalyticsReader reader, orchestrator.OpenReader());
  auto profile = ProfileOnReader(reader, t, profiles, options);
  if (!profile.ok() && profile.status().code() == StatusCode::kNotFound) {
    return NotFound("table '" + table_id + "' has no published view '" + t.name +
                    "' (not synced yet?)");
  }
  return profile;
}

Status ProfileTables(orchestrator::Orchestrator& orchestrator, state::Registry& registry,
                     state::ProfileRepo& profiles, const std::vector<std::string>& table_ids,
                     const ProfileOptions& options) {
  if (table_ids.empty()) return Status::Ok();
  DA_ASSIGN_OR_RETURN(orchestrator::AnalyticsReader reader, orchestrator.OpenReader());
  Status first;
  std::string failed;
  for (const std::string& id : table_ids) {
    auto t = registry.Get(id);
    if (!t.ok()) {
      spdlog::info("profiler: skipping {}: {}", id, t.status().message());
      continue;
    }
    if (!t->IsStored()) {
      spdlog::debug("profiler: skipping remote table {}", id);
      continue;
    }
    auto profile = ProfileOnReader(reader, *t, profiles, options);
    if (profile.ok()) {
      spdlog::info("profiler: profiled {} ({} rows, {} ms)", id, (*profile)["rows"].dump(),
                   (*profile)["duration_ms"].dump());
      continue;
    }
    if (profile.status().code() == StatusCode::kNotFound) {
      spdlog::warn("profiler: skipping {}: no published view '{}'", id, t->name);
      continue;
    }
    spdlog::warn("profiler: {} failed: {}", id, profile.status().ToString());
    if (first.ok()) first = profile.status();
    failed += (failed.empty() ? "" : ", ") + id;
  }
  if (first.ok()) return first;
  return first.WithContext("profiling " + failed);
}

}  // namespace da::sync
