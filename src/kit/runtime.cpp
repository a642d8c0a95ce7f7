#include "kit/runtime.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <thread>
#include <atomic>
#include <csignal>
#include <fstream>
#include <optional>
#include <system_error>
#include <utility>

#include "common/fs_util.h"
#include "common/hash.h"
#include "common/identifiers.h"
#include "common/log.h"
#include "common/memory_size.h"
#include "common/time_util.h"
#include "db/duckdb.h"
#include "kit/extract_state.h"
#include "kit/memory_gate.h"
#include "kit/schema_diff.h"
#include "kit/storage.h"
#include "kit/strategies.h"
#include "kit/stream_writer.h"
#include "common/text.h"

namespace da::kit {
namespace fs = std::filesystem;

namespace {

std::string Printable(std::string_view s) { return PrintableForMessage(s, 128); }

/// Stats of a table written in this run (what its new `_meta` row says).
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
  std::vector<model::TableSpec> valid;       ///< in source_tables order
  std::map<std::string, std::string> invalid;  ///< id → why it cannot be extracted
  /// Ids whose Parquet files survive pruning: every local/materialized record of the source,
  /// even one not publishable right now (e.g. a clashing view name), so a fixable metadata
  /// problem never deletes data.
  std::set<std::string> registered;
};

TablePlan PlanTables(const std::string& source,
                     const std::vector<model::TableSpec>& source_tables) {
  TablePlan plan;
  std::map<std::string, std::string> name_owner;  // lower-cased view name → id
  std::set<std::string> ids;
  for (const auto& t : source_tables) {
    if (t.source_type == source && t.IsStored()) plan.registered.insert(t.id);
    std::string why;
    if (t.source_type != source) {
      why = "table '" + Printable(t.id) + "' belongs to source '" + Printable(t.source_type) +
            "', not '" + source + "'";
    } else if (!t.IsStored()) {
      why = "table '" + Printable(t.id) + "' has query_mode remote: its data stays in the source";
    } else if (Status st = ValidateQuotedIdentifier("table id", t.id); !st.ok()) {
      why = st.message();
    } else if (Status st2 = ValidateStrictIdentifier("view name", t.name); !st2.ok()) {
      why = st2.message();
    } else if (IsReservedViewName(t.name)) {
      why = "view name '" + t.name + "' is reserved inside extract.duckdb";
    } else if (!ids.insert(t.id).second) {
      why = "table id '" + t.id + "' is listed twice";
    } else if (auto [it, inserted] = name_owner.emplace(AsciiLower(t.name), t.id); !inserted) {
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

/// True when a path can be used inside a DuckDB glob as a literal directory.
bool IsGlobSafe(const std::string& path) {
  return path.find_first_of("*?[]{}\\") == std::string::npos;
}

/// The SELECT of a table's view: its one file, or every partition of its directory through a
/// glob (so a partition added later by a stream writer is visible at once).
Result<std::string> ViewSelect(const fs::path& data_dir, const model::TableSpec& t,
                               const StoredTable& stored) {
  if (stored.multi_file && IsGlobSafe(PartitionDir(data_dir, t.id).string())) {
    DA_ASSIGN_OR_RETURN(std::string lit,
                        QuoteLiteral((PartitionDir(data_dir, t.id) / "*.parquet").string()));
    return "SELECT * FROM read_parquet(" + lit + ", union_by_name=true, hive_partitioning=false)";
  }
  DA_ASSIGN_OR_RETURN(std::string reader, ParquetReaderSql(stored.files));
  return "SELECT * FROM " + reader;
}

/// Options of one RebuildSource call.
struct RebuildOptions {
  /// Delete data of tables not in the plan (off when the table list may be stale).
  bool prune = true;
  /// Skip the rebuild when another one started after this time (µs since the epoch): that one
  /// already saw every file written before (views over partitions are globs). 0 = never skip.
  int64_t skip_if_started_after_us = 0;
};

/// `.build.started`: when the last rebuild of the source began (µs since the epoch), written
/// under the build lock; 0 when unknown.
int64_t ReadBuildStarted(const fs::path& source_dir) {
  std::ifstream in(source_dir / ".build.started");
  int64_t us = 0;
  if (!(in >> us)) return 0;
  return us;
}

/// Rebuilds `<source_dir>/extract.duckdb` for the publishable tables of `plan`, then prunes
/// Parquet files and partition directories of tables not in it. See runtime.h for the
/// contract.
Status RebuildSource(const fs::path& source_dir, const std::string& source, const TablePlan& plan,
                     const std::map<std::string, FreshMeta>& fresh,
                     const RebuildOptions& options = {}) {
  const fs::path data_dir = source_dir / "data";
  const fs::path live = source_dir / "extract.duckdb";
  const fs::path tmp = source_dir / "extract.duckdb.tmp";
  const auto wal_of = [](const fs::path& p) { return fs::path(p.string() + ".wal"); };
  DA_RETURN_IF_ERROR(EnsureDir(data_dir));
  DA_ASSIGN_OR_RETURN(auto build_lock, FileLock::Acquire(source_dir / ".build.lock", true));
  if (options.skip_if_started_after_us > 0 &&
      ReadBuildStarted(source_dir) > options.skip_if_started_after_us) {
    return Status::Ok();
  }
  {
    std::ofstream started(source_dir / ".build.started", std::ios::trunc);
    started << NowMicros() << '\n';
  }

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
      DA_ASSIGN_OR_RETURN(StoredTable stored, FindStoredTable(data_dir, t));
      if (stored.files.empty()) continue;
      int64_t size = 0;
      for (const auto& f : stored.files) {
        DA_ASSIGN_OR_RETURN(int64_t n, FileSize(f));
        size += n;
      }
      int64_t rows = 0;
      int64_t extracted_at_us = 0;
      std::string schema_json;
      const auto f = fresh.find(t.id);
      const auto p = previous.find(t.name);
      // Partitions may change under us (stream writers): their footers are the truth.
      if (!stored.multi_file && f != fresh.end() && f->second.size_bytes == size) {
        rows = f->second.rows;
        extracted_at_us = f->second.extracted_at_us;
        schema_json = ColumnsToJson(f->second.columns).dump();
      } else if (!stored.multi_file && f == fresh.end() && p != previous.end() &&
                 p->second.size_bytes == size) {
        rows = p->second.rows;
        extracted_at_us = p->second.extracted_at_us;
        schema_json = p->second.schema_json;
      } else {
        // No trustworthy row (first rebuild, a renamed table, an edited file, partitions):
        // derive it from the files' footers.
        auto facts = InspectParquet(conn, stored.files);
        if (!facts.ok()) {
          spdlog::warn("source {}: skipping unreadable data of table {}: {}", source, t.id,
                       facts.status().ToString());
          continue;
        }
        rows = facts->rows;
        schema_json = ColumnsToJson(facts->columns).dump();
        if (f != fresh.end()) {
          extracted_at_us = f->second.extracted_at_us;
        } else if (p != previous.end() && p->second.size_bytes == size) {
          extracted_at_us = p->second.extracted_at_us;
        } else {
          for (const auto& file : stored.files) {
            extracted_at_us = std::max(extracted_at_us, FileMtimeMicros(file));
          }
        }
      }
      DA_ASSIGN_OR_RETURN(std::string select, ViewSelect(data_dir, t, stored));
      Status view = conn.Execute("CREATE VIEW " + QuoteIdent(t.name) + " AS " + select);
      if (!view.ok()) {
        spdlog::warn("source {}: no view for table {}: {}", source, t.id, view.ToString());
        continue;
      }
      DA_RETURN_IF_ERROR(insert
                             .Execute({t.name, t.description, rows, size, extracted_at_us,
                                       std::string(model::ToString(t.query_mode)), schema_json})
                             .status());
    }
    DA_RETURN_IF_ERROR(conn.Execute("CHECKPOINT"));
  }
  DA_RETURN_IF_ERROR(RemovePath(wal_of(tmp)));
  // The old WAL goes first: a reader opening the new file must never replay it.
  DA_RETURN_IF_ERROR(RemovePath(wal_of(live)));
  DA_RETURN_IF_ERROR(RenamePath(tmp, live));

  // Prune data of tables no longer registered, after the new views are live.
  if (!options.prune) return Status::Ok();
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
  DA_ASSIGN_OR_RETURN(auto data_dirs, ListDirs(data_dir));
  for (const auto& d : data_dirs) {
    const std::string id = d.filename().string();
    if (id.starts_with(".") || keep.count(id)) continue;
    spdlog::info("source {}: removing {}/ (table no longer registered)", source, id);
    DA_RETURN_IF_ERROR(RemovePath(d));
  }
  return Status::Ok();
}

/// Removes what a killed run left in `data/`: `*.tmp` files, and partition temp files whose
/// lock is free (a held lock means a stream writer is working on that partition right now).
Status CleanDataLeftovers(const fs::path& data_dir) {
  DA_ASSIGN_OR_RETURN(auto data_files, ListFiles(data_dir));
  for (const auto& f : data_files) {
    if (f.filename().string().ends_with(".tmp")) DA_RETURN_IF_ERROR(RemovePath(f));
  }
  DA_ASSIGN_OR_RETURN(auto dirs, ListDirs(data_dir));
  for (const auto& d : dirs) {
    const std::string id = d.filename().string();
    if (id.starts_with(".")) continue;
    DA_ASSIGN_OR_RETURN(auto files, ListFiles(d));
    for (const auto& f : files) {
      const std::string name = f.filename().string();
      const std::string suffix = std::string(kParquetSuffix) + ".tmp";
      if (!name.ends_with(".tmp")) continue;
      const std::string period =
          name.ends_with(suffix) ? name.substr(0, name.size() - suffix.size()) : "";
      if (!IsPeriodName(period)) {
        DA_RETURN_IF_ERROR(RemovePath(f));
        continue;
      }
      DA_RETURN_IF_ERROR(EnsureDir(data_dir / ".locks"));
      DA_ASSIGN_OR_RETURN(auto lock,
                          FileLock::TryAcquire(PartitionLockPath(data_dir, id, period)));
      if (lock) DA_RETURN_IF_ERROR(RemovePath(f));
    }
  }
  return Status::Ok();
}

/// Records the source's registered tables in its extract state (the snapshot a stream append
/// rebuilds from) and forgets the state of tables no longer registered.
Status RecordRegistered(const fs::path& source_dir, const std::string& source,
                        const std::vector<model::TableSpec>& source_tables) {
  std::vector<model::TableSpec> registered;
  std::set<std::string> ids;
  for (const auto& t : source_tables) {
    if (t.source_type != source || !t.IsStored()) continue;
    registered.push_back(t);
    ids.insert(t.id);
  }
  return UpdateExtractState(source_dir, [&](ExtractState& st) {
    st.registered = registered;
    for (auto it = st.tables.begin(); it != st.tables.end();) {
      it = ids.count(it->first) ? std::next(it) : st.tables.erase(it);
    }
  });
}

/// Where one table of an Extract call reads and writes.
/// The memory budget of one source's extraction and the setting it came from.
struct MemoryBudget {
  int64_t bytes = 0;
  std::string origin;  ///< "sources.<source>.memory_limit", or "" for the instance-wide limit
};

/// The source's `memory_limit` config when set (invalid_argument when it is not a size),
/// else the instance-wide budget.
Result<MemoryBudget> SourceMemoryBudget(const std::string& source, const ConnectorConfig& config,
                                        int64_t instance_bytes) {
  if (auto it = config.find("memory_limit"); it != config.end() && !it->second.empty()) {
    const std::string origin = "sources." + source + ".memory_limit";
    DA_ASSIGN_OR_RETURN(int64_t bytes, ParseMemorySize(origin, it->second));
    return MemoryBudget{bytes, origin};
  }
  return MemoryBudget{instance_bytes, ""};
}

/// The failure of a table whose conversion ran out of memory while it had the whole budget:
/// resource_exhausted, naming the limit and the settings that raise it (DuckDB's own
/// allocator text says nothing an admin can act on, so it is not repeated).
Status MemoryLimitError(const std::string& source, const std::string& table_id,
                        const MemoryBudget& budget) {
  const std::string where = budget.origin.empty()
                                ? "set by --memory-limit, DA_EXTRACT_MEMORY_LIMIT or "
                                  "sync.extract_memory_limit"
                                : "set by " + budget.origin;
  return ResourceExhausted(
      "table '" + Printable(table_id) + "' needs more memory than the extraction memory limit of " +
      FormatMemorySize(budget.bytes) + " (" + where +
      ") allows, even when converted alone; raise that limit (DA_EXTRACT_MEMORY_LIMIT or "
      "sync.extract_memory_limit for every source, sources." + source +
      ".memory_limit for this one, --memory-limit for `da extract`)");
}

struct TableJob {
  const model::TableSpec& table;
  Connector& connector;
  const ConnectorConfig& config;
  fs::path data_dir;
  fs::path tmp_dir;
  const TableState* previous = nullptr;  ///< its extract state, when there is one
  size_t index = 0;                      ///< makes scratch names unique within the run
  MemoryGate* gate = nullptr;            ///< admits this run's DuckDB work one table at a time
  const MemoryBudget* budget = nullptr;  ///< the run's memory budget (for error messages)
  std::string source;
};

/// What a successful table extraction leaves behind.
struct TableDone {
  FreshMeta meta;
  TableState state;
};

/// The watermark an incremental read starts from: the extract state's, when it belongs to
/// the same column and the stored data is what the state describes (or the table has a key:
/// re-merging rows is harmless); otherwise the largest value in the stored data; nullopt for
/// a full read.
std::optional<std::string> PlanWatermark(db::Connection& conn, const TableJob& job,
                                         const std::string& column, const StoredTable& stored,
                                         std::vector<std::string>* warnings) {
  const TableState* prev = job.previous;
  if (prev && prev->incremental_column == column && prev->watermark) {
    if (job.table.primary_key.size() > 0 || SameFiles(prev->files, stored.files)) {
      return prev->watermark;
    }
    warnings->push_back("the stored data of table '" + job.table.id +
                        "' is not the data its extract state describes (an interrupted run?): "
                        "the watermark was taken from the stored data");
  } else if (prev && !prev->incremental_column.empty() && prev->incremental_column != column) {
    warnings->push_back("incremental_column of table '" + job.table.id + "' changed from '" +
                        prev->incremental_column + "' to '" + column +
                        "': the watermark was taken from the stored data");
  }
  if (stored.files.empty()) return std::nullopt;
  auto reader = ParquetReaderSql(stored.files);
  if (!reader.ok()) return std::nullopt;
  auto max = MaxValue(conn, *reader, column);
  if (!max.ok()) {
    warnings->push_back("the stored data of table '" + job.table.id + "' has no usable column '" +
                        column + "': reading everything");
    return std::nullopt;
  }
  return *max;
}

/// Reads one table through its connector and commits it with its sync strategy. Fills the
/// report fields it learns on the way (schema_change, warnings) even when it fails.
Status ExtractTable(db::Connection& conn, const TableJob& job, ExtractStats* s, TableDone* done) {
  const model::TableSpec& t = job.table;
  const std::string strategy(model::ToString(t.sync_strategy));
  DA_RETURN_IF_ERROR(PrepareStrategyConnection(conn));
  const bool multi_file = t.sync_strategy == model::SyncStrategy::kPartitioned;

  // The data stored now, in the form this strategy writes (the other form, left by a
  // strategy change, is not merged into: it is replaced by a full read).
  DA_ASSIGN_OR_RETURN(StoredTable stored, FindStoredTable(job.data_dir, t));
  if (stored.multi_file != multi_file) {
    if (!stored.files.empty()) {
      s->warnings.push_back("table '" + t.id + "' was stored as " +
                            (stored.multi_file ? "partitions" : "one file") +
                            " before; sync_strategy " + strategy + " replaces it");
    }
    stored = StoredTable{multi_file, {}};
  }

  std::string inc_col;
  std::optional<std::string> watermark;
  if (t.sync_strategy != model::SyncStrategy::kFullRefresh && !t.incremental_column.empty()) {
    DA_RETURN_IF_ERROR(ValidateStrictIdentifier("incremental_column", t.incremental_column));
    inc_col = t.incremental_column;
    const MemoryGate::Admission admitted = job.gate->Admit();
    watermark = PlanWatermark(conn, job, inc_col, stored, &s->warnings);
  }

  const fs::path single = SingleFilePath(job.data_dir, t.id);
  const fs::path read_file =
      t.sync_strategy == model::SyncStrategy::kFullRefresh
          ? fs::path(single.string() + ".tmp")
          : job.tmp_dir / ("read-" + std::to_string(job.index) + kParquetSuffix);
  {
    ParquetSink sink(conn, read_file, job.gate);
    ReadOptions options;
    options.table = t;
    options.config = job.config;
    options.temp_dir = job.tmp_dir / "connector";
    options.incremental_column = inc_col;
    options.watermark = watermark;
    Status read = job.connector.Read(options, sink);
    // A connector may re-word the sink's error; running out of memory stays what it is.
    if (!read.ok() && sink.out_of_memory()) {
      spdlog::debug("table {}: out of memory: {}", t.id, read.message());
      return MemoryLimitError(job.source, t.id, *job.budget);
    }
    DA_RETURN_IF_ERROR(read);
    if (!sink.finished()) {
      return Internal("connector '" + job.connector.name() + "' returned without writing table '" +
                      t.id + "'");
    }
  }
  // Everything below is DuckDB work over Parquet files: one table at a time.
  const MemoryGate::Admission admitted = job.gate->Admit();
  DA_ASSIGN_OR_RETURN(auto read_facts, InspectParquet(conn, {read_file}));

  // Schema evolution: against the last successful read, or (no state yet) the stored data.
  std::optional<std::vector<ColumnInfo>> before;
  if (job.previous && !job.previous->columns.empty()) {
    before = job.previous->columns;
  } else if (!stored.files.empty()) {
    auto facts = InspectParquet(conn, stored.files);
    if (facts.ok()) before = std::move(facts->columns);
  }
  std::optional<SchemaChange> change;
  if (before) {
    SchemaChange diff = DiffColumns(*before, read_facts.columns);
    if (!diff.empty()) change = std::move(diff);
  }
  s->schema_change = change;
  if (change) {
    if (t.schema_policy == model::SchemaPolicy::kFreeze) {
      return FailedPrecondition("schema_policy of table '" + t.id +
                                "' is freeze and its columns changed: " +
                                DescribeSchemaChange(*change) +
                                "; the previous data keeps serving (set schema_policy to evolve "
                                "to accept the change)");
    }
    spdlog::info("table {}: schema changed: {}", t.id, DescribeSchemaChange(*change));
  }

  CommitResult commit;
  if (t.sync_strategy == model::SyncStrategy::kFullRefresh) {
    DA_RETURN_IF_ERROR(RenamePath(read_file, single));
  } else {
    ReadBatch batch{read_file, read_facts.columns, inc_col, watermark};
    if (t.sync_strategy == model::SyncStrategy::kIncremental) {
      DA_ASSIGN_OR_RETURN(commit, CommitIncremental(conn, t, batch, job.data_dir));
    } else {
      const fs::path parts = job.tmp_dir / ("parts-" + std::to_string(job.index));
      DA_ASSIGN_OR_RETURN(commit, CommitPartitioned(conn, t, batch, job.data_dir, parts));
      (void)RemovePath(parts);
    }
    (void)RemovePath(read_file);
    spdlog::info("table {}: {} new rows{}", t.id, commit.new_rows,
                 commit.touched.empty() ? ""
                                        : " in " + std::to_string(commit.touched.size()) +
                                              " partition(s)");
  }
  // Data of the other form is replaced by this run's.
  DA_RETURN_IF_ERROR(RemovePath(multi_file ? single : PartitionDir(job.data_dir, t.id)));

  DA_ASSIGN_OR_RETURN(StoredTable after, FindStoredTable(job.data_dir, t));
  std::vector<StoredFile> files;
  if (!after.files.empty()) {
    DA_ASSIGN_OR_RETURN(files, CollectFileStats(conn, after.files,
                                                job.previous ? job.previous->files
                                                             : std::vector<StoredFile>{}));
  }
  DA_ASSIGN_OR_RETURN(auto facts, after.files.empty() ? Result<ParquetFacts>(ParquetFacts{})
                                                      : InspectParquet(conn, after.files));
  done->meta.rows = 0;
  done->meta.size_bytes = 0;
  for (const auto& f : files) {
    done->meta.rows += f.stats.rows;
    done->meta.size_bytes += f.stats.size_bytes;
  }
  done->meta.columns = facts.columns;
  done->meta.extracted_at_us = NowMicros();

  s->md5 = multi_file || files.empty() ? "" : files[0].stats.md5;
  s->files.clear();
  if (multi_file) {
    for (const auto& f : files) s->files.push_back(f.stats);
  }
  s->warnings.insert(s->warnings.end(), commit.warnings.begin(), commit.warnings.end());
  s->watermark = commit.watermark ? commit.watermark : watermark;

  TableState& st = done->state;
  st.columns = read_facts.columns;
  st.sync_strategy = strategy;
  st.incremental_column = inc_col;
  st.watermark = inc_col.empty() ? std::nullopt : s->watermark;
  st.last_extracted_at = IsoFromMicros(done->meta.extracted_at_us);
  st.files = std::move(files);
  if (change) {
    st.last_schema_change = change;
    st.last_schema_change_at = st.last_extracted_at;
  } else if (job.previous) {
    st.last_schema_change = job.previous->last_schema_change;
    st.last_schema_change_at = job.previous->last_schema_change_at;
  }
  return Status::Ok();
}

/// A scratch directory for one stream append: `<source_dir>/stream/<pid>-<random>`, removed
/// by the destructor. Directories of writers that died (their pid is gone) are removed first.
class StreamScratch {
 public:
  static Result<StreamScratch> Create(const fs::path& source_dir) {
    const fs::path root = source_dir / "stream";
    DA_RETURN_IF_ERROR(EnsureDir(root));
    DA_ASSIGN_OR_RETURN(auto dirs, ListDirs(root));
    for (const auto& d : dirs) {
      const std::string name = d.filename().string();
      const auto dash = name.find('-');
      if (dash == std::string::npos) continue;
      const std::string pid_text = name.substr(0, dash);
      if (pid_text.empty() || pid_text.size() > 9 ||
          !std::all_of(pid_text.begin(), pid_text.end(), ::isdigit)) {
        continue;
      }
      const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
      if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) (void)RemovePath(d);
    }
    const fs::path dir = root / (std::to_string(::getpid()) + "-" + RandomHex(8));
    DA_RETURN_IF_ERROR(EnsureDir(dir / "duckdb"));
    return StreamScratch(dir);
  }
  StreamScratch(StreamScratch&& o) noexcept : dir_(std::exchange(o.dir_, fs::path())) {}
  StreamScratch& operator=(StreamScratch&&) = delete;
  ~StreamScratch() {
    if (!dir_.empty()) (void)RemovePath(dir_);
  }
  const fs::path& dir() const { return dir_; }

 private:
  explicit StreamScratch(fs::path dir) : dir_(std::move(dir)) {}
  fs::path dir_;
};

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
  std::string n = AsciiLower(name);
  return n == "_meta" || n == "_remote_attach";
}

