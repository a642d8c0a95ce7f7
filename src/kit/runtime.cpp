#include "kit/runtime.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <system_error>
#include <utility>

#include "common/fs_util.h"
#include "common/hash.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/time_util.h"
#include "db/duckdb.h"

namespace da::kit {
namespace fs = std::filesystem;

namespace {

constexpr const char* kParquetSuffix = ".parquet";

std::string Printable(std::string_view s) { return PrintableForMessage(s, 128); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// An flock(2) on a file, released by the destructor.
class FileLock {
 public:
  static Result<FileLock> Acquire(const fs::path& path, bool wait) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Unavailable("cannot open lock file '" + path.string() + "'");
    if (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
      ::close(fd);
      return FailedPrecondition("'" + path.string() + "' is locked by another process");
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

Status RemovePath(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) return Unavailable("cannot remove '" + p.string() + "': " + ec.message());
  return Status::Ok();
}

Status RenamePath(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) {
    return Unavailable("cannot rename '" + from.string() + "' to '" + to.string() +
                       "': " + ec.message());
  }
  return Status::Ok();
}

/// Regular files directly inside `dir` (none when it does not exist).
Result<std::vector<fs::path>> ListFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  try {
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
  } catch (const fs::filesystem_error& e) {
    return Unavailable("cannot list '" + dir.string() + "': " + e.what());
  }
  return out;
}

fs::path ParquetPath(const fs::path& data_dir, const std::string& id) {
  return data_dir / (id + kParquetSuffix);
}

/// Row count and columns of a Parquet file, read from its footer (no data scan).
struct ParquetFacts {
  int64_t rows = 0;
  std::vector<ColumnInfo> columns;
};

Result<ParquetFacts> InspectParquet(db::Connection& conn, const fs::path& file) {
  DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(file.string()));
  ParquetFacts facts;
  DA_ASSIGN_OR_RETURN(auto meta, conn.Query("SELECT coalesce(sum(num_rows), 0)::BIGINT FROM "
                                            "parquet_file_metadata(" +
                                            lit + ")"));
  facts.rows = meta.RowCount() > 0 ? meta.GetInt64(0, 0) : 0;
  DA_ASSIGN_OR_RETURN(auto desc, conn.Query("DESCRIBE SELECT * FROM read_parquet(" + lit + ")"));
  for (size_t r = 0; r < desc.RowCount(); ++r) {
    facts.columns.push_back({desc.GetString(0, r), desc.GetString(1, r)});
  }
  return facts;
}

Result<int64_t> FileSize(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) return Unavailable("cannot stat '" + p.string() + "': " + ec.message());
  return static_cast<int64_t>(size);
}

int64_t FileMtimeMicros(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  if (ec) return NowMicros();
  auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch()).count();
}

/// Stats of a table extracted in this run (what its new `_meta` row says).
struct FreshMeta {
  int64_t rows = 0;
  int64_t size_bytes = 0;
  int64_t extracted_at_us = 0;
  std::vector<ColumnInfo> columns;
};

/// A previous `_meta` row (the values a rebuild keeps for tables it did not extract).
struct PreviousMeta {
  int64_t rows = 0;
  int64_t size_bytes = 0;
  int64_t extracted_at_us = 0;
  std::string schema_json;
};

/// `_meta` of the live extract.duckdb keyed by table_name; empty when there is none or it
/// cannot be read (then values are derived from the Parquet files).
std::map<std::string, PreviousMeta> ReadPreviousMeta(const fs::path& db_path) {
  std::map<std::string, PreviousMeta> out;
  std::error_code ec;
  if (!fs::exists(db_path, ec)) return out;
  auto db = db::Database::Open(db_path.string(), {.read_only = true, .settings = {}});
  if (!db.ok()) {
    spdlog::warn("cannot open previous {}: {}", db_path.string(), db.status().ToString());
    return out;
  }
  auto conn = db->Connect();
  if (!conn.ok()) return out;
  auto rows = conn->Query(
      "SELECT table_name, rows, size_bytes, epoch_us(extracted_at), schema_json FROM _meta");
  if (!rows.ok()) {
    spdlog::warn("cannot read _meta of {}: {}", db_path.string(), rows.status().ToString());
    return out;
  }
  for (size_t r = 0; r < rows->RowCount(); ++r) {
    PreviousMeta m;
    m.rows = rows->IsNull(1, r) ? 0 : rows->GetInt64(1, r);
    m.size_bytes = rows->IsNull(2, r) ? -1 : rows->GetInt64(2, r);
    m.extracted_at_us = rows->IsNull(3, r) ? 0 : rows->GetInt64(3, r);
    m.schema_json = rows->GetString(4, r);
    out[rows->GetString(0, r)] = std::move(m);
  }
  return out;
}

