#include "cli/cli_support.h"

#include <algorithm>
#include <cstdio>

#include "client/client_config.h"

namespace da::cli {

void Fail(const Status& st, int* exit_code) {
  std::fprintf(stderr, "error: %s\n", st.message().c_str());
  *exit_code = ExitCodeFor(st.code());
}

Result<client::HttpClient> MakeClient() {
  DA_ASSIGN_OR_RETURN(client::ClientConfig config, client::LoadClientConfig());
  return client::HttpClient({config.server, config.token});
}

Result<nlohmann::json> CallJson(const client::HttpClient& http, const std::string& method,
                                const std::string& path, const nlohmann::json* body) {
  DA_ASSIGN_OR_RETURN(client::HttpResponse r, http.Send(method, path, body));
  const std::string what = method + " " + http.base_url() + path;
  if (r.status < 200 || r.status >= 300) return client::StatusFromHttpError(r.status, r.body, what);
  if (r.body.empty()) return nlohmann::json(nullptr);
  auto parsed = nlohmann::json::parse(r.body, nullptr, false);
  if (parsed.is_discarded()) return Internal(what + " answered with a body that is not JSON");
  return parsed;
}

Status WithLoginHint(Status st) {
  if (st.code() == StatusCode::kUnauthenticated) return {st.code(), st.message() + "; run `da login`"};
  return st;
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string HumanBytes(const nlohmann::json& v) {
  if (!v.is_number()) return "";
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double x = v.get<double>();
  int u = 0;
  while (x >= 1000.0 && u < 4) {
    x /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", x, units[u]);
  return buf;
}

namespace {
/// Display width of UTF-8 text, counting code points (good enough for aligned columns).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace

void PrintColumns(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = Width(header[c]);
  for (const auto& r : rows) {
    for (size_t c = 0; c < header.size() && c < r.size(); ++c) width[c] = std::max(width[c], Width(r[c]));
  }
  auto print = [&](const std::vector<std::string>& r) {
    std::string line;
    for (size_t c = 0; c < header.size(); ++c) {
      std::string cell = c < r.size() ? r[c] : "";
      line += cell;
      if (c + 1 < header.size()) line += std::string(width[c] - Width(cell) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  };
  print(header);
  for (const auto& r : rows) print(r);
}

}  // namespace da::cli
