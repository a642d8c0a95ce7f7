#include "service/health_service.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "common/time_util.h"
#include "service/sync_service.h"

namespace da::service {
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
bool SchemaCheck(state::StateDb& db, nlohmann::json& out) {
  int expected = state::StateDb::ExpectedSchemaVersion();
  out = {{"expected", expected}, {"current", nullptr}};
  auto current = db.CurrentSchemaVersion();
  if (!current.ok()) {
    out["db_schema"] = "unreachable";
    out["detail"] = current.status().message();
    return false;
  }
  out["current"] = *current;
  out["db_schema"] = *current == expected ? "ok" : "mismatch";
  return *current == expected;
}

}  // namespace

nlohmann::json ToJson(const HealthDetailAnswer& a) { return a.body; }

HealthDetailAnswer HealthService::Detailed(const Caller& caller) {
  const state::Principal& who = caller.principal;
  const int64_t now = NowMicros();
  nlohmann::json body = {{"timestamp", NowIso()}};
  nlohmann::json checks = nlohmann::json::object();
  bool unhealthy = false;
  bool degraded = false;

  nlohmann::json schema;
  if (SchemaCheck(ctx_.db, schema)) {
    checks["schema"] = "ok";
  } else {
    checks["schema"] = "error";
    unhealthy = true;
  }
  body["schema"] = schema;

  const double stale_after_hours = ctx_.config.stale_after_hours;
  const auto stale_after_micros = static_cast<int64_t>(stale_after_hours * 3600.0 * 1e6);
  nlohmann::json data = {{"stale_after_hours", stale_after_hours},
                         {"stale_tables", nlohmann::json::array()},
                         {"never_synced", nlohmann::json::array()},
                         {"error_tables", nlohmann::json::array()}};
  auto fresh = ReadFreshness(ctx_.db);
  auto records = ctx_.registry.List();
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
      return it != by_id.end() && access_.CanSee(who, *it->second);
    };
    bool warn = false;
    int64_t visible_tables = 0;
    for (const Freshness& f : *fresh) {
      const bool shown = visible(f.table_id);
      if (shown) ++visible_tables;
      if (!f.last_sync_micros) {
        warn = true;
        if (shown) data["never_synced"].push_back(f.table_id);
      } else if (now - *f.last_sync_micros > stale_after_micros) {
        warn = true;
        if (shown) {
          data["stale_tables"].push_back({{"id", f.table_id},
                                          {"last_sync", IsoFromMicros(*f.last_sync_micros)},
                                          {"age_seconds", (now - *f.last_sync_micros) / 1000000}});
        }
      }
      // A failed last extraction keeps the previous data serving: reported, not degrading.
      if (f.status == "error" && shown) {
        data["error_tables"].push_back({{"id", f.table_id}, {"error", f.error}});
      }
    }
    data["tables"] = visible_tables;
    checks["data"] = warn ? "warning" : "ok";
    degraded = degraded || warn;
  }
  body["data"] = data;

  auto last = ctx_.sync.LastRun();
  body["last_run"] = last ? RunAsSeenBy(caller, access_, std::move(*last)).ToJson(false)
                          : nlohmann::json(nullptr);

  std::error_code ec;
  auto space = std::filesystem::space(ctx_.config.data_dir, ec);
  if (ec) {
    body["disk"] = {{"path", ctx_.config.data_dir.string()}, {"free_bytes", nullptr},
                    {"total_bytes", nullptr}, {"detail", ec.message()}};
    checks["disk"] = "warning";
    degraded = true;
  } else {
    double free_fraction = space.capacity > 0 ? static_cast<double>(space.available) /
                                                     static_cast<double>(space.capacity)
                                              : 0.0;
    body["disk"] = {{"path", ctx_.config.data_dir.string()},
                    {"free_bytes", space.available},
                    {"total_bytes", space.capacity},
                    {"free_pct", std::round(free_fraction * 10000.0) / 100.0}};
    bool low = free_fraction < kMinFreeDiskFraction;
    checks["disk"] = low ? "warning" : "ok";
    degraded = degraded || low;
  }
  body["checks"] = checks;
  HealthDetailAnswer out;
  out.status = unhealthy ? "unhealthy" : degraded ? "degraded" : "healthy";
  body["status"] = out.status;
  out.body = std::move(body);
  return out;
}

}  // namespace da::service
