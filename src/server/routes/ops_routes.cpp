// Operations endpoints: GET /api/health/detailed, GET /openapi.json and GET /docs on the API
// router, and GET /metrics (Prometheus text 0.0.4) on the metrics listener only
// (DA_METRICS_LISTEN; docs/security.md: its labels name every table). Registered last:
// /openapi.json and /docs describe every route, and a startup check warns when openapi.yaml
// drifts from the routes.
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "common/hash.h"
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
  service::HealthService& health = ctx.services->health;
  r.Get("/api/health/detailed", AccessLevel::kAuthenticated, Execution::kWorker,
        [&health](const RequestContext& rc, const http::Request&, http::Response& res) {
          service::HealthDetailAnswer answer = health.Detailed({rc.principal, rc.client_ip});
          nlohmann::json body = service::ToJson(answer);
          body["version"] = DA_VERSION;
          WriteJson(res, answer.IsUnhealthy() ? 503 : 200, body);
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

void RegisterMetricsRoute(http::Server& metrics_server, Router& api, AppContext& ctx) {
  metrics_server.Get("/metrics", [&ctx, &api](const http::Request&, http::Response& res) {
    std::vector<prometheus::MetricFamily> families = api.metrics().Collect();
    AppendStateMetrics(ctx, families);
    res.status = 200;
    res.SetContent(FormatPrometheusText(families), kPrometheusContentType);
  });
  metrics_server.SetErrorHandler([](const http::Request& req, http::Response& res) {
    if (!res.BodyEmpty()) return;
    WriteError(res, res.status, res.status == 404 ? "not_found" : "http_" + std::to_string(res.status),
               "the metrics listener serves only GET /metrics, not " + req.method + " " +
                   req.path.substr(0, 80),
               RandomHex(6));
  });
}

}  // namespace da::server