RuntimeOptions RuntimeOptions::FromConfig(const InstanceConfig& config) {
  RuntimeOptions o;
  o.extracts_dir = config.ExtractsDir();
  o.source_config = config.sources;
  o.memory_limit_bytes = config.ExtractMemoryLimitBytes();
  return o;
}

int RuntimeOptions::DefaultThreads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
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
                                              const std::vector<model::TableSpec>& source_tables,
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
  DA_RETURN_IF_ERROR(CleanDataLeftovers(data_dir));
  DA_ASSIGN_OR_RETURN(const ExtractState previous_state, LoadExtractState(source_dir));

  const TablePlan plan = PlanTables(source, source_tables);
  const ConnectorConfig config =
      options_.source_config.count(source) ? options_.source_config.at(source) : ConnectorConfig{};
  ExtractReport report;
  report.source = source;
  std::map<std::string, FreshMeta> fresh;
  std::optional<db::Database> work_db;  // opened at the first table to extract
  std::set<std::string> seen;
  DA_ASSIGN_OR_RETURN(const MemoryBudget budget,
                      SourceMemoryBudget(source, config, options_.memory_limit_bytes));
  MemoryGate gate;

  // Tables to extract, in source_tables order. Per-source config `table_concurrency` (default:
  // the connector's default_table_concurrency()) reads that many tables at once, each with its own connector instance and connection;
  // results are applied in order afterwards.
  struct Slot {
    const model::TableSpec* table = nullptr;
    ExtractStats stats;
    bool run = false;
    Status status = Status::Ok();
    TableDone done;
    size_t index = 0;
  };
  std::vector<Slot> slots;
  for (const auto& t : source_tables) {
    if (!only_ids.empty() && !only_ids.count(t.id)) continue;
    if (!seen.insert(t.id).second) continue;
    Slot slot;
    slot.table = &t;
    slot.stats.table_id = t.id;
    slot.stats.name = t.name;
    slot.index = seen.size();
    if (auto it = plan.invalid.find(t.id); it != plan.invalid.end()) {
      slot.stats.error = "invalid_argument: " + it->second;
    } else {
      slot.run = true;
      if (!work_db) {
        db::DatabaseOptions work_options;
        work_options.settings = {{"memory_limit", MemorySizeSetting(budget.bytes)},
                                 {"threads", std::to_string(std::max(1, options_.threads))},
                                 {"preserve_insertion_order", "false"},
                                 {"temp_directory", (tmp_dir / "duckdb").string()},
                                 {"autoinstall_known_extensions", "false"}};
        DA_ASSIGN_OR_RETURN(auto opened, db::Database::Open(":memory:", work_options));
        work_db.emplace(std::move(opened));
      }
    }
    slots.push_back(std::move(slot));
  }
  size_t concurrency = static_cast<size_t>(std::clamp(connector->default_table_concurrency(), 1, 16));
  if (auto it = config.find("table_concurrency"); it != config.end() && !it->second.empty()) {
    concurrency = static_cast<size_t>(std::clamp(std::atol(it->second.c_str()), 1L, 16L));
  }
  auto extract_slot = [&](Slot& slot, Connector& instance) {
    const auto start = std::chrono::steady_clock::now();
    auto prev = previous_state.tables.find(slot.table->id);
    TableJob job{*slot.table, instance, config, data_dir, tmp_dir,
                 prev == previous_state.tables.end() ? nullptr : &prev->second, slot.index, &gate,
                 &budget, source};
    slot.status = [&]() -> Status {
      DA_ASSIGN_OR_RETURN(auto conn, work_db->Connect());
      return ExtractTable(conn, job, &slot.stats, &slot.done);
    }();
    if (db::IsOutOfMemory(slot.status)) {
      spdlog::debug("table {}: out of memory: {}", slot.table->id, slot.status.message());
      slot.status = MemoryLimitError(source, slot.table->id, budget);
    }
    slot.stats.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
  };
  auto apply = [&](Slot& slot) {
    const model::TableSpec& t = *slot.table;
    ExtractStats& s = slot.stats;
    if (!slot.run) {
      report.tables.push_back(std::move(s));
      return;
    }
    const Status& st = slot.status;
    TableDone& done = slot.done;
    if (st.ok()) {
      s.status = "ok";
      s.rows = done.meta.rows;
      s.size_bytes = done.meta.size_bytes;
      s.columns = done.meta.columns;
      Status saved = UpdateExtractState(
          source_dir, [&](ExtractState& state) { state.tables[t.id] = done.state; });
      if (!saved.ok()) {
        // The data is stored; the next run finds it does not match the state and re-derives
        // the watermark from it.
        s.warnings.push_back("the extract state could not be saved: " + saved.ToString());
      }
      fresh[t.id] = std::move(done.meta);
      spdlog::info("source {}: table {} extracted: {} rows, {} bytes, {} ms", source, t.id, s.rows,
                   s.size_bytes, s.duration_ms);
    } else {
      (void)RemovePath(SingleFilePath(data_dir, t.id).string() + ".tmp");
      s.md5.clear();
      s.files.clear();
      s.watermark.reset();
      s.error = st.ToString();
      spdlog::warn("source {}: table {} failed: {}", source, t.id, s.error);
    }
    report.tables.push_back(std::move(s));
  };
  if (concurrency <= 1) {
    for (auto& slot : slots) {
      if (slot.run) extract_slot(slot, *connector);
      apply(slot);  // state saved table by table, as each finishes
    }
  } else {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      auto instance = connectors_.Create(source);
      for (size_t i = next++; i < slots.size(); i = next++) {
        if (!slots[i].run) continue;
        if (!instance.ok()) {
          slots[i].status = instance.status();
          continue;
        }
        extract_slot(slots[i], **instance);
      }
    };
    std::vector<std::thread> threads;
    for (size_t n = 0; n < std::min(concurrency, slots.size()); ++n) threads.emplace_back(worker);
    for (auto& th : threads) th.join();
    for (auto& slot : slots) apply(slot);
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

  DA_RETURN_IF_ERROR(RecordRegistered(source_dir, source, source_tables));
  DA_RETURN_IF_ERROR(RebuildSource(source_dir, source, plan, fresh));
  DA_RETURN_IF_ERROR(RemovePath(tmp_dir));
  return report;
}

