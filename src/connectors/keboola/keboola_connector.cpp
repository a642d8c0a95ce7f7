#include "connectors/keboola/keboola_connector.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <set>

#include "common/identifiers.h"
#include "common/log.h"
#include "connectors/keboola/storage_client.h"
#include "kit/runtime.h"

namespace da::connectors::keboola {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// A private scratch directory `keboola-<pid>-XXXXXX`, removed (with its content) by the
/// destructor. A process killed mid-read (cancelled sync, time limit) cannot clean up: the next
/// one removes the directories of processes that no longer exist.
class TempDir {
 public:
  static Result<TempDir> Make(const fs::path& fallback) {
    const char* env = std::getenv("DA_TEMP_DIR");
    fs::path base = env && *env ? fs::path(env) : fallback;
    std::error_code ec;
    fs::create_directories(base, ec);
    RemoveOrphans(base);
    std::string tmpl = (base / ("keboola-" + std::to_string(getpid()) + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) {
      return Unavailable("keboola: cannot create a temp directory under " + base.string());
    }
    return TempDir(tmpl);
  }
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir(const TempDir&) = delete;
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit TempDir(fs::path p) : path_(std::move(p)) {}
  static void RemoveOrphans(const fs::path& base) {
    std::error_code ec;
    for (fs::directory_iterator it(base, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.starts_with("keboola-")) continue;
      const long pid = std::strtol(name.c_str() + 8, nullptr, 10);
      if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        std::error_code rm;
        fs::remove_all(it->path(), rm);
      }
    }
  }
  fs::path path_;
};

/// The `value` of the metadata entry `key` in `entries` (provider `user` first), or "".
std::string MetaValue(const json& entries, const std::string& key) {
  if (!entries.is_array()) return "";
  std::string any;
  for (const auto& m : entries) {
    if (!m.is_object() || m.value("key", std::string()) != key || !m.contains("value") ||
        !m["value"].is_string()) {
      continue;
    }
    if (m.value("provider", std::string()) == "user") return m["value"].get<std::string>();
    if (any.empty()) any = m["value"].get<std::string>();
  }
  return any;
}

Result<std::string> Lit(const std::string& s) { return QuoteLiteral(s); }

}  // namespace

std::string ColumnType(const json& column_metadata, const std::string& column) {
  if (!column_metadata.is_object() || !column_metadata.contains(column)) return "VARCHAR";
  const json& entries = column_metadata[column];
  const std::string base = MetaValue(entries, "KBC.datatype.basetype");
  if (base == "INTEGER") return "BIGINT";
  if (base == "FLOAT") return "DOUBLE";
  if (base == "BOOLEAN") return "BOOLEAN";
  if (base == "DATE") return "DATE";
  if (base == "TIMESTAMP") return "TIMESTAMP";
  if (base == "NUMERIC") {
    const std::string len = MetaValue(entries, "KBC.datatype.length");
    int p = 0, s = 0;
    char extra = 0;
    if (std::sscanf(len.c_str(), "%d,%d%c", &p, &s, &extra) == 2 && p >= 1 && p <= 38 && s >= 0 && s <= p) {
      return "DECIMAL(" + std::to_string(p) + "," + std::to_string(s) + ")";
    }
    if (std::sscanf(len.c_str(), "%d%c", &p, &extra) == 1 && p >= 1 && p <= 38) {
      return "DECIMAL(" + std::to_string(p) + ",0)";
    }
    return "DECIMAL(38,9)";
  }
  return "VARCHAR";
}

std::string TableDescription(const json& table) {
  return table.contains("metadata") ? MetaValue(table["metadata"], "KBC.description") : "";
}

std::string ViewName(const std::string& table_name) {
  std::string out;
  for (char c : table_name) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (word) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty()) out = "table";
  if (out[0] >= '0' && out[0] <= '9') out = "t_" + out;
  if (out.size() > 64) out.resize(64);
  return out;
}

kit::TableInfo TableInfoFromJson(const json& table) {
  kit::TableInfo t;
  t.source_table = table.value("id", std::string());
  t.name = ViewName(table.value("name", t.source_table));
  t.description = TableDescription(table);
  json colmeta = table.contains("columnMetadata") ? table["columnMetadata"] : json();
  if (table.value("isAlias", false) && table.contains("sourceTable") &&
      table["sourceTable"].is_object() && table["sourceTable"].contains("columnMetadata")) {
    colmeta = table["sourceTable"]["columnMetadata"];
  }
  if (table.contains("columns") && table["columns"].is_array()) {
    for (const auto& c : table["columns"]) {
      if (c.is_string()) t.columns.push_back({c.get<std::string>(), ColumnType(colmeta, c.get<std::string>())});
    }
  }
  if (table.contains("primaryKey") && table["primaryKey"].is_array()) {
    for (const auto& k : table["primaryKey"])
      if (k.is_string()) t.primary_key.push_back(k.get<std::string>());
  }
  return t;
}

