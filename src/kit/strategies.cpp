#include "kit/strategies.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <system_error>
#include <utility>

#include "common/fs_util.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "kit/storage.h"
#include "common/text.h"

namespace da::kit {
namespace fs = std::filesystem;

namespace {

constexpr const char* kPeriodColumn = "__da_period";

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string KeyList(const std::vector<std::string>& key) {
  std::string out;
  for (const auto& k : key) out += (out.empty() ? "" : ", ") + QuoteIdent(k);
  return out;
}

/// `SELECT * FROM <reader> [WHERE "col" > '<watermark>']`: the new rows of a read.
Result<std::string> NewRowsSql(const ReadBatch& batch) {
  DA_ASSIGN_OR_RETURN(std::string reader, ParquetReaderSql({batch.file}));
  std::string sql = "SELECT * FROM " + reader;
  if (batch.watermark && !batch.incremental_column.empty()) {
    auto lit = QuoteLiteral(*batch.watermark);
    if (!lit.ok()) {
      return InvalidArgument("the watermark of incremental_column '" + batch.incremental_column +
                             "' cannot be used in a filter: " + lit.status().message());
    }
    // A string literal takes the column's type, so the comparison is typed, not textual.
    sql += " WHERE " + QuoteIdent(batch.incremental_column) + " > " + *lit;
  }
  return sql;
}

/// Checks the key columns and the incremental column exist in the read; returns them with the
/// read's own spelling.
Status ResolveColumns(const model::TableSpec& table, const ReadBatch& batch,
                      std::vector<std::string>* key, std::string* incremental_column) {
  key->clear();
  for (const auto& k : table.primary_key) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("primary_key entry", k));
    DA_ASSIGN_OR_RETURN(auto c, FindColumn(batch.columns, k, "primary_key column"));
    key->push_back(c.name);
  }
  incremental_column->clear();
  if (!batch.incremental_column.empty()) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("incremental_column", batch.incremental_column));
    DA_ASSIGN_OR_RETURN(auto c,
                        FindColumn(batch.columns, batch.incremental_column, "incremental_column"));
    *incremental_column = c.name;
  }
  return Status::Ok();
}

Result<int64_t> CountRows(db::Connection& conn, const std::string& select_sql) {
  DA_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT count(*) FROM (" + select_sql + ")"));
  return r.RowCount() > 0 ? r.GetInt64(0, 0) : 0;
}

std::string NoKeyWarning(const model::TableSpec& table, int64_t rows) {
  return "table '" + table.id + "' has no primary_key: " + std::to_string(rows) +
         " new rows were appended, so a row read twice is stored twice";
}

}  // namespace

Status PrepareStrategyConnection(db::Connection& conn) {
  return conn.Execute("SET TimeZone = 'UTC'");
}

std::string PeriodFormat(model::PartitionGranularity granularity) {
  switch (granularity) {
    case model::PartitionGranularity::kDay:
      return "%Y-%m-%d";
    case model::PartitionGranularity::kYear:
      return "%Y";
    case model::PartitionGranularity::kMonth:
    case model::PartitionGranularity::kUnset:
      break;
  }
  return "%Y-%m";
}

Result<std::string> PeriodExpr(const std::string& column, const std::string& type,
                               model::PartitionGranularity granularity) {
  const std::string format = PeriodFormat(granularity);
  DA_ASSIGN_OR_RETURN(std::string fmt, QuoteLiteral(format));
  const std::string col = QuoteIdent(column);
  const std::string t = Upper(type);
  if (t == "DATE" || t == "TIMESTAMP" || t == "TIMESTAMP_NS" || t == "TIMESTAMP_MS" ||
      t == "TIMESTAMP_S" || t == "DATETIME") {
    return "strftime(CAST(" + col + " AS TIMESTAMP), " + fmt + ")";
  }
  if (t == "TIMESTAMP WITH TIME ZONE" || t == "TIMESTAMPTZ") {
    return "strftime(timezone('UTC', " + col + "), " + fmt + ")";
  }
  const std::string v = "CAST(" + col + " AS VARCHAR)";
  return "strftime(timezone('UTC', coalesce(TRY_CAST(" + v + " AS TIMESTAMPTZ), try_strptime(" +
         v + ", '%Y-%m-%dT%H:%M:%S.%g%z'), try_strptime(" + v +
         ", '%Y-%m-%dT%H:%M:%S%z'), timezone('UTC', try_strptime(" + v +
         ", ['%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d'])))), " + fmt + ")";
}

