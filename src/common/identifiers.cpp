#include "common/identifiers.h"

namespace da {
namespace {
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool IsStrictIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!IsAlpha(s[0]) && s[0] != '_') return false;
  for (char c : s) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

bool IsQuotedIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  if (!IsAlpha(s[0]) && !IsDigit(s[0]) && s[0] != '_') return false;
  for (char c : s) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

std::string PrintableForMessage(std::string_view s, size_t max_chars) {
  std::string out;
  for (char c : s.substr(0, max_chars)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > max_chars) out += "...";
  return out;
}

namespace {
std::string Printable(std::string_view s) { return PrintableForMessage(s); }
}  // namespace

Status ValidateStrictIdentifier(std::string_view what, std::string_view s) {
  if (IsStrictIdentifier(s)) return Status::Ok();
  return InvalidArgument(std::string(what) + " '" + Printable(s) +
                         "' is not a valid identifier (letters, digits and _, starting with a "
                         "letter or _, at most 64 characters)");
}

Status ValidateQuotedIdentifier(std::string_view what, std::string_view s) {
  if (IsQuotedIdentifier(s)) return Status::Ok();
  return InvalidArgument(std::string(what) + " '" + Printable(s) +
                         "' is not a valid id (letters, digits, _, . and -, at most 128 "
                         "characters)");
}

std::string QuoteIdent(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

Result<std::string> QuoteLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return InvalidArgument("control character in SQL literal");
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

bool IsDataFileName(std::string_view name) {
  constexpr std::string_view kExt = ".parquet";
  if (name.size() <= kExt.size() || name.size() > 200 || !name.ends_with(kExt)) return false;
  if (name.find("..") != std::string_view::npos) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '=';
    if (!ok) return false;
  }
  char first = name.front();
  return first != '.' && first != '-' && first != '_' && first != '=';
}

}  // namespace da
