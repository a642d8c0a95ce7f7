#include "common/memory_size.h"
#include "common/text.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

namespace da {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;
constexpr double kMaxBytes = static_cast<double>(int64_t{1} << 50);

/// The number in a cgroup memory file ("max" or unreadable = no limit = -1).
int64_t ReadLimitFile(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return -1;
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    return used == text.size() && v > 0 ? static_cast<int64_t>(v) : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

Result<int64_t> ParseMemorySize(std::string_view what, std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(std::string(what) + " '" + std::string(text.substr(0, 64)) +
                           "' is not a memory size (" + why + "; e.g. 512MB, 2GB, 1.5GiB)");
  };
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  const size_t num_start = i;
  bool dot = false;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !dot))) {
    dot = dot || text[i] == '.';
    ++i;
  }
  const std::string number(text.substr(num_start, i - num_start));
  if (number.empty() || number == ".") return bad("no number");
  while (i < text.size() && text[i] == ' ') ++i;
  std::string unit = AsciiLower(text.substr(i));
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  double factor = 0;
  if (unit.empty() || unit == "b" || unit == "bytes") factor = 1;
  else if (unit == "kb") factor = 1e3;
  else if (unit == "mb") factor = 1e6;
  else if (unit == "gb") factor = 1e9;
  else if (unit == "tb") factor = 1e12;
  else if (unit == "kib") factor = 1024.0;
  else if (unit == "mib") factor = static_cast<double>(kMiB);
  else if (unit == "gib") factor = static_cast<double>(kGiB);
  else if (unit == "tib") factor = static_cast<double>(kGiB) * 1024.0;
  else return bad("unknown unit");
  const double bytes = std::strtod(number.c_str(), nullptr) * factor;
  if (!(bytes >= static_cast<double>(kMiB))) return bad("below 1 MiB");
  if (bytes > kMaxBytes) return bad("above 1 PiB");
  return static_cast<int64_t>(bytes);
}

std::string MemorySizeSetting(int64_t bytes) {
  return std::to_string(std::max<int64_t>(1, bytes / kMiB)) + "MiB";
}

std::string FormatMemorySize(int64_t bytes) {
  char buf[32];
  if (bytes >= kGiB) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / static_cast<double>(kGiB));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / static_cast<double>(kMiB));
  }
  return buf;
}

int64_t AvailableMemoryBytes() {
  int64_t ram = -1;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) ram = static_cast<int64_t>(pages) * page_size;
  int64_t cgroup = ReadLimitFile("/sys/fs/cgroup/memory.max");
  if (cgroup < 0) cgroup = ReadLimitFile("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  int64_t out = ram > 0 ? ram : 4 * kGiB;
  // cgroup v1 reports "no limit" as a huge number: only a limit below RAM counts.
  if (cgroup > 0 && cgroup < out) out = cgroup;
  return out;
}

int64_t DefaultExtractMemoryLimitBytes() {
  return std::max<int64_t>(256 * kMiB, AvailableMemoryBytes() / 4);
}

}  // namespace da