Result<ColumnInfo> FindColumn(const std::vector<ColumnInfo>& columns, const std::string& name,
                              const std::string& what) {
  for (const auto& c : columns) {
    if (AsciiLower(c.name) == AsciiLower(name)) return c;
  }
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ", ") + c.name;
  return InvalidArgument(what + " '" + PrintableForMessage(name) +
                         "' is not a column of the data read (columns: " +
                         PrintableForMessage(list, 400) + ")");
}

Status WriteMerged(db::Connection& conn, const MergeSpec& spec, const fs::path& out) {
  std::string exclude;
  if (!spec.helper_columns.empty()) exclude = " EXCLUDE (" + KeyList(spec.helper_columns) + ")";
  const std::string new_rows = "(" + spec.new_rows_sql + ") AS __da_new";
  std::string existing;
  if (spec.existing) {
    DA_ASSIGN_OR_RETURN(std::string reader, ParquetReaderSql({*spec.existing}));
    existing = reader;
  }
  std::string select;
  if (!spec.primary_key.empty()) {
    const std::string keys = KeyList(spec.primary_key);
    std::string winner = "row_number() OVER (PARTITION BY " + keys;
    if (!spec.newest_first.empty()) winner += " ORDER BY " + spec.newest_first;
    winner += ")";
    const std::string deduped =
        "SELECT *" + exclude + " FROM (SELECT * FROM " + new_rows + " QUALIFY " + winner + " = 1)";
    if (existing.empty()) {
      select = deduped;
    } else {
      std::string on;
      for (const auto& k : spec.primary_key) {
        on += (on.empty() ? "" : " AND ") + std::string("__da_old.") + QuoteIdent(k) +
              " IS NOT DISTINCT FROM __da_keys." + QuoteIdent(k);
      }
      // The stored rows first: the table keeps its column order, new columns go last.
      select = "SELECT __da_old.* FROM " + existing + " AS __da_old ANTI JOIN (SELECT DISTINCT " +
               keys + " FROM " + new_rows + ") AS __da_keys ON " + on +
               " UNION ALL BY NAME " + deduped;
    }
  } else {
    const std::string plain = "SELECT *" + exclude + " FROM " + new_rows;
    if (!existing.empty() && spec.append_without_key) {
      select = "SELECT * FROM " + existing + " UNION ALL BY NAME " + plain;
    } else {
      select = plain;
    }
  }
  DA_ASSIGN_OR_RETURN(std::string target, QuoteLiteral(out.string()));
  return conn.Execute("COPY (" + select + ") TO " + target + " (FORMAT parquet, COMPRESSION zstd)");
}

Result<std::optional<std::string>> MaxValue(db::Connection& conn, const std::string& reader_sql,
                                            const std::string& column) {
  DA_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT CAST(max(" + QuoteIdent(column) +
                                         ") AS VARCHAR) FROM " + reader_sql));
  if (r.RowCount() == 0 || r.IsNull(0, 0)) return std::optional<std::string>();
  return std::optional<std::string>(r.GetString(0, 0));
}

