#include "client/puller.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "common/fs_util.h"
#include "common/hash.h"
#include "common/identifiers.h"
#include "common/time_util.h"

namespace da::client {
namespace {

constexpr int kDefaultParallelism = 4;
constexpr int kMaxParallelism = 32;

std::string StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

int64_t IntField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_number_integer()) ? it->get<int64_t>() : 0;
}

int ResolveParallelism(int requested) {
  int n = requested;
  if (n <= 0) {
    n = kDefaultParallelism;
    if (const char* env = std::getenv("DA_SYNC_PARALLELISM")) {
      int v = std::atoi(env);
      if (v > 0) n = v;
    }
  }
  return std::clamp(n, 1, kMaxParallelism);
}

int64_t FileSize(const std::filesystem::path& p) {
  std::error_code ec;
  auto size = std::filesystem::file_size(p, ec);
  return ec ? -1 : static_cast<int64_t>(size);
}

/// True when the file starts and ends with the Parquet magic `PAR1`.
bool HasParquetMagic(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  char head[4] = {};
  char tail[4] = {};
  in.read(head, 4);
  if (!in) return false;
  in.seekg(-4, std::ios::end);
  in.read(tail, 4);
  if (!in) return false;
  return std::string_view(head, 4) == "PAR1" && std::string_view(tail, 4) == "PAR1";
}

bool IsTransient(const Status& st) {
  return st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kDeadlineExceeded ||
         st.code() == StatusCode::kInternal;
}

std::string DownloadPath(const ManifestTable& t) {
  if (!t.download_url.empty() && t.download_url.front() == '/') return t.download_url;
  return "/api/data/" + t.id + "/download";
}

/// The MD5 of the local file: the recorded one when the size still matches, else hashed.
Result<std::string> LocalMd5(const std::filesystem::path& path, const LocalTable* recorded,
                             int64_t size) {
  if (recorded != nullptr && recorded->md5.size() == 32 && recorded->size_bytes == size) {
    return recorded->md5;
  }
  return Md5File(path);
}

struct DownloadJob {
  const ManifestTable* table = nullptr;
  TableOutcome outcome;
  LocalTable local;  // filled on success
};

/// Downloads one table into its part file, verifies it and renames it into place.
void RunDownload(const HttpClient& client, const Workspace& ws, const PullOptions& options,
                 DownloadJob& job) {
  const ManifestTable& t = *job.table;
  auto part = ws.PartPath(t.id);
  auto fail = [&](const std::string& message) {
    (void)RemoveIfExists(part);
    job.outcome.action = TableAction::kFailed;
    job.outcome.detail = message;
  };
  int attempts = std::max(1, options.max_attempts);
  Status last_error;
  bool done = false;
  for (int attempt = 1; attempt <= attempts && !done; ++attempt) {
    DownloadOptions dl;
    dl.progress = options.progress;
    if (attempt > 1) {
      int64_t have = FileSize(part);
      if (have > 0) dl.resume_from_bytes = have;
    }
    auto r = client.Download(DownloadPath(t), part, dl);
    if (r.ok()) {
      done = true;
      break;
    }
    last_error = r.status();
    if (!IsTransient(last_error) || attempt == attempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(options.retry_backoff_ms * attempt));
  }
  if (!done) return fail(last_error.message());

  int64_t size = FileSize(part);
  if (size < 0) return fail("downloaded file " + part.string() + " vanished");
  auto md5 = Md5File(part);
  if (!md5.ok()) return fail(md5.status().message());
  if (!t.md5.empty()) {
    if (*md5 != t.md5) {
      return fail("hash mismatch: expected " + t.md5.substr(0, 12) + ", got " +
                  md5->substr(0, 12));
    }
  } else if (!HasParquetMagic(part)) {
    return fail("downloaded file is not Parquet (no PAR1 magic)");
  }
  std::error_code ec;
  std::filesystem::rename(part, ws.ParquetPath(t.id), ec);
  if (ec) return fail("cannot move the download into place: " + ec.message());
  job.outcome.action = TableAction::kDownloaded;
  job.outcome.bytes = size;
  job.local = LocalTable{t.name, *md5, size, t.rows, NowIso()};
}

/// Removes part files left by an interrupted sync (the caller holds the workspace lock).
void RemoveStaleParts(const Workspace& ws) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(ws.DataDir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string f = it->path().filename().string();
    if (f.size() > 14 && f.front() == '.' && f.ends_with(".parquet.part")) {
      (void)RemoveIfExists(it->path());
    }
  }
}

