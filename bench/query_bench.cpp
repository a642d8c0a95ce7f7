// POST /api/query of an aggregate versus the same SQL on an in-process DuckDB over the same
// Parquet file, measured alternately in one run (plain steady_clock timer; medians reported).
//
// Usage: query_bench --url http://127.0.0.1:PORT --token TOKEN --parquet FILE --view NAME
//                    [--sql SQL] [--iterations N] [--warmup N]
// Prints `key=value` lines (inproc_median_ms, da_median_ms, ratio, ...) for http_bench.sh.
// Exit 1 when the two answers differ or a request fails.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "db/duckdb.h"

namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Every cell as text, row by row: the comparison key of both answers.
std::vector<std::string> RowsOf(const da::db::QueryResult& r) {
  std::vector<std::string> out;
  for (size_t row = 0; row < r.RowCount(); ++row) {
    std::string line;
    for (size_t c = 0; c < r.ColumnCount(); ++c) line += r.GetString(c, row) + "|";
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> RowsOf(const nlohmann::json& body) {
  std::vector<std::string> out;
  for (const auto& row : body["rows"]) {
    std::string line;
    for (const auto& cell : row) {
      if (cell.is_string()) {
        line += cell.get<std::string>();
      } else if (cell.is_number_float()) {
        // DuckDB prints doubles in shortest round-trip form; do the same.
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", cell.get<double>());
        line += buf;
      } else if (!cell.is_null()) {
        line += cell.dump();
      }
      line += "|";
    }
    out.push_back(line);
  }
  return out;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "query_bench: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args = {
      {"--sql",
       "SELECT origin, count(*) AS flights, avg(delay) AS avg_delay, max(distance) AS max_distance "
       "FROM {view} GROUP BY origin ORDER BY flights DESC, origin LIMIT 10"},
      {"--iterations", "30"},
      {"--warmup", "3"}};
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  for (const char* k : {"--url", "--token", "--parquet", "--view"}) {
    if (!args.count(k)) {
      std::fprintf(stderr, "query_bench: %s is required\n", k);
      return 2;
    }
  }
  std::string sql = args["--sql"];
  for (size_t p = sql.find("{view}"); p != std::string::npos; p = sql.find("{view}")) {
    sql.replace(p, 6, args["--view"]);
  }
  const int iterations = std::stoi(args["--iterations"]);
  const int warmup = std::stoi(args["--warmup"]);

  auto db = da::db::Database::Open(":memory:");
  if (!db.ok()) return Fail(db.status().ToString());
  auto conn = db->Connect();
  if (!conn.ok()) return Fail(conn.status().ToString());
  // The same shape the server queries: a view over the table's Parquet file.
  auto created = conn->Execute("CREATE VIEW \"" + args["--view"] + "\" AS SELECT * FROM read_parquet('" +
                               args["--parquet"] + "')");
  if (!created.ok()) return Fail(created.ToString());

  httplib::Client http(args["--url"]);
  http.set_tcp_nodelay(true);  // as da's own client: no Nagle stall on the request body
  http.set_read_timeout(300, 0);
  http.set_keep_alive(true);
  httplib::Headers headers = {{"Authorization", "Bearer " + args["--token"]}};
  const std::string body = nlohmann::json{{"sql", sql}, {"limit", 1000}}.dump();

  std::vector<double> inproc_ms, da_ms;
  std::vector<std::string> inproc_rows, da_rows;
  for (int i = 0; i < warmup + iterations; ++i) {
    auto t0 = Clock::now();
    auto local = conn->Query(sql);
    auto t1 = Clock::now();
    if (!local.ok()) return Fail("in-process: " + local.status().ToString());
    auto remote = http.Post("/api/query", headers, body, "application/json");
    auto t2 = Clock::now();
    if (!remote || remote->status != 200) {
      return Fail("POST /api/query failed: " +
                  (remote ? std::to_string(remote->status) + " " + remote->body.substr(0, 300)
                          : httplib::to_string(remote.error())));
    }
    if (i == 0) {
      inproc_rows = RowsOf(*local);
      da_rows = RowsOf(nlohmann::json::parse(remote->body));
    }
    if (i >= warmup) {
      inproc_ms.push_back(Ms(t0, t1));
      da_ms.push_back(Ms(t1, t2));
    }
  }
  if (inproc_rows.size() != da_rows.size() || inproc_rows.empty()) {
    return Fail("answers differ: " + std::to_string(inproc_rows.size()) + " in-process rows, " +
                std::to_string(da_rows.size()) + " from da");
  }
  // Group keys and counts must match exactly (floating columns may print differently).
  for (size_t i = 0; i < inproc_rows.size(); ++i) {
    auto key = [](const std::string& s) {
      size_t a = s.find('|');
      return s.substr(0, s.find('|', a + 1));
    };
    if (key(inproc_rows[i]) != key(da_rows[i])) {
      return Fail("row " + std::to_string(i) + " differs: " + inproc_rows[i] + " vs " + da_rows[i]);
    }
  }
  double inproc = Median(inproc_ms), remote = Median(da_ms);
  std::printf("sql=%s\niterations=%d\ninproc_median_ms=%.3f\nda_median_ms=%.3f\nratio=%.3f\n",
              sql.c_str(), iterations, inproc, remote, remote / inproc);
  return 0;
}