Result<CommitResult> CommitIncremental(db::Connection& conn, const model::TableSpec& table,
                                       const ReadBatch& batch, const fs::path& data_dir) {
  std::vector<std::string> key;
  std::string inc;
  DA_RETURN_IF_ERROR(ResolveColumns(table, batch, &key, &inc));
  DA_ASSIGN_OR_RETURN(std::string new_rows, NewRowsSql(batch));
  CommitResult result;
  DA_ASSIGN_OR_RETURN(result.new_rows, CountRows(conn, new_rows));
  if (!inc.empty()) {
    DA_ASSIGN_OR_RETURN(result.watermark, MaxValue(conn, "(" + new_rows + ")", inc));
  }

  const fs::path target = SingleFilePath(data_dir, table.id);
  const fs::path tmp = fs::path(target.string() + ".tmp");
  MergeSpec spec;
  spec.new_rows_sql = new_rows;
  spec.primary_key = key;
  if (!inc.empty()) spec.newest_first = QuoteIdent(inc) + " DESC NULLS LAST";
  std::error_code ec;
  if (fs::is_regular_file(target, ec)) spec.existing = target;
  spec.append_without_key = true;
  if (key.empty() && spec.existing && result.new_rows > 0) {
    result.warnings.push_back(NoKeyWarning(table, result.new_rows));
  }
  DA_RETURN_IF_ERROR(RemovePath(tmp));
  Status st = WriteMerged(conn, spec, tmp);
  if (!st.ok()) {
    (void)RemovePath(tmp);
    return st.WithContext("merging the new rows of table '" + table.id + "'");
  }
  DA_RETURN_IF_ERROR(RenamePath(tmp, target));
  return result;
}

Status CommitPartition(db::Connection& conn, const fs::path& data_dir, const std::string& id,
                       const std::string& period, MergeSpec spec) {
  if (!IsPeriodName(period)) {
    return Internal("partition name '" + PrintableForMessage(period) + "' is not a period");
  }
  const fs::path dir = PartitionDir(data_dir, id);
  DA_RETURN_IF_ERROR(EnsureDir(dir));
  DA_RETURN_IF_ERROR(EnsureDir(data_dir / ".locks"));
  DA_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(PartitionLockPath(data_dir, id, period), true));
  const fs::path target = dir / (period + kParquetSuffix);
  const fs::path tmp = fs::path(target.string() + ".tmp");
  std::error_code ec;
  spec.existing.reset();
  if (fs::is_regular_file(target, ec)) spec.existing = target;
  DA_RETURN_IF_ERROR(RemovePath(tmp));
  Status st = WriteMerged(conn, spec, tmp);
  if (!st.ok()) {
    (void)RemovePath(tmp);
    return st.WithContext("writing partition " + period + " of table '" + id + "'");
  }
  return RenamePath(tmp, target);
}

Status ReplacePartition(const fs::path& data_dir, const std::string& id,
                        const std::string& period, const fs::path& file) {
  if (!IsPeriodName(period)) {
    return Internal("partition name '" + PrintableForMessage(period) + "' is not a period");
  }
  DA_RETURN_IF_ERROR(EnsureDir(PartitionDir(data_dir, id)));
  DA_RETURN_IF_ERROR(EnsureDir(data_dir / ".locks"));
  DA_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(PartitionLockPath(data_dir, id, period), true));
  return RenamePath(file, PartitionDir(data_dir, id) / (period + kParquetSuffix));
}

