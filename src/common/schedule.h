#pragma once
/// Table sync schedules (`sync_schedule`): the grammar and the "is it due?" decision.
///
/// Accepted forms (exact, lower-case keywords, single spaces):
///   `every <N>m`, `every <N>h`, `every <N>d`  N ≥ 0 (≤ 1,000,000); `every 0m` is always due
///   `daily HH:MM[,HH:MM...]`                  two-digit 24-hour UTC times, no spaces
///   `<min> <hour> <dom> <month> <dow>`        standard 5-field cron (UTC): `*`, numbers, lists
///                                             `a,b`, ranges `a-b`, steps `*/s` and `a-b/s`,
///                                             month names jan..dec and day names sun..sat
///                                             (case-insensitive), dow 0-7 (0 and 7 = Sunday);
///                                             fields may be separated by several spaces
///   `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly`, `@annually`
///                                             the usual cron shorthands
/// Day-of-month and day-of-week follow Vixie cron: when both fields are restricted (neither
/// starts with `*`) a day matches if either matches; otherwise both must match.
///
/// Source: upstream-inventory.md §1.7 (every/daily grammar and due logic), decisions.md §7 (cron).
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace da {

/// The sets of a parsed cron expression (all in UTC).
struct CronSpec {
  std::bitset<60> minutes;        ///< 0..59
  std::bitset<24> hours;          ///< 0..23
  std::bitset<32> days_of_month;  ///< 1..31 (bit 0 unused)
  std::bitset<13> months;         ///< 1..12 (bit 0 unused)
  std::bitset<7> days_of_week;    ///< 0..6, Sunday = 0
  bool dom_star = false;          ///< the day-of-month field started with `*`
  bool dow_star = false;          ///< the day-of-week field started with `*`
};

/// A parsed `sync_schedule`.
struct Schedule {
  enum class Kind { kInterval, kDaily, kCron };
  Kind kind = Kind::kInterval;
  std::string text;                ///< the text it was parsed from
  int64_t interval_micros = 0;     ///< kInterval: the period in microseconds (0 = always due)
  std::vector<int> daily_minutes;  ///< kDaily: minutes after 00:00 UTC, sorted, unique
  CronSpec cron;                   ///< kCron
};

/// Parses a schedule (see the file comment for the grammar). Errors: invalid_argument
/// "sync_schedule must be 'every <N>m|h|d', 'daily HH:MM[,HH:MM...]' or a 5-field cron
/// expression, got '<text>'", followed by "; <detail>" for a cron expression with a bad field.
/// An empty text is an error too: callers treat an empty schedule as "manual only".
Result<Schedule> ParseSchedule(std::string_view text);

/// Whether a table with `schedule` whose last successful extraction was at
/// `last_success_micros` (µs since the epoch, UTC; nullopt = never) is due at `now_micros`:
///   never synced → due; `every 0m` → due;
///   interval → due when now − last ≥ N (the exact boundary is due; a last in the future is not);
///   daily → due when for some target T today (UTC): now ≥ T and T > last;
///   cron → due when the latest fire time F ≤ now satisfies F > last.
bool IsDue(const Schedule& schedule, std::optional<int64_t> last_success_micros,
           int64_t now_micros);

/// The latest minute (µs since the epoch, seconds = 0) at or before `now_micros` at which `spec`
/// fires, provided it is ≥ `earliest_micros`; nullopt when there is none in that window. The
/// search looks back at most eight years (an expression like `0 0 31 2 *` never fires).
std::optional<int64_t> LatestCronFire(const CronSpec& spec, int64_t now_micros,
                                      int64_t earliest_micros);

}  // namespace da
