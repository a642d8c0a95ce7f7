#pragma once
/// ExtractRuntime: owns the `extracts/<source>/` lifecycle for every connector.
///
/// Layout (product.md "extract.duckdb" contract, upstream-inventory.md §1.1; kit/storage.h):
///   extracts/<source>/extract.duckdb      _meta + one view per local table, rebuilt atomically
///   extracts/<source>/data/<id>.parquet   one zstd Parquet file per table, keyed by registry id
///   extracts/<source>/data/<id>/<period>.parquet  partitioned and streamed tables, one file per
///                                         UTC day / month / year; the view spans them all
///   extracts/<source>/state.json          extract state: schemas, watermarks, files (extract_state.h)
///   extracts/<source>/tmp/                DuckDB spill files and connector scratch (removed after)
///
/// Extract(): each selected table is read by the connector and committed with its
/// sync_strategy (kit/strategies.h): full_refresh renames the read over `data/<id>.parquet`;
/// incremental asks for rows past the watermark and merges them in by primary key;
/// partitioned rewrites the periods the read touched. Before committing, the read's columns
/// are compared with the previous successful run (kit/schema_diff.h): the change is reported
/// in the table's stats, and with schema_policy `freeze` it fails the table. One failing table
/// does not stop the others; it keeps its previous files, `_meta` row and state. Each
/// success updates the table's entry in state.json. Then extract.duckdb is rebuilt from scratch
/// as `extract.duckdb.tmp` with one `_meta` row and one view per registered table of the
/// source that has data (decisions.md §2: a partial extraction merges), checkpointed and
/// renamed over the live file; data of tables no longer registered is deleted.
///
/// Crash safety: every data file is written as `<file>.tmp` and renamed, so a run killed at
/// any moment leaves each file old or new and extract.duckdb queryable; the next run removes
/// the temp files. A watermark is only trusted when the stored files are the ones the state
/// recorded (or the table has a key), otherwise it is re-derived from the stored data.
///
/// Memory stays flat whatever the table size: connectors write through DuckDB's streaming
/// COPY with a memory limit, `preserve_insertion_order=false` and a temp directory for spills;
/// no table is ever loaded into C++ memory.
///
/// Concurrency: one Extract per source at a time (an flock on `extracts/<source>/.extract.lock`;
/// a second one gets failed_precondition). The extract.duckdb rebuild is serialised by
/// `.build.lock` (blocking, short), shared with RebuildExtractDb and AppendEvents. A
/// RebuildExtractDb that runs while an extraction of the same source is in flight is
/// overridden by that extraction's own rebuild, which uses the table list it was started
/// with; the next extraction or rebuild catches up. AppendEvents may run at any time, from
/// any number of threads and processes: partition files are only rewritten under their
/// flock, state.json under `.state.lock`.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/memory_size.h"
#include "common/status.h"
#include "kit/connector.h"
#include "kit/table_info.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::kit {

class EventSpool;  // kit/stream_writer.h

/// The report of one Extract call: one ExtractStats per selected table.
struct ExtractReport {
  std::string source;
  std::vector<ExtractStats> tables;

  size_t OkCount() const;
  size_t ErrorCount() const;
};

/// `{"source": ..., "tables": [ExtractStatsToJson, ...]}`
nlohmann::json ExtractReportToJson(const ExtractReport& r);
/// Parses the form above; malformed on wrong JSON types.
Result<ExtractReport> ExtractReportFromJson(const nlohmann::json& j);

struct RuntimeOptions {
  std::filesystem::path extracts_dir;  ///< `<data_dir>/extracts`
  /// Per-source connector config, keyed by source (InstanceConfig::sources).
  std::map<std::string, ConnectorConfig> source_config;
  /// Memory budget of one Extract call: the DuckDB memory_limit of its work database, which
  /// every table read in that call shares (conversions are admitted one at a time through a
  /// MemoryGate, so each has all of it and spills to `<source>/tmp/duckdb` beyond it). A
  /// source's `memory_limit` config (e.g. "512MB") overrides it for that source.
  int64_t memory_limit_bytes = DefaultExtractMemoryLimitBytes();
  /// DuckDB worker threads of the extraction database (default: the machine's cores).
  int threads = DefaultThreads();

