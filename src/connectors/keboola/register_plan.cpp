#include "connectors/keboola/register_plan.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "common/identifiers.h"
#include "kit/runtime.h"

namespace da::connectors {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

nlohmann::json Coordinates(const state::TableRecord& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"source_type", r.source_type},
          {"bucket", r.bucket},
          {"source_table", r.source_table}};
}

}  // namespace

state::TableRecord CandidateRecord(const std::string& source, const kit::TableInfo& t) {
  state::TableRecord r;
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
                                         const std::vector<state::TableRecord>& registered) {
  std::map<std::string, const state::TableRecord*> by_id, by_name;
  for (const auto& r : registered) {
    by_id[r.id] = &r;
    by_name[Lower(r.name)] = &r;
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
      const state::TableRecord& x = *it->second;
      e.existing = x;
      if (x.source_type == d.source_type && x.bucket == d.bucket && x.source_table == d.source_table) {
        e.klass = "existing_match";
      } else {
        e.klass = "existing_drift";
        e.reason = "id '" + d.id + "' is registered with other coordinates";
      }
    } else if (auto n = by_name.find(Lower(d.name)); n != by_name.end() && !n->second) {
      e.klass = "invalid";  // taken by an earlier new table of this plan
      e.reason = "view name '" + d.name + "' is proposed twice in this discovery";
    } else if (n != by_name.end()) {
      e.klass = "existing_drift";
      e.existing = *n->second;
      e.reason = "view name '" + d.name + "' is registered under another id '" + n->second->id + "'";
    } else {
      e.klass = "new";
      by_name[Lower(d.name)] = nullptr;  // later candidates must not take the same name
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

nlohmann::json RegisterBody(const state::TableRecord& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"description", r.description},
          {"source_type", r.source_type},
          {"bucket", r.bucket},
          {"source_table", r.source_table},
          {"primary_key", r.primary_key},
          {"query_mode", "local"},
          {"sync_strategy", "full_refresh"}};
}

}  // namespace da::connectors