/// The tables of a source split into those that may be published (valid, unique) and the
/// reasons the others may not.
struct TablePlan {
  std::vector<state::TableRecord> valid;       ///< in source_tables order
  std::map<std::string, std::string> invalid;  ///< id → why it cannot be extracted
  /// Ids whose Parquet files survive pruning: every local/materialized record of the source,
  /// even one not publishable right now (e.g. a clashing view name), so a fixable metadata
  /// problem never deletes data.
  std::set<std::string> registered;
};

TablePlan PlanTables(const std::string& source,
                     const std::vector<state::TableRecord>& source_tables) {
  TablePlan plan;
  std::map<std::string, std::string> name_owner;  // lower-cased view name → id
  std::set<std::string> ids;
  for (const auto& t : source_tables) {
    if (t.source_type == source && t.query_mode != "remote") plan.registered.insert(t.id);
    std::string why;
    if (t.source_type != source) {
      why = "table '" + Printable(t.id) + "' belongs to source '" + Printable(t.source_type) +
            "', not '" + source + "'";
    } else if (t.query_mode == "remote") {
      why = "table '" + Printable(t.id) + "' has query_mode remote: its data stays in the source";
    } else if (Status st = ValidateQuotedIdentifier("table id", t.id); !st.ok()) {
      why = st.message();
    } else if (Status st2 = ValidateStrictIdentifier("view name", t.name); !st2.ok()) {
      why = st2.message();
    } else if (IsReservedViewName(t.name)) {
      why = "view name '" + t.name + "' is reserved inside extract.duckdb";
    } else if (!ids.insert(t.id).second) {
      why = "table id '" + t.id + "' is listed twice";
    } else if (auto [it, inserted] = name_owner.emplace(Lower(t.name), t.id); !inserted) {
      why = "view name '" + t.name + "' is already used by table '" + it->second + "'";
    }
    if (why.empty()) {
      plan.valid.push_back(t);
    } else {
      if (!plan.invalid.count(t.id)) plan.invalid[t.id] = why;
      spdlog::warn("source {}: {}", source, why);
    }
  }
  return plan;
}

/// Rebuilds `<source_dir>/extract.duckdb` for the publishable tables of `plan`, then prunes
/// Parquet files of tables not in it. See runtime.h for the contract.
Status RebuildSource(const fs::path& source_dir, const std::string& source, const TablePlan& plan,
                     const std::map<std::string, FreshMeta>& fresh) {
  const fs::path data_dir = source_dir / "data";
  const fs::path live = source_dir / "extract.duckdb";
  const fs::path tmp = source_dir / "extract.duckdb.tmp";
  const auto wal_of = [](const fs::path& p) { return fs::path(p.string() + ".wal"); };
  DA_RETURN_IF_ERROR(EnsureDir(data_dir));
  DA_ASSIGN_OR_RETURN(auto build_lock, FileLock::Acquire(source_dir / ".build.lock", true));

  const auto previous = ReadPreviousMeta(live);

  DA_RETURN_IF_ERROR(RemovePath(tmp));
  DA_RETURN_IF_ERROR(RemovePath(wal_of(tmp)));
  {
    DA_ASSIGN_OR_RETURN(
        auto db,
        db::Database::Open(tmp.string(), {.read_only = false, .settings = {{"threads", "1"}}}));
    DA_ASSIGN_OR_RETURN(auto conn, db.Connect());
    DA_RETURN_IF_ERROR(conn.Execute(
        "CREATE TABLE _meta (table_name VARCHAR NOT NULL, description VARCHAR, rows BIGINT, "
        "size_bytes BIGINT, extracted_at TIMESTAMP, query_mode VARCHAR, schema_json VARCHAR)"));
    DA_ASSIGN_OR_RETURN(auto insert, conn.Prepare("INSERT INTO _meta VALUES ($1, $2, $3, $4, "
                                                  "make_timestamp($5::BIGINT), $6, $7)"));
    for (const auto& t : plan.valid) {
      const fs::path parquet = ParquetPath(data_dir, t.id);
      std::error_code ec;
      if (!fs::is_regular_file(parquet, ec)) continue;
      DA_ASSIGN_OR_RETURN(int64_t size, FileSize(parquet));
      int64_t rows = 0;
      int64_t extracted_at_us = 0;
      std::string schema_json;
      if (auto f = fresh.find(t.id); f != fresh.end()) {
        rows = f->second.rows;
        extracted_at_us = f->second.extracted_at_us;
        schema_json = ColumnsToJson(f->second.columns).dump();
      } else if (auto p = previous.find(t.name);
                 p != previous.end() && p->second.size_bytes == size) {
        rows = p->second.rows;
        extracted_at_us = p->second.extracted_at_us;
        schema_json = p->second.schema_json;
      } else {
        // No trustworthy previous row (first rebuild, a renamed table, an edited file):
        // derive it from the file's footer.
        auto facts = InspectParquet(conn, parquet);
        if (!facts.ok()) {
          spdlog::warn("source {}: skipping unreadable {}: {}", source, parquet.string(),
                       facts.status().ToString());
          continue;
        }
        rows = facts->rows;
        extracted_at_us = FileMtimeMicros(parquet);
        schema_json = ColumnsToJson(facts->columns).dump();
      }
      DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(parquet.string()));
      Status view = conn.Execute("CREATE VIEW " + QuoteIdent(t.name) +
                                 " AS SELECT * FROM read_parquet(" + lit + ")");
      if (!view.ok()) {
        spdlog::warn("source {}: no view for table {}: {}", source, t.id, view.ToString());
        continue;
      }
      DA_RETURN_IF_ERROR(insert
                             .Execute({t.name, t.description, rows, size, extracted_at_us,
                                       t.query_mode, schema_json})
                             .status());
    }
    DA_RETURN_IF_ERROR(conn.Execute("CHECKPOINT"));
  }
  DA_RETURN_IF_ERROR(RemovePath(wal_of(tmp)));
  // The old WAL goes first: a reader opening the new file must never replay it.
  DA_RETURN_IF_ERROR(RemovePath(wal_of(live)));
  DA_RETURN_IF_ERROR(RenamePath(tmp, live));

  // Prune Parquet files of tables no longer registered, after the new views are live.
  const std::set<std::string>& keep = plan.registered;
  DA_ASSIGN_OR_RETURN(auto data_files, ListFiles(data_dir));
  for (const auto& f : data_files) {
    const std::string fname = f.filename().string();
    if (!fname.ends_with(kParquetSuffix)) continue;
    const std::string id = fname.substr(0, fname.size() - std::string_view(kParquetSuffix).size());
    if (keep.count(id)) continue;
    spdlog::info("source {}: removing {} (table no longer registered)", source, fname);
    DA_RETURN_IF_ERROR(RemovePath(f));
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------- report

size_t ExtractReport::OkCount() const {
  return static_cast<size_t>(
      std::count_if(tables.begin(), tables.end(), [](const ExtractStats& s) { return s.ok(); }));
}

size_t ExtractReport::ErrorCount() const { return tables.size() - OkCount(); }

nlohmann::json ExtractReportToJson(const ExtractReport& r) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& s : r.tables) tables.push_back(ExtractStatsToJson(s));
  return {{"source", r.source}, {"tables", std::move(tables)}};
}

