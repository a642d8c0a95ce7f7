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

/// One file to fetch: a one-file table's Parquet or one file of a multi-file table.
struct DownloadJob {
  size_t table_index = 0;        ///< into the manifest's tables
  std::string url;               ///< server-relative
  std::filesystem::path part;    ///< where the bytes land first
  std::filesystem::path dest;    ///< where they go once verified
  std::string expected_md5;      ///< "" → only the PAR1 magic is checked
  int64_t planned_bytes = 0;     ///< size from the manifest
  /// Files of a multi-file table stay verified parts until every file of the table arrived,
  /// so a failed sync never mixes new and old partitions in the view.
  bool defer_rename = false;
  // Result.
  bool ok = false;
  std::string error;
  std::string md5;
  int64_t bytes = 0;
};

/// Downloads one file into its part file, verifies it and (unless deferred) renames it into place.
void RunDownload(const HttpClient& client, const PullOptions& options, DownloadJob& job) {
  auto fail = [&](const std::string& message) {
    (void)RemoveIfExists(job.part);
    job.ok = false;
    job.error = message;
  };
  int attempts = std::max(1, options.max_attempts);
  Status last_error;
  bool done = false;
  for (int attempt = 1; attempt <= attempts && !done; ++attempt) {
    DownloadOptions dl;
    dl.progress = options.progress;
    if (attempt > 1) {
      int64_t have = FileSize(job.part);
      if (have > 0) dl.resume_from_bytes = have;
    }
    auto r = client.Download(job.url, job.part, dl);
    if (r.ok()) {
      done = true;
      break;
    }
    last_error = r.status();
    if (!IsTransient(last_error) || attempt == attempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(options.retry_backoff_ms * attempt));
  }
  if (!done) return fail(last_error.message());

  int64_t size = FileSize(job.part);
  if (size < 0) return fail("downloaded file " + job.part.string() + " vanished");
  auto md5 = Md5File(job.part);
  if (!md5.ok()) return fail(md5.status().message());
  if (!job.expected_md5.empty()) {
    if (*md5 != job.expected_md5) {
      return fail("hash mismatch: expected " + job.expected_md5.substr(0, 12) + ", got " +
                  md5->substr(0, 12));
    }
  } else if (!HasParquetMagic(job.part)) {
    return fail("downloaded file is not Parquet (no PAR1 magic)");
  }
  if (!job.defer_rename) {
    std::error_code ec;
    std::filesystem::rename(job.part, job.dest, ec);
    if (ec) return fail("cannot move the download into place: " + ec.message());
  }
  job.ok = true;
  job.md5 = *md5;
  job.bytes = size;
}

/// Removes `.*.part` files in `dir` left by an interrupted sync (the caller holds the lock).
void RemoveStalePartsIn(const std::filesystem::path& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string f = it->path().filename().string();
    if (f.size() > 5 && f.front() == '.' && f.ends_with(".part")) (void)RemoveIfExists(it->path());
  }
}

