#pragma once
/// Helpers shared by the client tests (not part of da_client): temp dirs, env overrides,
/// Parquet fixtures written by a real DuckDB.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "common/hash.h"
#include "common/identifiers.h"
#include "common/testing/temp_dir.h"
#include "db/duckdb.h"

namespace da::client::testing {

using da::testing::TempDir;

/// Sets (or, with nullopt, unsets) an environment variable for the scope; restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

inline std::string ReadBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes a Parquet file of `rows` rows (columns i BIGINT, s VARCHAR; `salt` varies the bytes)
/// with DuckDB COPY and returns its bytes.
inline std::string WriteParquet(const std::filesystem::path& path, int64_t rows, int salt = 0) {
  auto db = db::Database::Open(":memory:");
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  auto conn = db->Connect();
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  auto literal = QuoteLiteral(path.string());
  EXPECT_TRUE(literal.ok());
  std::string sql = "COPY (SELECT range AS i, 'v' || (range + " + std::to_string(salt) +
                    ") AS s FROM range(" + std::to_string(rows) + ")) TO " + *literal +
                    " (FORMAT parquet)";
  Status st = conn->Execute(sql);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return ReadBytes(path);
}

/// SELECT count(*) FROM "<view>" on `db_path` opened read-only; -1 on any error.
inline int64_t CountRows(const std::filesystem::path& db_path, const std::string& view) {
  db::DatabaseOptions options;
  options.read_only = true;
  auto db = db::Database::Open(db_path.string(), options);
  if (!db.ok()) return -1;
  auto conn = db->Connect();
  if (!conn.ok()) return -1;
  auto r = conn->Query("SELECT count(*) FROM " + QuoteIdent(view));
  if (!r.ok()) return -1;
  return r->GetInt64(0, 0);
}

}  // namespace da::client::testing