Result<CommitResult> CommitPartitioned(db::Connection& conn, const model::TableSpec& table,
                                       const ReadBatch& batch, const fs::path& data_dir,
                                       const fs::path& scratch_dir) {
  std::vector<std::string> key;
  std::string inc;
  DA_RETURN_IF_ERROR(ResolveColumns(table, batch, &key, &inc));
  if (table.partition_by.empty()) {
    return InvalidArgument("table '" + table.id + "' is partitioned but has no partition_by");
  }
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("partition_by", table.partition_by));
  DA_ASSIGN_OR_RETURN(auto part_col, FindColumn(batch.columns, table.partition_by,
                                                "partition_by column"));
  DA_ASSIGN_OR_RETURN(std::string period,
                      PeriodExpr(part_col.name, part_col.type, table.partition_granularity));
  DA_ASSIGN_OR_RETURN(std::string new_rows, NewRowsSql(batch));

  // Rows that would fall outside every partition are reported, never dropped.
  DA_ASSIGN_OR_RETURN(
      auto bad, conn.Query("SELECT count(*), first(coalesce(CAST(" + QuoteIdent(part_col.name) +
                           " AS VARCHAR), 'NULL')) FROM (" + new_rows + ") WHERE (" + period +
                           ") IS NULL"));
  if (bad.RowCount() > 0 && bad.GetInt64(0, 0) > 0) {
    return InvalidArgument(std::to_string(bad.GetInt64(0, 0)) + " row(s) of table '" + table.id +
                           "' have a partition_by value in column '" + part_col.name +
                           "' that is NULL or does not parse as a date or time (first: '" +
                           PrintableForMessage(bad.GetString(1, 0), 80) +
                           "'); no partition was written");
  }

  CommitResult result;
  DA_ASSIGN_OR_RETURN(result.new_rows, CountRows(conn, new_rows));
  if (!inc.empty()) {
    DA_ASSIGN_OR_RETURN(result.watermark, MaxValue(conn, "(" + new_rows + ")", inc));
  }
  if (result.new_rows == 0) return result;

  DA_ASSIGN_OR_RETURN(std::string scratch, QuoteLiteral(scratch_dir.string()));
  DA_RETURN_IF_ERROR(conn.Execute("COPY (SELECT *, " + period + " AS " + kPeriodColumn +
                                  " FROM (" + new_rows + ")) TO " + scratch +
                                  " (FORMAT parquet, PARTITION_BY (" + kPeriodColumn +
                                  "), COMPRESSION zstd)"));
  std::map<std::string, std::vector<fs::path>> parts;
  DA_ASSIGN_OR_RETURN(auto dirs, ListDirs(scratch_dir));
  const std::string prefix = std::string(kPeriodColumn) + "=";
  for (const auto& d : dirs) {
    const std::string name = d.filename().string();
    if (!name.starts_with(prefix) || !IsPeriodName(name.substr(prefix.size()))) {
      return Internal("unexpected partition directory '" + d.string() + "'");
    }
    DA_ASSIGN_OR_RETURN(auto files, ListFiles(d));
    std::sort(files.begin(), files.end());
    parts[name.substr(prefix.size())] = std::move(files);
  }

  // An incremental read adds to a period; a full read of a period replaces it.
  const bool incremental_read = !inc.empty() && batch.watermark.has_value();
  int64_t appended = 0;
  for (const auto& [p, files] : parts) {
    if (key.empty() && !incremental_read && files.size() == 1) {
      // A full read replacing a period: the split file already is the partition.
      DA_RETURN_IF_ERROR(ReplacePartition(data_dir, table.id, p, files[0]));
      result.touched.push_back(p);
      continue;
    }
    DA_ASSIGN_OR_RETURN(std::string reader, ParquetReaderSql(files));
    MergeSpec spec;
    spec.new_rows_sql = "SELECT * FROM " + reader;
    spec.primary_key = key;
    if (!inc.empty()) spec.newest_first = QuoteIdent(inc) + " DESC NULLS LAST";
    spec.append_without_key = incremental_read;
    DA_RETURN_IF_ERROR(CommitPartition(conn, data_dir, table.id, p, spec));
    result.touched.push_back(p);
    if (key.empty() && incremental_read) {
      DA_ASSIGN_OR_RETURN(int64_t n, CountRows(conn, spec.new_rows_sql));
      appended += n;
    }
  }
  if (appended > 0) result.warnings.push_back(NoKeyWarning(table, appended));
  return result;
}

}  // namespace da::kit