Status ExtractRuntime::RebuildExtractDb(const std::string& source,
                                        const std::vector<model::TableSpec>& source_tables) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("source", source));
  std::error_code ec;
  if (!fs::exists(SourceDir(source), ec) && source_tables.empty()) return Status::Ok();
  DA_RETURN_IF_ERROR(RecordRegistered(SourceDir(source), source, source_tables));
  return RebuildSource(SourceDir(source), source, PlanTables(source, source_tables), {});
}

Status ExtractRuntime::AppendEvents(const std::string& source, const model::TableSpec& table,
                                    const std::vector<nlohmann::json>& events) {
  return AppendSpooled(source, table, [&](EventSpool& spool) -> Status {
    for (const auto& e : events) DA_RETURN_IF_ERROR(spool.Add(e));
    return Status::Ok();
  });
}

Status ExtractRuntime::AppendEventsFile(const std::string& source,
                                        const model::TableSpec& table,
                                        const fs::path& jsonl_file) {
  return AppendSpooled(source, table, [&](EventSpool& spool) -> Status {
    std::ifstream in(jsonl_file, std::ios::binary);
    if (!in) return NotFound("events file '" + jsonl_file.string() + "' cannot be opened");
    std::string line;
    int64_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      Status st = spool.AddLine(line, line_number);
      if (!st.ok()) return st.WithContext("events file '" + jsonl_file.string() + "'");
    }
    if (in.bad()) return Unavailable("cannot read events file '" + jsonl_file.string() + "'");
    return Status::Ok();
  });
}

