#pragma once
/// Instance configuration: flags > environment (`DA_*`) > `instance.yaml` > defaults.
///
/// instance.yaml keys (all optional):
///   server: {host, port}          data_dir          log_level
///   query: {timeout_sec, memory_limit, threads, temp_limit, max_answer_bytes, concurrency}
///   health: {stale_after_hours}
///   sync: {extract_timeout_sec, extract_memory_limit, scheduler_tick_sec}   sources: {<name>: {<key>: <value>}}  (per-source connector config)
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace da {

struct InstanceConfig {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::filesystem::path data_dir = "./data";
  std::string log_level = "info";
  int64_t extract_timeout_sec = 3600;  ///< time limit of one extraction child process
  /// Memory budget of one extraction (DuckDB memory_limit of its work database), bytes;
  /// 0 = DefaultExtractMemoryLimitBytes() (a quarter of the RAM this process may use). A
  /// source's `memory_limit` setting (sources.<name>.memory_limit) overrides it for that source.
  int64_t extract_memory_limit_bytes = 0;
  /// Seconds between scheduler passes over the table schedules; 0 disables the scheduler.
  int64_t scheduler_tick_sec = 30;
  int64_t query_timeout_sec = 60;  ///< time limit of one POST /api/query statement (0 = none)
  /// Query resource limits (docs/configuration.md, "Query limits"; query/query_limits.h).
  /// DuckDB memory shared by all running queries, bytes; 0 = a quarter of the RAM this process
  /// may use. Each of the `query_concurrency` query slots gets an equal share.
  int64_t query_memory_limit_bytes = 0;
  int64_t query_threads = 2;                          ///< DuckDB threads of one query (>= 1)
  int64_t query_temp_limit_bytes = 1LL << 30;         ///< spill space of one query, bytes
  int64_t query_max_answer_bytes = 64LL << 20;        ///< largest encoded answer, bytes
  /// Queries run at once (the server's query pool threads); 0 = max(2, cores).
  int64_t query_concurrency = 0;
  /// A table whose last successful sync is older than this is "stale" in /api/health/detailed.
  double stale_after_hours = 24;
  /// Per-source connector settings, e.g. sources.files.base_dir.
  std::map<std::string, std::map<std::string, std::string>> sources;

  /// extract_memory_limit_bytes, or the default sized from the machine when it is 0.
  int64_t ExtractMemoryLimitBytes() const;

  std::filesystem::path StateDir() const { return data_dir / "state"; }
  std::filesystem::path ExtractsDir() const { return data_dir / "extracts"; }
  std::filesystem::path AnalyticsDir() const { return data_dir / "analytics"; }
  std::filesystem::path SystemDbPath() const { return StateDir() / "system.duckdb"; }
};

/// Values given on the command line; unset fields fall through to env, file, defaults.
struct ConfigOverrides {
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> data_dir;
  std::optional<std::string> config_file;
  std::optional<std::string> log_level;
  std::optional<std::string> extract_memory_limit;  ///< e.g. "512MB" (`da extract --memory-limit`)
};

/// Loads the configuration. The file is `overrides.config_file`, else `$DA_CONFIG`, else
/// `config/instance.yaml` when it exists. A missing explicit file or bad YAML → invalid_argument.
/// Environment: DA_HOST, DA_PORT, DA_DATA_DIR, DA_LOG_LEVEL, DA_EXTRACT_TIMEOUT_SEC,
/// DA_QUERY_TIMEOUT_SEC, DA_QUERY_MEMORY_LIMIT / DA_QUERY_TEMP_LIMIT / DA_QUERY_MAX_ANSWER_BYTES
/// (sizes), DA_QUERY_THREADS / DA_QUERY_CONCURRENCY (positive integers), DA_SCHEDULER_TICK_SEC (negative → invalid_argument),
/// DA_STALE_AFTER_HOURS (a number >= 0), DA_EXTRACT_MEMORY_LIMIT (a size, see
/// ParseMemorySize; a bad size → invalid_argument naming its origin), DA_FILES_ROOTS (the
/// directories files tables may read, colon-separated; stored as `sources.files.roots`, which
/// instance.yaml may also set; default `<data_dir>/files`).
Result<InstanceConfig> LoadConfig(const ConfigOverrides& overrides);

}  // namespace da
