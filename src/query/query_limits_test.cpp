#include "query/query_limits.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/memory_size.h"
#include "support/status_macros.h"
#include "support/temp_dir.h"

namespace da::query {
namespace {

/// Sets the DA_QUERY_* variables for one test and clears them after.
class QueryLimitsConfigTest : public ::testing::Test {
 protected:
  static constexpr const char* kVars[] = {"DA_QUERY_MEMORY_LIMIT", "DA_QUERY_THREADS",
                                          "DA_QUERY_TEMP_LIMIT", "DA_QUERY_MAX_ANSWER_BYTES",
                                          "DA_QUERY_CONCURRENCY", "DA_CONFIG"};
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    for (const char* v : kVars) ::unsetenv(v);
  }
  ConfigOverrides Overrides() {
    ConfigOverrides o;
    o.data_dir = dir_.path().string();
    return o;
  }
  da::testing::TempDir dir_{"query-limits-"};
};

TEST_F(QueryLimitsConfigTest, DefaultsAreAQuarterOfRamTwoThreadsOneGibAnd64MibAnswers) {
  auto cfg = LoadConfig(Overrides());
  ASSERT_OK(cfg);
  EXPECT_EQ(cfg->query_threads, 2);
  EXPECT_EQ(cfg->query_temp_limit_bytes, 1LL << 30);
  EXPECT_EQ(cfg->query_max_answer_bytes, 64LL << 20);
  QueryLimits limits = QueryLimitsFrom(*cfg);
  const int64_t slots = static_cast<int64_t>(QueryConcurrency(*cfg));
  EXPECT_GE(slots, 2);
  EXPECT_EQ(limits.memory_limit_bytes, std::max<int64_t>(64LL << 20, AvailableMemoryBytes() / 4 / slots));
  EXPECT_EQ(limits.threads, 2);
  EXPECT_EQ(limits.temp_limit_bytes, 1LL << 30);
  EXPECT_EQ(limits.max_answer_bytes, 64LL << 20);
}

TEST_F(QueryLimitsConfigTest, EnvironmentSetsEveryLimitAndTheBudgetIsSplitBySlots) {
  ::setenv("DA_QUERY_MEMORY_LIMIT", "2GiB", 1);
  ::setenv("DA_QUERY_THREADS", "3", 1);
  ::setenv("DA_QUERY_TEMP_LIMIT", "512MiB", 1);
  ::setenv("DA_QUERY_MAX_ANSWER_BYTES", "8MiB", 1);
  ::setenv("DA_QUERY_CONCURRENCY", "4", 1);
  auto cfg = LoadConfig(Overrides());
  ASSERT_OK(cfg);
  EXPECT_EQ(cfg->query_memory_limit_bytes, 2LL << 30);
  EXPECT_EQ(QueryConcurrency(*cfg), 4u);
  QueryLimits limits = QueryLimitsFrom(*cfg);
  EXPECT_EQ(limits.memory_limit_bytes, 512LL << 20);  // 2 GiB shared by 4 slots
  EXPECT_EQ(limits.threads, 3);
  EXPECT_EQ(limits.temp_limit_bytes, 512LL << 20);
  EXPECT_EQ(limits.max_answer_bytes, 8LL << 20);
}

TEST_F(QueryLimitsConfigTest, InstanceYamlSetsLimitsAndEnvironmentWins) {
  auto file = dir_.path() / "instance.yaml";
  std::ofstream(file) << "query:\n  memory_limit: 1GB\n  threads: 4\n  max_answer_bytes: 1MiB\n"
                         "  concurrency: 2\n";
  ::setenv("DA_QUERY_THREADS", "1", 1);
  ConfigOverrides o = Overrides();
  o.config_file = file.string();
  auto cfg = LoadConfig(o);
  ASSERT_OK(cfg);
  EXPECT_EQ(cfg->query_memory_limit_bytes, 1000LL * 1000 * 1000);
  EXPECT_EQ(cfg->query_threads, 1);
  EXPECT_EQ(cfg->query_max_answer_bytes, 1LL << 20);
  EXPECT_EQ(QueryLimitsFrom(*cfg).memory_limit_bytes, 500LL * 1000 * 1000);
}

TEST_F(QueryLimitsConfigTest, BadValuesAreRefusedNamingTheVariable) {
  const std::vector<std::pair<const char*, const char*>> bad = {
      {"DA_QUERY_MEMORY_LIMIT", "lots"}, {"DA_QUERY_TEMP_LIMIT", "-1GB"},
      {"DA_QUERY_MAX_ANSWER_BYTES", "10"}, {"DA_QUERY_THREADS", "0"},
      {"DA_QUERY_THREADS", "two"},       {"DA_QUERY_CONCURRENCY", "-3"}};
  for (const auto& [name, value] : bad) {
    Clear();
    ::setenv(name, value, 1);
    auto cfg = LoadConfig(Overrides());
    ASSERT_FALSE(cfg.ok()) << name << "=" << value;
    EXPECT_EQ(cfg.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(cfg.status().message().find(name), std::string::npos) << cfg.status().message();
  }
}

}  // namespace
}  // namespace da::query

#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>
#include <new>
#include <string>

#include "query/allocation_guard.h"

namespace da::query {
namespace {

// The allocation DuckDB's memory_limit does not see (a 24 GB list) fails instead of waking
// the OOM killer; file mappings (downloads) are not capped.
TEST(AllocationGuardTest, AnonymousMappingsOverTheCapFailAndSmallerOnesWork) {
  const size_t before = LargestMappingBytes();
  SetLargestMappingBytes(64 << 20);
  void* big = ::mmap(nullptr, size_t{32} << 30, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  EXPECT_EQ(big, MAP_FAILED);
  EXPECT_EQ(errno, ENOMEM);
  void* small = ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(small, MAP_FAILED);
  static_cast<char*>(small)[0] = 1;
  ::munmap(small, 1 << 20);
  volatile size_t huge_size = size_t{1} << 30;  // volatile: no malloc elision
  void* huge = std::malloc(huge_size);
  EXPECT_EQ(huge, nullptr);
  std::free(huge);
  volatile size_t fine_size = size_t{8} << 20;
  void* fine = std::malloc(fine_size);
  EXPECT_NE(fine, nullptr);
  std::free(fine);
  EXPECT_THROW(std::string(huge_size / 4, 'x'), std::bad_alloc);
  SetLargestMappingBytes(0);
  void* uncapped = ::mmap(nullptr, size_t{128} << 20, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(uncapped, MAP_FAILED);
  ::munmap(uncapped, size_t{128} << 20);
  SetLargestMappingBytes(before);
}

}  // namespace
}  // namespace da::query
