#include "service/discovery_service.h"

#include "common/identifiers.h"
#include "common/log.h"
#include "connectors/builtin.h"
#include "connectors/keboola/register_plan.h"
#include "kit/capabilities.h"
#include "service/errors.h"

namespace da::service {

nlohmann::json ToJson(const DiscoverAnswer& a) {
  return {{"source", a.source},   {"dry_run", a.dry_run},       {"summary", a.summary},
          {"plan", a.plan},       {"registered", a.registered}, {"errors", a.errors}};
}

Result<DiscoverAnswer> DiscoveryService::DiscoverAndRegister(const Caller& caller,
                                                             const DiscoverRequest& request) {
  DA_RETURN_IF_ERROR(RequireAdmin(caller));
  const std::string source = request.source.empty() ? kDefaultDiscoverySource : request.source;
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("source", source));
  DA_ASSIGN_OR_RETURN(auto connector, connectors::BuiltinConnectors().Create(source));
  if (!kit::HasCapability(connector->capabilities(), kit::Capability::kDiscover)) {
    return FailedPrecondition("connector '" + source + "' cannot discover");
  }
  auto cfg_it = ctx_.config.sources.find(source);
  const kit::ConnectorConfig cfg =
      cfg_it == ctx_.config.sources.end() ? kit::ConnectorConfig{} : cfg_it->second;
  auto discovered = connector->Discover(cfg);
  if (!discovered.ok()) {
    // The source's own failure (bad token, unreachable) is a bad gateway for us.
    const Status& st = discovered.status();
    if (st.code() == StatusCode::kUnauthenticated || st.code() == StatusCode::kPermissionDenied ||
        st.code() == StatusCode::kUnavailable) {
      return SourceError("discovery of '" + source + "' failed: " + st.message());
    }
    return st;
  }
  DA_ASSIGN_OR_RETURN(std::vector<model::TableSpec> registered, ctx_.registry.List());
  auto plan = connectors::BuildRegisterPlan(source, *discovered, registered);

  DiscoverAnswer out;
  out.source = source;
  out.dry_run = request.dry_run;
  out.plan = nlohmann::json::array();
  out.errors = nlohmann::json::array();
  out.summary = {{"new", 0}, {"existing_match", 0}, {"existing_drift", 0}, {"invalid", 0}};
  const auto& picked = request.picked;
  std::set<std::string> planned;
  for (const auto& e : plan) {
    out.summary[e.klass] = out.summary[e.klass].get<int>() + 1;
    out.plan.push_back(connectors::PlanEntryToJson(e));
    planned.insert(e.discovered.id);
    if (picked && !picked->count(e.discovered.id)) continue;
    if (e.klass != "new") {
      if (picked) {
        out.errors.push_back({{"id", e.discovered.id},
                              {"error", "not registered: the plan classes it " + e.klass}});
      }
      continue;
    }
    if (request.dry_run) continue;
    auto t = ctx_.registry.Register(connectors::RegistrationSpec(e.discovered), caller.principal.email);
    if (t.ok()) {
      out.registered.push_back(t->id);
      AuditCall(ctx_.db, caller, "registry_table_registered", t->id,
                {{"name", t->name}, {"via", "discover-and-register"}, {"source", source}});
    } else {
      out.errors.push_back({{"id", e.discovered.id}, {"error", t.status().message()}});
    }
  }
  if (picked) {
    for (const auto& id : *picked) {
      if (!planned.count(id)) {
        out.errors.push_back({{"id", id}, {"error", "not discovered in '" + source + "'"}});
      }
    }
  }
  spdlog::info("discover-and-register {}: {} tables, {} registered{}", source, plan.size(),
               out.registered.size(), request.dry_run ? " (dry run)" : "");
  return out;
}

}  // namespace da::service