/// Data files in a multi-file table's directory (IsDataFileName names).
std::vector<std::string> LocalDataFiles(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string f = it->path().filename().string();
    if (IsDataFileName(f) && it->is_regular_file(ec)) names.push_back(f);
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Removes part files left by an interrupted sync, in the data dir and table directories.
void RemoveStaleParts(const Workspace& ws) {
  RemoveStalePartsIn(ws.DataDir());
  std::error_code ec;
  for (std::filesystem::directory_iterator it(ws.DataDir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_directory(ec)) RemoveStalePartsIn(it->path());
  }
}

/// Ids of `<id>.parquet` files and `<id>/` table directories in the data dir.
std::vector<std::string> LocalParquetIds(const Workspace& ws) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(ws.DataDir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string f = it->path().filename().string();
    if (f.front() == '.') continue;
    if (f.ends_with(".parquet") && it->is_regular_file(ec)) {
      ids.push_back(f.substr(0, f.size() - 8));
    } else if (it->is_directory(ec) && IsQuotedIdentifier(f)) {
      ids.push_back(f);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
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
    if (auto files = t.find("files"); files != t.end() && !files->is_null()) {
      if (!files->is_array()) return Malformed("manifest: files of '" + mt.id + "' is not an array");
      for (const auto& f : *files) {
        if (!f.is_object()) return Malformed("manifest: a file of '" + mt.id + "' is not an object");
        ManifestFile mf;
        mf.name = StringField(f, "name");
        // A hostile or broken server must not make us write outside the table's directory.
        if (!IsDataFileName(mf.name)) {
          return Malformed("manifest: table '" + mt.id + "' lists an invalid file name '" +
                           PrintableForMessage(mf.name) + "'");
        }
        mf.md5 = StringField(f, "md5");
        mf.size_bytes = IntField(f, "size_bytes");
        mf.download_url = StringField(f, "download_url");
        mt.files.push_back(std::move(mf));
      }
    }
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

  // Plan: one download job per changed file.
  std::vector<DownloadJob> jobs;
  std::set<std::string> keep;                 // ids that stay local
  std::map<std::string, std::string> remote;  // remote ids → name
  std::vector<TableOutcome> planned(manifest.tables.size());
  std::vector<std::vector<size_t>> table_jobs(manifest.tables.size());
  // Files of multi-file tables that are no longer listed: removed once the table is current.
  std::vector<std::vector<std::filesystem::path>> extras(manifest.tables.size());
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
    auto recorded_it = state.tables.find(t.id);
    const LocalTable* recorded = recorded_it == state.tables.end() ? nullptr : &recorded_it->second;
    const bool multi = !t.files.empty();
    auto add_job = [&](std::string url, std::filesystem::path part, std::filesystem::path dest,
                       std::string md5, int64_t size) {
      DownloadJob job;
      job.table_index = i;
      job.url = std::move(url);
      job.part = std::move(part);
      job.dest = std::move(dest);
      job.expected_md5 = std::move(md5);
      job.planned_bytes = size;
      table_jobs[i].push_back(jobs.size());
      jobs.push_back(std::move(job));
    };
    LocalTable current{t.name, t.md5, 0, t.rows,
                       recorded != nullptr ? recorded->synced_at : NowIso(), multi};
    if (!multi) {
      auto path = ws.ParquetPath(t.id);
      int64_t size = FileSize(path);
      bool same = false;
      if (size >= 0 && !t.md5.empty() && (recorded == nullptr || !recorded->multi_file)) {
        auto md5 = LocalMd5(path, recorded, size);
        same = md5.ok() && *md5 == t.md5;
        current.size_bytes = size;
      }
      if (!same) add_job(DownloadPath(t), ws.PartPath(t.id), path, t.md5, t.size_bytes);
    } else {
      auto dir = ws.PartitionDir(t.id);
      std::set<std::string> listed;
      for (const auto& f : t.files) {
        listed.insert(f.name);
        current.size_bytes += f.size_bytes;
      }
      for (const auto& name : LocalDataFiles(dir)) {
        if (!listed.contains(name)) extras[i].push_back(dir / name);
      }
      // The recorded combined MD5 is trusted while every file keeps its size.
      bool trusted = recorded != nullptr && recorded->multi_file && recorded->md5 == t.md5;
      for (const auto& f : t.files) {
        auto path = dir / f.name;
        int64_t size = FileSize(path);
        bool same = size >= 0 && size == f.size_bytes;
        if (same && !trusted) {
          auto md5 = Md5File(path);
          same = md5.ok() && *md5 == f.md5;
        }
        if (same) continue;
        std::string url = !f.download_url.empty() && f.download_url.front() == '/'
                              ? f.download_url
                              : "/api/data/" + t.id + "/files/" + f.name;
        add_job(std::move(url), dir / ("." + f.name + ".part"), path, f.md5, f.size_bytes);
        jobs.back().defer_rename = true;
      }
    }
    if (table_jobs[i].empty()) {
      out.action = TableAction::kUpToDate;
      if (!options.dry_run) state.tables[t.id] = current;
      continue;
    }
    out.action = TableAction::kWouldDownload;
    for (size_t k : table_jobs[i]) out.bytes += jobs[k].planned_bytes;
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
    out.detail = remote.contains(id)
                     ? "now queried remotely"
                     : "no longer available to you: access revoked or table unregistered";
    report.tables.push_back(std::move(out));
  }
  report.removed = static_cast<int>(to_remove.size());

  if (options.dry_run) {
    std::set<std::string> after;
    for (const auto& [id, lt] : state.tables) {
      if (keep.contains(id)) after.insert(id);
    }
    for (size_t i = 0; i < planned.size(); ++i) {
      if (planned[i].action == TableAction::kWouldDownload) {
        ++report.updated;
        after.insert(planned[i].id);
      }
      report.failed += planned[i].action == TableAction::kFailed;
    }
    report.total = static_cast<int>(after.size());
    report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    return report;
  }

  // Download.
  DA_RETURN_IF_ERROR(EnsureDir(ws.DataDir()));
  RemoveStaleParts(ws);
  for (size_t i = 0; i < manifest.tables.size(); ++i) {
    if (!manifest.tables[i].files.empty() && !table_jobs[i].empty()) {
      DA_RETURN_IF_ERROR(EnsureDir(ws.PartitionDir(manifest.tables[i].id)));
    }
  }
  if (options.on_plan) {
    int64_t total_bytes = 0;
    for (const auto& j : jobs) total_bytes += j.planned_bytes;
    options.on_plan(total_bytes);
  }
  {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k = next.fetch_add(1); k < jobs.size(); k = next.fetch_add(1)) {
        RunDownload(client, options, jobs[k]);
      }
    };
    size_t n_threads = std::min(jobs.size(), static_cast<size_t>(ResolveParallelism(options.parallelism)));
    std::vector<std::thread> threads;
    for (size_t k = 1; k < n_threads; ++k) threads.emplace_back(worker);
    if (n_threads > 0) worker();
    for (auto& th : threads) th.join();
  }
  // Layout switches (one file ↔ several) whose old layout goes after the views are rebuilt.
  std::vector<std::filesystem::path> old_layouts;
  for (size_t i = 0; i < planned.size(); ++i) {
    const ManifestTable& t = manifest.tables[i];
    TableOutcome& out = report.tables[i];
    if (out.action != TableAction::kWouldDownload && out.action != TableAction::kUpToDate) continue;
    if (out.action == TableAction::kWouldDownload) {
      std::string error;
      int64_t bytes = 0;
      for (size_t k : table_jobs[i]) {
        if (!jobs[k].ok && error.empty()) {
          error = jobs[k].error;
          if (!t.files.empty()) error = jobs[k].dest.filename().string() + ": " + error;
        }
        bytes += jobs[k].bytes;
      }
      // Every file of a multi-file table arrived and was verified: move them all in now.
      for (size_t k : table_jobs[i]) {
        if (!error.empty()) break;
        if (!jobs[k].defer_rename) continue;
        std::error_code ec;
        std::filesystem::rename(jobs[k].part, jobs[k].dest, ec);
        if (ec) error = jobs[k].dest.filename().string() + ": cannot move the download into place: " + ec.message();
      }
      if (!error.empty()) {
        // The table keeps its old files and view; verified parts of this attempt are dropped.
        for (size_t k : table_jobs[i]) (void)RemoveIfExists(jobs[k].part);
        out.action = TableAction::kFailed;
        out.detail = error;
        continue;
      }
      out.action = TableAction::kDownloaded;
      out.bytes = bytes;
      ++report.updated;
      LocalTable lt{t.name, t.md5, 0, t.rows, NowIso(), !t.files.empty()};
      if (t.files.empty()) {
        const DownloadJob& job = jobs[table_jobs[i].front()];
        lt.md5 = job.md5;
        lt.size_bytes = job.bytes;
      } else {
        for (const auto& f : t.files) lt.size_bytes += f.size_bytes;
      }
      state.tables[t.id] = lt;
    }
    for (const auto& extra : extras[i]) DA_RETURN_IF_ERROR(RemoveIfExists(extra));
    old_layouts.push_back(t.files.empty() ? ws.PartitionDir(t.id) : ws.ParquetPath(t.id));
  }
  for (const auto& t : report.tables) report.failed += t.action == TableAction::kFailed;

  // A failed table keeps its old files; forget state entries whose data is gone.
  for (auto it = state.tables.begin(); it != state.tables.end();) {
    bool drop = to_remove.contains(it->first) || !HasLocalData(ws, it->first, it->second);
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
    DA_RETURN_IF_ERROR(RemoveTreeIfExists(ws.PartitionDir(id)));
  }
  for (const auto& path : old_layouts) DA_RETURN_IF_ERROR(RemoveTreeIfExists(path));
  report.total = static_cast<int>(state.tables.size());
  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  return report;
}

}  // namespace da::client
