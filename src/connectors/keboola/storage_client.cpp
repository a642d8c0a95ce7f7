#include "connectors/keboola/storage_client.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/identifiers.h"
#include "common/log.h"

namespace da::connectors::keboola {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

net::HttpsClientOptions ClientOptions(const KeboolaConfig& c, std::function<bool()> cancelled) {
  net::HttpsClientOptions o;
  o.retry.max_attempts = c.max_attempts;
  o.timeout_ms = 0;  // big slices: rely on the low-speed limit, not a wall-clock cap
  o.cancelled = std::move(cancelled);
  o.secrets = {c.token};
  return o;
}

Result<json> ParseJson(const std::string& body, const std::string& what) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Unavailable("keboola: " + what + " answered with invalid JSON");
  return j;
}

/// Last path segment of a URL without query ("…/x.csv.gz_0_0_0.csv.gz?sig" → "x.csv.gz_0_0_0.csv.gz").
std::string LastSegment(const std::string& url) {
  std::string path = url.substr(0, url.find('?'));
  return path.substr(path.rfind('/') + 1);
}

/// A file-system-safe local name for slice `i` keeping its extension(s).
std::string LocalName(size_t i, const std::string& remote) {
  std::string ext;
  for (const char* e : {".csv.gz", ".csv", ".parquet", ".gz"}) {
    if (remote.ends_with(e)) {
      ext = e;
      break;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "slice-%06zu", i);
  return buf + ext;
}

}  // namespace

StorageClient::StorageClient(KeboolaConfig config, std::function<bool()> cancelled)
    : config_(std::move(config)),
      cancelled_(cancelled),
      http_(ClientOptions(config_, std::move(cancelled))) {}

std::string StorageClient::PathSegment(const std::string& id) { return net::UrlEncode(id); }

net::HttpsRequest StorageClient::Request(const std::string& method, const std::string& path) const {
  net::HttpsRequest r;
  r.method = method;
  r.url = config_.stack_url + path;
  r.headers = {{"X-StorageApi-Token", config_.token}, {"Accept", "application/json"}};
  return r;
}

Result<json> StorageClient::GetJson(const std::string& path) const {
  DA_ASSIGN_OR_RETURN(auto resp, http_.Send(Request("GET", path)));
  return ParseJson(resp.body, "GET " + path.substr(0, path.find('?')));
}

Result<json> StorageClient::VerifyToken() const { return GetJson("/v2/storage/tokens/verify"); }

Result<json> StorageClient::ListTables() const {
  DA_ASSIGN_OR_RETURN(json j, GetJson("/v2/storage/tables?include=buckets,columns,metadata,columnMetadata"));
  if (!j.is_array()) return Unavailable("keboola: the table listing is not a JSON array");
  return j;
}

Result<json> StorageClient::GetTable(const std::string& table_id) const {
  DA_ASSIGN_OR_RETURN(json j, GetJson("/v2/storage/tables/" + PathSegment(table_id)));
  if (!j.is_object()) return Unavailable("keboola: table detail is not a JSON object");
  return j;
}

Result<int64_t> StorageClient::StartExport(const std::string& table_id, const std::string& form) const {
  net::HttpsRequest r = Request("POST", "/v2/storage/tables/" + PathSegment(table_id) + "/export-async");
  r.body = form;
  r.content_type = "application/x-www-form-urlencoded";
  DA_ASSIGN_OR_RETURN(auto resp, http_.Send(r));
  DA_ASSIGN_OR_RETURN(json job, ParseJson(resp.body, "export-async"));
  if (!job.is_object() || !job.contains("id")) return Unavailable("keboola: export-async answered without a job id");
  const json& id = job["id"];
  if (id.is_number_integer()) return id.get<int64_t>();
  if (id.is_string()) return static_cast<int64_t>(std::strtoll(id.get<std::string>().c_str(), nullptr, 10));
  return Unavailable("keboola: export-async job id has an unexpected type");
}

