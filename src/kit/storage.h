#pragma once
/// The on-disk layout of one source's extract and the small file operations the runtime, the
/// sync strategies and the stream writer share: locks, renames, listings, Parquet footers.
///
/// Layout under `extracts/<source>/` (see kit/runtime.h):
///   data/<id>.parquet                  a table stored as one file (full_refresh, incremental)
///   data/<id>/<period>.parquet         a table stored as several files (partitioned, streamed):
///                                      period = YYYY | YYYY-MM | YYYY-MM-DD (UTC)
///   data/<id>/<period>.parquet.tmp     a partition being rewritten, only under its lock
///   data/.locks/<id>-<period>.lock     flock(2) serialising every writer of one partition
///   state.json                         per-table extract state (kit/extract_state.h)
///
/// Errors: unavailable naming the path for I/O failures; DuckDB's own for footer reads.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "db/duckdb.h"
#include "kit/table_info.h"

namespace da::kit {

inline constexpr const char* kParquetSuffix = ".parquet";

/// An exclusive flock(2) on a file (created when missing), released by the destructor.
/// Locks taken through separate Acquire calls exclude each other in one process too (each
/// holds its own open file description), so threads and processes are serialised alike.
class FileLock {
 public:
  /// Takes the lock, waiting for it when `wait`, else failed_precondition when it is held.
  /// unavailable when the lock file cannot be opened.
  static Result<FileLock> Acquire(const std::filesystem::path& path, bool wait);
  /// The lock when it is free right now, nullopt when another holder has it.
  static Result<std::optional<FileLock>> TryAcquire(const std::filesystem::path& path);

  FileLock(FileLock&& o) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

/// rm -rf that reports failures (a missing path is fine).
Status RemovePath(const std::filesystem::path& p);
/// rename(2) that reports failures naming both paths.
Status RenamePath(const std::filesystem::path& from, const std::filesystem::path& to);
/// Regular files directly inside `dir` (none when it does not exist), unsorted.
Result<std::vector<std::filesystem::path>> ListFiles(const std::filesystem::path& dir);
/// Directories directly inside `dir` (none when it does not exist), unsorted.
Result<std::vector<std::filesystem::path>> ListDirs(const std::filesystem::path& dir);
/// Size of a file in bytes.
Result<int64_t> FileSize(const std::filesystem::path& p);
/// Modification time in microseconds since the epoch (now when it cannot be read).
int64_t FileMtimeMicros(const std::filesystem::path& p);

/// `data/<id>.parquet`
std::filesystem::path SingleFilePath(const std::filesystem::path& data_dir, const std::string& id);
/// `data/<id>/`
std::filesystem::path PartitionDir(const std::filesystem::path& data_dir, const std::string& id);
/// `data/.locks/<id>-<period>.lock`
std::filesystem::path PartitionLockPath(const std::filesystem::path& data_dir,
                                        const std::string& id, const std::string& period);
/// True for a period name: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (digits and dashes only).
bool IsPeriodName(const std::string& period);

/// The Parquet files of a table stored as several (`data/<id>/<period>.parquet`), sorted by
/// name; empty when the directory does not exist.
Result<std::vector<std::filesystem::path>> PartitionFiles(const std::filesystem::path& data_dir,
                                                          const std::string& id);

/// How a table is stored right now.
struct StoredTable {
  bool multi_file = false;                   ///< data/<id>/*.parquet rather than data/<id>.parquet
  std::vector<std::filesystem::path> files;  ///< sorted; empty when the table has no data yet
};
/// The files a table's view reads: a table with sync_strategy "partitioned" uses its
/// partition directory, any other its single file; when only the other form exists (a strategy
/// was just changed, or a streamed table), that one is used.
Result<StoredTable> FindStoredTable(const std::filesystem::path& data_dir,
                                    const model::TableSpec& table);

/// `read_parquet('<file>', hive_partitioning=false)` for one file,
/// `read_parquet(['<a>', '<b>'], union_by_name=true, hive_partitioning=false)` for several
/// (paths QuoteLiteral-ed; a `key=value` directory in a path never becomes a column).
/// invalid_argument for an empty list.
Result<std::string> ParquetReaderSql(const std::vector<std::filesystem::path>& files);

/// Row count and columns of Parquet files, read from their footers (no data scan).
struct ParquetFacts {
  int64_t rows = 0;
  std::vector<ColumnInfo> columns;  ///< union by name over the files
};
Result<ParquetFacts> InspectParquet(db::Connection& conn,
                                    const std::vector<std::filesystem::path>& files);

/// FileStats (name = file name, MD5, size, rows from the footer) of each file, in order.
Result<std::vector<FileStats>> StatFiles(db::Connection& conn,
                                         const std::vector<std::filesystem::path>& files);

/// A file's stats as recorded in the extract state, with the modification time they were
/// computed for: when a file's name, size and mtime still match, its MD5 need not be re-read.
struct StoredFile {
  FileStats stats;
  int64_t mtime_ns = 0;

  bool operator==(const StoredFile&) const = default;
};

/// Stats of `files` (sorted as given), reusing `known` entries whose name, size and mtime
/// match the disk and computing the others. A file replaced while its MD5 is computed is
/// read again, so an entry never pairs one version's MD5 with another's size or mtime.
Result<std::vector<StoredFile>> CollectFileStats(db::Connection& conn,
                                                 const std::vector<std::filesystem::path>& files,
                                                 const std::vector<StoredFile>& known);

/// True when `known` describes exactly `files` as they are on disk (names, sizes, mtimes).
bool SameFiles(const std::vector<StoredFile>& known,
               const std::vector<std::filesystem::path>& files);

}  // namespace da::kit
