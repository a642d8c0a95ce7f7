#include "connectors/keboola/keboola_config.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "common/identifiers.h"
#include "net/https_client.h"

namespace da::connectors::keboola {
namespace {

using nlohmann::json;

std::string Setting(const kit::ConnectorConfig& config, const std::string& key, const char* env) {
  auto it = config.find(key);
  if (it != config.end() && !it->second.empty()) return it->second;
  if (env) {
    const char* v = std::getenv(env);
    if (v) return v;
  }
  return "";
}

Status ParseInt(const kit::ConnectorConfig& config, const std::string& key, int64_t min, int64_t max,
                int64_t* out) {
  auto it = config.find(key);
  if (it == config.end() || it->second.empty()) return Status::Ok();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) {
    return InvalidArgument("keboola: " + key + " must be an integer in [" + std::to_string(min) +
                           ", " + std::to_string(max) + "], got '" +
                           PrintableForMessage(it->second) + "'");
  }
  *out = v;
  return Status::Ok();
}

std::string Date(std::time_t t) {
  char buf[16];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

/// Value of one placeholder body (between the braces).
Result<std::string> Placeholder(const std::string& body, std::time_t now) {
  if (body == "today") return Date(now);
  if (body == "yesterday") return Date(now - 86400);
  if (body == "now") return std::to_string(now);
  for (const char* base : {"today", "now"}) {
    const std::string b = base;
    if (!body.starts_with(b) || body.size() < b.size() + 3) continue;
    const char sign = body[b.size()];
    const char unit = body.back();
    const std::string digits = body.substr(b.size() + 1, body.size() - b.size() - 2);
    if ((sign != '-' && sign != '+') || digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const int64_t n = std::stoll(digits) * (sign == '-' ? -1 : 1);
    if (b == "today" && unit == 'd') return Date(now + n * 86400);
    if (b == "now" && unit == 'd') return std::to_string(now + n * 86400);
    if (b == "now" && unit == 'h') return std::to_string(now + n * 3600);
  }
  return InvalidArgument("keboola: unknown date placeholder '{" + PrintableForMessage(body) +
                         "}' (use {today}, {yesterday}, {today-Nd}, {now}, {now-Nd}, {now-Nh})");
}

Result<std::vector<std::string>> StringList(const json& j, const std::string& what) {
  if (!j.is_array()) return InvalidArgument("keboola filter: " + what + " must be a list");
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    } else if (v.is_number()) {
      out.push_back(v.dump());
    } else {
      return InvalidArgument("keboola filter: " + what + " must hold strings or numbers");
    }
  }
  return out;
}

}  // namespace

Result<KeboolaConfig> ResolveKeboolaConfig(const kit::ConnectorConfig& config) {
  KeboolaConfig c;
  c.stack_url = Setting(config, "stack_url", "KEBOOLA_STACK_URL");
  c.token = Setting(config, "token", "KEBOOLA_STORAGE_TOKEN");
  if (c.stack_url.empty()) {
    return InvalidArgument(
        "keboola: no stack URL (set KEBOOLA_STACK_URL or sources.keboola.stack_url)");
  }
  if (c.token.empty()) {
    return InvalidArgument(
        "keboola: no Storage API token (set KEBOOLA_STORAGE_TOKEN or sources.keboola.token)");
  }
  while (!c.stack_url.empty() && c.stack_url.back() == '/') c.stack_url.pop_back();
  const std::string host = c.stack_url.substr(std::min<size_t>(c.stack_url.size(), 8));
  if (!c.stack_url.starts_with("https://") || host.empty() ||
      host.find_first_of("/?#@ \t") != std::string::npos) {
    return InvalidArgument("keboola: stack URL '" + PrintableForMessage(c.stack_url) +
                           "' must be https://<host>[:port]");
  }
  for (char ch : c.token) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return InvalidArgument("keboola: the token contains control characters");
    }
  }
  int64_t attempts = c.max_attempts, conc = c.slice_concurrency;
  DA_RETURN_IF_ERROR(ParseInt(config, "job_timeout_seconds", 1, 86400, &c.job_timeout_seconds));
  DA_RETURN_IF_ERROR(ParseInt(config, "poll_initial_ms", 10, 60000, &c.poll_initial_ms));
  DA_RETURN_IF_ERROR(ParseInt(config, "poll_max_ms", 10, 300000, &c.poll_max_ms));
  DA_RETURN_IF_ERROR(ParseInt(config, "incremental_window_days", 0, 3650, &c.incremental_window_days));
  DA_RETURN_IF_ERROR(ParseInt(config, "initial_load_chunk_days", 1, 3650, &c.initial_load_chunk_days));
  DA_RETURN_IF_ERROR(ParseInt(config, "max_history_days", 1, 36500, &c.max_history_days));
  DA_RETURN_IF_ERROR(ParseInt(config, "max_attempts", 1, 20, &attempts));
  DA_RETURN_IF_ERROR(ParseInt(config, "slice_concurrency", 1, 32, &conc));
  c.max_attempts = static_cast<int>(attempts);
  c.slice_concurrency = static_cast<int>(conc);
  if (auto ft = config.find("file_type"); ft != config.end() && !ft->second.empty()) {
    if (ft->second != "csv" && ft->second != "parquet") {
      return InvalidArgument("keboola: file_type must be csv or parquet, got '" +
                             PrintableForMessage(ft->second) + "'");
    }
    c.file_type = ft->second;
  }
  return c;
}