Result<int64_t> StorageClient::WaitForJob(int64_t job_id) const {
  const auto start = std::chrono::steady_clock::now();
  const auto limit = std::chrono::seconds(config_.job_timeout_seconds);
  int64_t delay = config_.poll_initial_ms;
  const std::string path = "/v2/storage/jobs/" + std::to_string(job_id);
  std::string last_status = "waiting";
  while (true) {
    DA_ASSIGN_OR_RETURN(json job, GetJson(path));
    last_status = job.value("status", std::string("?"));
    if (last_status == "success") {
      // results is [] (PHP empty map) or null until done; on success {"file": {"id": N}}.
      const json& r = job.contains("results") ? job["results"] : json();
      if (r.is_object() && r.contains("file") && r["file"].is_object() && r["file"].contains("id")) {
        const json& id = r["file"]["id"];
        if (id.is_number_integer()) return id.get<int64_t>();
        if (id.is_string()) return static_cast<int64_t>(std::strtoll(id.get<std::string>().c_str(), nullptr, 10));
      }
      return Unavailable("keboola: export job " + std::to_string(job_id) + " succeeded without results.file.id");
    }
    if (last_status == "error") {
      std::string msg = "unknown error";
      if (job.contains("error") && job["error"].is_object()) {
        msg = job["error"].value("message", msg);
      } else if (job.contains("error") && job["error"].is_string()) {
        msg = job["error"].get<std::string>();
      }
      return FailedPrecondition("keboola: export job " + std::to_string(job_id) + " failed: " +
                                http_.Redacted(PrintableForMessage(msg, 500)));
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (elapsed >= limit) {
      return DeadlineExceeded("keboola: export job " + std::to_string(job_id) + " still '" +
                              PrintableForMessage(last_status) + "' after " +
                              std::to_string(config_.job_timeout_seconds) +
                              " s (job_timeout_seconds)");
    }
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(limit - elapsed).count();
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::min<int64_t>(delay, remaining));
    while (std::chrono::steady_clock::now() < until) {
      if (cancelled_ && cancelled_()) return Aborted("keboola: export job " + std::to_string(job_id) + ": cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    delay = std::min<int64_t>(delay * 3 / 2, config_.poll_max_ms);
  }
}

Result<json> StorageClient::GetFile(int64_t file_id) const {
  DA_ASSIGN_OR_RETURN(json j, GetJson("/v2/storage/files/" + std::to_string(file_id) + "?federationToken=1"));
  if (!j.is_object() || !j.contains("url") || !j["url"].is_string()) {
    return Unavailable("keboola: file " + std::to_string(file_id) + " detail has no url");
  }
  return j;
}

Result<DownloadedExport> StorageClient::Download(const json& file, const fs::path& dir) const {
  DownloadedExport out;
  out.file_type = file.value("fileType", std::string("csv"));
  if (out.file_type != "csv" && out.file_type != "parquet") {
    return Unavailable("keboola: unsupported export fileType '" + PrintableForMessage(out.file_type) + "'");
  }
  out.sliced = file.value("isSliced", false);
  const std::string url = file["url"].get<std::string>();
  const std::string name = file.value("name", std::string());
  if (!out.sliced) {
    out.gzip = name.ends_with(".gz");
    fs::path dest = dir / LocalName(0, name.empty() ? LastSegment(url) : name);
    net::HttpsRequest r;
    r.url = url;
    DA_RETURN_IF_ERROR(http_.Download(r, dest).status());
    out.files.push_back(dest);
    return out;
  }
  // Sliced: the url is the manifest; its entries are the slices (order not guaranteed).
  net::HttpsRequest mr;
  mr.url = url;
  DA_ASSIGN_OR_RETURN(auto manifest_resp, http_.Send(mr));
  DA_ASSIGN_OR_RETURN(json manifest, ParseJson(manifest_resp.body, "the slice manifest"));
  if (!manifest.is_object() || !manifest.contains("entries") || !manifest["entries"].is_array()) {
    return Unavailable("keboola: the slice manifest has no entries list");
  }
  std::vector<std::string> urls;
  for (const auto& e : manifest["entries"]) {
    if (!e.is_object() || !e.contains("url") || !e["url"].is_string()) {
      return Unavailable("keboola: a slice manifest entry has no url");
    }
    urls.push_back(e["url"].get<std::string>());
  }
  // Natural order of the slice names (…_0_2_0 before …_0_10_0) for a stable file list.
  std::sort(urls.begin(), urls.end(), [](const std::string& a, const std::string& b) {
    std::string x = LastSegment(a), y = LastSegment(b);
    return x.size() != y.size() ? x.size() < y.size() : x < y;
  });
  std::string bearer;
  if (file.contains("gcsCredentials") && file["gcsCredentials"].is_object()) {
    bearer = file["gcsCredentials"].value("access_token", std::string());
  }
  std::vector<net::HttpsRequest> requests;
  for (size_t i = 0; i < urls.size(); ++i) {
    const std::string& u = urls[i];
    net::HttpsRequest r;
    if (u.starts_with("https://")) {
      r.url = u;
    } else if (u.starts_with("gs://")) {
      // gs://bucket/key → GCS JSON API media download with the issued bearer token.
      const std::string rest = u.substr(5);
      const size_t slash = rest.find('/');
      if (slash == std::string::npos || bearer.empty()) {
        return Unavailable("keboola: gs:// slice without bucket/key or without gcsCredentials");
      }
      const char* ep = std::getenv("DA_GCS_ENDPOINT");
      const std::string endpoint = ep && *ep ? ep : "https://storage.googleapis.com";
      r.url = endpoint + "/storage/v1/b/" + net::UrlEncode(rest.substr(0, slash)) + "/o/" +
              net::UrlEncode(rest.substr(slash + 1)) + "?alt=media";
      r.headers = {{"Authorization", "Bearer " + bearer}};
    } else {
      return InvalidArgument("keboola: slice URL scheme of '" +
                             PrintableForMessage(http_.Redacted(u.substr(0, u.find('?'))), 120) +
                             "' is not supported (https:// and gs:// are)");
    }
    const std::string seg = LastSegment(u);
    out.gzip = out.gzip || seg.ends_with(".gz");
    requests.push_back(std::move(r));
    out.files.push_back(dir / LocalName(i, seg));
  }
  // Download with a small pool of workers; each takes the next index (no shared output).
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error = Status::Ok();
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (size_t i = next++; i < requests.size() && !failed; i = next++) {
      Status st = http_.Download(requests[i], out.files[i]).status();
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = st;
        failed = true;
      }
    }
  };
  const size_t n = std::min<size_t>(static_cast<size_t>(config_.slice_concurrency), requests.size());
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  DA_RETURN_IF_ERROR(first_error);
  return out;
}

}  // namespace da::connectors::keboola
