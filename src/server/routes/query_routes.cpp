// POST /api/query — sandboxed read-only SQL over the published views (service/query_service.h).
// HTTP-specific: the answer is JSON or CSV (Accept) with X-Row-Count / X-Truncated headers.
#include <cstdint>

#include "server/app.h"
#include "server/json_route.h"

namespace da::server {
namespace {

/// The query API answers statement problems with 400, as the reference did (§3.4); the rest of
/// the API keeps invalid_argument → 422.
void WriteQueryError(http::Response& res, const Status& st, const std::string& request_id) {
  if (st.code() == StatusCode::kInvalidArgument) {
    return WriteError(res, 400, "invalid_argument", st.message(), request_id);
  }
  WriteServiceError(res, st, request_id);
}

/// `{sql: string, limit?: integer}` → QueryRequest; malformed on wrong shapes.
Result<query::QueryRequest> DecodeQuery(const RouteInput& in) {
  DA_ASSIGN_OR_RETURN(const nlohmann::json body, in.Body());
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
  service::QueryService& queries = ctx.services->query;
  JsonRoutes(r).Raw("POST", "/api/query", AccessLevel::kAuthenticated, Execution::kWorker,
                    [&queries](const RouteInput& in, http::Response& res) {
    auto request = DecodeQuery(in);
    if (!request.ok()) return WriteQueryError(res, request.status(), in.context().request_id);
    auto out = queries.Run(in.caller(), *request);
    if (!out.ok()) return WriteQueryError(res, out.status(), in.context().request_id);
    res.SetHeader("X-Row-Count", std::to_string(out->row_count()));
    res.SetHeader("X-Truncated", out->truncated() ? "true" : "false");
    res.status = 200;
    if (in.Header("Accept").find("text/csv") != std::string::npos) {
      return res.SetContent(out->ToCsv(), "text/csv; charset=utf-8");
    }
    res.SetContent(out->ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
  });
}

}  // namespace da::server
