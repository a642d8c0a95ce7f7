#include "kit/storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <utility>

#include "common/hash.h"
#include "common/identifiers.h"
#include "common/time_util.h"

namespace da::kit {
namespace fs = std::filesystem;

Result<FileLock> FileLock::Acquire(const fs::path& path, bool wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Unavailable("cannot open lock file '" + path.string() + "': " + std::strerror(errno));
  }
  int rc = 0;
  do {
    rc = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    ::close(fd);
    return FailedPrecondition("'" + path.string() + "' is locked by another process");
  }
  return FileLock(fd);
}

Result<std::optional<FileLock>> FileLock::TryAcquire(const fs::path& path) {
  auto lock = Acquire(path, false);
  if (lock.ok()) return std::optional<FileLock>(std::move(lock).value());
  if (lock.status().code() == StatusCode::kFailedPrecondition) return std::optional<FileLock>();
  return lock.status();
}

FileLock::FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

Status RemovePath(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) return Unavailable("cannot remove '" + p.string() + "': " + ec.message());
  return Status::Ok();
}

Status RenamePath(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) {
    return Unavailable("cannot rename '" + from.string() + "' to '" + to.string() +
                       "': " + ec.message());
  }
  return Status::Ok();
}

namespace {

Result<std::vector<fs::path>> ListEntries(const fs::path& dir, bool dirs) {
  std::vector<fs::path> out;
  try {
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (dirs ? e.is_directory() : e.is_regular_file()) out.push_back(e.path());
    }
  } catch (const fs::filesystem_error& e) {
    return Unavailable("cannot list '" + dir.string() + "': " + e.what());
  }
  return out;
}

}  // namespace

Result<std::vector<fs::path>> ListFiles(const fs::path& dir) { return ListEntries(dir, false); }

Result<std::vector<fs::path>> ListDirs(const fs::path& dir) { return ListEntries(dir, true); }

Result<int64_t> FileSize(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) return Unavailable("cannot stat '" + p.string() + "': " + ec.message());
  return static_cast<int64_t>(size);
}

int64_t FileMtimeMicros(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  if (ec) return NowMicros();
  auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch()).count();
}

fs::path SingleFilePath(const fs::path& data_dir, const std::string& id) {
  return data_dir / (id + kParquetSuffix);
}

fs::path PartitionDir(const fs::path& data_dir, const std::string& id) { return data_dir / id; }

fs::path PartitionLockPath(const fs::path& data_dir, const std::string& id,
                           const std::string& period) {
  return data_dir / ".locks" / (id + "-" + period + ".lock");
}

bool IsPeriodName(const std::string& period) {
  auto digits = [&](size_t from, size_t n) {
    for (size_t i = from; i < from + n; ++i) {
      if (period[i] < '0' || period[i] > '9') return false;
    }
    return true;
  };
  switch (period.size()) {
    case 4:
      return digits(0, 4);
    case 7:
      return digits(0, 4) && period[4] == '-' && digits(5, 2);
    case 10:
      return digits(0, 4) && period[4] == '-' && digits(5, 2) && period[7] == '-' &&
             digits(8, 2);
    default:
      return false;
  }
}

