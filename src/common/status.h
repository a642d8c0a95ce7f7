#pragma once
/// Status and Result<T>: the error model of every layer that can fail for outside reasons.
///
/// A Status is a code from the usual set plus a message that names the operation and the
/// offending value (never a secret). `HttpStatusFor` and `ExitCodeFor` are the one table that
/// maps codes to HTTP statuses and CLI exit codes.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace da {

enum class StatusCode {
  kOk,
  kInvalidArgument,     ///< well-formed input with an invalid value (HTTP 422)
  kMalformed,           ///< input that cannot be parsed at all, e.g. broken JSON (HTTP 400)
  kNotFound,            ///< HTTP 404
  kAlreadyExists,       ///< HTTP 409
  kAborted,             ///< concurrency conflict, e.g. optimistic-lock version mismatch (HTTP 409)
  kFailedPrecondition,  ///< state does not allow it, e.g. a sync already running (HTTP 409)
  kUnauthenticated,     ///< HTTP 401
  kPermissionDenied,    ///< HTTP 403
  kResourceExhausted,   ///< HTTP 429
  kUnavailable,         ///< HTTP 503
  kDeadlineExceeded,    ///< HTTP 504
  kInternal,            ///< HTTP 500
};

/// Snake-case name of a code ("invalid_argument", ...), as used in JSON error bodies.
std::string_view StatusCodeName(StatusCode code);
/// HTTP status for a code (see StatusCode).
int HttpStatusFor(StatusCode code);
/// CLI exit code for a code: 0 ok, 2 bad input, 3 not found, 4 conflict, 5 auth, 6 unavailable, 1 other.
int ExitCodeFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "<code name>: <message>"
  std::string ToString() const;
  /// A copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status Malformed(std::string m) { return {StatusCode::kMalformed, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

/// A value or an error Status. Access the value only after checking ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace da

#define DA_CONCAT_INNER(a, b) a##b
#define DA_CONCAT(a, b) DA_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function when `expr` is not ok.
#define DA_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::da::Status da_status_ = (expr);       \
    if (!da_status_.ok()) return da_status_; \
  } while (0)

#define DA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

/// `DA_ASSIGN_OR_RETURN(auto x, F());` declares x from a Result or returns its Status.
#define DA_ASSIGN_OR_RETURN(lhs, expr) \
  DA_ASSIGN_OR_RETURN_IMPL(DA_CONCAT(da_result_, __LINE__), lhs, expr)
