#include "service/query_service.h"

#include <algorithm>
#include <chrono>

namespace da::service {

QueryService::QueryService(const ServiceContext& ctx) {
  query::QueryServiceOptions options;
  options.timeout = std::chrono::seconds(std::max<int64_t>(0, ctx.config.query_timeout_sec));
  options.analytics_path = ctx.config.AnalyticsDir() / "server.duckdb";
  options.limits = query::QueryLimitsFrom(ctx.config);
  // Every query slot may keep its reader open between queries.
  options.max_idle_readers = std::max<size_t>(options.max_idle_readers,
                                              query::QueryConcurrency(ctx.config));
  runner_ = std::make_unique<query::QueryService>(ctx.orchestrator, ctx.registry, ctx.access,
                                                  options);
}

Result<query::QueryOutput> QueryService::Run(const Caller& caller,
                                             const query::QueryRequest& request) {
  return runner_->Run(caller.principal, request);
}

}  // namespace da::service
