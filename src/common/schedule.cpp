#include "common/schedule.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace da {
namespace {

constexpr int64_t kMicrosPerMinute = int64_t{60} * 1000000;
constexpr int64_t kMicrosPerDay = 1440 * kMicrosPerMinute;
constexpr int64_t kMaxEveryN = 1000000;
constexpr int64_t kMaxCronLookbackDays = 8 * 366;

Status Invalid(std::string_view text, const std::string& detail = "") {
  std::string msg =
      "sync_schedule must be 'every <N>m|h|d', 'daily HH:MM[,HH:MM...]' or a 5-field cron "
      "expression, got '" +
      std::string(text) + "'";
  if (!detail.empty()) msg += "; " + detail;
  return InvalidArgument(std::move(msg));
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Civil date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
struct CivilDate {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};
CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

/// 0 = Sunday; 1970-01-01 was a Thursday.
int WeekdayFromDays(int64_t z) { return static_cast<int>(((z % 7) + 11) % 7); }

// ---- every / daily ------------------------------------------------------------------------

Result<Schedule> ParseEvery(std::string_view text, std::string_view rest) {
  if (rest.size() < 2) return Invalid(text);
  char unit = rest.back();
  std::string_view digits = rest.substr(0, rest.size() - 1);
  if (!AllDigits(digits) || digits.size() > 7) return Invalid(text);
  int64_t n = std::stoll(std::string(digits));
  if (n > kMaxEveryN) return Invalid(text, "N must be at most 1000000");
  int64_t unit_micros = 0;
  switch (unit) {
    case 'm': unit_micros = kMicrosPerMinute; break;
    case 'h': unit_micros = 60 * kMicrosPerMinute; break;
    case 'd': unit_micros = kMicrosPerDay; break;
    default: return Invalid(text);
  }
  Schedule s;
  s.kind = Schedule::Kind::kInterval;
  s.text = std::string(text);
  s.interval_micros = n * unit_micros;
  return s;
}

Result<Schedule> ParseDaily(std::string_view text, std::string_view rest) {
  Schedule s;
  s.kind = Schedule::Kind::kDaily;
  s.text = std::string(text);
  size_t pos = 0;
  while (true) {
    size_t comma = rest.find(',', pos);
    std::string_view item = rest.substr(pos, comma == std::string_view::npos ? rest.npos : comma - pos);
    if (item.size() != 5 || item[2] != ':' || !AllDigits(item.substr(0, 2)) ||
        !AllDigits(item.substr(3, 2))) {
      return Invalid(text);
    }
    int hour = (item[0] - '0') * 10 + (item[1] - '0');
    int minute = (item[3] - '0') * 10 + (item[4] - '0');
    if (hour > 23 || minute > 59) return Invalid(text);
    s.daily_minutes.push_back(hour * 60 + minute);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  std::sort(s.daily_minutes.begin(), s.daily_minutes.end());
  s.daily_minutes.erase(std::unique(s.daily_minutes.begin(), s.daily_minutes.end()),
                        s.daily_minutes.end());
  return s;
}

// ---- cron -----------------------------------------------------------------------------------

struct FieldDef {
  const char* name;
  int min;
  int max;
  const std::array<const char*, 12>* names;  // names[i] ↔ value min + i; nullptr = none
  int name_count;
};

const std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
const std::array<const char*, 12> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri",
                                               "sat", "",    "",    "",    "",    ""};

const FieldDef kFields[5] = {
    {"minute", 0, 59, nullptr, 0},
    {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0},
    {"month", 1, 12, &kMonthNames, 12},
    {"day-of-week", 0, 7, &kDayNames, 7},
};

Result<int> ParseCronValue(std::string_view token, const FieldDef& f) {
  if (AllDigits(token) && token.size() <= 2) {
    int v = std::stoi(std::string(token));
    if (v < f.min || v > f.max) {
      return InvalidArgument(std::string(f.name) + " value " + std::string(token) +
                             " is out of range " + std::to_string(f.min) + "-" +
                             std::to_string(f.max));
    }
    return v;
  }
  if (f.names != nullptr && token.size() == 3) {
    std::string lower;
    for (char c : token) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; i < f.name_count; ++i) {
      if (lower == (*f.names)[static_cast<size_t>(i)]) return f.min + i;
    }
  }
  return InvalidArgument(std::string(f.name) + " field has an invalid value '" +
                         std::string(token) + "'");
}

/// Parses one cron field into the values it selects (each in [f.min, f.max]).
Result<std::vector<int>> ParseCronField(std::string_view field, const FieldDef& f) {
  std::vector<int> values;
  size_t pos = 0;
  while (true) {
    size_t comma = field.find(',', pos);
    std::string_view item =
        field.substr(pos, comma == std::string_view::npos ? field.npos : comma - pos);
    if (item.empty()) {
      return InvalidArgument(std::string(f.name) + " field '" + std::string(field) +
                             "' has an empty list item");
    }
    int step = 1;
    std::string_view range = item;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = item.substr(slash + 1);
      range = item.substr(0, slash);
      if (!AllDigits(step_text) || step_text.size() > 2) {
        return InvalidArgument(std::string(f.name) + " field has an invalid step in '" +
                               std::string(item) + "'");
      }
      step = std::stoi(std::string(step_text));
      if (step < 1 || step > f.max) {
        return InvalidArgument(std::string(f.name) + " step in '" + std::string(item) +
                               "' must be between 1 and " + std::to_string(f.max));
      }
      if (range != "*" && range.find('-') == std::string_view::npos) {
        return InvalidArgument(std::string(f.name) + " field: a step needs '*' or a range, got '" +
                               std::string(item) + "'");
      }
    }
    int lo = f.min;
    int hi = f.max;
    if (range != "*") {
      size_t dash = range.find('-');
      DA_ASSIGN_OR_RETURN(lo, ParseCronValue(range.substr(0, dash), f));
      hi = lo;
      if (dash != std::string_view::npos) {
        DA_ASSIGN_OR_RETURN(hi, ParseCronValue(range.substr(dash + 1), f));
        if (hi < lo) {
          return InvalidArgument(std::string(f.name) + " range '" + std::string(range) +
                                 "' is reversed");
        }
      }
    }
    for (int v = lo; v <= hi; v += step) values.push_back(v);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return values;
}

Result<Schedule> ParseCron(std::string_view text, std::string_view expr) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < expr.size()) {
    if (expr[pos] == ' ') {
      ++pos;
      continue;
    }
    size_t end = expr.find(' ', pos);
    if (end == std::string_view::npos) end = expr.size();
    fields.push_back(expr.substr(pos, end - pos));
    pos = end;
  }
  if (fields.size() != 5) return Invalid(text);
  Schedule s;
  s.kind = Schedule::Kind::kCron;
  s.text = std::string(text);
  CronSpec& c = s.cron;
  for (size_t i = 0; i < 5; ++i) {
    auto values = ParseCronField(fields[i], kFields[i]);
    if (!values.ok()) return Invalid(text, values.status().message());
    for (int v : *values) {
      const auto u = static_cast<size_t>(v);
      switch (i) {
        case 0: c.minutes.set(u); break;
        case 1: c.hours.set(u); break;
        case 2: c.days_of_month.set(u); break;
        case 3: c.months.set(u); break;
        default: c.days_of_week.set(u % 7); break;  // 7 = Sunday
      }
    }
  }
  c.dom_star = fields[2].front() == '*';
  c.dow_star = fields[4].front() == '*';
  return s;
}

