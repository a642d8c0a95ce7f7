#pragma once
/// Readers of a built extract.duckdb (or any DuckDB file), opened read-only as the orchestrator
/// opens them: `_meta` rows, scalar queries, view counts and names, and leftover temp files.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/identifiers.h"
#include "common/status.h"
#include "db/duckdb.h"

namespace da::testing {

/// One `_meta` row as stored.
struct MetaRow {
  std::string table_name;
  std::string description;
  int64_t rows = 0;
  int64_t size_bytes = 0;
  int64_t extracted_at_us = 0;
  std::string query_mode;
  std::string schema_json;
};

/// Opens an extract.duckdb read-only (as the orchestrator does).
inline Result<db::Database> OpenReadOnly(const std::filesystem::path& db_path) {
  return db::Database::Open(db_path.string(), {.read_only = true, .settings = {}});
}

/// `_meta` ordered by table_name.
inline Result<std::vector<MetaRow>> ReadMeta(const std::filesystem::path& db_path) {
  DA_ASSIGN_OR_RETURN(auto db, OpenReadOnly(db_path));
  DA_ASSIGN_OR_RETURN(auto conn, db.Connect());
  DA_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT table_name, description, rows, size_bytes, "
                                         "epoch_us(extracted_at), query_mode, schema_json "
                                         "FROM _meta ORDER BY table_name"));
  std::vector<MetaRow> out;
  for (size_t i = 0; i < r.RowCount(); ++i) {
    out.push_back({r.GetString(0, i), r.GetString(1, i), r.GetInt64(2, i), r.GetInt64(3, i),
                   r.GetInt64(4, i), r.GetString(5, i), r.GetString(6, i)});
  }
  return out;
}

/// Runs one scalar query (BIGINT result) against an extract.duckdb opened read-only.
inline Result<int64_t> QueryInt(const std::filesystem::path& db_path, const std::string& sql) {
  DA_ASSIGN_OR_RETURN(auto db, OpenReadOnly(db_path));
  DA_ASSIGN_OR_RETURN(auto conn, db.Connect());
  DA_ASSIGN_OR_RETURN(auto r, conn.Query(sql));
  if (r.RowCount() != 1 || r.IsNull(0, 0)) return Internal("expected one non-null value: " + sql);
  return r.GetInt64(0, 0);
}

/// `SELECT count(*) FROM "<view>"` in an extract.duckdb opened read-only.
inline Result<int64_t> CountView(const std::filesystem::path& db_path, const std::string& view) {
  return QueryInt(db_path, "SELECT count(*) FROM " + QuoteIdent(view));
}

/// `SELECT count(*) FROM "<view>"` in a DuckDB file opened read-only; -1 on any error.
inline int64_t CountRows(const std::filesystem::path& db_path, const std::string& view) {
  auto n = CountView(db_path, view);
  return n.ok() ? *n : -1;
}

/// Names of the views in an extract.duckdb, sorted.
inline Result<std::vector<std::string>> ListViews(const std::filesystem::path& db_path) {
  DA_ASSIGN_OR_RETURN(auto db, OpenReadOnly(db_path));
  DA_ASSIGN_OR_RETURN(auto conn, db.Connect());
  DA_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT view_name FROM duckdb_views() WHERE NOT "
                                         "internal ORDER BY view_name"));
  std::vector<std::string> out;
  for (size_t i = 0; i < r.RowCount(); ++i) out.push_back(r.GetString(0, i));
  return out;
}

/// Files under `dir` (recursive) whose name ends in ".tmp" or ".wal": leftovers that a
/// finished extraction must not leave behind.
inline std::vector<std::string> Leftovers(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.ends_with(".tmp") || name.ends_with(".wal") || name == "tmp") {
      out.push_back(it->path().string());
    }
  }
  return out;
}

}  // namespace da::testing