Result<std::vector<kit::TableInfo>> KeboolaConnector::Discover(const kit::ConnectorConfig& config) {
  DA_ASSIGN_OR_RETURN(KeboolaConfig cfg, ResolveKeboolaConfig(config));
  StorageClient client(cfg);
  DA_ASSIGN_OR_RETURN(json tables, client.ListTables());
  std::vector<kit::TableInfo> out;
  std::set<std::string> taken;
  for (const auto& table : tables) {
    if (!table.is_object()) continue;
    kit::TableInfo t = TableInfoFromJson(table);
    std::string name = t.name;
    for (int n = 2; taken.count(name) || kit::IsReservedViewName(name); ++n) {
      std::string suffix = "_" + std::to_string(n);
      name = t.name.substr(0, 64 - suffix.size()) + suffix;
    }
    taken.insert(name);
    t.name = name;
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

/// read_csv's buffer_size for export files. DuckDB sizes it 16 × max_line_size unless told:
/// with Keboola's 16 MiB cells that is a 256 MiB block per reader thread, reserved whole for a
/// gzip slice of any size, so even a 400-row table needed more than a 256 MB budget and a few
/// tables side by side overran 1 GB. Two lines' worth holds any row.
constexpr const char* kCsvBufferBytes = "33554432";

/// SELECT of one downloaded export with `columns`: CSV parsed straight into the column types
/// (`typed_csv`, the fast path), or every cell as text cast afterwards ('' = NULL for typed
/// columns) — the fallback when a typed column holds a quoted empty string, and the only way
/// for Parquet (all VARCHAR on untyped tables). An export without files selects no rows.
Result<std::string> SelectExport(const DownloadedExport& data, const std::vector<kit::ColumnInfo>& columns,
                                 bool typed_csv) {
  const bool csv_typed = typed_csv && data.file_type == "csv" && !data.files.empty();
  std::string select;
  for (const auto& c : columns) {
    const std::string q = QuoteIdent(c.name);
    std::string expr = q;
    if (c.type != "VARCHAR" && !csv_typed) {
      expr = "CAST(NULLIF(CAST(" + q + " AS VARCHAR), '') AS " + c.type + ")";
    }
    select += (select.empty() ? "" : ", ") + expr + " AS " + q;
  }
  if (data.files.empty()) {
    // A manifest without entries: an empty table with the columns.
    std::string cols;
    for (const auto& c : columns) {
      cols += (cols.empty() ? "" : ", ") + std::string("NULL::VARCHAR AS ") + QuoteIdent(c.name);
    }
    return "SELECT " + select + " FROM (SELECT " + cols + " WHERE false)";
  }
  std::string list;
  for (const auto& f : data.files) {
    DA_ASSIGN_OR_RETURN(std::string lit, Lit(f.string()));
    list += (list.empty() ? "" : ", ") + lit;
  }
  if (data.file_type == "parquet") return "SELECT " + select + " FROM read_parquet([" + list + "])";
  // Sliced CSV has no header in any slice: the names come from the table's columns.
  std::string struct_cols;
  for (const auto& c : columns) {
    DA_ASSIGN_OR_RETURN(std::string name, Lit(c.name));
    struct_cols += (struct_cols.empty() ? "" : ", ") + name + ": '" +
                   (csv_typed ? c.type : std::string("VARCHAR")) + "'";
  }
  return "SELECT " + select + " FROM read_csv([" + list + "], header=" +
         (data.sliced ? "false" : "true") + ", columns={" + struct_cols +
         "}, delim=',', quote='\"', escape='\"', allow_quoted_nulls=false, "
         "max_line_size=16777216, buffer_size=" + kCsvBufferBytes + ", auto_detect=false, compression='" +
         (data.gzip ? "gzip" : "none") + "')";
}

/// The chunks of a partitioned table's first load, newest first, as one SELECT: with a key
/// (every column present) the row of the newest chunk wins the 1-day overlap; without one,
/// DISTINCT. One chunk is selected as is.
Result<std::string> SelectChunks(const std::vector<DownloadedExport>& chunks,
                                 const std::vector<kit::ColumnInfo>& columns,
                                 const std::vector<std::string>& key, bool typed_csv) {
  if (chunks.size() == 1) return SelectExport(chunks[0], columns, typed_csv);
  std::string all, names;
  for (const auto& c : columns) names += (names.empty() ? "" : ", ") + QuoteIdent(c.name);
  for (size_t i = 0; i < chunks.size(); ++i) {
    DA_ASSIGN_OR_RETURN(std::string one, SelectExport(chunks[i], columns, typed_csv));
    all += (all.empty() ? "" : " UNION ALL ") + std::string("SELECT *, ") + std::to_string(i) +
           " AS __da_chunk FROM (" + one + ")";
  }
  bool keyed = !key.empty();
  std::string partition;
  for (const auto& k : key) {
    keyed = keyed && std::any_of(columns.begin(), columns.end(),
                                 [&](const kit::ColumnInfo& c) { return c.name == k; });
    partition += (partition.empty() ? "" : ", ") + QuoteIdent(k);
  }
  if (!keyed) return "SELECT DISTINCT " + names + " FROM (" + all + ")";
  return "SELECT " + names + " FROM (" + all + ") QUALIFY row_number() OVER (PARTITION BY " +
         partition + " ORDER BY __da_chunk) = 1";
}

/// Bytes of the downloaded files (for the chunk log line).
uintmax_t DownloadedBytes(const DownloadedExport& data) {
  uintmax_t n = 0;
  for (const auto& f : data.files) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    if (!ec) n += size;
  }
  return n;
}

}  // namespace

