#pragma once
/// StorageClient: the Keboola Storage API calls the connector makes (source:
/// shared/reference/source-apis.md §1): token verify, table listing, export-async, job
/// polling, file detail and the download of single or sliced files.
///
/// Every call sends `X-StorageApi-Token`; every error message has the token (and signed URL
/// query strings) redacted. Stateless apart from read-only settings: safe to use from several
/// threads.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/keboola/keboola_config.h"
#include "net/https_client.h"

namespace da::connectors::keboola {

/// A downloaded export: local files in slice order, and how to read them.
struct DownloadedExport {
  std::vector<std::filesystem::path> files;  ///< empty for a manifest without entries
  std::string file_type;                     ///< csv | parquet
  bool sliced = false;                       ///< sliced CSV has no header row
  bool gzip = false;                         ///< decided by the file / slice name (".gz")
};

class StorageClient {
 public:
  /// `cancelled` (optional) is polled during transfers, backoffs and job polling.
  explicit StorageClient(KeboolaConfig config, std::function<bool()> cancelled = {});

  /// GET /v2/storage/tokens/verify → the token description (owner.name etc.).
  Result<nlohmann::json> VerifyToken() const;
  /// GET /v2/storage/tables?include=buckets,columns,metadata,columnMetadata (bare array).
  Result<nlohmann::json> ListTables() const;
  /// GET /v2/storage/tables/{id}. not_found with the API's message for an unknown table.
  Result<nlohmann::json> GetTable(const std::string& table_id) const;
  /// POST export-async with the form body; returns the job id.
  Result<int64_t> StartExport(const std::string& table_id, const std::string& form) const;
  /// Polls the job (bounded exponential backoff, poll_initial_ms ×1.5 up to poll_max_ms) until
  /// success (→ results.file.id) or error (→ failed_precondition with the job's message), or
  /// deadline_exceeded after job_timeout_seconds.
  Result<int64_t> WaitForJob(int64_t job_id) const;
  /// GET /v2/storage/files/{id}?federationToken=1.
  Result<nlohmann::json> GetFile(int64_t file_id) const;
  /// Downloads the file described by `file` (GetFile) into `dir` (exists): the single file, or
  /// the manifest then every slice (slice_concurrency at once; each retried when it breaks).
  /// Slices keep their names' extensions (gzip by name). Supported entry URL schemes:
  /// https:// (signed); gs:// (rewritten to the GCS JSON API media URL with the issued
  /// gcsCredentials bearer token; host from `gcs_endpoint` for tests). s3:// and azure:// are
  /// refused with unimplemented-style invalid_argument.
  Result<DownloadedExport> Download(const nlohmann::json& file, const std::filesystem::path& dir) const;

  /// The table id in a URL path segment (percent-encoded).
  static std::string PathSegment(const std::string& id);

  const net::HttpsClient& http() const { return http_; }

 private:
  Result<nlohmann::json> GetJson(const std::string& path) const;
  net::HttpsRequest Request(const std::string& method, const std::string& path) const;

  KeboolaConfig config_;
  std::function<bool()> cancelled_;
  net::HttpsClient http_;
};

}  // namespace da::connectors::keboola
