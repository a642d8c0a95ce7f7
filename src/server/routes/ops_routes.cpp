// Operations endpoints: GET /api/health/detailed, GET /metrics (Prometheus text 0.0.4),
// GET /openapi.json and GET /docs. Registered last: /openapi.json and /docs describe every
// route, and a startup check warns when openapi.yaml drifts from the routes.
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "common/log.h"
#include "common/time_util.h"
#include "server/app.h"
#include "server/metrics.h"
#include "server/openapi.h"

#ifndef DA_VERSION
#define DA_VERSION "0.0.0"
#endif

namespace da::server {
namespace {

constexpr double kMinFreeDiskFraction = 0.05;

/// One sync_state row joined with its registry record.
struct Freshness {
  std::string table_id;
  std::optional<int64_t> last_sync_micros;  ///< last successful extraction
  std::string status;                       ///< ok | error ("" = no sync_state row)
  std::string error;
};

/// Registered tables that extract data (query_mode != remote) with their sync state.
Result<std::vector<Freshness>> ReadFreshness(state::StateDb& db) {
  return db.Read([](db::Connection& c) -> Result<std::vector<Freshness>> {
    DA_ASSIGN_OR_RETURN(
        db::QueryResult r,
        c.Query("SELECT r.id, epoch_us(s.last_sync), coalesce(s.status, ''), "
                "coalesce(s.error, '') FROM table_registry r "
                "LEFT JOIN sync_state s ON s.table_id = r.id "
                "WHERE r.query_mode <> 'remote' ORDER BY r.id"));
    std::vector<Freshness> out;
    for (size_t i = 0; i < r.RowCount(); ++i) {
      Freshness f;
      f.table_id = r.GetString(0, i);
      if (!r.IsNull(1, i)) f.last_sync_micros = r.GetInt64(1, i);
      f.status = r.GetString(2, i);
      f.error = r.GetString(3, i);
      out.push_back(std::move(f));
    }
    return out;
  });
}

/// Schema check as in GET /api/health: {db_schema, current, expected}; true when ok.
bool SchemaCheck(AppContext& ctx, nlohmann::json& out) {
  int expected = state::StateDb::ExpectedSchemaVersion();
  out = {{"expected", expected}, {"current", nullptr}};
  auto current = ctx.db->CurrentSchemaVersion();
  if (!current.ok()) {
    out["db_schema"] = "unreachable";
    out["detail"] = current.status().message();
    return false;
  }
  out["current"] = *current;
  out["db_schema"] = *current == expected ? "ok" : "mismatch";
  return *current == expected;
}

/// The body of GET /api/health/detailed and its HTTP status (503 only when unhealthy).
/// Status and checks cover every table; the id lists name only tables `who` may see.
std::pair<int, nlohmann::json> HealthDetail(AppContext& ctx, const state::Principal& who) {
  const int64_t now = NowMicros();
  nlohmann::json body = {{"version", DA_VERSION}, {"timestamp", NowIso()}};
  nlohmann::json checks = nlohmann::json::object();
  bool unhealthy = false;
  bool degraded = false;

  nlohmann::json schema;
  if (SchemaCheck(ctx, schema)) {
    checks["schema"] = "ok";
  } else {
    checks["schema"] = "error";
    unhealthy = true;
  }
  body["schema"] = schema;

  const double stale_after_hours = ctx.config.stale_after_hours;
  const auto stale_after_micros = static_cast<int64_t>(stale_after_hours * 3600.0 * 1e6);
  nlohmann::json data = {{"stale_after_hours", stale_after_hours},
                         {"stale_tables", nlohmann::json::array()},
                         {"never_synced", nlohmann::json::array()},
                         {"error_tables", nlohmann::json::array()}};
  auto fresh = ReadFreshness(*ctx.db);
  auto records = ctx.registry->List();
  if (!fresh.ok() || !records.ok()) {
    checks["data"] = "error";
    data["detail"] = (!fresh.ok() ? fresh.status() : records.status()).message();
    data["tables"] = nullptr;
    unhealthy = true;
  } else {
    std::map<std::string, const model::TableSpec*> by_id;
    for (const auto& t : *records) by_id[t.id] = &t;
    auto visible = [&](const std::string& id) {
      auto it = by_id.find(id);
      return it != by_id.end() && ctx.services->table_access.CanSee(who, *it->second);
    };
    bool warn = false;
    for (const Freshness& f : *fresh) {
      if (!f.last_sync_micros) {
        warn = true;
        if (visible(f.table_id)) data["never_synced"].push_back(f.table_id);
      } else if (now - *f.last_sync_micros > stale_after_micros) {
        warn = true;
        if (visible(f.table_id)) {
          data["stale_tables"].push_back({{"id", f.table_id},
                                          {"last_sync", IsoFromMicros(*f.last_sync_micros)},
                                          {"age_seconds", (now - *f.last_sync_micros) / 1000000}});
        }
      }
      // A failed last extraction keeps the previous data serving: reported, not degrading.
      if (f.status == "error" && visible(f.table_id)) {
        data["error_tables"].push_back({{"id", f.table_id}, {"error", f.error}});
      }
    }
    data["tables"] = fresh->size();
    checks["data"] = warn ? "warning" : "ok";
    degraded = degraded || warn;
  }
  body["data"] = data;

  auto last = ctx.sync->LastRun();
  body["last_run"] = last ? last->ToJson(/*with_tables=*/false) : nlohmann::json(nullptr);

  std::error_code ec;
  auto space = std::filesystem::space(ctx.config.data_dir, ec);
  if (ec) {
    body["disk"] = {{"path", ctx.config.data_dir.string()}, {"free_bytes", nullptr},
                    {"total_bytes", nullptr}, {"detail", ec.message()}};
    checks["disk"] = "warning";
    degraded = true;
  } else {
    double free_fraction = space.capacity > 0 ? static_cast<double>(space.available) /
                                                     static_cast<double>(space.capacity)
                                              : 0.0;
    body["disk"] = {{"path", ctx.config.data_dir.string()},
                    {"free_bytes", space.available},
                    {"total_bytes", space.capacity},
                    {"free_pct", std::round(free_fraction * 10000.0) / 100.0}};
    bool low = free_fraction < kMinFreeDiskFraction;
    checks["disk"] = low ? "warning" : "ok";
    degraded = degraded || low;
  }
  body["checks"] = checks;
  body["status"] = unhealthy ? "unhealthy" : degraded ? "degraded" : "healthy";
  return {unhealthy ? 503 : 200, body};
}

/// Families derived from the state DB at scrape time: sync runs and outcomes, extracted rows
/// and bytes, per-table last sync and freshness. A family whose query fails is left out (logged).
void AppendStateMetrics(AppContext& ctx, std::vector<prometheus::MetricFamily>& out) {
  const int64_t now = NowMicros();
  using prometheus::MetricType;
  auto counted = [](const std::string& name, const std::string& help, MetricType type,
                    const std::string& label, const std::vector<std::string>& known,
                    const std::map<std::string, double>& values) {
    prometheus::MetricFamily f = ScrapedFamily(name, help, type);
    std::map<std::string, double> all;
    for (const auto& k : known) all[k] = 0;
    for (const auto& [k, v] : values) all[k] = v;
    for (const auto& [k, v] : all) AddSample(f, {{label, k}}, v);
    return f;
  };
  ctx.db->Read([&](db::Connection& c) {
    // Finished runs only: a running run would move from one status to another.
    auto runs = c.Query("SELECT status, count(*) FROM sync_runs WHERE status <> 'running' "
                        "GROUP BY status");
    if (runs.ok()) {
      std::map<std::string, double> by_status;
      for (size_t i = 0; i < runs->RowCount(); ++i) {
        by_status[runs->GetString(0, i)] = static_cast<double>(runs->GetInt64(1, i));
      }
      out.push_back(counted("da_sync_runs_total", "Finished sync runs, by final status.",
                            MetricType::Counter, "status",
                            {"ok", "partial", "error", "cancelled", "interrupted"}, by_status));
    } else {
      spdlog::warn("metrics: reading sync_runs failed: {}", runs.status().ToString());
    }
    auto outcomes = c.Query(
        "SELECT status, count(*), coalesce(sum(rows), 0)::BIGINT, "
        "coalesce(sum(size_bytes), 0)::BIGINT FROM sync_run_tables GROUP BY status");
    if (outcomes.ok()) {
      std::map<std::string, double> by_status;
      double rows = 0;
      double bytes = 0;
      for (size_t i = 0; i < outcomes->RowCount(); ++i) {
        std::string status = outcomes->GetString(0, i);
        by_status[status] = static_cast<double>(outcomes->GetInt64(1, i));
        if (status == "synced") {
          rows = static_cast<double>(outcomes->GetInt64(2, i));
          bytes = static_cast<double>(outcomes->GetInt64(3, i));
        }
      }
      out.push_back(counted("da_sync_table_outcomes_total",
                            "Per-table outcomes of sync runs (synced, skipped, error).",
                            MetricType::Counter,
                            "status", {"synced", "skipped", "error"}, by_status));
      out.push_back(ScrapedFamily("da_rows_extracted_total",
                                  "Rows written by successful table extractions.",
                                  MetricType::Counter));
      AddSample(out.back(), {}, rows);
      out.push_back(ScrapedFamily("da_bytes_extracted_total",
                                  "Parquet bytes written by successful table extractions.",
                                  MetricType::Counter));
      AddSample(out.back(), {}, bytes);
    } else {
      spdlog::warn("metrics: reading sync_run_tables failed: {}", outcomes.status().ToString());
    }
    auto fresh = c.Query(
        "SELECT s.table_id, epoch_us(s.last_sync) FROM sync_state s "
        "JOIN table_registry r ON r.id = s.table_id WHERE s.last_sync IS NOT NULL "
        "ORDER BY s.table_id");
    if (fresh.ok()) {
      auto last = ScrapedFamily("da_table_last_sync_timestamp_seconds",
                                "Unix time of the table's last successful extraction.",
                                MetricType::Gauge);
      auto age = ScrapedFamily("da_table_freshness_seconds",
                               "Seconds since the table's last successful extraction.",
                               MetricType::Gauge);
      for (size_t i = 0; i < fresh->RowCount(); ++i) {
        std::string id = fresh->GetString(0, i);
        int64_t micros = fresh->GetInt64(1, i);
        AddSample(last, {{"table_id", id}}, static_cast<double>(micros) / 1e6);
        AddSample(age, {{"table_id", id}}, static_cast<double>(now - micros) / 1e6);
      }
      out.push_back(std::move(last));
      out.push_back(std::move(age));
    } else {
      spdlog::warn("metrics: reading sync_state failed: {}", fresh.status().ToString());
    }
    auto registered = c.Query("SELECT count(*) FROM table_registry");
    if (registered.ok()) {
      out.push_back(ScrapedFamily("da_tables_registered", "Tables in the registry.",
                                  MetricType::Gauge));
      AddSample(out.back(), {}, static_cast<double>(registered->GetInt64(0, 0)));
    }
  });
  out.push_back(ScrapedFamily("da_sync_in_progress", "1 while a sync run is going.",
                              MetricType::Gauge));
  AddSample(out.back(), {}, ctx.sync->IsRunning() ? 1.0 : 0.0);
  out.push_back(ScrapedFamily("da_build_info", "Build information; always 1.", MetricType::Gauge));
  AddSample(out.back(), {{"version", DA_VERSION}}, 1.0);
}

}  // namespace

void RegisterOpsRoutes(Router& r, AppContext& ctx) {
  r.Get("/api/health/detailed", AccessLevel::kAuthenticated, Execution::kWorker,
        [&ctx](const RequestContext& rc, const http::Request&, http::Response& res) {
          auto [status, body] = HealthDetail(ctx, rc.principal);
          WriteJson(res, status, body);
        });

  r.Get("/metrics", AccessLevel::kPublic,
        [&ctx, &r](const RequestContext&, const http::Request&, http::Response& res) {
          std::vector<prometheus::MetricFamily> families = r.metrics().Collect();
          AppendStateMetrics(ctx, families);
          res.status = 200;
          res.SetContent(FormatPrometheusText(families), kPrometheusContentType);
        });

  // The documents depend only on the embedded description: render once, serve the same bytes.
  struct Rendered {
    std::once_flag once;
    std::string openapi_json;
    std::string docs_html;
  };
  auto rendered = std::make_shared<Rendered>();
  auto render = [rendered] {
    std::call_once(rendered->once, [&] {
      rendered->openapi_json = OpenApiDocument().dump();
      rendered->docs_html = RenderDocsHtml(OpenApiDocument());
    });
    return rendered.get();
  };
  r.Get("/openapi.json", AccessLevel::kPublic,
        [render](const RequestContext&, const http::Request&, http::Response& res) {
          res.status = 200;
          res.SetContent(render()->openapi_json, "application/json");
        });
  r.Get("/docs", AccessLevel::kPublic,
        [render](const RequestContext&, const http::Request&, http::Response& res) {
          res.status = 200;
          res.SetContent(render()->docs_html, "text/html; charset=utf-8");
        });

  DocDrift drift = CompareWithRoutes(OpenApiDocument(), r.routes());
  for (const auto& d : drift.undocumented) spdlog::warn("openapi: route {} is undocumented", d);
  for (const auto& d : drift.not_registered) spdlog::warn("openapi: {} documented, not served", d);
  for (const auto& d : drift.access_mismatch) spdlog::warn("openapi: access mismatch {}", d);
}

}  // namespace da::server