Result<ExportFilter> ParseExportFilter(const std::string& source_query) {
  ExportFilter f;
  if (source_query.find_first_not_of(" \t\r\n") == std::string::npos) return f;
  json j = json::parse(source_query, nullptr, false);
  if (!j.is_object()) {
    return InvalidArgument("keboola: source_query must be a JSON object export filter "
                           "(where_filters, columns, changed_since, changed_until, limit, "
                           "file_type, initial_load_chunk_days, max_history_days)");
  }
  static const std::set<std::string> kKeys = {"where_filters", "columns", "changed_since",
                                              "changed_until", "limit", "file_type", "fileType",
                                              "initial_load_chunk_days", "max_history_days"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kKeys.count(it.key())) {
      return InvalidArgument("keboola filter: unknown key '" + PrintableForMessage(it.key()) + "'");
    }
  }
  if (j.contains("where_filters") && !j["where_filters"].is_null()) {
    if (!j["where_filters"].is_array()) return InvalidArgument("keboola filter: where_filters must be a list");
    static const std::set<std::string> kOps = {"eq", "ne", "gt", "ge", "lt", "le"};
    static const std::set<std::string> kTypes = {"INTEGER", "DOUBLE", "BIGINT", "REAL", "DECIMAL"};
    size_t i = 0;
    for (const auto& w : j["where_filters"]) {
      const std::string at = "where_filters[" + std::to_string(i++) + "]";
      if (!w.is_object() || !w.contains("column") || !w["column"].is_string() ||
          !w.contains("values")) {
        return InvalidArgument("keboola filter: " + at + " needs column, operator and values");
      }
      WhereFilter wf;
      wf.column = w["column"].get<std::string>();
      DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("keboola filter column", wf.column));
      wf.op = w.value("operator", "eq");
      if (!kOps.count(wf.op)) {
        return InvalidArgument("keboola filter: " + at + ".operator '" + PrintableForMessage(wf.op) +
                               "' is not one of eq, ne, gt, ge, lt, le");
      }
      DA_ASSIGN_OR_RETURN(wf.values, StringList(w["values"], at + ".values"));
      if (wf.values.empty()) return InvalidArgument("keboola filter: " + at + ".values is empty");
      if (wf.op != "eq" && wf.op != "ne" && wf.values.size() != 1) {
        return InvalidArgument("keboola filter: " + at + " with operator " + wf.op +
                               " takes exactly one value");
      }
      for (const char* k : {"data_type", "dataType"}) {
        if (w.contains(k) && w[k].is_string()) wf.data_type = w[k].get<std::string>();
      }
      if (!wf.data_type.empty() && !kTypes.count(wf.data_type)) {
        return InvalidArgument("keboola filter: " + at + ".data_type must be one of INTEGER, "
                               "DOUBLE, BIGINT, REAL, DECIMAL");
      }
      f.where_filters.push_back(std::move(wf));
    }
  }
  if (j.contains("columns") && !j["columns"].is_null()) {
    DA_ASSIGN_OR_RETURN(f.columns, StringList(j["columns"], "columns"));
    for (const auto& c : f.columns) DA_RETURN_IF_ERROR(ValidateQuotedIdentifier("keboola filter column", c));
  }
  for (const char* k : {"changed_since", "changed_until"}) {
    if (!j.contains(k) || j[k].is_null()) continue;
    if (!j[k].is_string() && !j[k].is_number_integer()) {
      return InvalidArgument(std::string("keboola filter: ") + k + " must be a string or unix time");
    }
    (std::string(k) == "changed_since" ? f.changed_since : f.changed_until) =
        j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
  }
  if (j.contains("limit") && !j["limit"].is_null()) {
    if (!j["limit"].is_number_integer() || j["limit"].get<int64_t>() < 0) {
      return InvalidArgument("keboola filter: limit must be a non-negative integer");
    }
    f.limit = j["limit"].get<int64_t>();
  }
  for (const auto& [k, hi, out] : {std::tuple{"initial_load_chunk_days", 3650, &f.initial_load_chunk_days},
                                    std::tuple{"max_history_days", 36500, &f.max_history_days}}) {
    if (!j.contains(k) || j[k].is_null()) continue;
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < 1 || j[k].get<int64_t>() > hi) {
      return InvalidArgument(std::string("keboola filter: ") + k + " must be an integer in [1, " +
                             std::to_string(hi) + "]");
    }
    *out = j[k].get<int64_t>();
  }
  for (const char* k : {"file_type", "fileType"}) {
    if (!j.contains(k) || j[k].is_null()) continue;
    f.file_type = j[k].is_string() ? j[k].get<std::string>() : "";
    if (f.file_type != "csv" && f.file_type != "parquet") {
      return InvalidArgument("keboola filter: file_type must be csv or parquet");
    }
  }
  return f;
}