/// Ids of `<id>.parquet` files in the data dir.
std::vector<std::string> LocalParquetIds(const Workspace& ws) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(ws.DataDir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string f = it->path().filename().string();
    if (f.front() != '.' && f.ends_with(".parquet") && it->is_regular_file(ec)) {
      ids.push_back(f.substr(0, f.size() - 8));
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

std::string_view TableActionName(TableAction action) {
  switch (action) {
    case TableAction::kDownloaded: return "downloaded";
    case TableAction::kUpToDate: return "up_to_date";
    case TableAction::kRemote: return "remote";
    case TableAction::kRemoved: return "removed";
    case TableAction::kFailed: return "failed";
    case TableAction::kWouldDownload: return "would_download";
    case TableAction::kWouldRemove: return "would_remove";
  }
  return "failed";
}

nlohmann::json PullReport::ToJson() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& t : tables) {
    nlohmann::json row = {{"id", t.id},
                          {"name", t.name},
                          {"action", std::string(TableActionName(t.action))},
                          {"bytes", t.bytes}};
    if (!t.detail.empty()) row["detail"] = t.detail;
    rows.push_back(std::move(row));
  }
  return {{"updated", updated},     {"removed", removed},   {"failed", failed},
          {"total", total},         {"dry_run", dry_run},   {"duration_ms", duration_ms},
          {"tables", rows},         {"view_warnings", view_warnings}};
}

Result<Manifest> ParseManifest(const nlohmann::json& body) {
  if (!body.is_object()) return Malformed("manifest is not a JSON object");
  Manifest m;
  m.server_time = StringField(body, "server_time");
  auto it = body.find("tables");
  if (it == body.end()) return m;
  if (!it->is_array()) return Malformed("manifest: tables must be an array");
  for (const auto& t : *it) {
    if (!t.is_object()) return Malformed("manifest: a table entry is not an object");
    if (!t.contains("id") || !t["id"].is_string()) {
      return Malformed("manifest: a table entry has no string id");
    }
    ManifestTable mt;
    mt.id = t["id"].get<std::string>();
    mt.name = StringField(t, "name");
    if (mt.name.empty()) mt.name = mt.id;
    mt.md5 = StringField(t, "md5");
    mt.size_bytes = IntField(t, "size_bytes");
    mt.rows = IntField(t, "rows");
    mt.query_mode = StringField(t, "query_mode");
    if (mt.query_mode.empty()) mt.query_mode = "local";
    mt.updated = StringField(t, "updated");
    mt.download_url = StringField(t, "download_url");
    m.tables.push_back(std::move(mt));
  }
  return m;
}

