#pragma once
/// The `files` connector: local CSV, TSV, JSON/NDJSON and Parquet files (a path or a glob per
/// table), read by DuckDB's own readers and streamed to Parquet. See README.md.
///
/// Config (instance.yaml `sources.files`):
///   roots     the directories tables may read, colon-separated (set from DA_FILES_ROOTS by
///             LoadConfig; default <data_dir>/files). Without it, base_dir is the only root.
///             Every path is resolved with symlinks followed before it is checked.
///   base_dir  directory that relative locators resolve against (without base_dir relative
///             ones are refused); it does not widen the roots
///   paths     Discover only: comma-separated locators (paths or globs) to describe instead of
///             listing base_dir
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "db/duckdb.h"
#include "kit/connector.h"

namespace da::connectors::files {

inline constexpr const char* kConnectorName = "files";

enum class FileFormat { kCsv, kTsv, kJson, kNdjson, kParquet };

/// Lower-case name ("csv", "tsv", "json", "ndjson", "parquet").
std::string_view FileFormatName(FileFormat f);

/// The format named by a path's extension (case-insensitive): .csv → csv; .tsv/.tab → tsv;
/// .json → json (array or newline-delimited, auto-detected); .ndjson/.jsonl → ndjson;
/// .parquet → parquet. A `.gz` suffix is allowed on csv/tsv/json/ndjson. invalid_argument
/// naming the path otherwise.
Result<FileFormat> FormatFromPath(std::string_view path);

/// True when the locator is a glob (contains `*`, `?` or `[`).
bool IsGlob(std::string_view locator);

/// Resolves a table's `source_table`: absolute as is; relative against config `base_dir`
/// (invalid_argument when there is no base_dir or the path climbs out with `..`).
/// invalid_argument for an empty locator or one with control characters.
Result<std::filesystem::path> ResolveLocator(const std::string& locator,
                                             const kit::ConnectorConfig& config);

/// The DuckDB table-function call that reads `path` in `format`, e.g.
/// `read_csv('/d/a.csv', auto_detect=true)`; the path is QuoteLiteral-ed. Globs read with
/// union_by_name so files with drifting columns line up.
Result<std::string> ReaderSql(const std::filesystem::path& path, FileFormat format);

/// ReaderSql over an explicit list of files (already resolved): one file as a string literal,
/// several as a list literal read with union_by_name. invalid_argument for an empty list.
Result<std::string> ReaderSql(const std::vector<std::filesystem::path>& files, FileFormat format);

/// The directories a files source may read: config `roots` (colon-separated), else `base_dir`;
/// each made absolute and resolved with symlinks followed. invalid_argument when neither is set
/// (a files source reads nothing then).
Result<std::vector<std::filesystem::path>> FilesRoots(const kit::ConnectorConfig& config);

/// Checks that `path` lies inside one of `roots` once symlinks are followed (a path that does
/// not exist yet: its existing prefix is resolved); for a glob its directory part, the
/// components before the first wildcard. invalid_argument naming the path otherwise.
Status CheckInsideRoots(const std::filesystem::path& path,
                        const std::vector<std::filesystem::path>& roots);

/// The files `path` names, ready to read: the file itself or every glob match (sorted), each
/// resolved with symlinks followed and checked to lie inside `roots`, so a symlink inside a
/// root cannot lead out of it. Errors: not_found (missing file, no glob match),
/// invalid_argument (a directory; a file outside the roots).
Result<std::vector<std::filesystem::path>> ConfinedFiles(
    db::Connection& conn, const std::filesystem::path& path,
    const std::vector<std::filesystem::path>& roots);

/// A view-name proposal from a file stem: lower-cased, runs of other characters → `_`, a
/// leading digit gets a `t_` prefix, at most 64 characters; always a strict identifier.
std::string SanitizeTableName(std::string_view stem);

class FilesConnector : public kit::Connector {
 public:
  std::string name() const override { return kConnectorName; }
  kit::Capability capabilities() const override {
    return kit::Capability::kDiscover | kit::Capability::kRead;
  }

  /// One TableInfo per entry of config `paths` (a glob is one table), else per supported file
  /// directly under `base_dir` (sorted by name; unreadable files are skipped with a warning).
  /// Columns and types are what DuckDB infers. Errors: invalid_argument without base_dir and
  /// paths; not_found for a listed path that does not exist or a base_dir that is missing;
  /// invalid_argument with DuckDB's message for a listed file that cannot be parsed.
  Result<std::vector<kit::TableInfo>> Discover(const kit::ConnectorConfig& config) override;

  /// COPYs the table's file(s) to the sink; with a watermark (incremental reads) only rows
  /// where `incremental_column > watermark`, filtered by DuckDB while reading.
  /// Errors: invalid_argument for a bad locator or an
  /// unsupported extension; not_found naming the path when the file (or every glob match)
  /// is missing; invalid_argument with DuckDB's message when the data cannot be parsed.
  Status Read(const kit::ReadOptions& options, kit::ParquetSink& sink) override;

  /// Refuses a locator that cannot be resolved (ResolveLocator) or lies outside the roots
  /// (CheckInsideRoots); the file need not exist yet.
  Status ValidateSourceTable(const std::string& source_table,
                             const kit::ConnectorConfig& config) const override;
};

}  // namespace da::connectors::files
