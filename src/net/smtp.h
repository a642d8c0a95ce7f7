#pragma once
/// SendSmtp(): hands one message to an SMTP server over libcurl (the mail half of the outgoing
/// client), with the same TLS trust as HTTP transfers (system store + DA_CA_FILE).
#include <cstdint>
#include <string>

#include "common/status.h"

namespace da::net {

/// When the session must use TLS. `smtps://` URLs always do (implicit TLS).
enum class StartTls {
  kTry,      ///< STARTTLS when the server offers it
  kRequire,  ///< fail unless STARTTLS succeeds
};

/// One message. `url` is `smtp[s]://[user:password@]host[:port]`; `data` is the whole message
/// (headers, blank line, body) with CRLF line ends.
struct SmtpMessage {
  std::string url;
  StartTls start_tls = StartTls::kTry;
  std::string mail_from;  ///< envelope sender, "<addr>"
  std::string rcpt_to;    ///< envelope recipient, "<addr>"
  std::string data;
  int64_t connect_timeout_ms = 10'000;
  int64_t timeout_ms = 60'000;
};

/// Sends `message`. Errors: invalid_argument when DA_CA_FILE is set but not a readable file;
/// unavailable with libcurl's reason (which may name the URL's host but not its password;
/// callers still redact) when the server cannot be reached, refuses TLS, the login or the
/// message; internal when libcurl cannot make a handle.
Status SendSmtp(const SmtpMessage& message);

}  // namespace da::net
