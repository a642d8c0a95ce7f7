// Parquet downloads: GET /api/data/{id}/download (a one-file table) and
// GET /api/data/{id}/files/{name} (one file of a partitioned or streamed table; decisions.md §4).
// Which file (and whether the caller may have it) is service/distribution_service.h's answer;
// sending it is HTTP: ETag = content MD5 (If-None-Match → 304), byte ranges honoured.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "server/app.h"
#include "server/json_route.h"

namespace da::server {
namespace {

/// A whole data file mapped read-only. Mapping the opened file pins its inode, so a later
/// swap (writers rename a new file over the old one; they never rewrite in place) cannot change
/// the bytes being sent; and the socket write copies straight from the page cache, with no
/// read() copy in between.
class MappedFile {
 public:
  /// nullptr when the file cannot be opened or mapped (`size` 0 maps nothing).
  static std::shared_ptr<const MappedFile> Open(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat sb {};
    if (::fstat(fd, &sb) != 0) {
      ::close(fd);
      return nullptr;
    }
    auto size = static_cast<size_t>(sb.st_size);
    const int64_t mtime_ns = int64_t{sb.st_mtim.tv_sec} * 1000000000 + sb.st_mtim.tv_nsec;
    void* data = nullptr;
    if (size > 0) {
      data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        ::close(fd);
        return nullptr;
      }
      ::madvise(data, size, MADV_SEQUENTIAL);
    }
    ::close(fd);  // the mapping keeps the file alive
    return std::shared_ptr<const MappedFile>(
        new MappedFile(static_cast<const char*>(data), size, mtime_ns));
  }
  ~MappedFile() {
    if (size_ > 0) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  int64_t mtime_ns() const { return mtime_ns_; }
  std::string_view bytes() const { return {data_, size_}; }

 private:
  MappedFile(const char* data, size_t size, int64_t mtime_ns)
      : data_(data), size_(size), mtime_ns_(mtime_ns) {}
  const char* data_;
  size_t size_;
  int64_t mtime_ns_;
};

/// Streams `path` (the engine honours Range). The ETag is the quoted MD5 of exactly the
/// bytes being sent (the opened file's version, hashed once per version by `digests`), so a swap
/// between the manifest and the download shows up as a different ETag, never as wrong bytes.
void ServeFile(const RouteInput& in, http::Response& res, service::FileDigestCache& digests,
               const Result<service::DownloadTarget>& target) {
  if (!target.ok()) return WriteServiceError(res, target.status(), in.context().request_id);
  const std::filesystem::path& path = target->path;
  const std::string& filename = target->filename;
  auto file = MappedFile::Open(path);
  if (!file) {
    return WriteError(res, NotFound("data file '" + filename + "' is missing"),
                      in.context().request_id);
  }
  const std::string etag = "\"" + digests.Md5Of(path, static_cast<int64_t>(file->size()),
                                                 file->mtime_ns(), file->bytes()) + "\"";
  res.SetHeader("ETag", etag);
  res.SetHeader("Accept-Ranges", "bytes");
  if (in.Header("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.SetHeader("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  // Zero-copy: the engine writes straight from the mapping, which lives until the answer is sent.
  const std::string_view bytes = file->bytes();
  res.SetBodyView(std::move(file), bytes, "application/octet-stream");
}

}  // namespace

void RegisterDataRoutes(Router& r, AppContext& ctx) {
  service::DistributionService& distribution = ctx.services->distribution;
  JsonRoutes routes(r);
  routes.Raw("GET", "/api/data/{id}/download", AccessLevel::kAuthenticated,
             [&distribution](const RouteInput& in, http::Response& res) {
               ServeFile(in, res, distribution.digests(),
                         distribution.Download(in.caller(), {in.Path("id")}));
             });
  routes.Raw("GET", "/api/data/{id}/files/{name}", AccessLevel::kAuthenticated,
             [&distribution](const RouteInput& in, http::Response& res) {
               ServeFile(in, res, distribution.digests(),
                         distribution.File(in.caller(), {in.Path("id"), in.Path("name")}));
             });
}

}  // namespace da::server