Result<ExtractReport> ExtractReportFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Malformed("extract report must be a JSON object");
  ExtractReport r;
  try {
    r.source = j.at("source").get<std::string>();
    const auto& tables = j.at("tables");
    if (!tables.is_array()) return Malformed("extract report: tables must be an array");
    for (const auto& t : tables) {
      DA_ASSIGN_OR_RETURN(auto s, ExtractStatsFromJson(t));
      r.tables.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    return Malformed(std::string("extract report: ") + e.what());
  }
  return r;
}

bool IsReservedViewName(const std::string& name) {
  std::string n = Lower(name);
  return n == "_meta" || n == "_remote_attach";
}

RuntimeOptions RuntimeOptions::FromConfig(const InstanceConfig& config) {
  RuntimeOptions o;
  o.extracts_dir = config.ExtractsDir();
  o.source_config = config.sources;
  return o;
}

// ---------------------------------------------------------------------------- runtime

ExtractRuntime::ExtractRuntime(RuntimeOptions options, const ConnectorRegistry& connectors)
    : options_(std::move(options)), connectors_(connectors) {
  std::error_code ec;
  auto abs = fs::absolute(options_.extracts_dir, ec);
  if (!ec) options_.extracts_dir = abs.lexically_normal();
}

fs::path ExtractRuntime::SourceDir(const std::string& source) const {
  return options_.extracts_dir / source;
}

