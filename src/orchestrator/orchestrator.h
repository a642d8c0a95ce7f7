#pragma once
/// The orchestrator: publishes every source's extract as master views in the analytics DB.
///
/// Contract (shared/reference/upstream-inventory.md §1.1–1.4): each source writes
/// `<data-dir>/extracts/<source>/extract.duckdb` holding `_meta(table_name, ...)` and one view
/// or table per `_meta` row in its main schema (local views read Parquet under `extracts/`),
/// plus optionally `_remote_attach(alias, extension, url, token_env)`. The analytics DB
/// `<data-dir>/analytics/server.duckdb` holds one master view per published table,
/// `CREATE VIEW "<name>" AS SELECT * FROM "<source>"."main"."<name>"`; the extract catalogs are
/// not stored in it, so every reader re-ATTACHes them under the same aliases (OpenReader).
///
/// Sandbox: the rebuild connection and every reader run with DuckDB's
/// `allowed_directories = ['<extracts dir>/']` and `enable_external_access = false` (set after
/// open, so SQL cannot turn them back on). Views over Parquet under `extracts/` work; any other
/// file or URL (`read_csv('/etc/passwd')`, `COPY ... TO '/tmp/x'`, ATTACH elsewhere,
/// INSTALL/LOAD) fails with a DuckDB permission error. An extract whose inner view reads outside
/// `extracts/` is therefore refused at rebuild time (the row is skipped with the reason). Writes
/// *inside* `extracts/` (COPY TO) are not blocked by DuckDB; the query sandbox must refuse them.
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "db/duckdb.h"

namespace da::orchestrator {

/// What one rebuild did with one source directory.
struct SourceReport {
  std::string source;                ///< the directory name under extracts/
  std::vector<std::string> views;    ///< master views published for it, in `_meta` order
  std::vector<std::string> skipped;  ///< "name: reason", one per refused `_meta`/_remote_attach row
  std::string error;  ///< non-empty when the whole source was skipped (corrupt, no _meta, ...)
};

/// The outcome of one rebuild: one SourceReport per source directory holding an
/// extract.duckdb, sorted by source name.
struct RebuildReport {
  std::vector<SourceReport> sources;
  /// `{"sources":[{"source":s,"views":[...],"skipped":[...],"error":null|"..."}],
  ///   "view_count":n}`.
  nlohmann::json ToJson() const;
};

/// One `_remote_attach` row of an extract (§1.1). `token_env` names an environment variable;
/// it is never the token itself.
struct RemoteAttachRow {
  std::string alias;
  std::string extension;
  std::string url;
  std::string token_env;
};

/// Allowlists for `_remote_attach` (§1.2).
struct RemoteAttachPolicy {
  /// DuckDB extensions a connector may ask for. Default {keboola, bigquery}.
  std::set<std::string> extensions{"keboola", "bigquery"};
  /// Environment variable names a connector may point at.
  std::set<std::string> token_envs{"KBC_TOKEN", "KBC_STORAGE_TOKEN", "KEBOOLA_STORAGE_TOKEN",
                                   "GOOGLE_APPLICATION_CREDENTIALS"};
  /// Defaults, with `DA_REMOTE_ATTACH_EXTENSIONS` / `DA_REMOTE_ATTACH_TOKEN_ENVS` (comma-separated)
  /// replacing the respective set when set.
  static RemoteAttachPolicy FromEnvironment();
};

/// Validates one `_remote_attach` row against `policy` (§1.2): alias and extension strict
/// identifiers, extension allowlisted, non-empty token_env matching `^[A-Z][A-Z0-9_]{0,63}$` and
/// allowlisted, url free of control characters. invalid_argument naming the field otherwise.
Status ValidateRemoteAttach(const RemoteAttachRow& row, const RemoteAttachPolicy& policy);

/// A read-only view of the analytics DB for one request or thread: the analytics DB opened
/// read-only (or an empty in-memory DB before the first rebuild) with every readable extract
/// ATTACHed read-only under its source name, sandboxed as described above. Move-only; not
/// thread-safe (one reader per thread). Holds the file it opened even if a rebuild replaces it.
class AnalyticsReader {
 public:
  AnalyticsReader(AnalyticsReader&&) noexcept = default;
  AnalyticsReader& operator=(AnalyticsReader&&) noexcept = default;
  AnalyticsReader(const AnalyticsReader&) = delete;
  AnalyticsReader& operator=(const AnalyticsReader&) = delete;
  ~AnalyticsReader() = default;

