#include "server/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <thread>

namespace da::server {
namespace {

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Counter, ConcurrentIncrementsAreExact) {
  Counter c;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < kPerThread; ++i) c.Increment(t % 2 == 0 ? 1 : 2);
    });
  }
  for (auto& t : threads) t.join();
  // Half the threads add 1, half add 2.
  EXPECT_EQ(c.Value(), uint64_t{kPerThread} * (kThreads / 2) * 3);
}

TEST(Family, ConcurrentLabelCreationGivesOneChildPerLabelSet) {
  MetricsRegistry reg;
  CounterFamily& fam = reg.AddCounter("x_total", "help", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&fam] {
      for (int i = 0; i < 30000; ++i) fam.WithLabels({std::to_string(i % 3)}).Increment();
    });
  }
  for (auto& t : threads) t.join();
  std::map<std::string, uint64_t> seen;
  fam.ForEach([&](const std::vector<std::string>& labels, const Counter& c) {
    seen[labels.at(0)] = c.Value();
  });
  EXPECT_EQ(seen, (std::map<std::string, uint64_t>{{"0", 60000}, {"1", 60000}, {"2", 60000}}));
}

TEST(Histogram, BucketCountsSumAndCount) {
  Histogram h({0.1, 0.5, 1.0});
  for (double v : {0.05, 0.1, 0.2, 0.5, 0.7, 1.0, 2.0, 100.0}) h.Observe(v);
  Histogram::Snapshot s = h.Get();
  // le=0.1: 0.05, 0.1 (bounds are inclusive); le=0.5: + 0.2, 0.5; le=1: + 0.7, 1.0; +Inf: all 8.
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 4, 6}));
  EXPECT_EQ(s.count, 8u);
  EXPECT_DOUBLE_EQ(s.sum, 0.05 + 0.1 + 0.2 + 0.5 + 0.7 + 1.0 + 2.0 + 100.0);
}

TEST(Histogram, ConcurrentObservationsAreExact) {
  Histogram h({1, 2, 3});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 100000; ++i) h.Observe(static_cast<double>(i % 4) + 0.5);
    });
  }
  for (auto& t : threads) t.join();
  Histogram::Snapshot s = h.Get();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{100000, 200000, 300000}));
  EXPECT_EQ(s.count, 400000u);
  // Every value is k + 0.5 (exact in binary), so the sum is exact: 4 threads * 25000 * (0.5+1.5+2.5+3.5).
  EXPECT_DOUBLE_EQ(s.sum, 4 * 25000 * 8.0);
}

TEST(Exposition, CounterAndHistogramLines) {
  MetricsRegistry reg;
  auto& req = reg.AddCounter("http_requests_total", "Requests.\nSecond line \\ here.",
                             {"route", "status"});
  auto& dur = reg.AddHistogram("http_duration_seconds", "Latency.", {"route"}, {0.25, 1});
  req.WithLabels({"/a", "200"}).Increment(3);
  req.WithLabels({"/b\"q\\\n", "404"}).Increment();
  dur.WithLabels({"/a"}).Observe(0.125);
  dur.WithLabels({"/a"}).Observe(0.5);
  dur.WithLabels({"/a"}).Observe(4);
  std::string text = FormatPrometheusText(reg.Collect());
  EXPECT_EQ(SplitLines(text),
            (std::vector<std::string>{
                "# HELP http_requests_total Requests.\\nSecond line \\\\ here.",
                "# TYPE http_requests_total counter",
                "http_requests_total{route=\"/a\",status=\"200\"} 3",
                "http_requests_total{route=\"/b\\\"q\\\\\\n\",status=\"404\"} 1",
                "# HELP http_duration_seconds Latency.",
                "# TYPE http_duration_seconds histogram",
                "http_duration_seconds_bucket{route=\"/a\",le=\"0.25\"} 1",
                "http_duration_seconds_bucket{route=\"/a\",le=\"1\"} 2",
                "http_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3",
                "http_duration_seconds_sum{route=\"/a\"} 4.625",
                "http_duration_seconds_count{route=\"/a\"} 3",
            }));
  EXPECT_EQ(text.back(), '\n');
}

TEST(Exposition, UnlabelledAndGaugeFamilies) {
  std::vector<FamilySnapshot> fams = {
      {"up_total", "Plain.", "counter", {{"", {}, 12345678901.0}}},
      {"temp", "Gauge.", "gauge", {{"", {{"k", "v"}}, -1.5}, {"", {{"k", "w"}}, 0.1}}},
  };
  EXPECT_EQ(FormatPrometheusText(fams),
            "# HELP up_total Plain.\n# TYPE up_total counter\nup_total 12345678901\n"
            "# HELP temp Gauge.\n# TYPE temp gauge\ntemp{k=\"v\"} -1.5\ntemp{k=\"w\"} 0.1\n");
}

TEST(Exposition, ValueFormatting) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(0.001), "0.001");
  EXPECT_EQ(FormatMetricValue(1e300), "1e+300");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

TEST(Registry, CollectKeepsRegistrationOrder) {
  MetricsRegistry reg;
  reg.AddHistogram("b_seconds", "b", {}, {1});
  reg.AddCounter("a_total", "a", {});
  auto fams = reg.Collect();
  ASSERT_EQ(fams.size(), 2u);
  EXPECT_EQ(fams[0].name, "b_seconds");
  EXPECT_EQ(fams[0].type, "histogram");
  EXPECT_TRUE(fams[0].samples.empty());  // no children until first use
  EXPECT_EQ(fams[1].name, "a_total");
}

TEST(RegistryDeathTest, BadNamesAndBoundsAreBugs) {
  MetricsRegistry reg;
  reg.AddCounter("dup_total", "x", {});
  EXPECT_DEATH(reg.AddCounter("dup_total", "x", {}), "registered twice");
  EXPECT_DEATH(reg.AddCounter("9bad", "x", {}), "invalid metric name");
  EXPECT_DEATH(reg.AddCounter("ok_total", "x", {"le"}), "invalid label name");
  EXPECT_DEATH(reg.AddHistogram("h", "x", {}, {1, 1}), "strictly ascending");
  auto& fam = reg.AddCounter("l_total", "x", {"a", "b"});
  EXPECT_DEATH(fam.WithLabels({"only-one"}), "expected 2 label values");
}

}  // namespace
}  // namespace da::server
