// POST /api/query — sandboxed read-only SQL over the published views (src/query).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

#include "query/query_service.h"
#include "server/app.h"

namespace da::server {
namespace {

/// The query API answers statement problems with 400, as the reference did (§3.4); the rest of
/// the API keeps invalid_argument → 422.
void WriteQueryError(http::Response& res, const Status& st, const std::string& request_id) {
  if (st.code() == StatusCode::kInvalidArgument) {
    return WriteError(res, 400, "invalid_argument", st.message(), request_id);
  }
  WriteError(res, st, request_id);
}

/// `{sql: string, limit?: integer}` → QueryRequest; malformed on wrong shapes.
Result<query::QueryRequest> ParseQueryRequest(const nlohmann::json& body) {
  if (!body.is_object()) return Malformed("body must be a JSON object {\"sql\": ..., \"limit\": ...}");
  auto sql = body.find("sql");
  if (sql == body.end() || !sql->is_string()) return Malformed("`sql` must be a string");
  query::QueryRequest request;
  request.sql = sql->get<std::string>();
  if (auto limit = body.find("limit"); limit != body.end() && !limit->is_null()) {
    if (!limit->is_number_integer()) return Malformed("`limit` must be an integer");
    if (limit->is_number_unsigned() && limit->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      request.limit = INT64_MAX;
    } else {
      request.limit = limit->get<int64_t>();
    }
  }
  return request;
}

}  // namespace

void RegisterQueryRoutes(Router& r, AppContext& ctx) {
  query::QueryServiceOptions options;
  options.timeout = std::chrono::seconds(std::max<int64_t>(0, ctx.config.query_timeout_sec));
  options.analytics_path = ctx.config.AnalyticsDir() / "server.duckdb";
  auto service = std::make_shared<query::QueryService>(*ctx.orchestrator, *ctx.registry,
                                                       ctx.access, options);
  r.Post("/api/query", AccessLevel::kAuthenticated, Execution::kWorker,
         [service](const RequestContext& rc, const http::Request& req, http::Response& res) {
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteQueryError(res, body.status(), rc.request_id);
           auto request = ParseQueryRequest(*body);
           if (!request.ok()) return WriteQueryError(res, request.status(), rc.request_id);
           auto out = service->Run(rc.principal, *request);
           if (!out.ok()) return WriteQueryError(res, out.status(), rc.request_id);
           res.SetHeader("X-Row-Count", std::to_string(out->row_count()));
           res.SetHeader("X-Truncated", out->truncated() ? "true" : "false");
           if (req.Header("Accept").find("text/csv") != std::string::npos) {
             res.status = 200;
             res.SetContent(out->ToCsv(), "text/csv; charset=utf-8");
             return;
           }
           res.status = 200;
           res.SetContent(
               out->ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
               "application/json");
         });
}

}  // namespace da::server
