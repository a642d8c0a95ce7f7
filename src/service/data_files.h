#pragma once
/// The Parquet files a table is distributed as (decisions.md §4).
///
/// A table is stored either as one file, `extracts/<source>/data/<id>.parquet` (its MD5 is
/// recorded in sync_state by the extraction), or as several, `extracts/<source>/data/<id>/
/// <period>.parquet` (partitioned and streamed tables; kit/storage.h). Streamed tables change
/// between syncs, so the files of a multi-file table are listed from disk on each request and
/// their MD5s come from a cache keyed by path and validated by size and modification time.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/identifiers.h"
#include "common/status.h"
#include "model/table_spec.h"

namespace da::service {

/// One Parquet file of a multi-file table.
struct DataFile {
  std::string name;          ///< file name, e.g. "2024-03.parquet" (IsDataFileName)
  std::filesystem::path path;
  std::string md5;           ///< 32-char hex MD5 of the bytes
  int64_t size_bytes = 0;
};

/// MD5s of data files, cached by path and validated by (size, mtime). Thread-safe.
class FileDigestCache {
 public:
  /// The MD5 of `path` (hashed when unknown or changed). Errors: not_found when missing.
  Result<DataFile> Describe(const std::filesystem::path& path);
  /// The MD5 of `bytes`, the whole content of the file at `path` whose inode has `size` and
  /// `mtime_ns` (e.g. a mapping of an opened file, which a later swap cannot change): the
  /// cached value when that version was hashed before, else the hash of `bytes` (then cached).
  std::string Md5Of(const std::filesystem::path& path, int64_t size, int64_t mtime_ns,
                    std::string_view bytes);

 private:
  struct Entry {
    int64_t size = 0;
    int64_t mtime_ns = 0;
    std::string md5;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

/// The data files in `dir` (IsDataFileName names, regular files), sorted by name; empty when
/// the directory is missing. Files that vanish while listing are skipped.
std::vector<DataFile> ListDataFiles(const std::filesystem::path& dir, FileDigestCache& cache);

/// Where a one-file table's Parquet lives: <data-dir>/extracts/<source_type>/data/<id>.parquet.
std::filesystem::path ParquetPath(const InstanceConfig& config, const model::TableSpec& t);
/// Where a multi-file (partitioned or streamed) table's Parquet files live:
/// <data-dir>/extracts/<source_type>/data/<id>/ (one file per period, kit/storage.h).
std::filesystem::path PartitionDir(const InstanceConfig& config, const model::TableSpec& t);

/// The MD5 of a file list as one value: MD5 of "<name> <md5>\n" per file. It changes when any
/// file is added, removed or changed; the manifest's `md5` of a multi-file table.
std::string CombinedMd5(const std::vector<DataFile>& files);

}  // namespace da::service