Result<std::vector<fs::path>> PartitionFiles(const fs::path& data_dir, const std::string& id) {
  DA_ASSIGN_OR_RETURN(auto all, ListFiles(PartitionDir(data_dir, id)));
  std::vector<fs::path> out;
  for (auto& f : all) {
    const std::string name = f.filename().string();
    if (!name.ends_with(kParquetSuffix)) continue;
    if (!IsPeriodName(name.substr(0, name.size() - std::string_view(kParquetSuffix).size()))) {
      continue;
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<StoredTable> FindStoredTable(const fs::path& data_dir, const model::TableSpec& table) {
  StoredTable single;
  std::error_code ec;
  const fs::path one = SingleFilePath(data_dir, table.id);
  if (fs::is_regular_file(one, ec)) single.files.push_back(one);
  StoredTable multi;
  multi.multi_file = true;
  DA_ASSIGN_OR_RETURN(multi.files, PartitionFiles(data_dir, table.id));
  const bool prefer_multi = table.sync_strategy == model::SyncStrategy::kPartitioned;
  const StoredTable& preferred = prefer_multi ? multi : single;
  const StoredTable& other = prefer_multi ? single : multi;
  if (!preferred.files.empty() || other.files.empty()) return preferred;
  return other;
}

Result<std::string> ParquetReaderSql(const std::vector<fs::path>& files) {
  if (files.empty()) return InvalidArgument("no Parquet files to read");
  if (files.size() == 1) {
    DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(files[0].string()));
    return "read_parquet(" + lit + ", hive_partitioning=false)";
  }
  std::string list;
  for (const auto& f : files) {
    DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(f.string()));
    list += (list.empty() ? "" : ", ") + lit;
  }
  return "read_parquet([" + list + "], union_by_name=true, hive_partitioning=false)";
}

Result<ParquetFacts> InspectParquet(db::Connection& conn, const std::vector<fs::path>& files) {
  DA_ASSIGN_OR_RETURN(std::string reader, ParquetReaderSql(files));
  std::string list;
  for (const auto& f : files) {
    DA_ASSIGN_OR_RETURN(std::string lit, QuoteLiteral(f.string()));
    list += (list.empty() ? "" : ", ") + lit;
  }
  ParquetFacts facts;
  DA_ASSIGN_OR_RETURN(auto meta, conn.Query("SELECT coalesce(sum(num_rows), 0)::BIGINT FROM "
                                            "parquet_file_metadata([" +
                                            list + "])"));
  facts.rows = meta.RowCount() > 0 ? meta.GetInt64(0, 0) : 0;
  DA_ASSIGN_OR_RETURN(auto desc, conn.Query("DESCRIBE SELECT * FROM " + reader));
  for (size_t r = 0; r < desc.RowCount(); ++r) {
    facts.columns.push_back({desc.GetString(0, r), desc.GetString(1, r)});
  }
  return facts;
}

Result<std::vector<FileStats>> StatFiles(db::Connection& conn, const std::vector<fs::path>& files) {
  std::vector<FileStats> out;
  for (const auto& f : files) {
    FileStats s;
    s.name = f.filename().string();
    DA_ASSIGN_OR_RETURN(s.md5, Md5File(f));
    DA_ASSIGN_OR_RETURN(s.size_bytes, FileSize(f));
    DA_ASSIGN_OR_RETURN(auto facts, InspectParquet(conn, {f}));
    s.rows = facts.rows;
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

/// Size and mtime (ns) of a file; nullopt when it cannot be stat-ed.
std::optional<std::pair<int64_t, int64_t>> SizeAndMtime(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(static_cast<int64_t>(st.st_size),
                        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
}

}  // namespace

Result<std::vector<StoredFile>> CollectFileStats(db::Connection& conn,
                                                 const std::vector<fs::path>& files,
                                                 const std::vector<StoredFile>& known) {
  std::vector<StoredFile> out;
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    StoredFile entry;
    bool done = false;
    for (int attempt = 0; attempt < 5 && !done; ++attempt) {
      auto before = SizeAndMtime(f);
      if (!before) return Unavailable("cannot stat '" + f.string() + "'");
      auto it = std::find_if(known.begin(), known.end(), [&](const StoredFile& k) {
        return k.stats.name == name && k.stats.size_bytes == before->first &&
               k.mtime_ns == before->second;
      });
      if (it != known.end()) {
        entry = *it;
        done = true;
        break;
      }
      DA_ASSIGN_OR_RETURN(auto stats, StatFiles(conn, {f}));
      auto after = SizeAndMtime(f);
      if (after && *after == *before && stats[0].size_bytes == before->first) {
        entry.stats = std::move(stats[0]);
        entry.mtime_ns = before->second;
        done = true;
      }
    }
    if (!done) return Unavailable("'" + f.string() + "' keeps changing; cannot hash it");
    out.push_back(std::move(entry));
  }
  return out;
}

bool SameFiles(const std::vector<StoredFile>& known, const std::vector<fs::path>& files) {
  if (known.size() != files.size()) return false;
  for (size_t i = 0; i < files.size(); ++i) {
    auto now = SizeAndMtime(files[i]);
    if (!now || known[i].stats.name != files[i].filename().string() ||
        known[i].stats.size_bytes != now->first || known[i].mtime_ns != now->second) {
      return false;
    }
  }
  return true;
}

}  // namespace da::kit