  /// extracts_dir, source_config and memory_limit_bytes from an instance config; defaults
  /// for the rest.
  static RuntimeOptions FromConfig(const InstanceConfig& config);
  /// std::thread::hardware_concurrency(), at least 1.
  static int DefaultThreads();
};

class ExtractRuntime {
 public:
  /// `connectors` must outlive the runtime.
  ExtractRuntime(RuntimeOptions options, const ConnectorRegistry& connectors);

  /// Extracts the tables of `source` selected by `only_ids` (empty = every table in
  /// `source_tables`) and rebuilds the source's extract.duckdb.
  ///
  /// `source_tables` are ALL registered local/materialized tables of the source
  /// (source_type == source): they decide which `_meta` rows and views exist and which
  /// Parquet files are pruned. Records with an invalid id (quoted identifier) or name (strict
  /// identifier, not `_meta`/`_remote_attach`, unique case-insensitively) are never published;
  /// when selected they get an "error" entry, as do selected ids that are not in
  /// `source_tables` and remote tables.
  ///
  /// Tables are read `table_concurrency` at once (source config; default the connector's
  /// default_table_concurrency()), each with its own connector instance; their DuckDB work is
  /// admitted one table at a time within the memory budget (see RuntimeOptions). A table whose
  /// own conversion needs more than the budget even alone fails with resource_exhausted and a
  /// message naming the limit and how to raise it; no table fails for the others beside it.
  ///
  /// Returns the per-table report (order: `source_tables` order, then unknown ids).
  /// Errors (nothing reported): invalid_argument for a source that is not a strict
  /// identifier, not_found for an unknown connector, failed_precondition when another
  /// extraction of the source runs, unavailable/internal for I/O or DuckDB failures outside
  /// a single table (the directory, the extract.duckdb rebuild).
  Result<ExtractReport> Extract(const std::string& source,
                                const std::vector<model::TableSpec>& source_tables,
                                const std::set<std::string>& only_ids);

  /// Rebuilds `extracts/<source>/extract.duckdb` from the Parquet files present, without
  /// extracting: `_meta` rows keep their previous values, tables no longer in
  /// `source_tables` lose their row, view and Parquet file. The server calls it after
  /// unregistering a table. A source without a directory and without tables is a no-op.
  /// Errors: invalid_argument for a bad source name; I/O and DuckDB failures.
  Status RebuildExtractDb(const std::string& source,
                          const std::vector<model::TableSpec>& source_tables);

  /// Streaming (Capability::kStream): appends `events` (JSON objects, e.g. webhook payloads)
  /// to `table`'s partitions `data/<id>/<period>.parquet` — the UTC period (month unless
  /// partition_granularity says otherwise) of the event time field `partition_by` — upserting
  /// by primary key (a later event of the batch wins; no key = append), each partition under
  /// its flock, then rebuilds the source's extract.duckdb from the table list recorded in the
  /// extract state by the last Extract / RebuildExtractDb, into which `table` is upserted
  /// (a stream-only source needs no extraction). Safe from many threads and processes
  /// at once; every event lands exactly once. An empty batch is a no-op. See
  /// kit/stream_writer.h.
  /// Errors (no event written): invalid_argument for a bad source, a record of another
  /// source or query_mode remote, an event that is not a JSON object, missing fields, or an
  /// event time that does not parse (count and first example named); failed_precondition when
  /// the connector lacks the stream capability or the table is not `partitioned` with a
  /// partition_by; not_found for an unknown connector; I/O and DuckDB failures.
  Status AppendEvents(const std::string& source, const model::TableSpec& table,
                      const std::vector<nlohmann::json>& events);
  /// AppendEvents with the events read from a JSONL file (one JSON object per line, blank
  /// lines skipped), streamed line by line; errors name the file and the line.
  Status AppendEventsFile(const std::string& source, const model::TableSpec& table,
                          const std::filesystem::path& jsonl_file);

  /// `<extracts_dir>/<source>` (absolute).
  std::filesystem::path SourceDir(const std::string& source) const;

 private:
  Status AppendSpooled(const std::string& source, const model::TableSpec& table,
                       const std::function<Status(EventSpool&)>& fill);

  RuntimeOptions options_;
  const ConnectorRegistry& connectors_;
};

/// Names reserved inside extract.duckdb that no view may take ("_meta", "_remote_attach").
bool IsReservedViewName(const std::string& name);

}  // namespace da::kit
