#pragma once
/// The connector interface and the connector registry (name → factory).
///
/// Source: shared/reference/seeds/002 (Connector Kit spec §3.3). A connector knows how to talk
/// to one kind of source; the runtime (kit/runtime.h) owns everything around it: the
/// `extracts/<source>/` directory, temp files, the Parquet rename, `_meta` and views.
/// The connector name is also the source name (`model::TableSpec::source_type`) and the name of
/// the extract directory.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "kit/capabilities.h"
#include "kit/parquet_sink.h"
#include "kit/table_info.h"

namespace da::kit {

/// Per-source connector configuration (instance.yaml `sources.<source>`), e.g. {"base_dir": ...}.
using ConnectorConfig = std::map<std::string, std::string>;

/// One kind of source. Implement only what `capabilities()` declares; the defaults of the
/// optional entry points answer failed_precondition. Instances are used by one thread at a
/// time; the runtime creates one per extraction.
class Connector {
 public:
  virtual ~Connector() = default;

  /// The connector (and source) name: a strict identifier, e.g. "files".
  virtual std::string name() const = 0;
  /// What this connector can do.
  virtual Capability capabilities() const = 0;

  /// Lists the tables available in the source with their columns (kDiscover).
  /// Errors: invalid_argument for bad config, the source's own errors otherwise.
  virtual Result<std::vector<TableInfo>> Discover(const ConnectorConfig& config);

  /// Writes the full content of `options.table` into `sink` (kRead), using exactly one of
  /// the sink's two paths. Errors: not_found when the source object does not exist,
  /// invalid_argument when it cannot be parsed or the record is unusable; the message names
  /// the offending locator. The runtime turns any error into that table's "error" stats.
  virtual Status Read(const ReadOptions& options, ParquetSink& sink);

  /// How many tables of one source the runtime extracts at once when the source config does
  /// not set `table_concurrency` (1..16). Connectors whose reads wait on a remote service
  /// (e.g. Keboola export jobs) answer more than 1.
  virtual int default_table_concurrency() const { return 1; }

  /// Checks a table's `source_query` (e.g. an export filter) when the table is registered or
  /// changed, so a bad one is refused then (HTTP 422) rather than at the next sync. The default
  /// accepts anything. Errors: invalid_argument naming the offending field.
  virtual Status ValidateSourceQuery(const std::string& source_query) const {
    (void)source_query;
    return Status::Ok();
  }

  /// Checks a table's `source_table` against the source's config when the table is registered
  /// or changed, so a locator the connector will never read (e.g. a file outside the files
  /// roots) is refused then (HTTP 422). The default accepts anything. Errors: invalid_argument
  /// naming the locator.
  virtual Status ValidateSourceTable(const std::string& source_table,
                                     const ConnectorConfig& config) const {
    (void)source_table;
    (void)config;
    return Status::Ok();
  }
};

/// Makes a fresh connector instance.
using ConnectorFactory = std::function<std::unique_ptr<Connector>()>;

/// Name → factory. Not thread-safe for Register; Create/IsKnown/Names are const and may be
/// called concurrently once registration is done. The built-in set (with `files`) is
/// `connectors::BuiltinConnectors()` in src/connectors/builtin.h.
class ConnectorRegistry {
 public:
  /// Adds a connector. invalid_argument when `name` is not a strict identifier,
  /// already_exists when it is taken.
  Status Register(const std::string& name, ConnectorFactory factory);
  /// True when a connector of that name is registered.
  bool IsKnown(const std::string& name) const;
  /// A new instance. not_found naming the connector when unknown.
  Result<std::unique_ptr<Connector>> Create(const std::string& name) const;
  /// Registered names, sorted.
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, ConnectorFactory> factories_;
};

}  // namespace da::kit