bool CronDayMatches(const CronSpec& c, int64_t day) {
  const CivilDate date = CivilFromDays(day);
  if (!c.months.test(static_cast<size_t>(date.month))) return false;
  const bool dom = c.days_of_month.test(static_cast<size_t>(date.day));
  const bool dow = c.days_of_week.test(static_cast<size_t>(WeekdayFromDays(day)));
  if (c.dom_star || c.dow_star) return dom && dow;
  return dom || dow;
}

}  // namespace

Result<Schedule> ParseSchedule(std::string_view text) {
  if (text.empty()) return Invalid(text);
  if (text.starts_with("every ")) return ParseEvery(text, text.substr(6));
  if (text.starts_with("daily ")) return ParseDaily(text, text.substr(6));
  if (text.front() == '@') {
    std::string_view expr;
    if (text == "@hourly") expr = "0 * * * *";
    else if (text == "@daily" || text == "@midnight") expr = "0 0 * * *";
    else if (text == "@weekly") expr = "0 0 * * 0";
    else if (text == "@monthly") expr = "0 0 1 * *";
    else if (text == "@yearly" || text == "@annually") expr = "0 0 1 1 *";
    else return Invalid(text);
    return ParseCron(text, expr);
  }
  if (text.front() == ' ' || text.back() == ' ') return Invalid(text);
  return ParseCron(text, text);
}

std::optional<int64_t> LatestCronFire(const CronSpec& spec, int64_t now_micros,
                                      int64_t earliest_micros) {
  if (earliest_micros > now_micros) return std::nullopt;
  const int64_t now_minute = FloorDiv(now_micros, kMicrosPerMinute);
  const int64_t today = FloorDiv(now_minute, 1440);
  const int64_t earliest_day =
      std::max(FloorDiv(earliest_micros, kMicrosPerDay), today - kMaxCronLookbackDays);
  for (int64_t day = today; day >= earliest_day; --day) {
    if (!CronDayMatches(spec, day)) continue;
    const int last_minute = day == today ? static_cast<int>(now_minute - today * 1440) : 1439;
    for (int hour = last_minute / 60; hour >= 0; --hour) {
      if (!spec.hours.test(static_cast<size_t>(hour))) continue;
      const int top = hour == last_minute / 60 ? last_minute % 60 : 59;
      for (int minute = top; minute >= 0; --minute) {
        if (!spec.minutes.test(static_cast<size_t>(minute))) continue;
        const int64_t fire = (day * 1440 + hour * 60 + minute) * kMicrosPerMinute;
        if (fire < earliest_micros) return std::nullopt;
        return fire;
      }
    }
  }
  return std::nullopt;
}

bool IsDue(const Schedule& schedule, std::optional<int64_t> last_success_micros,
           int64_t now_micros) {
  if (!last_success_micros) return true;
  const int64_t last = *last_success_micros;
  switch (schedule.kind) {
    case Schedule::Kind::kInterval:
      if (schedule.interval_micros == 0) return true;
      return now_micros - last >= schedule.interval_micros;
    case Schedule::Kind::kDaily: {
      const int64_t midnight = FloorDiv(now_micros, kMicrosPerDay) * kMicrosPerDay;
      for (int minutes : schedule.daily_minutes) {
        const int64_t target = midnight + minutes * kMicrosPerMinute;
        if (now_micros >= target && target > last) return true;
      }
      return false;
    }
    case Schedule::Kind::kCron:
      if (last == INT64_MAX) return false;
      return LatestCronFire(schedule.cron, now_micros, last + 1).has_value();
  }
  return false;
}

}  // namespace da
