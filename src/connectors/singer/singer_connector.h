#pragma once
/// The Singer connector: an external program that speaks the Singer protocol (a "tap"), named
/// by an installed manifest's `command`, run as a connector. See README.md.
///
/// Discover: `<command> --config <config.json> --discover` → one TableInfo per catalog stream.
/// Read: `<command> --config <config.json> [--catalog <catalog.json>] [--state <state.json>]`;
/// the records of the stream named by the table's `source_table` go to Parquet through DuckDB
/// in constant memory. Thread-safety: an instance serves one extraction at a time.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "kit/connector.h"
#include "kit/manifest.h"

namespace da::connectors::singer {

struct SingerOptions {
  kit::Manifest manifest;  ///< must have a command (is_external())
  /// Where the last STATE of each stream is kept between runs (`<extracts>/<source>/
  /// singer_state`); "" = never persisted nor passed.
  std::filesystem::path state_dir;
  /// Time limit of one tap run: the manifest's timeout_seconds when set, else this.
  int64_t default_timeout_ms = 3600 * 1000;
  /// Receives each stderr line of the tap (the run log). Default: written to this process's
  /// stderr as `[tap <name>] <line>`.
  std::function<void(std::string_view line)> on_tap_stderr;
};

class SingerConnector : public kit::Connector {
 public:
  explicit SingerConnector(SingerOptions options);

  /// The manifest name.
  std::string name() const override { return options_.manifest.name; }
  /// The manifest capabilities.
  kit::Capability capabilities() const override { return options_.manifest.capabilities; }

  /// Runs the tap with `--discover`. Each stream becomes a TableInfo: name = a strict
  /// identifier from the stream name (duplicates get `_2`, ...), source_table = tap_stream_id,
  /// columns from its JSON Schema (see JsonSchemaToDuckDbType), primary_key = key_properties.
  /// Errors: failed_precondition without the discover capability; invalid_argument for bad
  /// config or a catalog that is not Singer JSON; unavailable when the tap cannot start or
  /// exits non-zero (with the last stderr line); deadline_exceeded on the time limit.
  Result<std::vector<kit::TableInfo>> Discover(const kit::ConnectorConfig& config) override;

  /// Runs the tap and writes the records of stream `options.table.source_table`.
  /// With the discover capability the catalog from `--discover` is passed with only that
  /// stream selected; an incremental table also gets the stream's last persisted STATE.
  /// The stream's first SCHEMA message gives the columns (else the discovered schema); a later
  /// SCHEMA adds columns (union by name). Records of other streams are ignored. The last STATE
  /// is written atomically to `state_dir` only after the table's Parquet file is complete.
  /// Errors (nothing is published on any of them): invalid_argument naming the stdout line
  /// for a line that is not a JSON object, a message without type, a RECORD before its
  /// SCHEMA, a STATE whose value is missing or not JSON, a bad BATCH, or a record value that
  /// does not fit its column type; unavailable when the tap exits non-zero or is killed;
  /// deadline_exceeded on the time limit (the tap's process group is killed); not_found when
  /// the stream is not in the catalog or the tap never emits a SCHEMA for it.
  Status Read(const kit::ReadOptions& options, kit::ParquetSink& sink) override;

  /// File of the persisted STATE of `stream` under state_dir.
  std::filesystem::path StateFile(const std::string& stream) const;

 private:
  SingerOptions options_;
};

}  // namespace da::connectors::singer
