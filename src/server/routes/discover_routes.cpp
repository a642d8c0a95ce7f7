// POST /api/admin/discover-and-register?dry_run=true|false[&source=keboola]: runs the source's
// connector discovery, classes every table (connectors/keboola/register_plan.h) and registers
// only the new ones (none on a dry run), or, with a body {"tables": [ids]}, only those of the
// new ones. Drift is reported with both sides, never overwritten.
#include <optional>
#include <set>

#include "common/identifiers.h"
#include "common/log.h"
#include "connectors/builtin.h"
#include "connectors/keboola/register_plan.h"
#include "kit/capabilities.h"
#include "server/app.h"
#include "server/routes/auth_json.h"

namespace da::server {

void RegisterDiscoverRoutes(Router& r, AppContext& ctx) {
  r.Post("/api/admin/discover-and-register", AccessLevel::kAdmin, Execution::kWorker,
         [&ctx](const RequestContext& rc, const http::Request& req, http::Response& res) {
           const std::string dry = req.HasQuery("dry_run") ? req.Query("dry_run") : "false";
           if (dry != "true" && dry != "false" && dry != "1" && dry != "0") {
             return WriteError(res, InvalidArgument("dry_run must be true or false"), rc.request_id);
           }
           const bool dry_run = dry == "true" || dry == "1";
           const std::string source = req.HasQuery("source") ? req.Query("source") : "keboola";
           if (Status st = ValidateStrictIdentifier("source", source); !st.ok()) {
             return WriteError(res, st, rc.request_id);
           }
           // Optional body {"tables": ["<id>", ...]}: register only these of the new tables.
           auto body = ParseJsonBody(req);
           if (!body.ok()) return WriteError(res, body.status(), rc.request_id);
           std::optional<std::set<std::string>> picked;
           if (!body->is_null()) {
             if (!body->is_object()) {
               return WriteError(res, InvalidArgument("body must be a JSON object"), rc.request_id);
             }
             for (const auto& [key, value] : body->items()) {
               if (key != "tables") {
                 return WriteError(res, InvalidArgument("unknown field '" + key + "' (accepted: tables)"),
                                   rc.request_id);
               }
               if (!value.is_array()) {
                 return WriteError(res, InvalidArgument("tables must be an array of table ids"), rc.request_id);
               }
               picked.emplace();
               for (const auto& id : value) {
                 if (!id.is_string()) {
                   return WriteError(res, InvalidArgument("tables must be an array of table ids"), rc.request_id);
                 }
                 picked->insert(id.get<std::string>());
               }
             }
           }
           auto connector = connectors::BuiltinConnectors().Create(source);
           if (!connector.ok()) return WriteError(res, connector.status(), rc.request_id);
           if (!kit::HasCapability((*connector)->capabilities(), kit::Capability::kDiscover)) {
             return WriteError(res, FailedPrecondition("connector '" + source + "' cannot discover"),
                               rc.request_id);
           }
           auto cfg_it = ctx.config.sources.find(source);
           const kit::ConnectorConfig cfg =
               cfg_it == ctx.config.sources.end() ? kit::ConnectorConfig{} : cfg_it->second;
           auto discovered = (*connector)->Discover(cfg);
           if (!discovered.ok()) {
             // The source's own failure (bad token, unreachable) is a bad gateway for us.
             const Status& st = discovered.status();
             const bool upstream = st.code() == StatusCode::kUnauthenticated ||
                                   st.code() == StatusCode::kPermissionDenied ||
                                   st.code() == StatusCode::kUnavailable;
             if (upstream) {
               return WriteError(res, 502, "source_error", "discovery of '" + source + "' failed: " +
                                 st.message(), rc.request_id);
             }
             return WriteError(res, st, rc.request_id);
           }
           auto registered = ctx.registry->List();
           if (!registered.ok()) return WriteError(res, registered.status(), rc.request_id);
           auto plan = connectors::BuildRegisterPlan(source, *discovered, *registered);
           nlohmann::json entries = nlohmann::json::array(), done = nlohmann::json::array(),
                          errors = nlohmann::json::array();
           nlohmann::json summary = {{"new", 0}, {"existing_match", 0}, {"existing_drift", 0},
                                     {"invalid", 0}};
           std::set<std::string> planned;
           for (const auto& e : plan) {
             summary[e.klass] = summary[e.klass].get<int>() + 1;
             entries.push_back(connectors::PlanEntryToJson(e));
             planned.insert(e.discovered.id);
             if (picked && !picked->count(e.discovered.id)) continue;
             if (e.klass != "new") {
               if (picked) {
                 errors.push_back({{"id", e.discovered.id}, {"error", "not registered: the plan classes it " + e.klass}});
               }
               continue;
             }
             if (dry_run) continue;
             auto t = ctx.registry->Register(connectors::RegistrationSpec(e.discovered), rc.principal.email);
             if (t.ok()) {
               done.push_back(t->id);
               AuditRequest(*ctx.db, rc, "registry_table_registered", t->id,
                            {{"name", t->name}, {"via", "discover-and-register"}, {"source", source}});
             } else {
               errors.push_back({{"id", e.discovered.id}, {"error", t.status().message()}});
             }
           }
           if (picked) {
             for (const auto& id : *picked) {
               if (!planned.count(id)) errors.push_back({{"id", id}, {"error", "not discovered in '" + source + "'"}});
             }
           }
           spdlog::info("discover-and-register {}: {} tables, {} registered{}", source, plan.size(),
                        done.size(), dry_run ? " (dry run)" : "");
           WriteJson(res, 200, {{"source", source}, {"dry_run", dry_run}, {"summary", summary},
                                {"plan", entries}, {"registered", done}, {"errors", errors}});
         });
}

}  // namespace da::server
