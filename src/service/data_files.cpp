#include "service/data_files.h"

#include <sys/stat.h>

#include <algorithm>

#include "common/hash.h"

namespace da::service {

Result<DataFile> FileDigestCache::Describe(const std::filesystem::path& path) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    return NotFound("data file '" + path.filename().string() + "' is missing");
  }
  const int64_t size = sb.st_size;
  const int64_t mtime_ns = int64_t{sb.st_mtim.tv_sec} * 1000000000 + sb.st_mtim.tv_nsec;
  DataFile f{path.filename().string(), path, "", size};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(path.string());
    if (it != entries_.end() && it->second.size == size && it->second.mtime_ns == mtime_ns) {
      f.md5 = it->second.md5;
      return f;
    }
  }
  DA_ASSIGN_OR_RETURN(f.md5, Md5File(path));
  std::lock_guard<std::mutex> lock(mu_);
  entries_[path.string()] = Entry{size, mtime_ns, f.md5};
  return f;
}

std::string FileDigestCache::Md5Of(const std::filesystem::path& path, int64_t size,
                                   int64_t mtime_ns, std::string_view bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(path.string());
    if (it != entries_.end() && it->second.size == size && it->second.mtime_ns == mtime_ns) {
      return it->second.md5;
    }
  }
  std::string md5 = Md5Hex(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  entries_[path.string()] = Entry{size, mtime_ns, md5};
  return md5;
}

std::vector<DataFile> ListDataFiles(const std::filesystem::path& dir, FileDigestCache& cache) {
  std::vector<DataFile> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!IsDataFileName(name)) continue;
    auto f = cache.Describe(it->path());
    if (f.ok()) files.push_back(std::move(*f));
  }
  std::sort(files.begin(), files.end(),
            [](const DataFile& a, const DataFile& b) { return a.name < b.name; });
  return files;
}

std::filesystem::path ParquetPath(const InstanceConfig& config, const model::TableSpec& t) {
  return config.ExtractsDir() / t.source_type / "data" / (t.id + ".parquet");
}

std::filesystem::path PartitionDir(const InstanceConfig& config, const model::TableSpec& t) {
  return config.ExtractsDir() / t.source_type / "data" / t.id;
}

std::string CombinedMd5(const std::vector<DataFile>& files) {
  std::string lines;
  for (const auto& f : files) lines += f.name + " " + f.md5 + "\n";
  return Md5Hex(lines);
}

}  // namespace da::service
