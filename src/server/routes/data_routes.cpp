// Parquet downloads: GET /api/data/{id}/download (a one-file table) and
// GET /api/data/{id}/files/{name} (one file of a partitioned or streamed table; decisions.md §4).
// ETag = content MD5 (If-None-Match → 304), byte ranges honoured.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "common/identifiers.h"
#include "server/app.h"

namespace da::server {
namespace {

/// The registered table `id` if the caller may see it; otherwise writes 404/403 and returns
/// nullopt.
std::optional<model::TableSpec> VisibleTable(AppContext& ctx, const RequestContext& rc,
                                               const std::string& id, http::Response& res) {
  if (!IsQuotedIdentifier(id)) {
    WriteError(res, NotFound("table '" + id.substr(0, 80) + "' not found"), rc.request_id);
    return std::nullopt;
  }
  auto t = ctx.registry->Get(id);
  if (!t.ok()) {
    WriteError(res, t.status(), rc.request_id);
    return std::nullopt;
  }
  // We follow the reference: 404 when unknown, 403 when not granted.
  if (!ctx.access.CanSeeTable(rc.principal, *t)) {
    WriteError(res, PermissionDenied("access denied to table '" + id + "'"), rc.request_id);
    return std::nullopt;
  }
  if (!t->IsStored()) {
    WriteError(res, NotFound("table '" + id + "' is queried remotely and has no data to download"),
               rc.request_id);
    return std::nullopt;
  }
  return *t;
}

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
void ServeFile(const RequestContext& rc, const http::Request& req, http::Response& res,
               FileDigestCache& digests, const std::filesystem::path& path,
               const std::string& filename) {
  auto file = MappedFile::Open(path);
  if (!file) {
    return WriteError(res, NotFound("data file '" + filename + "' is missing"), rc.request_id);
  }
  const std::string etag = "\"" + digests.Md5Of(path, static_cast<int64_t>(file->size()),
                                                 file->mtime_ns(), file->bytes()) + "\"";
  res.SetHeader("ETag", etag);
  res.SetHeader("Accept-Ranges", "bytes");
  if (req.Header("If-None-Match") == etag) {
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
  r.Get("/api/data/{id}/download", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          auto t = VisibleTable(ctx, rc, req.PathParam("id"), res);
          if (!t) return;
          auto st = ctx.sync_state->Get(t->id);
          if (!st.ok()) return WriteError(res, st.status(), rc.request_id);
          if (!st->has_value() || (*st)->md5.empty()) {
            std::string why = ListDataFiles(ctx.PartitionDir(*t), ctx.digests).empty()
                                  ? "has no data to download"
                                  : "is stored as several files: download the `files` the "
                                    "manifest lists";
            return WriteError(res, NotFound("table '" + t->id + "' " + why), rc.request_id);
          }
          ServeFile(rc, req, res, ctx.digests, ctx.ParquetPath(*t), t->id + ".parquet");
        });

  r.Get("/api/data/{id}/files/{name}", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
          auto t = VisibleTable(ctx, rc, req.PathParam("id"), res);
          if (!t) return;
          std::string name = req.PathParam("name");
          if (!IsDataFileName(name)) {
            return WriteError(res, NotFound("table '" + t->id + "' has no file '" +
                                            name.substr(0, 80) + "'"),
                              rc.request_id);
          }
          const auto path = ctx.PartitionDir(*t) / name;
          std::error_code ec;
          if (!std::filesystem::is_regular_file(path, ec)) {
            return WriteError(res, NotFound("table '" + t->id + "' has no file '" + name + "'"),
                              rc.request_id);
          }
          ServeFile(rc, req, res, ctx.digests, path, name);
        });
}

}  // namespace da::server
