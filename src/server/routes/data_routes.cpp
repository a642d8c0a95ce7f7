// GET /api/data/{id}/download — the Parquet bytes of one table, ETag = content MD5, ranges honoured.
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "common/identifiers.h"
#include "server/app.h"

namespace da::server {

void RegisterDataRoutes(Router& r, AppContext& ctx) {
  r.Get(R"(/api/data/([^/]+)/download)", AccessLevel::kAuthenticated,
        [&ctx](const RequestContext& rc, const httplib::Request& req, httplib::Response& res) {
          std::string id = req.matches[1];
          if (!IsQuotedIdentifier(id)) {
            return WriteError(res, NotFound("table '" + id.substr(0, 80) + "' not found"),
                              rc.request_id);
          }
          auto t = ctx.registry->Get(id);
          if (!t.ok() || !ctx.access.CanSeeTable(rc.principal, *t)) {
            // Same answer for "absent" and "not yours" would hide existence; we follow the
            // reference: 404 when unknown, 403 when not granted.
            if (!t.ok()) return WriteError(res, t.status(), rc.request_id);
            return WriteError(res, PermissionDenied("access denied to table '" + id + "'"),
                              rc.request_id);
          }
          auto st = ctx.sync_state->Get(id);
          if (!st.ok()) return WriteError(res, st.status(), rc.request_id);
          if (!st->has_value() || (*st)->md5.empty() || t->query_mode == "remote") {
            return WriteError(res, NotFound("table '" + id + "' has no data to download"),
                              rc.request_id);
          }
          std::string etag = "\"" + (*st)->md5 + "\"";
          // Open first: a later swap of the file cannot change the bytes we stream.
          std::shared_ptr<FILE> file(std::fopen(ctx.ParquetPath(*t).c_str(), "rb"),
                                     [](FILE* f) { if (f) std::fclose(f); });
          if (!file) {
            return WriteError(res, NotFound("data file of table '" + id + "' is missing"),
                              rc.request_id);
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
          res.set_header("Content-Disposition", "attachment; filename=\"" + id + ".parquet\"");
          res.set_content_provider(
              size, "application/octet-stream",
              [file](size_t offset, size_t length, httplib::DataSink& sink) {
                std::vector<char> buf(std::min<size_t>(length, 1 << 20));
                if (std::fseek(file.get(), static_cast<long>(offset), SEEK_SET) != 0) return false;
                size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
                if (n == 0) return false;
                return sink.write(buf.data(), n);
              });
        });
}

}  // namespace da::server
