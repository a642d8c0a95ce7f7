#pragma once
/// Parquet fixtures written by a real DuckDB.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/identifiers.h"
#include "db/duckdb.h"
#include "support/files.h"
#include "support/status_macros.h"

namespace da::testing {

/// Writes a Parquet file of `rows` rows (columns i BIGINT, s VARCHAR; `salt` varies the bytes)
/// with DuckDB COPY and returns its bytes. Failures are reported as test failures.
inline std::string WriteParquet(const std::filesystem::path& path, int64_t rows, int salt = 0) {
  auto db = db::Database::Open(":memory:");
  EXPECT_OK(db);
  auto conn = db->Connect();
  EXPECT_OK(conn);
  auto literal = QuoteLiteral(path.string());
  EXPECT_OK(literal);
  std::string sql = "COPY (SELECT range AS i, 'v' || (range + " + std::to_string(salt) +
                    ") AS s FROM range(" + std::to_string(rows) + ")) TO " + *literal +
                    " (FORMAT parquet)";
  EXPECT_OK(conn->Execute(sql));
  return ReadBytes(path);
}

}  // namespace da::testing