Result<PullReport> Pull(const HttpClient& client, const Workspace& ws,
                        const PullOptions& options) {
  auto started = std::chrono::steady_clock::now();
  PullReport report;
  report.dry_run = options.dry_run;

  std::optional<WorkspaceLock> lock;
  if (!options.dry_run) {
    DA_ASSIGN_OR_RETURN(auto l, WorkspaceLock::Acquire(ws));
    lock.emplace(std::move(l));
  }
  auto body = client.GetJson("/api/sync/manifest");
  if (!body.ok()) return body.status().WithContext("fetching the manifest");
  DA_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(*body));
  DA_ASSIGN_OR_RETURN(SyncState state, LoadSyncState(ws));

  // Plan.
  std::vector<DownloadJob> jobs;
  std::set<std::string> keep;                 // ids that stay local
  std::map<std::string, std::string> remote;  // remote ids → name
  std::vector<TableOutcome> planned(manifest.tables.size());
  std::vector<int> job_slot(manifest.tables.size(), -1);
  for (size_t i = 0; i < manifest.tables.size(); ++i) {
    const ManifestTable& t = manifest.tables[i];
    TableOutcome& out = planned[i];
    out.id = t.id;
    out.name = t.name;
    if (!IsQuotedIdentifier(t.id)) {
      out.action = TableAction::kFailed;
      out.detail = "invalid table id in the manifest";
      continue;
    }
    if (t.query_mode == "remote") {
      out.action = TableAction::kRemote;
      remote[t.id] = t.name;
      continue;
    }
    keep.insert(t.id);
    if (!IsStrictIdentifier(t.name)) {
      out.action = TableAction::kFailed;
      out.detail = "view name '" + t.name + "' is not a valid identifier";
      continue;
    }
    auto path = ws.ParquetPath(t.id);
    int64_t size = FileSize(path);
    auto recorded_it = state.tables.find(t.id);
    const LocalTable* recorded = recorded_it == state.tables.end() ? nullptr : &recorded_it->second;
    bool need = true;
    if (size >= 0 && !t.md5.empty()) {
      auto md5 = LocalMd5(path, recorded, size);
      if (md5.ok() && *md5 == t.md5) {
        need = false;
        if (!options.dry_run) {
          LocalTable& lt = state.tables[t.id];
          std::string synced_at = recorded != nullptr ? recorded->synced_at : NowIso();
          lt = LocalTable{t.name, *md5, size, t.rows, synced_at};
        }
      }
    }
    if (!need) {
      out.action = TableAction::kUpToDate;
      continue;
    }
    out.action = TableAction::kWouldDownload;
    out.bytes = t.size_bytes;
    job_slot[i] = static_cast<int>(jobs.size());
    DownloadJob job;
    job.table = &t;
    job.outcome = out;
    jobs.push_back(std::move(job));
  }

  // Tables that left the manifest (or turned remote), and orphan files nobody recorded.
  std::map<std::string, std::string> to_remove;  // id → name
  for (const auto& [id, lt] : state.tables) {
    if (!keep.contains(id)) to_remove[id] = lt.name.empty() ? id : lt.name;
  }
  for (const auto& id : LocalParquetIds(ws)) {
    if (!keep.contains(id) && !to_remove.contains(id)) to_remove[id] = id;
  }

  report.tables = planned;
  for (const auto& [id, name] : to_remove) {
    TableOutcome out;
    out.id = id;
    out.name = name;
    out.action = options.dry_run ? TableAction::kWouldRemove : TableAction::kRemoved;
    out.detail = remote.contains(id) ? "now queried remotely" : "no longer available";
    report.tables.push_back(std::move(out));
  }
  report.removed = static_cast<int>(to_remove.size());

  if (options.dry_run) {
    report.updated = static_cast<int>(jobs.size());
    for (const auto& t : report.tables) report.failed += t.action == TableAction::kFailed;
    std::set<std::string> after;
    for (const auto& [id, lt] : state.tables) {
      if (keep.contains(id)) after.insert(id);
    }
    for (const auto& j : jobs) after.insert(j.table->id);
    report.total = static_cast<int>(after.size());
    report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    return report;
  }

  // Download.
  DA_RETURN_IF_ERROR(EnsureDir(ws.DataDir()));
  RemoveStaleParts(ws);
  if (options.on_plan) {
    int64_t total_bytes = 0;
    for (const auto& j : jobs) total_bytes += j.table->size_bytes;
    options.on_plan(total_bytes);
  }
  {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k = next.fetch_add(1); k < jobs.size(); k = next.fetch_add(1)) {
        RunDownload(client, ws, options, jobs[k]);
      }
    };
    size_t n_threads = std::min(jobs.size(), static_cast<size_t>(ResolveParallelism(options.parallelism)));
    std::vector<std::thread> threads;
    for (size_t k = 1; k < n_threads; ++k) threads.emplace_back(worker);
    if (n_threads > 0) worker();
    for (auto& th : threads) th.join();
  }
  for (size_t i = 0; i < planned.size(); ++i) {
    if (job_slot[i] < 0) continue;
    DownloadJob& job = jobs[static_cast<size_t>(job_slot[i])];
    report.tables[i] = job.outcome;
    if (job.outcome.action == TableAction::kDownloaded) {
      state.tables[job.table->id] = job.local;
      ++report.updated;
    }
  }
  for (const auto& t : report.tables) report.failed += t.action == TableAction::kFailed;

  // A failed table keeps its old file; forget state entries whose file is gone.
  for (auto it = state.tables.begin(); it != state.tables.end();) {
    bool drop = to_remove.contains(it->first) || FileSize(ws.ParquetPath(it->first)) < 0;
    it = drop ? state.tables.erase(it) : std::next(it);
  }
  state.last_sync = NowIso();
  DA_RETURN_IF_ERROR(SaveSyncState(ws, state));
  DA_ASSIGN_OR_RETURN(ViewRebuildReport views, RebuildViews(ws, state));
  report.view_warnings = std::move(views.skipped);
  // Files go only after the views that read them are gone.
  for (const auto& [id, name] : to_remove) {
    if (!IsQuotedIdentifier(id)) continue;
    DA_RETURN_IF_ERROR(RemoveIfExists(ws.ParquetPath(id)));
  }
  report.total = static_cast<int>(state.tables.size());
  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  return report;
}

}  // namespace da::client
