#include "server/openapi.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#ifndef DA_VERSION
#define DA_VERSION "0.0.0"
#endif

namespace da::server {
namespace {

using OJ = nlohmann::ordered_json;

/// A plain (unquoted) scalar as the YAML 1.2 core schema reads it.
OJ PlainScalar(const std::string& s) {
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return std::stod(s);
    }
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

OJ NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags a quoted scalar "!" and a plain one "?".
      return node.Tag() == "!" ? OJ(node.Scalar()) : PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      OJ out = OJ::array();
      for (const auto& item : node) out.push_back(NodeToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      OJ out = OJ::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = NodeToJson(kv.second);
      return out;
    }
  }
  return nullptr;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

AccessLevel AccessFromName(const std::string& name) {
  if (name == "public") return AccessLevel::kPublic;
  if (name == "admin") return AccessLevel::kAdmin;
  return AccessLevel::kAuthenticated;
}

std::string StringOr(const OJ& obj, const char* key, const std::string& fallback = "") {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

Result<nlohmann::ordered_json> ParseOpenApiYaml(std::string_view yaml_text) {
  try {
    return NodeToJson(YAML::Load(std::string(yaml_text)));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("openapi.yaml: ") + e.what());
  }
}

const nlohmann::ordered_json& OpenApiDocument() {
  static const OJ kDocument = [] {
    auto doc = ParseOpenApiYaml(EmbeddedOpenApiYaml());
    if (!doc.ok() || !doc->is_object()) {
      std::fprintf(stderr, "embedded openapi.yaml does not parse: %s\n",
                   doc.ok() ? "not a mapping" : doc.status().ToString().c_str());
      std::abort();
    }
    (*doc)["info"]["version"] = DA_VERSION;
    return std::move(doc).value();
  }();
  return kDocument;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string AccessName(AccessLevel access) {
  switch (access) {
    case AccessLevel::kPublic: return "public";
    case AccessLevel::kAuthenticated: return "authenticated";
    case AccessLevel::kAdmin: return "admin";
  }
  return "unknown";
}

std::string NormalizeRoutePath(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '(' || c == '{') {
      // Skip to the matching close, allowing nesting (regex groups may contain groups).
      const char open = c;
      const char close = c == '(' ? ')' : '}';
      int depth = 0;
      for (; i < path.size(); ++i) {
        if (path[i] == open) ++depth;
        if (path[i] == close && --depth == 0) break;
      }
      out += "{}";
    } else if (c == '\\' && i + 1 < path.size()) {
      out += path[++i];  // an escaped literal such as \. in a regex
    } else {
      out += c;
    }
  }
  return out;
}

std::string RouteKey(const std::string& method, const std::string& pattern_or_path) {
  return Upper(method) + " " + NormalizeRoutePath(pattern_or_path);
}

DocDrift CompareWithRoutes(const nlohmann::ordered_json& doc,
                           const std::vector<RouteInfo>& routes) {
  DocDrift drift;
  std::map<std::string, AccessLevel> documented;
  if (doc.contains("paths")) {
    for (const auto& [path, item] : doc["paths"].items()) {
      for (const auto& [method, op] : item.items()) {
        std::string key = RouteKey(method, path);
        if (!documented.emplace(key, AccessFromName(StringOr(op, "x-access"))).second) {
          drift.duplicates.push_back(key);
        }
      }
    }
  }
  std::set<std::string> registered;
  for (const auto& r : routes) {
    std::string key = RouteKey(r.method, r.pattern);
    registered.insert(key);
    auto it = documented.find(key);
    if (it == documented.end()) {
      drift.undocumented.push_back(key);
    } else if (it->second != r.access) {
      drift.access_mismatch.push_back(key + " (registered " + AccessName(r.access) +
                                      ", documented " + AccessName(it->second) + ")");
    }
  }
  for (const auto& [key, access] : documented) {
    if (!registered.count(key)) drift.not_registered.push_back(key);
  }
  return drift;
}

