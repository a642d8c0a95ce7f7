#pragma once
/// The status line and header block of an answer, formatted straight into a byte buffer.
///
/// The engine writes each answer as these bytes followed by the body (one gather write, no
/// copy of the body). The bytes are those Boost.Beast's serializer wrote for the same answer
/// (response_head_test.cpp holds the two side by side): `HTTP/1.1 <3-digit status> <reason>`,
/// the handler's header fields in the Response's order (names as given, values with surrounding
/// spaces and tabs trimmed) without Content-Length, Connection and Transfer-Encoding, then
/// `Content-Type: text/plain` when the answer has a body but no Content-Type, `Connection`
/// when the connection is to be closed (`close`) or kept open for HTTP/1.0 (`keep-alive`), and
/// `Content-Length` when the status allows a body.
#include <cstddef>
#include <optional>
#include <string>

#include "http/message.h"

namespace da::http {

/// How the answer is framed on its connection.
struct ResponseFraming {
  bool keep_alive = true;  ///< false: `Connection: close`
  bool http10 = false;     ///< an HTTP/1.0 request (a kept-alive one gets `Connection: keep-alive`)
  /// The Content-Length to send; nullopt for statuses without a body (1xx, 204, 304).
  std::optional<size_t> content_length;
};

/// True for statuses whose answers carry no body and no Content-Length (1xx, 204, 304).
inline bool StatusHasNoBody(int status) { return status == 304 || status == 204 || status < 200; }

/// Appends the status line and header block of `res` (through the blank line) to `out`.
/// `res.status` must be 100..999.
void AppendResponseHead(std::string& out, const Response& res, const ResponseFraming& framing);

}  // namespace da::http
