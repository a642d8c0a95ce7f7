#include "net/url.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>

namespace da::net {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

std::string Part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  std::string out;
  if (curl_url_get(u, part, &value, flags) == CURLUE_OK && value != nullptr) out = value;
  curl_free(value);
  return out;
}

}  // namespace

Result<UrlParts> ParseUrl(std::string_view url, bool any_scheme) {
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (!u) return Internal("curl_url failed");
  const unsigned flags = any_scheme ? CURLU_NON_SUPPORT_SCHEME : 0;
  if (curl_url_set(u.get(), CURLUPART_URL, std::string(url).c_str(), flags) != CURLUE_OK) {
    return InvalidArgument("not a valid URL");
  }
  return UrlParts{Part(u.get(), CURLUPART_SCHEME), Part(u.get(), CURLUPART_HOST),
                  Part(u.get(), CURLUPART_PORT),   Part(u.get(), CURLUPART_USER),
                  Part(u.get(), CURLUPART_PASSWORD, CURLU_URLDECODE),
                  Part(u.get(), CURLUPART_PATH)};
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  return host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string::npos;
}

std::string UrlForMessage(std::string_view url) {
  auto parts = ParseUrl(url);
  if (!parts.ok()) return "<invalid url>";
  return parts->scheme + "://" + parts->host + (parts->port.empty() ? "" : ":" + parts->port) +
         parts->path;
}

std::string UrlEncode(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& s : secrets) {
    if (s.size() < 4) continue;
    for (const std::string& form : {s, UrlEncode(s)}) {
      for (size_t pos = out.find(form); pos != std::string::npos; pos = out.find(form, pos + 3)) {
        out.replace(pos, form.size(), "***");
      }
    }
  }
  return out;
}

}  // namespace da::net