  /// The connection to run queries on; valid as long as this reader lives.
  db::Connection& conn() { return conn_; }
  /// Sources whose extract was attached, sorted.
  const std::vector<std::string>& attached_sources() const { return attached_sources_; }
  /// True when no analytics DB existed yet and this is an empty in-memory DB.
  bool is_empty() const { return is_empty_; }

 private:
  friend class Orchestrator;
  AnalyticsReader(db::Database database, db::Connection conn,
                  std::vector<std::string> attached_sources, bool is_empty)
      : db_(std::move(database)),
        conn_(std::move(conn)),
        attached_sources_(std::move(attached_sources)),
        is_empty_(is_empty) {}

  db::Database db_;  // declared before conn_: destroyed after it
  db::Connection conn_;
  std::vector<std::string> attached_sources_;
  bool is_empty_ = false;
};

/// Builds and serves the analytics DB. Thread-safe: one mutex serialises Rebuild/RebuildSource;
/// OpenReader and PublishedViews may run concurrently with a rebuild (readers opened before the
/// swap keep the old file, readers opened after see the new one).
class Orchestrator {
 public:
  /// extracts_dir = <data-dir>/extracts, analytics_path = <data-dir>/analytics/server.duckdb.
  /// Nothing is touched until the first call.
  Orchestrator(std::filesystem::path extracts_dir, std::filesystem::path analytics_path,
               RemoteAttachPolicy remote_policy = RemoteAttachPolicy::FromEnvironment());

  /// Rebuilds the analytics DB from every `extracts/*/extract.duckdb` (sorted by source name)
  /// into `server.duckdb.tmp`, then renames it over `server.duckdb`. Per-source problems
  /// (invalid directory name, corrupt/empty/half-written file, missing `_meta`) and per-row
  /// problems (invalid name, no inner object, name already published by an earlier source —
  /// the first source keeps it — view that does not bind) land in the report, not in the Status.
  /// When extracts_dir does not exist, returns an empty report and leaves the analytics DB as
  /// it is. Errors: unavailable/internal when the tmp DB cannot be written or renamed.
  Result<RebuildReport> Rebuild();

  /// After one source's extraction: a full rebuild (the DB is rebuilt from scratch) returning
  /// only that source's report. invalid_argument for a non-identifier name; not_found when
  /// `extracts/<source>/extract.duckdb` does not exist (nothing is rebuilt then).
  Result<RebuildReport> RebuildSource(const std::string& source);

  /// A new independent reader (see AnalyticsReader). Extracts that cannot be attached are
  /// skipped (logged at debug); their views then fail when queried. Errors: unavailable when the
  /// analytics DB cannot be opened.
  Result<AnalyticsReader> OpenReader();

  /// The views published by the last successful rebuild of this instance: view name → source.
  /// Empty before the first rebuild.
  std::map<std::string, std::string> PublishedViews() const;
  /// Identifies the view set last published (0 = none yet); it changes on every publish and
  /// is unique across orchestrators in the process, so read caches can key on it alone.
  uint64_t PublishGeneration() const { return publish_generation_.load(std::memory_order_acquire); }

 private:
  Result<RebuildReport> RebuildLocked();

  std::filesystem::path extracts_dir_;
  std::filesystem::path analytics_path_;
  RemoteAttachPolicy remote_policy_;
  std::mutex rebuild_mu_;
  mutable std::mutex state_mu_;                   // guards published_
  std::map<std::string, std::string> published_;  // view name → source
  std::atomic<uint64_t> publish_generation_{0};
};

}  // namespace da::orchestrator