std::string RenderDocsHtml(const nlohmann::ordered_json& doc) {
  const OJ empty = OJ::object();
  const OJ& paths = doc.contains("paths") ? doc["paths"] : empty;
  std::vector<std::string> tags;
  if (doc.contains("tags")) {
    for (const auto& t : doc["tags"]) tags.push_back(StringOr(t, "name"));
  }
  const std::string version = doc.contains("info") ? StringOr(doc["info"], "version") : "";
  std::string h;
  h += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>da API reference</title><style>"
       "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}"
       "main{max-width:980px;margin:0 auto;padding:24px}"
       "h1{margin:0 0 4px}h2{margin-top:36px;border-bottom:1px solid #d8dde6}"
       "nav a{margin-right:12px}"
       ".ep{background:#fff;border:1px solid #d8dde6;border-radius:6px;margin:14px 0;padding:12px 16px}"
       ".m{display:inline-block;min-width:62px;text-align:center;font-weight:600;color:#fff;"
       "border-radius:4px;padding:1px 6px;margin-right:8px;font-size:13px}"
       ".GET{background:#2f7d32}.POST{background:#1f5fb8}.PUT{background:#a36200}"
       ".PATCH{background:#6a4fb3}.DELETE{background:#b3261e}"
       ".path{font-family:ui-monospace,monospace;font-weight:600}"
       ".acc{float:right;font-size:12px;border:1px solid #aab;border-radius:10px;padding:0 8px}"
       "pre{background:#f3f5f8;padding:8px;overflow-x:auto;font-size:12.5px;border-radius:4px}"
       "table{border-collapse:collapse}td,th{border:1px solid #d8dde6;padding:2px 8px;"
       "text-align:left;font-size:13.5px}"
       "</style></head><body><main>\n";
  h += "<h1>da API reference</h1><p>Version " + HtmlEscape(version) +
       ". Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. Authenticate with "
       "<code>Authorization: Bearer &lt;token&gt;</code>. Errors have one shape: "
       "<code>{\"error\": {\"code\", \"message\", \"request_id\"}}</code>.</p>\n<nav>";
  for (const auto& t : tags) h += "<a href=\"#tag-" + HtmlEscape(t) + "\">" + HtmlEscape(t) + "</a>";
  h += "<a href=\"#schemas\">Schemas</a></nav>\n";
  for (const auto& t : tags) {
    h += "<h2 id=\"tag-" + HtmlEscape(t) + "\">" + HtmlEscape(t) + "</h2>\n";
    for (const auto& [path, item] : paths.items()) {
      for (const auto& [method_lower, op] : item.items()) {
        if (!op.contains("tags") || op["tags"].empty() || op["tags"][0] != t) continue;
        const std::string method = Upper(method_lower);
        h += "<section class=\"ep\" id=\"" + HtmlEscape(StringOr(op, "operationId")) +
             "\"><span class=\"acc\">" + HtmlEscape(StringOr(op, "x-access")) +
             "</span><span class=\"m " + HtmlEscape(method) + "\">" + HtmlEscape(method) +
             "</span><span class=\"path\">" + HtmlEscape(path) + "</span><p>" +
             HtmlEscape(StringOr(op, "summary")) + "</p>";
        if (!StringOr(op, "description").empty()) {
          h += "<p>" + HtmlEscape(StringOr(op, "description")) + "</p>";
        }
        if (op.contains("parameters") && !op["parameters"].empty()) {
          h += "<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th></th></tr>";
          for (const auto& p : op["parameters"]) {
            const bool required = p.value("required", false);
            h += "<tr><td><code>" + HtmlEscape(StringOr(p, "name")) + "</code></td><td>" +
                 HtmlEscape(StringOr(p, "in")) + "</td><td>" +
                 HtmlEscape(p.contains("schema") ? StringOr(p["schema"], "type") : "") +
                 "</td><td>" + (required ? "yes" : "no") + "</td><td>" +
                 HtmlEscape(StringOr(p, "description")) + "</td></tr>";
          }
          h += "</table>";
        }
        if (op.contains("requestBody")) {
          const OJ body_content = op["requestBody"].value("content", empty);
          for (const auto& [type, media] : body_content.items()) {
            h += "<p><b>Request body</b> (" + HtmlEscape(type) + ")</p><pre>" +
                 HtmlEscape(media.value("schema", empty).dump(2)) + "</pre>";
            if (media.contains("example")) {
              h += "<p>Example</p><pre>" + HtmlEscape(media["example"].dump(2)) + "</pre>";
            }
          }
        }
        const OJ responses = op.value("responses", empty);
        for (const auto& [status, response] : responses.items()) {
          h += "<p><b>" + HtmlEscape(status) + "</b> " +
               HtmlEscape(StringOr(response, "description"));
          const OJ content = response.value("content", empty);
          for (const auto& [type, media] : content.items()) {
            h += " <code>" + HtmlEscape(type) + "</code>";
          }
          h += "</p>";
          for (const auto& [type, media] : content.items()) {
            const OJ schema = media.value("schema", empty);
            if (type == "application/json" &&
                StringOr(schema, "$ref") != "#/components/schemas/Error") {
              h += "<pre>" + HtmlEscape(schema.dump(2)) + "</pre>";
            }
          }
        }
        h += "</section>\n";
      }
    }
  }
  h += "<h2 id=\"schemas\">Schemas</h2>\n";
  if (doc.contains("components") && doc["components"].contains("schemas")) {
    for (const auto& [name, schema] : doc["components"]["schemas"].items()) {
      h += "<section class=\"ep\"><span class=\"path\">" + HtmlEscape(name) + "</span><pre>" +
           HtmlEscape(schema.dump(2)) + "</pre></section>\n";
    }
  }
  h += "</main></body></html>\n";
  return h;
}

}  // namespace da::server
