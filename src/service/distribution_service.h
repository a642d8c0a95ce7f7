#pragma once
/// Distribution use cases: the manifest of the tables a caller may download, and the resolution
/// of a download to the file to send (decisions.md §4). No HTTP here: the server streams the
/// resolved file with ranges and an ETag.
///
/// A table is stored either as one file (`extracts/<source>/data/<id>.parquet`, its MD5 in
/// sync_state) or as several (`extracts/<source>/data/<id>/<period>.parquet`, partitioned and
/// streamed tables); remote tables have no data to download.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"
#include "service/data_files.h"
#include "service/requests.h"
#include "service/table_access.h"

namespace da::service {

/// One table of the manifest.
struct ManifestEntry {
  model::TableSpec table;
  std::string md5;         ///< the file's MD5, or CombinedMd5 of a multi-file table; "" none
  int64_t size_bytes = 0;
  int64_t rows = 0;
  std::string updated;     ///< last sync, ISO-8601 UTC; "" = never synced
  std::vector<DataFile> files;  ///< set for multi-file tables
};
struct ManifestAnswer {
  std::string server_time;
  std::vector<ManifestEntry> tables;
};
/// {server_time, tables: [{id, name, query_mode, source_type, md5, size_bytes, rows, updated,
/// download_url | files: [{name, md5, size_bytes, download_url}]}]}
nlohmann::json ToJson(const ManifestAnswer& a);

/// GET /api/data/{id}/files/{name}.
struct DataFileRequest {
  std::string id;
  std::string name;
};
/// The file a download sends.
struct DownloadTarget {
  std::filesystem::path path;
  std::string filename;  ///< for Content-Disposition, e.g. "<id>.parquet"
};

class DistributionService {
 public:
  explicit DistributionService(const ServiceContext& ctx)
      : ctx_(ctx), access_(ctx.registry, ctx.access) {}

  /// GET /api/sync/manifest: every visible table that has data (remote tables always listed).
  Result<ManifestAnswer> Manifest(const Caller& caller);
  /// GET /api/data/{id}/download: the one file of a one-file table. Errors: not_found (unknown,
  /// remote, no data yet, or stored as several files), permission_denied.
  Result<DownloadTarget> Download(const Caller& caller, const TableIdRequest& request);
  /// GET /api/data/{id}/files/{name}: one file of a multi-file table; not_found for a name that
  /// is not one of its files.
  Result<DownloadTarget> File(const Caller& caller, const DataFileRequest& request);

  /// MD5s of data files, cached by path and validated by (size, mtime); the download's ETag.
  FileDigestCache& digests() { return digests_; }

 private:
  Result<model::TableSpec> DownloadableTable(const Caller& caller, const std::string& id);

  ServiceContext ctx_;
  TableAccess access_;
  FileDigestCache digests_;
};

}  // namespace da::service
