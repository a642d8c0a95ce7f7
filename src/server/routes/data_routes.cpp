// Parquet downloads: GET /api/data/{id}/download (a one-file table) and
// GET /api/data/{id}/files/{name} (one file of a partitioned or streamed table; decisions.md §4).
// ETag = content MD5 (If-None-Match → 304), byte ranges honoured.
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "common/identifiers.h"
#include "server/app.h"

namespace da::server {
namespace {

/// The registered table `id` if the caller may see it; otherwise writes 404/403 and returns
/// nullopt.
std::optional<state::TableRecord> VisibleTable(AppContext& ctx, const RequestContext& rc,
                                               const std::string& id, httplib::Response& res) {
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
  if (t->query_mode == "remote") {
    WriteError(res, NotFound("table '" + id + "' is queried remotely and has no data to download"),
               rc.request_id);
    return std::nullopt;
  }
  return *t;
}

/// Streams `path` with `etag` (a quoted MD5). The file is opened first, so a later swap of the
/// file cannot change the bytes being sent.
void ServeFile(const RequestContext& rc, const httplib::Request& req, httplib::Response& res,
               const std::filesystem::path& path, const std::string& etag,
               const std::string& filename) {
  std::shared_ptr<FILE> file(std::fopen(path.c_str(), "rb"), [](FILE* f) {
    if (f) std::fclose(f);
  });
  if (!file) {
    return WriteError(res, NotFound("data file '" + filename + "' is missing"), rc.request_id);
  }
  struct stat sb {};
  ::fstat(fileno(file.get()), &sb);
  auto size = static_cast<size_t>(sb.st_size);
  res.set_header("ETag", etag);
  res.set_header("Accept-Ranges", "bytes");
  if (req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.set_header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  res.set_content_provider(size, "application/octet-stream",
                           [file](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::vector<char> buf(std::min<size_t>(length, 1 << 20));
                             if (std::fseek(file.get(), static_cast<long>(offset), SEEK_SET) != 0) {
                               return false;
                             }
                             size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
                             if (n == 0) return false;
                             return sink.write(buf.data(), n);
                           });
}

}  // namespace

void RegisterDataRoutes(Router& r, AppContext& ctx) {
  r.Get(R"(/api/data/([^/]+)/download)", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const httplib::Request& req, httplib::Response& res) {
          auto t = VisibleTable(ctx, rc, req.matches[1], res);
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
          ServeFile(rc, req, res, ctx.ParquetPath(*t), "\"" + (*st)->md5 + "\"",
                    t->id + ".parquet");
        });

  r.Get(R"(/api/data/([^/]+)/files/([^/]+))", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const httplib::Request& req, httplib::Response& res) {
          auto t = VisibleTable(ctx, rc, req.matches[1], res);
          if (!t) return;
          std::string name = req.matches[2];
          if (!IsDataFileName(name)) {
            return WriteError(res, NotFound("table '" + t->id + "' has no file '" +
                                            name.substr(0, 80) + "'"),
                              rc.request_id);
          }
          auto f = ctx.digests.Describe(ctx.PartitionDir(*t) / name);
          if (!f.ok()) {
            return WriteError(res, NotFound("table '" + t->id + "' has no file '" + name + "'"),
                              rc.request_id);
          }
          ServeFile(rc, req, res, f->path, "\"" + f->md5 + "\"", name);
        });
}

}  // namespace da::server
