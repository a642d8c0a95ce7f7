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
#include "state/table_record.h"

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

/// Inserts one audit_log row on `conn` (the caller holds the StateDb mutex). Failures are
/// logged with spdlog and swallowed: auditing never blocks the audited operation.
void AuditOn(db::Connection& conn, const std::string& actor, const std::string& action,
             const std::string& resource, const std::string& params_json,
             const std::string& result) noexcept;

/// Copies the TableRecord fields present in the JSON object `j` into `*t` (JSON null clears a
/// string field or primary_key; `primary_key` may also be a comma-separated string). Keys that
/// are not TableRecord fields are appended to `*unknown` when it is non-null, else ignored.
/// Errors: malformed when `j` is not an object or a field has the wrong JSON type (the message
/// names the field).
Status ApplyRecordJson(const nlohmann::json& j, TableRecord* t, std::vector<std::string>* unknown);

}  // namespace da::state::internal
