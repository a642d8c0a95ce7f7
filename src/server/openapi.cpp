#include "server/openapi.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace da::server {
namespace {

using J = nlohmann::json;

// ------------------------------------------------------------------ JSON Schema shorthands

J Str(const std::string& description = "") {
  J s = {{"type", "string"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
J Enum(std::vector<std::string> values, const std::string& description = "") {
  J s = Str(description);
  s["enum"] = std::move(values);
  return s;
}
J Int(const std::string& description = "") {
  J s = {{"type", "integer"}, {"format", "int64"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
J Num(const std::string& description = "") {
  J s = {{"type", "number"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
J Bool(const std::string& description = "") {
  J s = {{"type", "boolean"}};
  if (!description.empty()) s["description"] = description;
  return s;
}
J Arr(J items, const std::string& description = "") {
  J s = {{"type", "array"}, {"items", std::move(items)}};
  if (!description.empty()) s["description"] = description;
  return s;
}
J Nullable(J s) {
  s["nullable"] = true;
  return s;
}
/// Any JSON value (OpenAPI 3.0: a schema without `type`).
J Any(const std::string& description) { return {{"description", description}}; }
J Ref(const std::string& component) { return {{"$ref", "#/components/schemas/" + component}}; }
J Obj(std::vector<std::pair<std::string, J>> properties, std::vector<std::string> required = {},
      const std::string& description = "") {
  J props = J::object();
  for (auto& [k, v] : properties) props[k] = std::move(v);
  J s = {{"type", "object"}, {"properties", std::move(props)}};
  if (!required.empty()) s["required"] = std::move(required);
  if (!description.empty()) s["description"] = description;
  return s;
}

ResponseDoc Ok(int status, const std::string& description, J schema) {
  return {status, description, std::move(schema), "application/json"};
}
ResponseDoc Err(int status, const std::string& description) {
  return {status, description, Ref("Error"), "application/json"};
}
ParamDoc PathId(const std::string& description = "table id (the registry key)") {
  return {"id", "path", "string", true, description};
}

// ---------------------------------------------------------------------- shared components

J ErrorSchema() {
  return Obj({{"error", Obj({{"code", Str("machine-readable code, e.g. not_found, invalid_argument")},
                             {"message", Str("human-readable message with context")},
                             {"request_id", Str("also in the X-Request-ID response header")}},
                            {"code", "message", "request_id"})}},
             {"error"}, "The one error shape (decisions.md §11).");
}

constexpr const char* kScheduleForms =
    "every <N>m|h|d, daily HH:MM[,...] (UTC), a 5-field cron expression or @hourly/@daily/"
    "@weekly/@monthly/@yearly; empty = manual";

J TableRecordSchema() {
  return Obj({{"id", Str("canonical key")},
              {"name", Str("view name")},
              {"description", Str()},
              {"source_type", Str("connector, e.g. files")},
              {"bucket", Str()},
              {"source_table", Str()},
              {"source_query", Str()},
              {"query_mode", Enum({"local", "materialized", "remote"})},
              {"sync_strategy", Enum({"full_refresh", "incremental", "partitioned"})},
              {"sync_schedule", Str(kScheduleForms)},
              {"schema_policy", Enum({"evolve", "freeze"})},
              {"primary_key", Arr(Str())},
              {"incremental_column", Str()},
              {"partition_by", Str()},
              {"partition_granularity", Str()},
              {"registered_by", Str()},
              {"registered_at", Str()},
              {"updated_at", Str()},
              {"version", Int("optimistic-lock version")},
              {"sync_state",
               Nullable(Obj({{"last_sync", Str("ISO-8601 UTC of the last successful extraction")},
                             {"rows", Int()},
                             {"size_bytes", Int()},
                             {"md5", Str()},
                             {"status", Enum({"ok", "error"})},
                             {"error", Str()}}))},
              {"last_schema_change",
               Nullable(Obj({{"added", Arr(Obj({{"name", Str()}, {"type", Str()}}))},
                             {"removed", Arr(Obj({{"name", Str()}, {"type", Str()}}))},
                             {"retyped", Arr(Obj({{"name", Str()}, {"from", Str()}, {"to", Str()}}))},
                             {"synced_at", Str()},
                             {"run_id", Str()},
                             {"status", Str()}},
                            {}, "GET /api/admin/registry/{id} only: the newest recorded change"))}},
             {"id", "name", "source_type"});
}

J RegistrationSchema() {
  return Obj({{"name", Str("view name ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")},
              {"id", Str("default: name lower-cased")},
              {"source_type", Str("a known connector")},
              {"source_table", Str("connector-specific (files: path or glob)")},
              {"description", Str()},
              {"bucket", Str()},
              {"source_query", Str()},
              {"sync_schedule", Str(kScheduleForms)},
              {"schema_policy", Enum({"evolve", "freeze"})},
              {"query_mode", Enum({"local", "materialized", "remote"})},
              {"sync_strategy", Enum({"full_refresh", "incremental", "partitioned"})},
              {"primary_key", Arr(Str())},
              {"incremental_column", Str()},
              {"partition_by", Str()},
              {"partition_granularity", Enum({"day", "month", "year"})},
              {"version", Int("PUT only: expected version (mismatch → 409)")}},
             {"name", "source_type"});
}

J RunSchema() {
  return Obj(
      {{"run_id", Str()},
       {"status", Enum({"running", "ok", "partial", "error", "cancelled", "interrupted"})},
       {"trigger", Enum({"manual", "schedule"})},
       {"requested_by", Str("user email or scheduler")},
       {"started_at", Str("ISO-8601 UTC")},
       {"finished_at", Str("ISO-8601 UTC; empty while running")},
       {"duration_ms", Int()},
       {"tables_requested", Arr(Str())},
       {"message", Str("why cancelled or interrupted")},
       {"counts", Obj({{"synced", Int()}, {"skipped", Int()}, {"error", Int()}, {"pending", Int()}})},
       {"tables", Arr(Obj({{"table_id", Str()},
                           {"status", Enum({"synced", "skipped", "error"})},
                           {"reason", Str("skip reason or error message")},
                           {"rows", Int()},
                           {"size_bytes", Int()},
                           {"duration_ms", Int()},
                           {"started_at", Str()},
                           {"finished_at", Str()}}),
                      "per-table outcomes (absent in run lists)")}},
      {"run_id", "status"});
}

J HealthSchema() {
  return Obj({{"status", Enum({"ok", "unhealthy"})},
              {"db_schema", Enum({"ok", "mismatch", "unreachable"})},
              {"current", Int("applied state DB schema version")},
              {"expected", Int("schema version this binary expects")},
              {"detail", Str("why unreachable")}},
             {"status", "db_schema", "expected"});
}

J HealthDetailSchema() {
  return Obj(
      {{"status", Enum({"healthy", "degraded", "unhealthy"},
                       "unhealthy: schema not ok; degraded: stale or never-synced tables, or "
                       "free disk < 5%")},
       {"version", Str("da version")},
       {"timestamp", Str("ISO-8601 UTC")},
       {"schema", Obj({{"db_schema", Enum({"ok", "mismatch", "unreachable"})},
                       {"current", Nullable(Int())},
                       {"expected", Int()}})},
       {"data", Obj({{"tables", Int("registered tables that extract data (query_mode != remote)")},
                     {"stale_after_hours", Num()},
                     {"stale_tables", Arr(Obj({{"id", Str()}, {"last_sync", Str()}, {"age_seconds", Int()}}))},
                     {"never_synced", Arr(Str("table id"))},
                     {"error_tables", Arr(Obj({{"id", Str()}, {"error", Str()}}),
                                          "tables whose last extraction failed")}})},
       {"last_run", Nullable(Ref("Run"))},
       {"disk", Obj({{"path", Str("the data directory")},
                     {"free_bytes", Int("available to the server process")},
                     {"total_bytes", Int()},
                     {"free_pct", Num()}})},
       {"checks", Obj({{"schema", Str()}, {"data", Str()}, {"disk", Str()}},
                      {}, "per check: ok | warning | error")}},
      {"status", "version", "schema", "data", "last_run", "disk"});
}

J CatalogTableSchema() {
  return Obj({{"id", Str()},
              {"name", Str()},
              {"description", Str()},
              {"source_type", Str()},
              {"query_mode", Str()},
              {"published", Bool("a view exists for it")},
              {"rows", Nullable(Int())},
              {"size_bytes", Nullable(Int())},
              {"updated", Nullable(Str("last successful sync"))},
              {"status", Enum({"ok", "error", "never_synced"})},
              {"error", Str()}});
}

// ----------------------------------------------------------------------------- the table

std::vector<EndpointDoc> MakeEndpoints() {
  std::vector<EndpointDoc> e;
  const auto kPublic = AccessLevel::kPublic;
  const auto kAuth = AccessLevel::kAuthenticated;
  const auto kAdmin = AccessLevel::kAdmin;
  const ResponseDoc k401 = Err(401, "missing or invalid bearer token");
  const ResponseDoc k403 = Err(403, "admin access required");

  // Health
  e.push_back({"GET", "/api/health", kPublic, "Health", "Liveness and state DB schema check",
               "200 when the state DB schema is the expected version, 503 otherwise (same body).",
               {}, nullptr,
               {Ok(200, "healthy", HealthSchema()), Ok(503, "unhealthy", HealthSchema())}});
  e.push_back({"GET", "/api/health/detailed", kAuth, "Health",
               "Schema, data freshness, last sync run and free disk",
               "Stale = last successful sync older than stale_after_hours (config, default 24). "
               "HTTP 503 only when unhealthy.",
               {}, nullptr,
               {Ok(200, "healthy or degraded", HealthDetailSchema()),
                Ok(503, "unhealthy", HealthDetailSchema()), k401}});

  // Operations
  e.push_back({"GET", "/metrics", kPublic, "Operations", "Prometheus metrics",
               "Text format 0.0.4: da_http_requests_total{route,method,status}, "
               "da_http_request_duration_seconds{route} (histogram), da_sync_runs_total{status}, "
               "da_sync_table_outcomes_total{status}, da_rows_extracted_total, "
               "da_bytes_extracted_total, da_table_last_sync_timestamp_seconds{table_id}, "
               "da_table_freshness_seconds{table_id}, da_sync_in_progress, da_tables_registered, "
               "da_build_info{version}. Routes are labelled by pattern, not raw path.",
               {}, nullptr,
               {{200, "metrics", Str("Prometheus exposition text"),
                 "text/plain; version=0.0.4"}}});
  e.push_back({"GET", "/openapi.json", kPublic, "Operations", "This API as OpenAPI 3.0", "", {},
               nullptr, {Ok(200, "the OpenAPI document", Obj({{"openapi", Str()}, {"paths", Any("operations")}}))}});
  e.push_back({"GET", "/docs", kPublic, "Operations", "API reference page",
               "Self-contained HTML rendered from the same description table as /openapi.json.",
               {}, nullptr, {{200, "HTML page", Str(), "text/html"}}});

  // Registry
  e.push_back({"POST", "/api/admin/register-table", kAdmin, "Registry", "Register a table", "", {},
               RegistrationSchema(),
               {Ok(201, "registered", Ref("TableRecord")), Err(400, "malformed JSON"),
                Err(409, "id or name already registered"), Err(422, "invalid field"), k401, k403}});
  e.push_back({"GET", "/api/admin/registry", kAdmin, "Registry", "List registered tables", "", {},
               nullptr,
               {Ok(200, "all tables with their sync state",
                   Obj({{"tables", Arr(Ref("TableRecord"))}}, {"tables"})),
                k401, k403}});
  e.push_back({"GET", "/api/admin/registry/{id}", kAdmin, "Registry", "One registered table", "",
               {PathId()}, nullptr,
               {Ok(200, "the table", Ref("TableRecord")), Err(404, "unknown id"), k401, k403}});
  e.push_back({"PUT", "/api/admin/registry/{id}", kAdmin, "Registry", "Update a table",
               "Send only the fields to change; `version` for optimistic locking.", {PathId()},
               RegistrationSchema(),
               {Ok(200, "updated", Ref("TableRecord")), Err(404, "unknown id"),
                Err(409, "version mismatch"), Err(422, "invalid field"), k401, k403}});
  e.push_back({"DELETE", "/api/admin/registry/{id}", kAdmin, "Registry", "Unregister a table",
               "Removes its Parquet, sync state, history and view.", {PathId()}, nullptr,
               {Ok(200, "deleted", Obj({{"deleted", Str("table id")}}, {"deleted"})),
                Err(404, "unknown id"), Err(409, "a sync is running"), k401, k403}});

  e.push_back(
      {"POST", "/api/admin/discover-and-register", kAdmin, "Registry",
       "Discover a source's tables and register the new ones",
       "Classes every discovered table as new, existing_match, existing_drift (same id with other "
       "coordinates, or same name under another id; both sides shown, never overwritten) or "
       "invalid. Registers only new tables, never on a dry run; a body {\"tables\": [ids]} limits "
       "registration to those ids.",
       {{"dry_run", "query", "boolean", false, "true|false, default false"},
        {"source", "query", "string", false, "connector name, default keboola"}},
       Any("null | {\"tables\": [\"id\", ...]}"),
       {Ok(200, "the plan and what was registered",
           Obj({{"source", Str()},
                {"dry_run", Bool()},
                {"summary", Any("counts per class")},
                {"plan", Arr(Any("{class, id, name, bucket, source_table, reason?, discovered, existing?}"))},
                {"registered", Arr(Str("table id"))},
                {"errors", Arr(Any("{id, error}"))}})),
        Err(404, "unknown connector"), Err(409, "the connector cannot discover"),
        Err(422, "bad dry_run, source or body"), Err(502, "the source refused or is unreachable"),
        k401, k403}});
  e.back().request_body_required = false;

  // Sync
  e.push_back(
      {"POST", "/api/sync/trigger", kAdmin, "Sync", "Start a sync run",
       "Body: absent/null → every table; a JSON array of ids; or {\"tables\": [...]}. Explicit ids "
       "ignore schedules.",
       {}, Any("null | [\"id\", ...] | {\"tables\": [\"id\", ...]}"),
       {Ok(202, "started",
           Obj({{"status", Enum({"triggered"})},
                {"run_id", Str()},
                {"tables", Any("\"all\" or the list of ids")},
                {"message", Str()}})),
        Err(404, "unknown table ids (nothing started)"), Err(409, "sync_already_in_progress"),
        Err(422, "bad body shape"), k401, k403}});
  e.back().request_body_required = false;
  e.push_back({"GET", "/api/sync/status", kPublic, "Sync", "Whether a run is going", "", {}, nullptr,
               {Ok(200, "lock state", Obj({{"locked", Bool()}}, {"locked"}))}});
  e.push_back({"GET", "/api/sync/runs/latest", kAuth, "Sync", "The current or last run", "", {},
               nullptr, {Ok(200, "the run", Ref("Run")), Err(404, "no run yet"), k401}});
  e.push_back({"GET", "/api/sync/runs", kAdmin, "Sync", "Sync runs, newest first", "",
               {{"limit", "query", "integer", false, "1..500, default 20"}}, nullptr,
               {Ok(200, "runs without per-table outcomes", Obj({{"runs", Arr(Ref("Run"))}}, {"runs"})),
                Err(422, "bad limit"), k401, k403}});
  e.push_back({"GET", "/api/sync/runs/{id}", kAdmin, "Sync", "One run with per-table outcomes", "",
               {PathId("run id")}, nullptr,
               {Ok(200, "the run", Ref("Run")), Err(404, "unknown run"), k401, k403}});
  e.push_back({"POST", "/api/sync/runs/{id}/cancel", kAdmin, "Sync", "Cancel a running run",
               "Kills the extraction's process group; previous data keeps serving.",
               {PathId("run id")}, nullptr,
               {Ok(200, "the run as it ended (cancelled)", Ref("Run")), Err(404, "unknown run"),
                Err(409, "the run already finished"), k401, k403}});
  e.push_back(
      {"GET", "/api/sync/manifest", kAuth, "Sync", "What an analyst can download",
       "Tables the caller may see that have data (and remote ones).", {}, nullptr,
       {Ok(200, "manifest",
           Obj({{"server_time", Str()},
                {"tables", Arr(Obj({{"id", Str()},
                                    {"name", Str()},
                                    {"query_mode", Str()},
                                    {"source_type", Str()},
                                    {"md5", Str("MD5 of the Parquet bytes; for a multi-file "
                                                "table, MD5 of its \"<name> <md5>\\n\" lines")},
                                    {"size_bytes", Int()},
                                    {"rows", Int()},
                                    {"updated", Nullable(Str())},
                                    {"download_url", Str("one-file tables; absent for remote")},
                                    {"files", Arr(Obj({{"name", Str()},
                                                       {"md5", Str()},
                                                       {"size_bytes", Int()},
                                                       {"download_url", Str()}}))}}))}},
               {"server_time", "tables"})),
        k401}});

  // Data
  e.push_back({"GET", "/api/data/{id}/download", kAuth, "Data", "A table's Parquet bytes",
               "ETag = quoted MD5; If-None-Match → 304; Range: bytes=a-b → 206.",
               {PathId(), {"Range", "header", "string", false, "bytes=a-b"},
                {"If-None-Match", "header", "string", false, "a previous ETag"}},
               nullptr,
               {{200, "Parquet file", Str("binary"), "application/octet-stream"},
                {206, "the requested range", Str("binary"), "application/octet-stream"},
                {304, "not modified", nullptr, ""}, k401,
                Err(403, "caller may not see the table"), Err(404, "unknown id or no data")}});
  e.push_back({"GET", "/api/data/{id}/files/{name}", kAuth, "Data",
               "One Parquet file of a partitioned or streamed table",
               "Names come from the manifest's `files`. ETag = quoted MD5; If-None-Match → 304; "
               "Range: bytes=a-b → 206.",
               {PathId(), {"name", "path", "string", true, "file name, e.g. 2024-03.parquet"},
                {"Range", "header", "string", false, "bytes=a-b"},
                {"If-None-Match", "header", "string", false, "a previous ETag"}},
               nullptr,
               {{200, "Parquet file", Str("binary"), "application/octet-stream"},
                {206, "the requested range", Str("binary"), "application/octet-stream"},
                {304, "not modified", nullptr, ""}, k401,
                Err(403, "caller may not see the table"), Err(404, "unknown id or file")}});

  // Catalog
  e.push_back({"GET", "/api/catalog/tables", kAuth, "Catalog", "Tables the caller may see", "", {},
               nullptr,
               {Ok(200, "tables with sync state", Obj({{"tables", Arr(CatalogTableSchema())}}, {"tables"})),
                k401}});
  e.push_back(
      {"GET", "/api/v2/catalog", kAuth, "Catalog", "Catalog with schema hashes", "", {}, nullptr,
       {Ok(200, "tables the caller may see",
           Obj({{"tables", Arr(Obj({{"id", Str()},
                                    {"name", Str()},
                                    {"description", Str()},
                                    {"query_mode", Str()},
                                    {"source_type", Str()},
                                    {"rows", Nullable(Int())},
                                    {"size_bytes", Nullable(Int())},
                                    {"updated", Nullable(Str())},
                                    {"status", Enum({"ok", "error", "never_synced"})},
                                    {"published", Bool()},
                                    {"column_count", Nullable(Int())},
                                    {"schema_hash", Nullable(Str("MD5 of the canonical column list"))}}))},
                {"count", Int()},
                {"server_time", Str()}},
               {"tables"})),
        k401}});
  e.push_back({"GET", "/api/v2/schema/{id}", kAuth, "Catalog", "Columns of a published table", "",
               {PathId()}, nullptr,
               {Ok(200, "schema",
                   Obj({{"id", Str()},
                        {"name", Str()},
                        {"query_mode", Str()},
                        {"columns", Arr(Obj({{"name", Str()}, {"type", Str()}, {"nullable", Bool()}}))},
                        {"schema_hash", Str()}})),
                k401, Err(403, "caller may not see the table"), Err(404, "unknown id or not published")}});
  e.push_back({"GET", "/api/v2/sample/{id}", kAuth, "Catalog", "First rows of a table", "",
               {PathId(), {"n", "query", "integer", false, "rows, default 5, max 1000"}}, nullptr,
               {Ok(200, "sample",
                   Obj({{"id", Str()},
                        {"name", Str()},
                        {"n", Int()},
                        {"columns", Arr(Str())},
                        {"types", Arr(Str())},
                        {"rows", Arr(Arr(Any("cell")), "up to n rows")},
                        {"row_count", Int()}})),
                Err(422, "bad n"), k401,
                Err(403, "caller may not see the table"), Err(404, "unknown id or not published")}});
  e.push_back(
      {"GET", "/api/catalog/profile/{id}", kAuth, "Catalog", "Column profile of a table",
       "Computed after each successful sync; `refresh=true` (admins) recomputes it now.",
       {PathId(), {"refresh", "query", "boolean", false, "admins: recompute now"}}, nullptr,
       {Ok(200, "profile",
           Obj({{"table_id", Str()},
                {"rows", Int()},
                {"profiled_at", Str()},
                {"columns", Arr(Obj({{"name", Str()},
                                     {"type", Str()},
                                     {"null_count", Int()},
                                     {"null_pct", Num()},
                                     {"approx_distinct", Int()},
                                     {"min", Any("column minimum")},
                                     {"max", Any("column maximum")},
                                     {"mean", Nullable(Num())},
                                     {"stddev", Nullable(Num())},
                                     {"top_values", Arr(Obj({{"value", Any("value")}, {"count", Int()}}))},
                                     {"histogram", Arr(Obj({{"lo", Any("bin start")},
                                                            {"hi", Any("bin end")},
                                                            {"count", Int()}}))}}))}})),
        k401, Err(403, "caller may not see the table / refresh needs admin"),
        Err(404, "unknown id or never profiled")}});

  // Query
  e.push_back(
      {"POST", "/api/query", kAuth, "Query", "Run one read-only SQL statement",
       "A single SELECT over the published views the caller may see, checked by DuckDB's parser; "
       "files, network, extensions, ATTACH and settings are refused. `Accept: text/csv` answers CSV.",
       {{"Accept", "header", "string", false, "application/json (default) or text/csv"}},
       Obj({{"sql", Str("one SELECT statement, at most 100 KB")},
            {"limit", Int("rows to return, default 1000, max 100000")}},
           {"sql"}),
       {Ok(200, "result",
           Obj({{"columns", Arr(Str())},
                {"types", Arr(Str("DuckDB type name"))},
                {"rows", Arr(Arr(Any("cell: number, string, boolean or null")))},
                {"row_count", Int()},
                {"truncated", Bool("more rows than limit")}})),
        Err(400, "invalid or refused SQL (DuckDB's message)"), k401,
        Err(403, "a table the caller may not see"), Err(504, "query time limit exceeded")}});
  AppendAuthEndpoints(&e);
  return e;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string Anchor(const EndpointDoc& ep) {
  std::string a = Lower(ep.method) + "-";
  for (char c : ep.path) a += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  return a;
}

J Components() {
  return {{"Error", ErrorSchema()}, {"TableRecord", TableRecordSchema()}, {"Run", RunSchema()}};
}

}  // namespace

const std::vector<EndpointDoc>& ApiEndpoints() {
  static const std::vector<EndpointDoc> kEndpoints = MakeEndpoints();
  return kEndpoints;
}

std::string AccessName(AccessLevel access) {
  switch (access) {
    case AccessLevel::kPublic: return "public";
    case AccessLevel::kAuthenticated: return "authenticated";
    case AccessLevel::kAdmin: return "admin";
  }
  return "unknown";
}

std::string NormalizeRoutePath(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '(' || c == '{') {
      // Skip to the matching close, allowing nesting (regex groups may contain groups).
      const char open = c;
      const char close = c == '(' ? ')' : '}';
      int depth = 0;
      for (; i < path.size(); ++i) {
        if (path[i] == open) ++depth;
        if (path[i] == close && --depth == 0) break;
      }
      out += "{}";
    } else if (c == '\\' && i + 1 < path.size()) {
      out += path[++i];  // an escaped literal such as \. in a regex
    } else {
      out += c;
    }
  }
  return out;
}

DocDrift CompareWithRoutes(const std::vector<EndpointDoc>& endpoints,
                           const std::vector<RouteInfo>& routes) {
  DocDrift drift;
  std::map<std::string, AccessLevel> documented;
  for (const auto& ep : endpoints) {
    std::string key = ep.method + " " + NormalizeRoutePath(ep.path);
    if (!documented.emplace(key, ep.access).second) drift.duplicates.push_back(key);
  }
  std::set<std::string> registered;
  for (const auto& r : routes) {
    std::string key = r.method + " " + NormalizeRoutePath(r.pattern);
    registered.insert(key);
    auto it = documented.find(key);
    if (it == documented.end()) {
      drift.undocumented.push_back(key);
    } else if (it->second != r.access) {
      drift.access_mismatch.push_back(key + " (registered " + AccessName(r.access) +
                                      ", documented " + AccessName(it->second) + ")");
    }
  }
  for (const auto& [key, access] : documented) {
    if (!registered.count(key)) drift.not_registered.push_back(key);
  }
  return drift;
}

J BuildOpenApi(const std::vector<EndpointDoc>& endpoints, const std::string& version) {
  J paths = J::object();
  std::vector<std::string> tags;
  for (const auto& ep : endpoints) {
    if (std::find(tags.begin(), tags.end(), ep.tag) == tags.end()) tags.push_back(ep.tag);
    J op = {{"summary", ep.summary},
            {"operationId", Anchor(ep)},
            {"tags", {ep.tag}},
            {"x-access", AccessName(ep.access)}};
    if (!ep.description.empty()) op["description"] = ep.description;
    if (ep.access == AccessLevel::kPublic) op["security"] = J::array();
    J params = J::array();
    for (const auto& p : ep.params) {
      J jp = {{"name", p.name}, {"in", p.in}, {"required", p.required || p.in == "path"},
              {"schema", {{"type", p.type}}}};
      if (!p.description.empty()) jp["description"] = p.description;
      params.push_back(std::move(jp));
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (!ep.request_body.is_null()) {
      op["requestBody"] = {{"required", ep.request_body_required},
                           {"content", {{"application/json", {{"schema", ep.request_body}}}}}};
    }
    J responses = J::object();
    for (const auto& r : ep.responses) {
      J jr = {{"description", r.description}};
      if (!r.schema.is_null() && !r.content_type.empty()) {
        jr["content"] = {{r.content_type, {{"schema", r.schema}}}};
      }
      responses[std::to_string(r.status)] = std::move(jr);
    }
    op["responses"] = std::move(responses);
    paths[ep.path][Lower(ep.method)] = std::move(op);
  }
  J tag_list = J::array();
  for (const auto& t : tags) tag_list.push_back({{"name", t}});
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "da API"},
            {"version", version},
            {"description",
             "da: a data platform on embedded DuckDB. Errors: "
             "{\"error\": {\"code\", \"message\", \"request_id\"}}."}}},
          {"tags", std::move(tag_list)},
          {"security", J::array({{{"bearerAuth", J::array()}}})},
          {"paths", std::move(paths)},
          {"components",
           {{"securitySchemes",
             {{"bearerAuth",
               {{"type", "http"},
                {"scheme", "bearer"},
                {"description", "Authorization: Bearer <personal access token>"}}}}},
            {"schemas", Components()}}}};
}

std::string RenderDocsHtml(const std::vector<EndpointDoc>& endpoints, const std::string& version) {
  std::vector<std::string> tags;
  for (const auto& ep : endpoints) {
    if (std::find(tags.begin(), tags.end(), ep.tag) == tags.end()) tags.push_back(ep.tag);
  }
  std::string h;
  h += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>da API reference</title><style>"
       "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}"
       "main{max-width:980px;margin:0 auto;padding:24px}"
       "h1{margin:0 0 4px}h2{margin-top:36px;border-bottom:1px solid #d8dde6}"
       "nav a{margin-right:12px}"
       ".ep{background:#fff;border:1px solid #d8dde6;border-radius:6px;margin:14px 0;padding:12px 16px}"
       ".m{display:inline-block;min-width:62px;text-align:center;font-weight:600;color:#fff;"
       "border-radius:4px;padding:1px 6px;margin-right:8px;font-size:13px}"
       ".GET{background:#2f7d32}.POST{background:#1f5fb8}.PUT{background:#a36200}"
       ".DELETE{background:#b3261e}"
       ".path{font-family:ui-monospace,monospace;font-weight:600}"
       ".acc{float:right;font-size:12px;border:1px solid #aab;border-radius:10px;padding:0 8px}"
       "pre{background:#f3f5f8;padding:8px;overflow-x:auto;font-size:12.5px;border-radius:4px}"
       "table{border-collapse:collapse}td,th{border:1px solid #d8dde6;padding:2px 8px;"
       "text-align:left;font-size:13.5px}"
       "</style></head><body><main>\n";
  h += "<h1>da API reference</h1><p>Version " + HtmlEscape(version) +
       ". Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. Authenticate with "
       "<code>Authorization: Bearer &lt;token&gt;</code>. Errors have one shape: "
       "<code>{\"error\": {\"code\", \"message\", \"request_id\"}}</code>.</p>\n<nav>";
  for (const auto& t : tags) h += "<a href=\"#tag-" + HtmlEscape(t) + "\">" + HtmlEscape(t) + "</a>";
  h += "<a href=\"#schemas\">Schemas</a></nav>\n";
  for (const auto& t : tags) {
    h += "<h2 id=\"tag-" + HtmlEscape(t) + "\">" + HtmlEscape(t) + "</h2>\n";
    for (const auto& ep : endpoints) {
      if (ep.tag != t) continue;
      h += "<section class=\"ep\" id=\"" + HtmlEscape(Anchor(ep)) + "\"><span class=\"acc\">" +
           AccessName(ep.access) + "</span><span class=\"m " + HtmlEscape(ep.method) + "\">" +
           HtmlEscape(ep.method) + "</span><span class=\"path\">" + HtmlEscape(ep.path) +
           "</span><p>" + HtmlEscape(ep.summary) + "</p>";
      if (!ep.description.empty()) h += "<p>" + HtmlEscape(ep.description) + "</p>";
      if (!ep.params.empty()) {
        h += "<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th></th></tr>";
        for (const auto& p : ep.params) {
          h += "<tr><td><code>" + HtmlEscape(p.name) + "</code></td><td>" + HtmlEscape(p.in) +
               "</td><td>" + HtmlEscape(p.type) + "</td><td>" +
               (p.required || p.in == "path" ? "yes" : "no") + "</td><td>" +
               HtmlEscape(p.description) + "</td></tr>";
        }
        h += "</table>";
      }
      if (!ep.request_body.is_null()) {
        h += "<p><b>Request body</b> (application/json)</p><pre>" +
             HtmlEscape(ep.request_body.dump(2)) + "</pre>";
      }
      for (const auto& r : ep.responses) {
        h += "<p><b>" + std::to_string(r.status) + "</b> " + HtmlEscape(r.description);
        if (!r.content_type.empty() && !r.schema.is_null()) {
          h += " <code>" + HtmlEscape(r.content_type) + "</code>";
        }
        h += "</p>";
        if (r.content_type == "application/json" && !r.schema.is_null() &&
            !(r.schema.contains("$ref") && r.schema["$ref"] == "#/components/schemas/Error")) {
          h += "<pre>" + HtmlEscape(r.schema.dump(2)) + "</pre>";
        }
      }
      h += "</section>\n";
    }
  }
  h += "<h2 id=\"schemas\">Schemas</h2>\n";
  const J components = Components();
  for (const auto& [name, schema] : components.items()) {
    h += "<section class=\"ep\"><span class=\"path\">" + HtmlEscape(name) + "</span><pre>" +
         HtmlEscape(schema.dump(2)) + "</pre></section>\n";
  }
  h += "</main></body></html>\n";
  return h;
}

}  // namespace da::server
