#include "http/response_head.h"

#include <charconv>
#include <string_view>

#include <boost/beast/http/status.hpp>

namespace da::http {

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// Without leading and trailing spaces and tabs (as Beast stored field values).
std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

void AppendResponseHead(std::string& out, const Response& res, const ResponseFraming& framing) {
  const auto code = static_cast<unsigned>(res.status);
  const char status_line[] = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ',
                              static_cast<char>('0' + code / 100 % 10),
                              static_cast<char>('0' + code / 10 % 10),
                              static_cast<char>('0' + code % 10), ' '};
  out.append(status_line, sizeof status_line);
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(code));
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  bool has_content_type = false;
  for (const auto& [name, value] : res.headers) {
    if (IEquals(name, "Content-Length") || IEquals(name, "Connection") ||
        IEquals(name, "Transfer-Encoding")) {
      continue;
    }
    if (IEquals(name, "Content-Type")) has_content_type = true;
    AppendField(out, name, TrimSpace(value));
  }
  if (!has_content_type && !res.BodyEmpty() && !StatusHasNoBody(res.status)) {
    AppendField(out, "Content-Type", "text/plain");
  }
  if (!framing.keep_alive) {
    AppendField(out, "Connection", "close");
  } else if (framing.http10) {
    AppendField(out, "Connection", "keep-alive");
  }
  if (framing.content_length) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, *framing.content_length);
    AppendField(out, "Content-Length", std::string_view(digits, static_cast<size_t>(end - digits)));
  }
  out.append("\r\n");
}

}  // namespace da::http
