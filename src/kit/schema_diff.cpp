#include "kit/schema_diff.h"

#include <map>

#include "common/identifiers.h"

namespace da::kit {

SchemaChange DiffColumns(const std::vector<ColumnInfo>& previous,
                         const std::vector<ColumnInfo>& current) {
  std::map<std::string, const ColumnInfo*> before;
  for (const auto& c : previous) before.emplace(c.name, &c);
  std::map<std::string, const ColumnInfo*> after;
  for (const auto& c : current) after.emplace(c.name, &c);

  SchemaChange change;
  for (const auto& c : current) {
    if (!before.count(c.name)) change.added.push_back(c);
  }
  for (const auto& c : previous) {
    auto it = after.find(c.name);
    if (it == after.end()) {
      change.removed.push_back(c);
    } else if (it->second->type != c.type) {
      change.retyped.push_back({c.name, c.type, it->second->type});
    }
  }
  return change;
}

std::string DescribeSchemaChange(const SchemaChange& change) {
  if (change.empty()) return "no change";
  auto shown = [](const std::string& s) { return PrintableForMessage(s, 64); };
  std::string out;
  auto part = [&](const char* verb, const std::string& list) {
    if (list.empty()) return;
    out += (out.empty() ? "" : "; ") + std::string(verb) + " " + list;
  };
  std::string added;
  for (const auto& c : change.added) {
    added += (added.empty() ? "" : ", ") + shown(c.name) + " (" + shown(c.type) + ")";
  }
  std::string removed;
  for (const auto& c : change.removed) {
    removed += (removed.empty() ? "" : ", ") + shown(c.name) + " (" + shown(c.type) + ")";
  }
  std::string retyped;
  for (const auto& r : change.retyped) {
    retyped += (retyped.empty() ? "" : ", ") + shown(r.name) + ": " + shown(r.from) + " -> " +
               shown(r.to);
  }
  part("added", added);
  part("removed", removed);
  part("retyped", retyped);
  return out;
}

}  // namespace da::kit
