#pragma once
/// Stream writer: appends events (JSON objects, e.g. webhook payloads) to a table's time
/// partitions `data/<id>/<period>.parquet`, by default monthly (`YYYY-MM`, the UTC month of
/// the event time in column `partition_by`), upserting by primary key (a later event in the
/// batch wins over an earlier one with the same key, and both over the stored row).
///
/// Source: shared/reference/seeds/002 §5.8 (`run_stream`): the reference rewrites the month's
/// file without a lock and loses events under concurrency; here each partition is rewritten
/// only under its flock (kit/storage.h), so concurrent writers (threads or processes) never
/// lose an event, and every file goes through `<file>.tmp` + rename.
///
/// Events pass through a spool file (JSONL with an arrival number) read by DuckDB's JSON
/// reader: top-level fields get DuckDB's inferred types, nested objects and arrays are stored
/// as JSON text so batches with different nested shapes still line up by column name.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "db/duckdb.h"
#include "model/table_spec.h"
#include "model/table_spec_json.h"

namespace da::kit {

/// A JSONL scratch file of events in arrival order. Not thread-safe.
class EventSpool {
 public:
  /// Creates (truncates) `path`. unavailable when it cannot be opened.
  static Result<EventSpool> Create(const std::filesystem::path& path);
  EventSpool(EventSpool&&) = default;
  EventSpool& operator=(EventSpool&&) = default;

  /// Adds one event. invalid_argument naming the event's position when it is not a JSON
  /// object or uses the reserved field "__da_seq".
  Status Add(const nlohmann::json& event);
  /// Parses one line of a JSONL input (blank lines are skipped) and adds it.
  /// invalid_argument naming `line_number` when it is not a JSON object.
  Status AddLine(std::string_view line, int64_t line_number);
  /// Flushes and closes the file. unavailable on a write error.
  Status Close();

  int64_t count() const { return count_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  EventSpool(std::filesystem::path path, std::ofstream out)
      : path_(std::move(path)), out_(std::move(out)) {}
  Status Write(nlohmann::json event, const std::string& where);

  std::filesystem::path path_;
  std::ofstream out_;
  int64_t count_ = 0;
};

/// Writes the spooled events of `table` into its partitions under `data_dir`; returns the
/// periods rewritten, sorted. `conn` must have gone through PrepareStrategyConnection.
/// Errors (nothing written): invalid_argument when partition_by or a key column is missing
/// from the events, or when events have a partition value that is NULL or does not parse
/// (the count and the first such value are named); DuckDB's own errors otherwise. A failure
/// after some partitions were written leaves those written and the others untouched.
Result<std::vector<std::string>> WriteEventPartitions(db::Connection& conn,
                                                      const model::TableSpec& table,
                                                      const std::filesystem::path& spool_file,
                                                      const std::filesystem::path& data_dir);

}  // namespace da::kit
