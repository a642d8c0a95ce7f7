// The web UI: embedded static assets under /ui/... and the single-page app's page paths, which
// all answer ui/index.html (the page script renders the page for location.pathname).
// Registered on the http::Server itself, not the Router: they are not API routes (no auth, not in
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
    "/",           "/login",         "/catalog", "/catalog/{id}", "/admin/tables",
    "/admin/access", "/tokens",      "/runs",    "/runs/{id}",
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
bool EtagMatches(const http::Request& req, std::string_view etag) {
  std::string inm = req.Header("If-None-Match");
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
void ServeAsset(const UiAsset& asset, const http::Request& req, http::Response& res) {
  res.SetHeader("ETag", asset.etag);
  res.SetHeader("Cache-Control", "no-cache");
  res.SetHeader("X-Content-Type-Options", "nosniff");
  if (EtagMatches(req, asset.etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  // The embedded bytes live as long as the program: a view without an owner, not a copy.
  res.SetBodyView(nullptr, std::string_view(reinterpret_cast<const char*>(asset.data), asset.size),
                  asset.content_type);
}

}  // namespace

void RegisterUiRoutes(http::Server& server, bool public_url_is_https) {
  server.Get("/ui/{*path}", [](const http::Request& req, http::Response& res) {
    const std::string path = req.PathParam("path");
    auto it = AssetIndex().find(path);
    if (it == AssetIndex().end() || path == "index.html") {
      std::string request_id = RandomHex(6);
      res.SetHeader("X-Request-ID", request_id);
      return WriteError(res, NotFound("no UI asset '" + path.substr(0, 200) + "'"), request_id);
    }
    ServeAsset(*it->second, req, res);
  });
  for (const char* pattern : kPagePatterns) {
    server.Get(pattern, [public_url_is_https](const http::Request& req, http::Response& res) {
      if (public_url_is_https || RequestIsHttps(req)) res.SetHeader("Strict-Transport-Security", kHstsValue);
      auto it = AssetIndex().find("index.html");
      if (it == AssetIndex().end()) {
        res.status = 500;
        res.SetContent("the UI was not embedded in this build", "text/plain");
        return;
      }
      // The pages load only same-origin scripts and styles; nothing may frame them.
      res.SetHeader("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                     "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                     "base-uri 'none'; form-action 'self'");
      res.SetHeader("Referrer-Policy", "same-origin");
      res.SetHeader("X-Frame-Options", "DENY");
      ServeAsset(*it->second, req, res);
    });
  }
}

}  // namespace da::server
