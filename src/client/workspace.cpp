#include "client/workspace.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "common/fs_util.h"
#include "common/identifiers.h"
#include "db/duckdb.h"
#include "common/text.h"

namespace da::client {

Result<Workspace> ResolveWorkspace(const std::string& flag_value) {
  std::string chosen = flag_value;
  if (chosen.empty()) {
    const char* env = std::getenv("DA_WORKSPACE");
    if (env != nullptr && env[0] != '\0') chosen = env;
  }
  std::error_code ec;
  std::filesystem::path root =
      chosen.empty() ? std::filesystem::current_path(ec) : std::filesystem::absolute(chosen, ec);
  if (ec) return Internal("cannot resolve the workspace directory: " + ec.message());
  return Workspace{root.lexically_normal()};
}

Result<SyncState> LoadSyncState(const Workspace& ws) {
  SyncState state;
  auto path = ws.StatePath();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return state;
  DA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) return Malformed("'" + path.string() + "' is not a JSON object");
    if (j.contains("last_sync") && j["last_sync"].is_string()) state.last_sync = j["last_sync"];
    if (j.contains("tables")) {
      if (!j["tables"].is_object()) return Malformed("'" + path.string() + "': tables must be an object");
      for (const auto& [id, t] : j["tables"].items()) {
        if (!t.is_object()) return Malformed("'" + path.string() + "': table '" + id + "' is not an object");
        LocalTable lt;
        lt.name = t.value("name", "");
        lt.md5 = t.value("md5", "");
        lt.size_bytes = t.value("size_bytes", int64_t{0});
        lt.rows = t.value("rows", int64_t{0});
        lt.synced_at = t.value("synced_at", "");
        lt.multi_file = t.value("multi_file", false);
        state.tables.emplace(id, std::move(lt));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Malformed("'" + path.string() + "' is not a valid sync state: " + e.what());
  }
  return state;
}

Status SaveSyncState(const Workspace& ws, const SyncState& state) {
  nlohmann::json tables = nlohmann::json::object();
  for (const auto& [id, t] : state.tables) {
    tables[id] = {{"name", t.name},
                  {"md5", t.md5},
                  {"size_bytes", t.size_bytes},
                  {"rows", t.rows},
                  {"synced_at", t.synced_at},
                  {"multi_file", t.multi_file}};
  }
  nlohmann::json j = {{"tables", tables}, {"last_sync", state.last_sync}};
  DA_RETURN_IF_ERROR(EnsureDir(ws.MetaDir()));
  return WriteFileAtomic(ws.StatePath(), j.dump(2) + "\n");
}

namespace {

std::filesystem::path WithSuffix(const std::filesystem::path& p, const std::string& suffix) {
  std::filesystem::path out = p;
  out += suffix;
  return out;
}

}  // namespace

bool HasLocalData(const Workspace& ws, const std::string& id, const LocalTable& t) {
  std::error_code ec;
  if (!t.multi_file) return std::filesystem::is_regular_file(ws.ParquetPath(id), ec);
  for (std::filesystem::directory_iterator it(ws.PartitionDir(id), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (IsDataFileName(it->path().filename().string()) && it->is_regular_file(ec)) return true;
  }
  return false;
}

Result<ViewRebuildReport> RebuildViews(const Workspace& ws, const SyncState& state) {
  ViewRebuildReport report;
  DA_RETURN_IF_ERROR(EnsureDir(ws.root));
  auto final_path = ws.DbPath();
  auto tmp_path = WithSuffix(final_path, ".tmp");
  DA_RETURN_IF_ERROR(RemoveIfExists(tmp_path));
  DA_RETURN_IF_ERROR(RemoveIfExists(WithSuffix(tmp_path, ".wal")));
  {
    auto db = db::Database::Open(tmp_path.string());
    if (!db.ok()) return db.status().WithContext("building the workspace DB");
    DA_ASSIGN_OR_RETURN(auto conn, db->Connect());
    std::set<std::string> used_names;  // DuckDB resolves names case-insensitively
    for (const auto& [id, table] : state.tables) {
      if (!IsQuotedIdentifier(id)) {
        report.skipped.push_back(id + ": not a valid table id");
        continue;
      }
      if (!IsStrictIdentifier(table.name)) {
        report.skipped.push_back(id + ": view name '" + table.name + "' is not a valid identifier");
        continue;
      }
      if (!used_names.insert(AsciiLower(table.name)).second) {
        report.skipped.push_back(id + ": view name '" + table.name + "' is already used");
        continue;
      }
      auto parquet = table.multi_file ? ws.PartitionDir(id) / "*.parquet" : ws.ParquetPath(id);
      if (!HasLocalData(ws, id, table)) {
        report.skipped.push_back(id + ": file " + parquet.string() + " is missing");
        used_names.erase(AsciiLower(table.name));
        continue;
      }
      auto literal = QuoteLiteral(parquet.string());
      if (!literal.ok()) {
        report.skipped.push_back(id + ": " + literal.status().message());
        used_names.erase(AsciiLower(table.name));
        continue;
      }
      // Files of one table may differ in columns after a schema change (as on the server).
      std::string sql = "CREATE VIEW " + QuoteIdent(table.name) + " AS SELECT * FROM read_parquet(" +
                        *literal +
                        (table.multi_file ? ", union_by_name=true, hive_partitioning=false)" : ")");
      Status st = conn.Execute(sql);
      if (!st.ok()) {
        // DuckDB's messages carry a multi-line SQL excerpt; the first line says it all.
        report.skipped.push_back(id + ": " + st.message().substr(0, st.message().find('\n')));
        used_names.erase(AsciiLower(table.name));
        continue;
      }
      report.views.push_back(table.name);
    }
    DA_RETURN_IF_ERROR(conn.Execute("CHECKPOINT"));
  }
  // A WAL left by a crashed writer of the old file must not be replayed against the new one.
  DA_RETURN_IF_ERROR(RemoveIfExists(WithSuffix(final_path, ".wal")));
  std::error_code ec;
  std::filesystem::rename(tmp_path, final_path, ec);
  if (ec) {
    return Internal("cannot rename '" + tmp_path.string() + "' to '" + final_path.string() +
                    "': " + ec.message());
  }
  DA_RETURN_IF_ERROR(RemoveIfExists(WithSuffix(tmp_path, ".wal")));
  return report;
}

Result<WorkspaceLock> WorkspaceLock::Acquire(const Workspace& ws) {
  DA_RETURN_IF_ERROR(EnsureDir(ws.MetaDir()));
  auto path = ws.MetaDir() / "lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot open '" + path.string() + "': " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return FailedPrecondition("another da sync is running in " + ws.root.string());
    }
    return Internal("cannot lock '" + path.string() + "': " + std::strerror(err));
  }
  return WorkspaceLock(fd);
}

WorkspaceLock::WorkspaceLock(WorkspaceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

WorkspaceLock& WorkspaceLock::operator=(WorkspaceLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

WorkspaceLock::~WorkspaceLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace da::client
