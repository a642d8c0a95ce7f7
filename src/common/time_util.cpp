#include "common/time_util.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace da {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string IsoFromMicros(int64_t micros) {
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string NowIso() {
  int64_t now = NowMicros();
  std::string s = IsoFromMicros(now);
  s.pop_back();
  return s + fmt::format(".{:06}Z", now % 1000000);
}

}  // namespace da
