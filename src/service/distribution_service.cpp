#include "service/distribution_service.h"

#include "common/identifiers.h"
#include "common/time_util.h"

namespace da::service {

nlohmann::json ToJson(const ManifestAnswer& a) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& m : a.tables) {
    const auto& t = m.table;
    nlohmann::json e = {{"id", t.id},
                        {"name", t.name},
                        {"query_mode", t.query_mode},
                        {"source_type", t.source_type},
                        {"md5", m.md5},
                        {"size_bytes", m.size_bytes},
                        {"rows", m.rows},
                        {"updated", m.updated.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(m.updated)}};
    if (!m.files.empty()) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& f : m.files) {
        list.push_back({{"name", f.name},
                        {"md5", f.md5},
                        {"size_bytes", f.size_bytes},
                        {"download_url", "/api/data/" + t.id + "/files/" + f.name}});
      }
      e["files"] = std::move(list);
    } else if (t.IsStored()) {
      e["download_url"] = "/api/data/" + t.id + "/download";
    }
    tables.push_back(std::move(e));
  }
  return {{"server_time", a.server_time}, {"tables", tables}};
}

Result<ManifestAnswer> DistributionService::Manifest(const Caller& caller) {
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> visible,
                      access_.VisibleTables(caller.principal));
  ManifestAnswer out;
  for (auto& t : visible) {
    DA_ASSIGN_OR_RETURN(auto st, ctx_.sync_state.Get(t.id));
    const bool is_remote = !t.IsStored();
    // Partitioned and streamed tables are several files (decisions.md §4).
    std::vector<DataFile> files;
    if (!is_remote) files = ListDataFiles(PartitionDir(ctx_.config, t), digests_);
    const bool synced = st.has_value() && !st->last_sync.empty();
    const bool has_data = files.empty() ? st.has_value() && !st->md5.empty() : true;
    if (!is_remote && !has_data) continue;
    ManifestEntry e;
    e.md5 = has_data && st.has_value() ? st->md5 : "";
    e.size_bytes = has_data && st.has_value() ? st->size_bytes : 0;
    if (!files.empty()) {
      e.md5 = CombinedMd5(files);
      e.size_bytes = 0;
      for (const auto& f : files) e.size_bytes += f.size_bytes;
    }
    e.rows = synced ? st->rows : 0;
    e.updated = synced ? st->last_sync : "";
    e.files = std::move(files);
    e.table = std::move(t);
    out.tables.push_back(std::move(e));
  }
  out.server_time = NowIso();
  return out;
}

Result<model::TableSpec> DistributionService::DownloadableTable(const Caller& caller,
                                                                  const std::string& id) {
  DA_ASSIGN_OR_RETURN(model::TableSpec t, access_.Visible(caller.principal, id));
  if (!t.IsStored()) {
    return NotFound("table '" + id + "' is queried remotely and has no data to download");
  }
  return t;
}

Result<DownloadTarget> DistributionService::Download(const Caller& caller,
                                                     const TableIdRequest& request) {
  DA_ASSIGN_OR_RETURN(model::TableSpec t, DownloadableTable(caller, request.id));
  DA_ASSIGN_OR_RETURN(auto st, ctx_.sync_state.Get(t.id));
  if (!st.has_value() || st->md5.empty()) {
    std::string why = ListDataFiles(PartitionDir(ctx_.config, t), digests_).empty()
                          ? "has no data to download"
                          : "is stored as several files: download the `files` the manifest lists";
    return NotFound("table '" + t.id + "' " + why);
  }
  return DownloadTarget{ParquetPath(ctx_.config, t), t.id + ".parquet"};
}

Result<DownloadTarget> DistributionService::File(const Caller& caller,
                                                 const DataFileRequest& request) {
  DA_ASSIGN_OR_RETURN(model::TableSpec t, DownloadableTable(caller, request.id));
  const std::string& name = request.name;
  if (!IsDataFileName(name)) {
    return NotFound("table '" + t.id + "' has no file '" + name.substr(0, 80) + "'");
  }
  auto path = PartitionDir(ctx_.config, t) / name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("table '" + t.id + "' has no file '" + name + "'");
  }
  return DownloadTarget{std::move(path), name};
}

}  // namespace da::service
