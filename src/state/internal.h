#pragma once
/// Helpers shared by the state repositories (not part of the layer's public API).
///
/// Timestamps are stored as naive UTC `TIMESTAMP` values. Writers bind microseconds since the
/// epoch and wrap them in `make_timestamp($n)`; readers select `epoch_us(col)` and format the
/// value with IsoFromMicros, so the session time zone never enters the picture.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "db/duckdb.h"
#include "state/users.h"

namespace da::state::internal {

/// Runs `fn` between BEGIN TRANSACTION and COMMIT; rolls back when `fn` (or COMMIT) fails and
/// returns that Status. Not reentrant: `fn` must not open another transaction.
Status InTransaction(db::Connection& conn, const std::function<Status()>& fn);

/// Parses an ISO-8601 UTC timestamp: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS" (or a space for `T`),
/// optional fraction of up to 9 digits, optional "Z" or "+HH:MM"/"-HH:MM" offset (converted to
/// UTC). Returns microseconds since the Unix epoch; invalid_argument naming the text otherwise.
Result<int64_t> ParseIsoMicros(std::string_view text);

/// Formats cell (col, row), which must hold `epoch_us(<timestamp>)`, as "YYYY-MM-DDTHH:MM:SSZ";
/// "" for NULL.
std::string IsoCell(const db::QueryResult& r, size_t col, size_t row);

/// The columns of a User, selected from `users u` in this order (UserAt reads them).
inline constexpr const char* kUserColumns =
    "u.id, u.email, coalesce(u.name, ''), u.active, u.is_admin, epoch_us(u.created_at), "
    "u.password_hash IS NOT NULL";

/// The User in row `row` of `r`, whose columns `first_col`.. are kUserColumns.
User UserAt(const db::QueryResult& r, size_t row, size_t first_col = 0);

/// Inserts one audit_log row on `conn` (the caller holds the StateDb mutex). Failures are
/// logged with spdlog and swallowed: auditing never blocks the audited operation.
void AuditOn(db::Connection& conn, const std::string& actor, const std::string& action,
             const std::string& resource, const std::string& params_json,
             const std::string& result) noexcept;


}  // namespace da::state::internal
