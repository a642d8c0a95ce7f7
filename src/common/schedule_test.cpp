#include "common/schedule.h"
#include "support/status_macros.h"

#include <gtest/gtest.h>

#include <ctime>

namespace da {
namespace {

/// µs since the epoch of a UTC wall-clock time.
int64_t At(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000000;
}

constexpr int64_t kSecond = 1000000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

Schedule Parse(const std::string& text) {
  auto s = ParseSchedule(text);
  EXPECT_OK(s) << text << ": " << s.status().ToString();
  return s.ok() ? *s : Schedule{};
}

TEST(ScheduleParse, EveryForms) {
  auto s = Parse("every 15m");
  EXPECT_EQ(s.kind, Schedule::Kind::kInterval);
  EXPECT_EQ(s.interval_micros, 15 * kMinute);
  EXPECT_EQ(s.text, "every 15m");
  EXPECT_EQ(Parse("every 2h").interval_micros, 2 * kHour);
  EXPECT_EQ(Parse("every 3d").interval_micros, 72 * kHour);
  EXPECT_EQ(Parse("every 0m").interval_micros, 0);
  EXPECT_EQ(Parse("every 007m").interval_micros, 7 * kMinute);
  EXPECT_EQ(Parse("every 1000000d").interval_micros, int64_t{1000000} * 24 * kHour);
}

TEST(ScheduleParse, DailyForms) {
  auto s = Parse("daily 03:00");
  EXPECT_EQ(s.kind, Schedule::Kind::kDaily);
  EXPECT_EQ(s.daily_minutes, std::vector<int>({180}));
  EXPECT_EQ(Parse("daily 23:59,00:00,12:30,00:00").daily_minutes,
            std::vector<int>({0, 750, 1439}));
}

TEST(ScheduleParse, CronForms) {
  auto s = Parse("*/15 9-17 * * mon-fri");
  ASSERT_EQ(s.kind, Schedule::Kind::kCron);
  EXPECT_EQ(s.cron.minutes.count(), 4u);
  EXPECT_TRUE(s.cron.minutes.test(0) && s.cron.minutes.test(15) && s.cron.minutes.test(45));
  EXPECT_FALSE(s.cron.minutes.test(50));
  EXPECT_EQ(s.cron.hours.count(), 9u);
  EXPECT_TRUE(s.cron.hours.test(9) && s.cron.hours.test(17));
  EXPECT_EQ(s.cron.days_of_week.count(), 5u);
  EXPECT_FALSE(s.cron.days_of_week.test(0));
  EXPECT_TRUE(s.cron.dom_star);
  EXPECT_FALSE(s.cron.dow_star);

  auto lists = Parse("0,30 1,2,3 1-10/3 JAN,jul-Sep 7");
  EXPECT_EQ(lists.cron.minutes.count(), 2u);
  EXPECT_EQ(lists.cron.days_of_month.count(), 4u);  // 1 4 7 10
  EXPECT_TRUE(lists.cron.days_of_month.test(10));
  EXPECT_EQ(lists.cron.months.count(), 4u);  // 1 7 8 9
  EXPECT_TRUE(lists.cron.months.test(1) && lists.cron.months.test(9));
  EXPECT_TRUE(lists.cron.days_of_week.test(0));  // 7 = Sunday
  EXPECT_EQ(lists.cron.days_of_week.count(), 1u);
  EXPECT_FALSE(lists.cron.dom_star);

  EXPECT_EQ(Parse("0  3   1 *  *").kind, Schedule::Kind::kCron);  // runs of spaces
  auto weekly = Parse("@weekly");
  EXPECT_EQ(weekly.kind, Schedule::Kind::kCron);
  EXPECT_TRUE(weekly.cron.days_of_week.test(0));
  EXPECT_EQ(weekly.cron.days_of_week.count(), 1u);
  EXPECT_EQ(weekly.text, "@weekly");
  for (const char* m : {"@hourly", "@daily", "@midnight", "@monthly", "@yearly", "@annually"}) {
    EXPECT_OK(ParseSchedule(m)) << m;
  }
}

TEST(ScheduleParse, RejectsEverythingElseNamingTheForms) {
  for (const char* bad :
       {"", "every", "every m", "every 5", "every 5s", "every -5m", "every 5M", "Every 5m",
        "every  5m", " every 5m", "every 5m ", "every 5.5h", "every 1000001m", "every 12345678m",
        "daily", "daily ", "daily 3:00", "daily 24:00", "daily 12:60", "daily 03:00,",
        "daily 03:00, 04:00", "daily 0300", "hourly", "@reboot", "@every 5m", "0 3 * *",
        "0 3 * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
        "* * * * 8", "*/0 * * * *", "*/61 * * * *", "5/15 * * * *", "10-5 * * * *",
        "1,,2 * * * *", "a * * * *", "* * * foo *", "* * * * monday", "* * * jan-feb-mar *",
        " 0 3 * * *", "0 3 * * * "}) {
    auto s = ParseSchedule(bad);
    ASSERT_FALSE(s.ok()) << "'" << bad << "' parsed";
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("'every <N>m|h|d', 'daily HH:MM[,HH:MM...]' or a "
                                        "5-field cron expression, got '" +
                                        std::string(bad) + "'"),
              std::string::npos)
        << s.status().message();
  }
  auto detail = ParseSchedule("61 * * * *");
  EXPECT_NE(detail.status().message().find("minute value 61 is out of range 0-59"),
            std::string::npos)
      << detail.status().message();
}

TEST(ScheduleDue, NeverSyncedIsAlwaysDue) {
  const int64_t now = At(2026, 3, 10, 12, 0);
  for (const char* s : {"every 5m", "every 2d", "daily 23:00", "0 0 1 1 *", "0 0 31 2 *"}) {
    EXPECT_TRUE(IsDue(Parse(s), std::nullopt, now)) << s;
  }
}

TEST(ScheduleDue, EveryZeroIsAlwaysDue) {
  const int64_t now = At(2026, 3, 10, 12, 0);
  auto s = Parse("every 0m");
  EXPECT_TRUE(IsDue(s, now, now));
  EXPECT_TRUE(IsDue(s, now + kHour, now));  // even with a last sync in the future
  EXPECT_TRUE(IsDue(Parse("every 0d"), now - 1, now));
}

TEST(ScheduleDue, IntervalBoundaryAndFuture) {
  const int64_t last = At(2026, 3, 10, 12, 0);
  auto s = Parse("every 15m");
  EXPECT_FALSE(IsDue(s, last, last));
  EXPECT_FALSE(IsDue(s, last, last + 15 * kMinute - 1));
  EXPECT_TRUE(IsDue(s, last, last + 15 * kMinute));  // exactly at the boundary
  EXPECT_TRUE(IsDue(s, last, last + 16 * kMinute));
  EXPECT_FALSE(IsDue(s, last + kHour, last));        // last sync in the future
  auto d = Parse("every 1d");
  EXPECT_FALSE(IsDue(d, last, last + 23 * kHour));
  EXPECT_TRUE(IsDue(d, last, last + 24 * kHour));
}

TEST(ScheduleDue, DailyTargetsToday) {
  auto s = Parse("daily 06:00,18:00");
  // Synced yesterday evening: due once 06:00 has passed today, not before.
  const int64_t yesterday_evening = At(2026, 3, 9, 20, 0);
  EXPECT_FALSE(IsDue(s, yesterday_evening, At(2026, 3, 10, 5, 59, 59)));
  EXPECT_TRUE(IsDue(s, yesterday_evening, At(2026, 3, 10, 6, 0)));
  // Synced at 06:00:30 today: not due until 18:00.
  const int64_t morning = At(2026, 3, 10, 6, 0, 30);
  EXPECT_FALSE(IsDue(s, morning, At(2026, 3, 10, 17, 59)));
  EXPECT_TRUE(IsDue(s, morning, At(2026, 3, 10, 18, 0)));
  // A sync exactly at the target time counts as done for that target.
  EXPECT_FALSE(IsDue(s, At(2026, 3, 10, 18, 0), At(2026, 3, 10, 23, 0)));
  // Yesterday's missed target is not caught up before today's first one.
  EXPECT_FALSE(IsDue(s, At(2026, 3, 8, 0, 0), At(2026, 3, 10, 5, 0)));
  // A last sync in the future is not due.
  EXPECT_FALSE(IsDue(s, At(2026, 3, 11, 0, 0), At(2026, 3, 10, 19, 0)));
}

TEST(ScheduleDue, CronLatestFireAfterLast) {
  auto s = Parse("30 2 * * *");  // 02:30 every day
  const int64_t last = At(2026, 3, 10, 2, 30, 5);
  EXPECT_FALSE(IsDue(s, last, At(2026, 3, 11, 2, 29, 59)));
  EXPECT_TRUE(IsDue(s, last, At(2026, 3, 11, 2, 30)));
  EXPECT_TRUE(IsDue(s, last, At(2026, 3, 15, 0, 0)));  // missed fires are caught up
  EXPECT_FALSE(IsDue(s, At(2026, 3, 11, 2, 30), At(2026, 3, 11, 9, 0)));  // exactly at the fire
  EXPECT_FALSE(IsDue(s, At(2026, 3, 12, 0, 0), At(2026, 3, 11, 9, 0)));   // last in the future

  auto q = Parse("*/15 * * * *");
  EXPECT_FALSE(IsDue(q, At(2026, 3, 10, 12, 0, 1), At(2026, 3, 10, 12, 14, 59)));
  EXPECT_TRUE(IsDue(q, At(2026, 3, 10, 12, 0, 1), At(2026, 3, 10, 12, 15)));
}

TEST(ScheduleDue, CronFireTimes) {
  // 2026-03-10 is a Tuesday.
  auto weekdays = Parse("0 9 * * mon-fri");
  EXPECT_EQ(LatestCronFire(weekdays.cron, At(2026, 3, 10, 8, 59), 0), At(2026, 3, 9, 9, 0));
  EXPECT_EQ(LatestCronFire(weekdays.cron, At(2026, 3, 10, 9, 0), 0), At(2026, 3, 10, 9, 0));
  // Monday morning: the latest fire was Friday.
  EXPECT_EQ(LatestCronFire(weekdays.cron, At(2026, 3, 9, 8, 0), 0), At(2026, 3, 6, 9, 0));
  // The window's lower bound cuts it off.
  EXPECT_EQ(LatestCronFire(weekdays.cron, At(2026, 3, 9, 8, 0), At(2026, 3, 7, 0, 0)),
            std::nullopt);

  // Vixie OR-semantics: both day fields restricted → the 13th OR any Friday.
  auto either = Parse("0 0 13 * fri");
  EXPECT_EQ(LatestCronFire(either.cron, At(2026, 3, 12, 12, 0), 0), At(2026, 3, 6, 0, 0));
  EXPECT_EQ(LatestCronFire(either.cron, At(2026, 3, 13, 12, 0), 0), At(2026, 3, 13, 0, 0));
  EXPECT_EQ(LatestCronFire(either.cron, At(2026, 3, 15, 12, 0), 0), At(2026, 3, 13, 0, 0));
  auto mar14 = Parse("0 0 14 * fri");
  EXPECT_EQ(LatestCronFire(mar14.cron, At(2026, 3, 14, 12, 0), 0), At(2026, 3, 14, 0, 0));  // Sat 14th
  // A `*`-led day field means AND: only the 1st of the month (dow unrestricted).
  auto first = Parse("0 0 1 * *");
  EXPECT_EQ(LatestCronFire(first.cron, At(2026, 3, 10, 0, 0), 0), At(2026, 3, 1, 0, 0));
  auto every_other_day_fridays = Parse("0 0 */2 * 5");  // dom starts with '*' → AND
  // Fridays in March 2026: 6, 13, 20, 27; odd days: 13 and 27.
  EXPECT_EQ(LatestCronFire(every_other_day_fridays.cron, At(2026, 3, 26, 0, 0), 0),
            At(2026, 3, 13, 0, 0));

  // Month names and year wrap.
  auto jan = Parse("15 10 1 jan *");
  EXPECT_EQ(LatestCronFire(jan.cron, At(2026, 3, 10, 0, 0), 0), At(2026, 1, 1, 10, 15));
  EXPECT_EQ(LatestCronFire(jan.cron, At(2026, 1, 1, 10, 14), 0), At(2025, 1, 1, 10, 15));
  // Leap day.
  auto leap = Parse("0 12 29 2 *");
  EXPECT_EQ(LatestCronFire(leap.cron, At(2026, 3, 10, 0, 0), 0), At(2024, 2, 29, 12, 0));
  // Never fires (Feb 31): nothing, and therefore not due once synced.
  auto never = Parse("0 0 31 2 *");
  EXPECT_EQ(LatestCronFire(never.cron, At(2026, 3, 10, 0, 0), 0), std::nullopt);
  EXPECT_FALSE(IsDue(never, At(2020, 1, 1), At(2026, 3, 10)));
  // Seconds are ignored: a fire at minute granularity.
  EXPECT_EQ(LatestCronFire(Parse("* * * * *").cron, At(2026, 3, 10, 1, 2, 59), 0),
            At(2026, 3, 10, 1, 2, 0));
  // Sunday as 0 and as 7.
  EXPECT_EQ(LatestCronFire(Parse("0 0 * * 0").cron, At(2026, 3, 10, 0, 0), 0),
            At(2026, 3, 8, 0, 0));
  EXPECT_EQ(LatestCronFire(Parse("0 0 * * sun").cron, At(2026, 3, 10, 0, 0), 0),
            At(2026, 3, 8, 0, 0));
}

}  // namespace
}  // namespace da