Status KeboolaConnector::ValidateSourceQuery(const std::string& source_query) const {
  DA_ASSIGN_OR_RETURN(ExportFilter filter, ParseExportFilter(source_query));
  return ExportForm(filter, filter.file_type.empty() ? "csv" : filter.file_type, /*gzip=*/true,
                    std::time(nullptr))
      .status();
}

Status KeboolaConnector::Read(const kit::ReadOptions& options, kit::ParquetSink& sink) {
  DA_ASSIGN_OR_RETURN(KeboolaConfig cfg, ResolveKeboolaConfig(options.config));
  const std::string& table_id = options.table.source_table;
  DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("keboola source_table", table_id));
  DA_ASSIGN_OR_RETURN(ExportFilter filter, ParseExportFilter(options.table.source_query));
  const model::SyncStrategy strategy = options.table.sync_strategy;
  if ((strategy == model::SyncStrategy::kIncremental ||
       strategy == model::SyncStrategy::kPartitioned) &&
      options.watermark &&
      filter.changed_since.empty() && cfg.incremental_window_days > 0) {
    // Rows imported within the window; the runtime keeps those past the watermark and merges
    // them by primary key (per partition when partitioned).
    filter.changed_since = "-" + std::to_string(cfg.incremental_window_days) + " days";
  }
  // A partitioned table's first load goes backwards in windows (unless the filter fixes its
  // own window or a row limit).
  const bool chunked = strategy == model::SyncStrategy::kPartitioned && !options.watermark &&
                       filter.changed_since.empty() &&
                       filter.changed_until.empty() && !filter.limit;
  const int64_t chunk_days = filter.initial_load_chunk_days.value_or(cfg.initial_load_chunk_days);
  const int64_t history_days = filter.max_history_days.value_or(cfg.max_history_days);
  const std::string file_type = filter.file_type.empty() ? cfg.file_type : filter.file_type;

  StorageClient client(cfg);
  DA_ASSIGN_OR_RETURN(json table, client.GetTable(table_id));
  kit::TableInfo info = TableInfoFromJson(table);
  std::vector<kit::ColumnInfo> columns;
  if (filter.columns.empty()) {
    columns = info.columns;
  } else {
    for (const auto& name : filter.columns) {
      auto it = std::find_if(info.columns.begin(), info.columns.end(),
                             [&](const kit::ColumnInfo& c) { return c.name == name; });
      if (it == info.columns.end()) {
        return InvalidArgument("keboola: filter column '" + PrintableForMessage(name) +
                               "' is not a column of " + table_id);
      }
      columns.push_back(*it);
    }
  }
  if (columns.empty()) return InvalidArgument("keboola: table " + table_id + " has no columns");
  for (const auto& c : columns) DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("keboola column", c.name));

  DA_ASSIGN_OR_RETURN(TempDir tmp, TempDir::Make(options.temp_dir));
  const std::time_t now = std::time(nullptr);
  auto export_into = [&](const ExportFilter& f, const fs::path& dir) -> Result<DownloadedExport> {
    DA_ASSIGN_OR_RETURN(std::string form, ExportForm(f, file_type, /*gzip=*/true, now));
    DA_ASSIGN_OR_RETURN(int64_t job, client.StartExport(table_id, form));
    DA_ASSIGN_OR_RETURN(int64_t file_id, client.WaitForJob(job));
    DA_ASSIGN_OR_RETURN(json file, client.GetFile(file_id));
    return client.Download(file, dir);
  };
  std::vector<DownloadedExport> chunks;
  if (!chunked) {
    DA_ASSIGN_OR_RETURN(DownloadedExport data, export_into(filter, tmp.path()));
    chunks.push_back(std::move(data));
  } else {
    constexpr int64_t kDay = 86400, kMaxChunks = 120;
    const int64_t count = history_days > 0 ? (history_days + chunk_days - 1) / chunk_days : kMaxChunks;
    const int64_t oldest = history_days > 0 ? now - history_days * kDay : 0;
    int empty_in_a_row = 0;
    for (int64_t i = 0; i < count && empty_in_a_row < 2; ++i) {
      ExportFilter f = filter;
      const int64_t until = now - i * chunk_days * kDay;
      const int64_t since = std::max(oldest, until - chunk_days * kDay - kDay);
      f.changed_since = std::to_string(since);
      f.changed_until = std::to_string(until);
      const fs::path dir = tmp.path() / ("chunk-" + std::to_string(i));
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) return Unavailable("keboola: cannot create " + dir.string());
      DA_ASSIGN_OR_RETURN(DownloadedExport data, export_into(f, dir));
      // Empty = no files, or files without data rows (DuckDB counts them as text).
      int64_t rows = 0;
      if (!data.files.empty()) {
        DA_ASSIGN_OR_RETURN(std::string select, SelectExport(data, columns, /*typed_csv=*/false));
        auto counted = [&] {
          const kit::MemoryGate::Admission admitted = sink.Admit();
          return sink.connection().Query("SELECT count(*) FROM (" + select + ")");
        }();
        if (!counted.ok()) {
          const StatusCode code = counted.status().code() == StatusCode::kResourceExhausted
                                      ? StatusCode::kResourceExhausted
                                      : StatusCode::kInvalidArgument;
          return Status(code, "keboola: cannot read chunk " + std::to_string(i + 1) + " of " +
                                  table_id + ": " +
                                  client.http().Redacted(
                                      PrintableForMessage(counted.status().message(), 500)));
        }
        rows = counted->GetInt64(0, 0);
      }
      spdlog::info("keboola: {}: first-load chunk {}/{} changedSince={} changedUntil={}: {} rows, {} bytes",
                   table_id, i + 1, count, since, until, rows, DownloadedBytes(data));
      if (rows == 0) {
        ++empty_in_a_row;
        continue;
      }
      empty_in_a_row = 0;
      chunks.push_back(std::move(data));
      if (since <= oldest) break;
    }
    if (chunks.empty()) chunks.push_back(DownloadedExport{{}, file_type, false, false});
  }
  const std::vector<std::string>& key =
      options.table.primary_key.empty() ? info.primary_key : options.table.primary_key;

  DA_ASSIGN_OR_RETURN(std::string fast, SelectChunks(chunks, columns, key, /*typed_csv=*/true));
  Status st = sink.CopyQuery(fast);
  if (!st.ok() && st.code() != StatusCode::kDeadlineExceeded &&
      st.code() != StatusCode::kResourceExhausted && st.message().find("onver") != std::string::npos) {
    spdlog::info("keboola: {}: typed CSV read failed, casting from text instead", table_id);
    DA_ASSIGN_OR_RETURN(std::string slow, SelectChunks(chunks, columns, key, /*typed_csv=*/false));
    st = sink.CopyQuery(slow);
  }
  if (!st.ok()) {
    std::string msg = st.message();
    if (auto cut = msg.find("\n\nLINE "); cut != std::string::npos) msg.resize(cut);
    const bool keep = st.code() == StatusCode::kDeadlineExceeded || st.code() == StatusCode::kResourceExhausted;
    return {keep ? st.code() : StatusCode::kInvalidArgument,
            "keboola: cannot convert the export of " + table_id + ": " +
                client.http().Redacted(PrintableForMessage(msg, 2000))};
  }
  return Status::Ok();
}

}  // namespace da::connectors::keboola
