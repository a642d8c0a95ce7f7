#pragma once
/// The web UI's static files (ui/ in the source tree), embedded in the binary at build time by
/// cmake/embed_ui.cmake. Served by routes/ui_routes.cpp.
#include <cstddef>
#include <string_view>
#include <vector>

namespace da::server {

/// One embedded file. `path` is relative to ui/ (e.g. "app.js", "pages/catalog.js");
/// `etag` is the quoted lower-case hex MD5 of the bytes; `data` holds `size` bytes
/// (plus a trailing NUL not counted in `size`).
struct UiAsset {
  const char* path;
  const char* content_type;
  const char* etag;
  const unsigned char* data;
  size_t size;
};

/// Every embedded asset, sorted by path. Static storage; never changes at run time.
const std::vector<UiAsset>& UiAssets();

}  // namespace da::server