Result<ExtractReport> ExtractRuntime::Extract(const std::string& source,
                                              const std::vector<state::TableRecord>& source_tables,
                                              const std::set<std::string>& only_ids) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("source", source));
  DA_ASSIGN_OR_RETURN(auto connector, connectors_.Create(source));
  if (!HasCapability(connector->capabilities(), Capability::kRead)) {
    return FailedPrecondition("connector '" + source + "' cannot read tables");
  }

  const fs::path source_dir = SourceDir(source);
  const fs::path data_dir = source_dir / "data";
  const fs::path tmp_dir = source_dir / "tmp";
  DA_RETURN_IF_ERROR(EnsureDir(data_dir));
  DA_ASSIGN_OR_RETURN(auto extract_lock, FileLock::Acquire(source_dir / ".extract.lock", false));

  // Leftovers of a killed run: spill files and half-written Parquet files.
  DA_RETURN_IF_ERROR(RemovePath(tmp_dir));
  DA_RETURN_IF_ERROR(EnsureDir(tmp_dir / "duckdb"));
  DA_RETURN_IF_ERROR(EnsureDir(tmp_dir / "connector"));
  DA_ASSIGN_OR_RETURN(auto data_files, ListFiles(data_dir));
  for (const auto& f : data_files) {
    if (f.filename().string().ends_with(".tmp")) DA_RETURN_IF_ERROR(RemovePath(f));
  }

  const TablePlan plan = PlanTables(source, source_tables);
  const ConnectorConfig config =
      options_.source_config.count(source) ? options_.source_config.at(source) : ConnectorConfig{};
  ExtractReport report;
  report.source = source;
  std::map<std::string, FreshMeta> fresh;
  std::optional<db::Database> work_db;  // opened at the first table to extract
  std::set<std::string> seen;

  for (const auto& t : source_tables) {
    if (!only_ids.empty() && !only_ids.count(t.id)) continue;
    if (!seen.insert(t.id).second) continue;
    ExtractStats s;
    s.table_id = t.id;
    s.name = t.name;
    if (auto it = plan.invalid.find(t.id); it != plan.invalid.end()) {
      s.error = "invalid_argument: " + it->second;
      report.tables.push_back(std::move(s));
      continue;
    }
    if (!work_db) {
      db::DatabaseOptions work_options;
      work_options.settings = {{"memory_limit", options_.memory_limit},
                               {"threads", std::to_string(std::max(1, options_.threads))},
                               {"preserve_insertion_order", "false"},
                               {"temp_directory", (tmp_dir / "duckdb").string()},
                               {"autoinstall_known_extensions", "false"}};
      DA_ASSIGN_OR_RETURN(auto opened, db::Database::Open(":memory:", work_options));
      work_db.emplace(std::move(opened));
    }
    const auto start = std::chrono::steady_clock::now();
    const fs::path tmp = data_dir / (t.id + kParquetSuffix + ".tmp");
    FreshMeta meta;
    auto run = [&]() -> Status {
      DA_ASSIGN_OR_RETURN(auto conn, work_db->Connect());
      {
        ParquetSink sink(conn, tmp);
        ReadOptions read_options{t, config, tmp_dir / "connector"};
        DA_RETURN_IF_ERROR(connector->Read(read_options, sink));
        if (!sink.finished()) {
          return Internal("connector '" + source + "' returned without writing table '" + t.id +
                          "'");
        }
      }
      DA_ASSIGN_OR_RETURN(auto facts, InspectParquet(conn, tmp));
      DA_ASSIGN_OR_RETURN(meta.size_bytes, FileSize(tmp));
      DA_ASSIGN_OR_RETURN(s.md5, Md5File(tmp));
      DA_RETURN_IF_ERROR(RenamePath(tmp, ParquetPath(data_dir, t.id)));
      meta.rows = facts.rows;
      meta.columns = std::move(facts.columns);
      meta.extracted_at_us = NowMicros();
      return Status::Ok();
    };
    Status st = run();
    s.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    if (st.ok()) {
      s.status = "ok";
      s.rows = meta.rows;
      s.size_bytes = meta.size_bytes;
      s.columns = meta.columns;
      fresh[t.id] = std::move(meta);
      spdlog::info("source {}: table {} extracted: {} rows, {} bytes, {} ms", source, t.id, s.rows,
                   s.size_bytes, s.duration_ms);
    } else {
      (void)RemovePath(tmp);
      s.md5.clear();
      s.error = st.ToString();
      spdlog::warn("source {}: table {} failed: {}", source, t.id, s.error);
    }
    report.tables.push_back(std::move(s));
  }
  for (const auto& id : only_ids) {
    if (seen.count(id)) continue;
    ExtractStats s;
    s.table_id = id;
    s.error = "not_found: table '" + Printable(id) +
              "' is not a registered local table of source '" + source + "'";
    report.tables.push_back(std::move(s));
  }
  work_db.reset();

  DA_RETURN_IF_ERROR(RebuildSource(source_dir, source, plan, fresh));
  DA_RETURN_IF_ERROR(RemovePath(tmp_dir));
  return report;
}

Status ExtractRuntime::RebuildExtractDb(const std::string& source,
                                        const std::vector<state::TableRecord>& source_tables) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("source", source));
  std::error_code ec;
  if (!fs::exists(SourceDir(source), ec) && source_tables.empty()) return Status::Ok();
  return RebuildSource(SourceDir(source), source, PlanTables(source, source_tables), {});
}

}  // namespace da::kit
