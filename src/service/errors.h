#pragma once
/// Service errors whose wire code is not a StatusCode name.
///
/// A few answers of the API carry their own error code (`sync_already_in_progress`,
/// `source_error`). A service returns them as an ordinary Status whose message starts with
/// "<wire code>: "; the HTTP adapter (server/json_route.h) turns that prefix into the error
/// body's `code` and the status below, and the CLI simply prints the message.
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace da::service {

/// A sync run is in progress, so the change must wait (HTTP 409).
inline constexpr std::string_view kSyncAlreadyInProgress = "sync_already_in_progress";
/// The outside source failed (bad credentials, unreachable) (HTTP 502).
inline constexpr std::string_view kSourceError = "source_error";

/// failed_precondition "sync_already_in_progress: <message>".
inline Status SyncAlreadyInProgress(const std::string& message) {
  return FailedPrecondition(std::string(kSyncAlreadyInProgress) + ": " + message);
}
/// unavailable "source_error: <message>".
inline Status SourceError(const std::string& message) {
  return Unavailable(std::string(kSourceError) + ": " + message);
}

/// The wire code and message of a service error with a wire-code prefix, or nullopt.
struct WireError {
  std::string code;
  std::string message;
};
inline std::optional<WireError> SplitWireError(const Status& st) {
  for (std::string_view code : {kSyncAlreadyInProgress, kSourceError}) {
    const std::string prefix = std::string(code) + ": ";
    if (st.message().compare(0, prefix.size(), prefix) == 0) {
      return WireError{std::string(code), st.message().substr(prefix.size())};
    }
  }
  return std::nullopt;
}

}  // namespace da::service