Status ExtractRuntime::AppendSpooled(const std::string& source, const model::TableSpec& table,
                                     const std::function<Status(EventSpool&)>& fill) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("source", source));
  DA_ASSIGN_OR_RETURN(auto connector, connectors_.Create(source));
  if (!HasCapability(connector->capabilities(), Capability::kStream)) {
    return FailedPrecondition("connector '" + source + "' does not stream (no stream capability)");
  }
  if (table.source_type != source) {
    return InvalidArgument("table '" + Printable(table.id) + "' belongs to source '" +
                           Printable(table.source_type) + "', not '" + source + "'");
  }
  DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("table id", table.id));
  if (!table.IsStored()) {
    return InvalidArgument("table '" + table.id + "' has query_mode remote: nothing is stored");
  }
  if (table.sync_strategy != model::SyncStrategy::kPartitioned || table.partition_by.empty()) {
    return FailedPrecondition(
        "table '" + table.id +
        "' must have sync_strategy partitioned and a partition_by event time field to receive "
        "streamed events");
  }
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("partition_by", table.partition_by));

  const fs::path source_dir = SourceDir(source);
  const fs::path data_dir = source_dir / "data";
  DA_RETURN_IF_ERROR(EnsureDir(data_dir));
  DA_ASSIGN_OR_RETURN(StreamScratch scratch, StreamScratch::Create(source_dir));
  DA_ASSIGN_OR_RETURN(EventSpool spool, EventSpool::Create(scratch.dir() / "events.jsonl"));
  DA_RETURN_IF_ERROR(fill(spool));
  DA_RETURN_IF_ERROR(spool.Close());
  if (spool.count() == 0) return Status::Ok();

  FreshMeta meta;
  int64_t committed_us = 0;
  {
    const ConnectorConfig config =
        options_.source_config.count(source) ? options_.source_config.at(source) : ConnectorConfig{};
    DA_ASSIGN_OR_RETURN(const MemoryBudget budget,
                        SourceMemoryBudget(source, config, options_.memory_limit_bytes));
    DA_ASSIGN_OR_RETURN(
        auto db, db::Database::Open(
                     ":memory:", {.read_only = false,
                                  .settings = {{"memory_limit", MemorySizeSetting(budget.bytes)},
                                               {"threads", "1"},
                                               {"temp_directory", (scratch.dir() / "duckdb").string()},
                                               {"autoinstall_known_extensions", "false"}}}));
    DA_ASSIGN_OR_RETURN(auto conn, db.Connect());
    DA_RETURN_IF_ERROR(PrepareStrategyConnection(conn));
    DA_ASSIGN_OR_RETURN(auto touched, WriteEventPartitions(conn, table, spool.path(), data_dir));
    committed_us = NowMicros();
    spdlog::info("source {}: table {}: {} events appended to {} partition(s)", source, table.id,
                 spool.count(), touched.size());

    DA_ASSIGN_OR_RETURN(auto files, PartitionFiles(data_dir, table.id));
    DA_ASSIGN_OR_RETURN(const ExtractState before, LoadExtractState(source_dir));
    auto prev = before.tables.find(table.id);
    DA_ASSIGN_OR_RETURN(auto stats,
                        CollectFileStats(conn, files,
                                         prev == before.tables.end() ? std::vector<StoredFile>{}
                                                                     : prev->second.files));
    DA_ASSIGN_OR_RETURN(auto facts, InspectParquet(conn, files));
    for (const auto& f : stats) {
      meta.rows += f.stats.rows;
      meta.size_bytes += f.stats.size_bytes;
    }
    meta.columns = facts.columns;
    meta.extracted_at_us = NowMicros();
    const std::string now = IsoFromMicros(meta.extracted_at_us);
    DA_RETURN_IF_ERROR(UpdateExtractState(source_dir, [&](ExtractState& st) {
      TableState& ts = st.tables[table.id];
      ts.sync_strategy = std::string(model::ToString(table.sync_strategy));
      ts.last_extracted_at = now;
      ts.files = stats;
      // The recorded table list learns this record (a stream-only source may never be
      // extracted); the next Extract / RebuildExtractDb replaces the list with the registry's.
      if (!st.registered) st.registered.emplace();
      auto it = std::find_if(st.registered->begin(), st.registered->end(),
                             [&](const model::TableSpec& r) { return r.id == table.id; });
      if (it == st.registered->end()) {
        st.registered->push_back(table);
      } else {
        *it = table;
      }
    }));
  }

  // Rebuild from the recorded table list (which has this table's record as given).
  DA_ASSIGN_OR_RETURN(const ExtractState current, LoadExtractState(source_dir));
  std::vector<model::TableSpec> tables = current.registered.value_or(
      std::vector<model::TableSpec>{table});
  std::map<std::string, FreshMeta> fresh;
  fresh[table.id] = std::move(meta);
  // Never prune here: the recorded table list may be older than the registry. Concurrent
  // appends share one rebuild: a rebuild that began after our partitions were renamed into
  // place already publishes them.
  return RebuildSource(source_dir, source, PlanTables(source, tables), fresh,
                       {.prune = false, .skip_if_started_after_us = committed_us});
}

}  // namespace da::kit
