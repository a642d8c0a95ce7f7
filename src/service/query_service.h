#pragma once
/// The query use case: sandboxed read-only SQL over the published views for a caller
/// (query::QueryService does the sandboxing; the views a caller may read are decided by the
/// same AccessPolicy as every other table resource).
#include <memory>

#include "common/status.h"
#include "query/query_service.h"
#include "service/caller.h"
#include "service/context.h"

namespace da::service {

class QueryService {
 public:
  /// Reader pool, time limit and resource limits from the instance config (query_timeout_sec,
  /// query_* limits: query/query_limits.h).
  explicit QueryService(const ServiceContext& ctx);

  /// POST /api/query. Errors as query::QueryService::Run (invalid_argument for statement
  /// problems, permission_denied, deadline_exceeded, resource_exhausted, unavailable); the
  /// answer cap is applied when the output is encoded (QueryOutput::EncodeJson/EncodeCsv).
  Result<query::QueryOutput> Run(const Caller& caller, const query::QueryRequest& request);

 private:
  std::unique_ptr<query::QueryService> runner_;
};

}  // namespace da::service
