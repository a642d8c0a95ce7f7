// The reference of bench/extract_bench.sh: DuckDB converting a file with one COPY, in a
// process of its own, with the engine settings `da extract` uses by default.
//
//   copy_ref to-csv     <in.parquet> <out.csv>       writes the benchmark input (once)
//   copy_ref to-parquet <in.csv> <out.parquet> [memory_limit] [threads]
//       COPY (SELECT * FROM read_csv(<in>, auto_detect=true)) TO <out>
//            (FORMAT parquet, COMPRESSION zstd)
//       — the statement the files connector and ParquetSink issue for a CSV table.
// Prints the row count; exits 1 with DuckDB's message on failure.
#include <cstdio>
#include <string>

#include "common/identifiers.h"
#include "common/status.h"
#include "db/duckdb.h"

namespace {

da::Result<int64_t> Run(const std::string& mode, const std::string& in, const std::string& out,
                        const std::string& memory_limit, const std::string& threads) {
  da::db::DatabaseOptions options;
  options.settings = {{"memory_limit", memory_limit},
                      {"threads", threads},
                      {"preserve_insertion_order", "false"}};
  DA_ASSIGN_OR_RETURN(auto db, da::db::Database::Open(":memory:", options));
  DA_ASSIGN_OR_RETURN(auto conn, db.Connect());
  DA_ASSIGN_OR_RETURN(std::string in_sql, da::QuoteLiteral(in));
  DA_ASSIGN_OR_RETURN(std::string out_sql, da::QuoteLiteral(out));
  std::string sql;
  if (mode == "to-csv") {
    sql = "COPY (SELECT * FROM read_parquet(" + in_sql + ")) TO " + out_sql + " (FORMAT csv, HEADER)";
  } else if (mode == "to-parquet") {
    sql = "COPY (SELECT * FROM read_csv(" + in_sql + ", auto_detect=true)) TO " + out_sql +
          " (FORMAT parquet, COMPRESSION zstd)";
  } else {
    return da::InvalidArgument("unknown mode '" + mode + "' (to-csv | to-parquet)");
  }
  DA_ASSIGN_OR_RETURN(auto result, conn.Query(sql));
  return result.RowCount() > 0 ? result.GetInt64(0, 0) : int64_t{0};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: copy_ref to-csv|to-parquet IN OUT [memory_limit] [threads]\n");
    return 2;
  }
  auto rows = Run(argv[1], argv[2], argv[3], argc > 4 ? argv[4] : "1GB", argc > 5 ? argv[5] : "2");
  if (!rows.ok()) {
    std::fprintf(stderr, "copy_ref: %s\n", rows.status().ToString().c_str());
    return 1;
  }
  std::printf("%lld\n", static_cast<long long>(*rows));
  return 0;
}
