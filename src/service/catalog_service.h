#pragma once
/// Catalog use cases: what tables the caller may see and what is in them.
///
/// GET /api/catalog/tables (v1, cached per caller), /api/v2/catalog, /api/v2/schema/{id},
/// /api/v2/sample/{id}?n= and /api/catalog/profile/{id}[?refresh=true]; and the post-sync
/// profiling hook. Every answer lists or shows only tables the caller may see (TableAccess:
/// 404 unknown id, 403 not visible).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "service/caller.h"
#include "service/context.h"
#include "service/requests.h"
#include "service/table_access.h"
#include "state/sync_state.h"
#include "sync/profiler.h"

namespace da::service {

/// One table of /api/v2/catalog.
struct CatalogEntry {
  model::TableSpec table;
  std::optional<state::SyncStateRow> sync_state;
  bool published = false;
  std::optional<size_t> column_count;   ///< set when published
  std::optional<std::string> schema_hash;
};
struct CatalogAnswer {
  std::vector<CatalogEntry> tables;
  std::string server_time;  ///< ISO-8601 UTC
};
/// {tables: [{id, name, description, source_type, query_mode, rows, size_bytes, updated, status,
/// published, column_count, schema_hash}], count, server_time}
nlohmann::json ToJson(const CatalogAnswer& a);

struct SchemaAnswer {
  model::TableSpec table;
  std::vector<sync::ColumnInfo> columns;
};
/// {id, name, query_mode, columns: [{name, type, nullable}], schema_hash}
nlohmann::json ToJson(const SchemaAnswer& a);

/// /api/v2/sample/{id}?n=: `n` is 1..1000 (default 5).
struct SampleRequest {
  std::string id;
  int64_t n = 5;
};
struct SampleAnswer {
  model::TableSpec table;
  int64_t n = 0;
  std::vector<std::string> column_names;
  std::vector<std::string> column_types;
  nlohmann::json rows;  ///< [[cell...]...], cells as db::CellToJson
};
/// {id, name, n, columns, types, rows, row_count}
nlohmann::json ToJson(const SampleAnswer& a);

/// /api/catalog/profile/{id}?refresh=: refresh (admins only) profiles the table first.
struct ProfileRequest {
  std::string id;
  bool refresh = false;
};
struct ProfileAnswer {
  std::string table_id;
  std::string profiled_at;
  nlohmann::json profile;  ///< the profiler's document (sync/profiler.h)
};
/// The profile document plus `table_id` and `profiled_at`.
nlohmann::json ToJson(const ProfileAnswer& a);

inline constexpr int64_t kDefaultSampleRows = 5;
inline constexpr int64_t kMaxSampleRows = 1000;

class CatalogService {
 public:
  explicit CatalogService(const ServiceContext& ctx) : ctx_(ctx), access_(ctx.registry, ctx.access) {}

  /// GET /api/catalog/tables: {"tables": [{id, name, description, source_type, query_mode,
  /// published, rows, size_bytes, updated, status, error}]}, encoded once per caller and kept
  /// while neither the state DB nor the published view set changed.
  Result<EncodedJson> Tables(const Caller& caller);
  /// GET /api/v2/catalog.
  Result<CatalogAnswer> Catalog(const Caller& caller);
  /// GET /api/v2/schema/{id}: not_found naming the table when it has no published view.
  Result<SchemaAnswer> Schema(const Caller& caller, const TableIdRequest& request);
  /// GET /api/v2/sample/{id}: the first `n` rows of the view.
  Result<SampleAnswer> Sample(const Caller& caller, const SampleRequest& request);
  /// GET /api/catalog/profile/{id}: the stored profile; not_found when never profiled;
  /// permission_denied "refresh=true needs an admin" for a non-admin refresh.
  Result<ProfileAnswer> Profile(const Caller& caller, const ProfileRequest& request);

  /// The post-sync hook: profiles the given tables on a fresh analytics reader and stores the
  /// profiles. Skips remote and unpublished tables; returns the first failure with context
  /// naming the failed ids. Blocks for seconds per million rows: call it from the sync
  /// worker, not a request thread.
  Status ProfileSyncedTables(const std::vector<std::string>& table_ids);

 private:
  using ViewColumns = std::map<std::string, std::vector<sync::ColumnInfo>>;
  std::shared_ptr<const ViewColumns> AllPublishedColumns();

  /// The v1 answer per caller (user id + admin flag), keyed by the generations it was built at.
  struct CachedTables {
    uint64_t db_generation = 0;
    uint64_t publish_generation = 0;
    std::shared_ptr<const std::string> body;
  };

  ServiceContext ctx_;
  TableAccess access_;
  std::mutex tables_mu_;
  std::map<std::string, CachedTables> tables_cache_;
  std::mutex columns_mu_;
  uint64_t columns_generation_ = 0;
  std::shared_ptr<const ViewColumns> columns_;
};

}  // namespace da::service
