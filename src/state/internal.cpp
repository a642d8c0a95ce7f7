#include "state/internal.h"

#include <ctime>
#include <exception>

#include "common/hash.h"
#include "common/log.h"
#include "common/time_util.h"

namespace da::state::internal {

Status InTransaction(db::Connection& conn, const std::function<Status()>& fn) {
  DA_RETURN_IF_ERROR(conn.Execute("BEGIN TRANSACTION"));
  Status s = fn();
  if (s.ok()) s = conn.Execute("COMMIT");
  if (!s.ok()) {
    Status rollback = conn.Execute("ROLLBACK");
    if (!rollback.ok()) spdlog::warn("state db: rollback failed: {}", rollback.message());
  }
  return s;
}

namespace {

bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<int64_t> ParseIsoMicros(std::string_view text) {
  auto bad = [&]() {
    std::string shown(text.substr(0, 64));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return InvalidArgument("timestamp '" + shown +
                           "' is not ISO-8601 (YYYY-MM-DD[THH:MM:SS[.fff]][Z|+HH:MM])");
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day)) {
    return bad();
  }
  size_t pos = 10;
  int64_t frac_micros = 0;
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != ' ') return bad();
    if (!ReadDigits(text, pos + 1, 2, &hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, &minute) || pos + 6 >= text.size() || text[pos + 6] != ':' ||
        !ReadDigits(text, pos + 7, 2, &second)) {
      return bad();
    }
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      size_t digits = 0;
      int64_t scale = 100000;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (digits < 6) frac_micros += (text[pos] - '0') * scale;
        scale /= 10;
        ++digits;
        ++pos;
      }
      if (digits == 0 || digits > 9) return bad();
    }
    if (pos < text.size()) {
      if (text[pos] == 'Z' && pos + 1 == text.size()) {
        pos = text.size();
      } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() &&
                 text[pos + 3] == ':') {
        int oh = 0, om = 0;
        if (!ReadDigits(text, pos + 1, 2, &oh) || !ReadDigits(text, pos + 4, 2, &om) || oh > 23 ||
            om > 59) {
          return bad();
        }
        offset_seconds = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
        pos = text.size();
      } else {
        return bad();
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t secs = timegm(&tm);
  // timegm normalises out-of-range days (Feb 30 → Mar 2); refuse those instead.
  std::tm check{};
  gmtime_r(&secs, &check);
  if (check.tm_mday != day || check.tm_mon != month - 1) return bad();
  return (static_cast<int64_t>(secs) - offset_seconds) * 1000000 + frac_micros;
}

std::string IsoCell(const db::QueryResult& r, size_t col, size_t row) {
  if (r.IsNull(col, row)) return "";
  return IsoFromMicros(r.GetInt64(col, row));
}

User UserAt(const db::QueryResult& r, size_t row, size_t first_col) {
  User u;
  u.id = r.GetString(first_col, row);
  u.email = r.GetString(first_col + 1, row);
  u.name = r.GetString(first_col + 2, row);
  u.active = r.GetBool(first_col + 3, row);
  u.is_admin = r.GetBool(first_col + 4, row);
  u.created_at = IsoCell(r, first_col + 5, row);
  u.has_password = r.GetBool(first_col + 6, row);
  return u;
}

void AuditOn(db::Connection& conn, const std::string& actor, const std::string& action,
             const std::string& resource, const std::string& params_json,
             const std::string& result) noexcept {
  try {
    Status s = conn.Execute(
        "INSERT INTO audit_log (id, timestamp, actor, action, resource, params, result) "
        "VALUES ($1, make_timestamp($2), $3, $4, $5, $6, $7)",
        {RandomHex(16), NowMicros(), actor, action, resource, params_json, result});
    if (!s.ok()) {
      spdlog::error("audit: could not record {} on '{}' by '{}': {}", action, resource, actor,
                    s.message());
    }
  } catch (const std::exception& e) {
    spdlog::error("audit: could not record {} on '{}': {}", action, resource, e.what());
  } catch (...) {
    spdlog::error("audit: could not record {} on '{}': unknown error", action, resource);
  }
}

}  // namespace da::state::internal
