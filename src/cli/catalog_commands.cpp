// da catalog | da describe <id> — the analyst's view of the server catalog over its API
// (`/api/v2/catalog`, `/api/v2/schema/{id}`, `/api/v2/sample/{id}`, `/api/catalog/profile/{id}`).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "client/client_config.h"
#include "client/http_client.h"
#include "common/identifiers.h"
#include "common/status.h"

namespace da::cli {
namespace {

using nlohmann::json;

constexpr size_t kMaxCellChars = 40;

/// A JSON value as one table cell: strings unquoted, null empty, doubles with up to 6
/// significant digits, control characters replaced, long text cut with "...".
std::string Cell(const json& v) {
  std::string s;
  if (v.is_null()) {
    s = "";
  } else if (v.is_string()) {
    s = v.get<std::string>();
  } else if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", v.get<double>());
    s = buf;
  } else {
    s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return PrintableForMessage(s, kMaxCellChars);
}

std::string Field(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? "" : Cell(*it);
}

Status RunCatalog(bool as_json) {
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  auto r = http.GetJson("/api/v2/catalog");
  if (!r.ok()) return WithLoginHint(r.status());
  if (as_json) {
    std::printf("%s\n", r->dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  if (r->contains("tables") && (*r)["tables"].is_array()) {
    for (const auto& t : (*r)["tables"]) {
      rows.push_back({Field(t, "id"), Field(t, "name"), Field(t, "query_mode"), Field(t, "rows"),
                      HumanBytes(t.value("size_bytes", json())), Field(t, "updated"),
                      Field(t, "status")});
    }
  }
  PrintColumns({"ID", "NAME", "MODE", "ROWS", "SIZE", "UPDATED", "STATUS"}, rows);
  std::printf("(%zu tables)\n", rows.size());
  return Status::Ok();
}

struct DescribeFlags {
  std::string id;
  int64_t n = 5;
  bool json = false;
};

/// "ORD (166341), DFW (157162), ATL (124711)" — the first three top values.
std::string TopSummary(const json& col) {
  std::string out;
  if (!col.contains("top_values") || !col["top_values"].is_array()) return out;
  size_t shown = 0;
  for (const auto& tv : col["top_values"]) {
    if (shown == 3) break;
    if (!out.empty()) out += ", ";
    out += Cell(tv.value("value", json())) + " (" + Cell(tv.value("count", json())) + ")";
    ++shown;
  }
  return out;
}

void PrintDescribe(const json& schema, const json& profile, const json& sample) {
  std::printf("Table %s (view %s, %s)\n", Field(schema, "id").c_str(), Field(schema, "name").c_str(),
              Field(schema, "query_mode").c_str());
  if (profile.is_object()) {
    std::printf("Rows: %s, profiled %s\n", Field(profile, "rows").c_str(),
                Field(profile, "profiled_at").c_str());
  } else {
    std::printf("Rows: unknown (not profiled yet)\n");
  }
  std::printf("Schema hash: %s\n\n", Field(schema, "schema_hash").c_str());

  std::map<std::string, json> stats;
  if (profile.is_object() && profile["columns"].is_array()) {
    for (const auto& c : profile["columns"]) stats[c.value("name", "")] = c;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : schema.value("columns", json::array())) {
    std::string name = c.value("name", "");
    std::vector<std::string> row = {PrintableForMessage(name, kMaxCellChars), Field(c, "type")};
    if (auto it = stats.find(name); it != stats.end()) {
      const json& s = it->second;
      for (const char* key : {"null_count", "null_pct", "approx_distinct", "min", "max", "mean"}) {
        row.push_back(Field(s, key));
      }
      row.push_back(TopSummary(s));
    }
    rows.push_back(std::move(row));
  }
  PrintColumns({"COLUMN", "TYPE", "NULLS", "NULL%", "DISTINCT", "MIN", "MAX", "MEAN", "TOP VALUES"},
               rows);

  std::vector<std::string> header;
  for (const auto& c : sample.value("columns", json::array())) header.push_back(Cell(c));
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : sample.value("rows", json::array())) {
    std::vector<std::string> line;
    for (const auto& v : r) line.push_back(Cell(v));
    cells.push_back(std::move(line));
  }
  std::printf("\nSample (%zu rows):\n", cells.size());
  if (!header.empty()) PrintColumns(header, cells);
}

Status RunDescribe(const DescribeFlags& flags) {
  DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("table id", flags.id));
  if (flags.n < 1 || flags.n > 1000) {
    return InvalidArgument("-n must be from 1 to 1000, got " + std::to_string(flags.n));
  }
  DA_ASSIGN_OR_RETURN(auto http, MakeClient());
  auto schema = http.GetJson("/api/v2/schema/" + flags.id);
  if (!schema.ok()) return WithLoginHint(schema.status());
  json profile = nullptr;
  auto p = http.GetJson("/api/catalog/profile/" + flags.id);
  if (p.ok()) {
    profile = std::move(p).value();
  } else if (p.status().code() != StatusCode::kNotFound) {
    return WithLoginHint(p.status());
  }
  auto sample = http.GetJson("/api/v2/sample/" + flags.id + "?n=" + std::to_string(flags.n));
  if (!sample.ok()) return WithLoginHint(sample.status());
  if (flags.json) {
    json out = {{"schema", *schema}, {"profile", profile}, {"sample", *sample}};
    std::printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return Status::Ok();
  }
  PrintDescribe(*schema, profile, *sample);
  return Status::Ok();
}

}  // namespace

void AddCatalogCommands(CLI::App& app, int* exit_code) {
  {
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("catalog", "List the server's tables you may see");
    cmd->add_flag("--json", *as_json, "Print the catalog as JSON");
    cmd->callback([as_json, exit_code]() {
      Status st = RunCatalog(*as_json);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
  {
    auto flags = std::make_shared<DescribeFlags>();
    auto* cmd = app.add_subcommand("describe", "Show a table's schema, profile and sample rows");
    cmd->add_option("id", flags->id, "Table id")->required();
    cmd->add_option("-n", flags->n, "Sample rows (1-1000, default 5)");
    cmd->add_flag("--json", flags->json, "Print {schema, profile, sample} as JSON");
    cmd->callback([flags, exit_code]() {
      Status st = RunDescribe(*flags);
      if (!st.ok()) Fail(st, exit_code);
    });
  }
}

}  // namespace da::cli
