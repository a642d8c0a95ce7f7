#pragma once
/// Outgoing mail (magic links) through an SMTP server (net::SendSmtp, libcurl).
///
/// `DA_SMTP_URL`: `smtp://[user:pass@]host[:port]` (STARTTLS used when the server offers it,
/// plain otherwise — except that with a user to a non-loopback host STARTTLS is required) or `smtps://[user:pass@]host[:port]` (implicit TLS). User and password are
/// percent-encoded in the URL. TLS always verifies the server certificate (DA_CA_FILE adds CAs,
/// see https_fetch.h). `DA_SMTP_FROM`: the From header, `addr@example.com` or
/// `Name <addr@example.com>`. The password never appears in any message or log.
///
/// The message (RFC 5322): From, To, Subject (RFC 2047 UTF-8 encoded when not ASCII), Date,
/// Message-ID, MIME-Version, `Content-Type: text/plain; charset=utf-8`, 8bit body with CRLF
/// line ends.
#include <optional>
#include <string>

#include "common/status.h"

namespace da::auth {

struct SmtpConfig { std::string url; std::string from; };  // DA_SMTP_URL (smtp://[user:pass@]host:port, smtps://), DA_SMTP_FROM

/// nullopt when DA_SMTP_URL is unset; invalid_argument when the URL is not smtp(s):// or
/// DA_SMTP_FROM is missing or not an address (messages never show the URL's password).
Result<std::optional<SmtpConfig>> SmtpConfigFromEnv();

/// Sends a plain-text mail through net::SendSmtp. unavailable on connection/SMTP errors (password redacted).
/// invalid_argument when `to` is not a single plain address or `subject`/`to` contain line breaks.
Status SendMail(const SmtpConfig& config, const std::string& to, const std::string& subject, const std::string& body);

}  // namespace da::auth
