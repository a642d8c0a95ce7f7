// POST /api/query — sandboxed read-only SQL over the published views (service/query_service.h).
// HTTP-specific: the answer is JSON or CSV (Accept) with X-Row-Count / X-Truncated headers.
#include <cstdint>

#include "server/app.h"
#include "server/json_route.h"

namespace da::server {
namespace {

/// The query API answers statement problems with 400, as the reference did (§3.4); the rest of
/// the API keeps invalid_argument → 422. A query over its resource limits (memory, temp space,
/// answer cap) is a statement problem too: 400 `resource_exhausted`, not 429 (retrying the same
/// statement does not help).
void WriteQueryError(http::Response& res, const Status& st, const std::string& request_id) {
  if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kResourceExhausted) {
    return WriteError(res, 400, std::string(StatusCodeName(st.code())), st.message(), request_id);
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
  // On the query pool (Execution::kQuery): queries cannot occupy the threads that hash
  // passwords or the io threads.
  JsonRoutes(r).Raw("POST", "/api/query", AccessLevel::kAuthenticated, Execution::kQuery,
                    [&queries](const RouteInput& in, http::Response& res) {
    auto request = DecodeQuery(in);
    if (!request.ok()) return WriteQueryError(res, request.status(), in.context().request_id);
    auto out = queries.Run(in.caller(), *request);
    if (!out.ok()) return WriteQueryError(res, out.status(), in.context().request_id);
    const bool csv = in.Header("Accept").find("text/csv") != std::string::npos;
    auto body = csv ? out->EncodeCsv() : out->EncodeJson();
    if (!body.ok()) return WriteQueryError(res, body.status(), in.context().request_id);
    res.SetHeader("X-Row-Count", std::to_string(out->row_count()));
    res.SetHeader("X-Truncated", out->truncated() ? "true" : "false");
    res.status = 200;
    res.SetContent(std::move(body).value(),
                   csv ? "text/csv; charset=utf-8" : "application/json");
  });
}

}  // namespace da::server