Result<std::string> ExpandDatePlaceholders(const std::string& text, std::time_t now) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    out += text.substr(pos, open - pos);
    DA_ASSIGN_OR_RETURN(std::string v, Placeholder(text.substr(open + 1, close - open - 1), now));
    out += v;
    pos = close + 1;
  }
  out += text.substr(std::min(pos, text.size()));
  return out;
}

Result<std::string> ExportForm(const ExportFilter& filter, const std::string& file_type, bool gzip,
                               std::time_t now) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t i = 0; i < filter.where_filters.size(); ++i) {
    const WhereFilter& w = filter.where_filters[i];
    const std::string p = "whereFilters[" + std::to_string(i) + "]";
    fields.emplace_back(p + "[column]", w.column);
    fields.emplace_back(p + "[operator]", w.op);
    for (size_t v = 0; v < w.values.size(); ++v) {
      DA_ASSIGN_OR_RETURN(std::string value, ExpandDatePlaceholders(w.values[v], now));
      fields.emplace_back(p + "[values][" + std::to_string(v) + "]", value);
    }
    if (!w.data_type.empty()) fields.emplace_back(p + "[dataType]", w.data_type);
  }
  if (!filter.columns.empty()) {
    std::string cols;
    for (const auto& c : filter.columns) cols += (cols.empty() ? "" : ",") + c;
    fields.emplace_back("columns", cols);
  }
  if (!filter.changed_since.empty()) {
    DA_ASSIGN_OR_RETURN(std::string v, ExpandDatePlaceholders(filter.changed_since, now));
    fields.emplace_back("changedSince", v);
  }
  if (!filter.changed_until.empty()) {
    DA_ASSIGN_OR_RETURN(std::string v, ExpandDatePlaceholders(filter.changed_until, now));
    fields.emplace_back("changedUntil", v);
  }
  if (filter.limit) fields.emplace_back("limit", std::to_string(*filter.limit));
  if (file_type != "csv") fields.emplace_back("fileType", file_type);
  if (gzip && file_type == "csv") fields.emplace_back("gzip", "1");
  std::string body;
  for (const auto& [k, v] : fields) {
    body += (body.empty() ? "" : "&") + net::UrlEncode(k) + "=" + net::UrlEncode(v);
  }
  return body;
}

}  // namespace da::connectors::keboola
