#pragma once
/// The vega sample datasets (.deps/vega-datasets, DA_DATASETS_DIR from da_test_support) and
/// DuckDB as the ground truth that outputs are compared with.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "db/duckdb.h"

namespace da::testing {

/// Path of a vega dataset file (e.g. "flights-3m.parquet").
inline std::filesystem::path Dataset(const std::string& file) {
  return std::filesystem::path(DA_DATASETS_DIR) / file;
}

/// Runs SQL on a fresh in-memory DuckDB and returns the result as CSV lines without header
/// (columns joined by ','). Failures are reported as test failures (and an empty answer).
inline std::vector<std::string> DuckDbRows(const std::string& sql) {
  std::vector<std::string> rows;
  auto db = db::Database::Open(":memory:");
  if (!db.ok()) {
    ADD_FAILURE() << db.status().ToString();
    return rows;
  }
  auto conn = db->Connect();
  auto r = conn->Query(sql);
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return rows;
  }
  for (size_t row = 0; row < r->RowCount(); ++row) {
    std::string line;
    for (size_t c = 0; c < r->ColumnCount(); ++c) {
      if (c) line += ",";
      line += r->GetString(c, row);
    }
    rows.push_back(line);
  }
  return rows;
}

}  // namespace da::testing
