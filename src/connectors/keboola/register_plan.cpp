#include "connectors/keboola/register_plan.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "common/identifiers.h"
#include "kit/runtime.h"
#include "common/text.h"

namespace da::connectors {
namespace {

nlohmann::json Coordinates(const model::TableSpec& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"source_type", r.source_type},
          {"bucket", r.bucket},
          {"source_table", r.source_table}};
}

}  // namespace

model::TableSpec CandidateRecord(const std::string& source, const kit::TableInfo& t) {
  model::TableSpec r;
  r.id = t.source_table;
  r.name = t.name;
  r.description = t.description;
  r.source_type = source;
  const size_t dot = t.source_table.rfind('.');
  r.bucket = dot == std::string::npos ? "" : t.source_table.substr(0, dot);
  r.source_table = t.source_table;
  r.primary_key = t.primary_key;
  return r;
}

std::vector<PlanEntry> BuildRegisterPlan(const std::string& source,
                                         const std::vector<kit::TableInfo>& discovered,
                                         const std::vector<model::TableSpec>& registered) {
  std::map<std::string, const model::TableSpec*> by_id, by_name;
  for (const auto& r : registered) {
    by_id[r.id] = &r;
    by_name[AsciiLower(r.name)] = &r;
  }
  std::vector<PlanEntry> plan;
  for (const auto& t : discovered) {
    PlanEntry e;
    e.discovered = CandidateRecord(source, t);
    const auto& d = e.discovered;
    if (!IsQuotedIdentifier(d.id)) {
      e.klass = "invalid";
      e.reason = "table id '" + PrintableForMessage(d.id) +
                 "' is not a valid identifier (letters, digits, '_', '.', '-'; at most 128)";
    } else if (!IsStrictIdentifier(d.name) || kit::IsReservedViewName(d.name)) {
      e.klass = "invalid";
      e.reason = "view name '" + PrintableForMessage(d.name) + "' is not usable";
    } else if (auto it = by_id.find(d.id); it != by_id.end()) {
      const model::TableSpec& x = *it->second;
      e.existing = x;
      if (x.source_type == d.source_type && x.bucket == d.bucket && x.source_table == d.source_table) {
        e.klass = "existing_match";
      } else {
        e.klass = "existing_drift";
        e.reason = "id '" + d.id + "' is registered with other coordinates";
      }
    } else if (auto n = by_name.find(AsciiLower(d.name)); n != by_name.end() && !n->second) {
      e.klass = "invalid";  // taken by an earlier new table of this plan
      e.reason = "view name '" + d.name + "' is proposed twice in this discovery";
    } else if (n != by_name.end()) {
      e.klass = "existing_drift";
      e.existing = *n->second;
      e.reason = "view name '" + d.name + "' is registered under another id '" + n->second->id + "'";
    } else {
      e.klass = "new";
      by_name[AsciiLower(d.name)] = nullptr;  // later candidates must not take the same name
    }
    plan.push_back(std::move(e));
  }
  return plan;
}

nlohmann::json PlanEntryToJson(const PlanEntry& e) {
  nlohmann::json j = {{"class", e.klass},
                      {"id", e.discovered.id},
                      {"name", e.discovered.name},
                      {"bucket", e.discovered.bucket},
                      {"source_table", e.discovered.source_table},
                      {"discovered", Coordinates(e.discovered)}};
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (e.existing) j["existing"] = Coordinates(*e.existing);
  return j;
}

model::TableSpec RegistrationSpec(const model::TableSpec& r) {
  model::TableSpec spec;
  spec.id = r.id;
  spec.name = r.name;
  spec.description = r.description;
  spec.source_type = r.source_type;
  spec.bucket = r.bucket;
  spec.source_table = r.source_table;
  spec.primary_key = r.primary_key;
  return spec;  // query_mode local, full_refresh
}

}  // namespace da::connectors
