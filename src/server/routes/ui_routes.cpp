// The web UI: embedded static assets under /ui/... and the single-page app's page paths, which
// all answer ui/index.html (the page script renders the page for location.pathname).
// Registered on the HttpServer itself, not the Router: they are not API routes (no auth, not in
// the OpenAPI description or the API's request metrics).
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/hash.h"
#include "server/app.h"
#include "server/ui_assets.h"

namespace da::server {
namespace {

/// Page paths the browser may load directly (bookmarks, reloads, links in mails). Kept apart
/// from /api, /auth, /docs, /metrics and /openapi.json, which are registered before these.
constexpr const char* kPagePatterns[] = {
    "/",           "/login",         "/catalog", R"(/catalog/[^/]+)", "/admin/tables",
    "/admin/access", "/tokens",      "/runs",    R"(/runs/[^/]+)",
};

const std::unordered_map<std::string_view, const UiAsset*>& AssetIndex() {
  static const auto* kIndex = [] {
    auto* index = new std::unordered_map<std::string_view, const UiAsset*>();
    for (const auto& a : UiAssets()) index->emplace(a.path, &a);
    return index;
  }();
  return *kIndex;
}

/// True when an If-None-Match header lists `etag` (or is `*`).
bool EtagMatches(const httplib::Request& req, std::string_view etag) {
  std::string inm = req.get_header_value("If-None-Match");
  if (inm.empty()) return false;
  if (inm == "*") return true;
  size_t pos = 0;
  while (pos < inm.size()) {
    size_t comma = inm.find(',', pos);
    std::string_view item(inm.data() + pos, (comma == std::string::npos ? inm.size() : comma) - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

/// Answers `asset` with its ETag; 304 when the browser already holds these bytes. Assets keep
/// stable URLs, so browsers revalidate each time (`no-cache`) and get a 304 when unchanged.
void ServeAsset(const UiAsset& asset, const httplib::Request& req, httplib::Response& res) {
  res.set_header("ETag", asset.etag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (EtagMatches(req, asset.etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(reinterpret_cast<const char*>(asset.data), asset.size, asset.content_type);
}

}  // namespace

void RegisterUiRoutes(HttpServer& http) {
  http.Get(R"(/ui/(.+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string path = req.matches[1];
    auto it = AssetIndex().find(path);
    if (it == AssetIndex().end() || path == "index.html") {
      std::string request_id = RandomHex(6);
      res.set_header("X-Request-ID", request_id);
      return WriteError(res, NotFound("no UI asset '" + path.substr(0, 200) + "'"), request_id);
    }
    ServeAsset(*it->second, req, res);
  });
  for (const char* pattern : kPagePatterns) {
    http.Get(pattern, [](const httplib::Request& req, httplib::Response& res) {
      auto it = AssetIndex().find("index.html");
      if (it == AssetIndex().end()) {
        res.status = 500;
        res.set_content("the UI was not embedded in this build", "text/plain");
        return;
      }
      // The pages load only same-origin scripts and styles; nothing may frame them.
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                     "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                     "base-uri 'none'; form-action 'self'");
      res.set_header("Referrer-Policy", "same-origin");
      res.set_header("X-Frame-Options", "DENY");
      ServeAsset(*it->second, req, res);
    });
  }
}

}  // namespace da::server
