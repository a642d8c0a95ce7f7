#include "auth/mailer.h"

#include <sodium.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "common/hash.h"
#include "net/smtp.h"
#include "net/url.h"

namespace da::auth {
namespace {

// A plain address: local@domain, printable ASCII, none of the characters that end or split one.
bool IsPlainAddress(const std::string& a) {
  size_t at = a.find('@');
  if (a.empty() || a.size() > 254 || at == 0 || at == std::string::npos || at + 1 >= a.size() ||
      a.find('@', at + 1) != std::string::npos) {
    return false;
  }
  for (unsigned char c : a) {
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '(' || c == ')') {
      return false;
    }
  }
  return true;
}

bool HasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// The address of "Name <addr>" or "addr".
std::string AddressOf(const std::string& from) {
  size_t lt = from.rfind('<');
  if (lt != std::string::npos && !from.empty() && from.back() == '>') return from.substr(lt + 1, from.size() - lt - 2);
  return from;
}

struct SmtpUrl {
  std::string scheme, host, port, user, password;
};

Result<SmtpUrl> ParseSmtpUrl(const std::string& url) {
  auto parts = net::ParseUrl(url, /*any_scheme=*/true);
  if (!parts.ok()) return InvalidArgument("DA_SMTP_URL is not a valid URL");
  SmtpUrl s{parts->scheme, parts->host, parts->port, parts->user, parts->password};
  if (s.scheme != "smtp" && s.scheme != "smtps") return InvalidArgument("DA_SMTP_URL must start with smtp:// or smtps://");
  return s;
}

std::string Redact(std::string message, const std::string& secret) {
  if (secret.empty()) return message;
  for (size_t at; (at = message.find(secret)) != std::string::npos;) message.replace(at, secret.size(), "***");
  return message;
}

// RFC 5322 date in UTC, independent of the locale.
std::string RfcDate() {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string Base64Std(const std::string& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);
  return out;
}

std::string EncodeSubject(const std::string& subject) {
  for (unsigned char c : subject) {
    if (c >= 0x80) return "=?UTF-8?B?" + Base64Std(subject) + "?=";
  }
  return subject;
}

std::string CrlfBody(const std::string& body) {
  std::string out;
  out.reserve(body.size() + body.size() / 32 + 2);
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

}  // namespace

Result<std::optional<SmtpConfig>> SmtpConfigFromEnv() {
  const char* url = std::getenv("DA_SMTP_URL");
  if (url == nullptr || *url == '\0') return std::optional<SmtpConfig>();
  DA_RETURN_IF_ERROR(ParseSmtpUrl(url).status());
  const char* from = std::getenv("DA_SMTP_FROM");
  if (from == nullptr || *from == '\0') return InvalidArgument("DA_SMTP_FROM is required when DA_SMTP_URL is set");
  if (HasLineBreak(from) || !IsPlainAddress(AddressOf(from))) {
    return InvalidArgument(std::string("DA_SMTP_FROM is not a mail address: '") + from + "'");
  }
  return std::optional<SmtpConfig>(SmtpConfig{url, from});
}

Status SendMail(const SmtpConfig& config, const std::string& to, const std::string& subject, const std::string& body) {
  if (!IsPlainAddress(to)) return InvalidArgument("not a mail address: '" + to.substr(0, 254) + "'");
  if (HasLineBreak(subject)) return InvalidArgument("mail subject must be one line");
  const std::string from_address = AddressOf(config.from);
  if (HasLineBreak(config.from) || !IsPlainAddress(from_address)) return InvalidArgument("DA_SMTP_FROM is not a mail address");
  DA_ASSIGN_OR_RETURN(SmtpUrl url, ParseSmtpUrl(config.url));
  const std::string where = url.scheme + "://" + url.host + (url.port.empty() ? "" : ":" + url.port);

  net::SmtpMessage message;
  message.data = "Date: " + RfcDate() + "\r\nFrom: " + config.from + "\r\nTo: " + to +
                 "\r\nSubject: " + EncodeSubject(subject) + "\r\nMessage-ID: <" + RandomHex(16) + "@" +
                 from_address.substr(from_address.find('@') + 1) +
                 ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n\r\n" +
                 CrlfBody(body);
  message.url = config.url;
  // STARTTLS when offered; required when a password would otherwise cross a network in clear
  // text (a man in the middle can hide the STARTTLS offer).
  const bool must_tls = url.scheme == "smtp" && !url.user.empty() && !net::IsLoopbackHost(url.host);
  message.start_tls = must_tls ? net::StartTls::kRequire : net::StartTls::kTry;
  message.mail_from = "<" + from_address + ">";
  message.rcpt_to = "<" + to + ">";
  Status sent = net::SendSmtp(message);
  if (sent.code() == StatusCode::kUnavailable) {
    return Unavailable(Redact("cannot send mail via " + where + ": " + sent.message(), url.password));
  }
  if (!sent.ok()) return sent;
  return Status::Ok();
}

}  // namespace da::auth
