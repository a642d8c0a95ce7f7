#include "server/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
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
  MetricsRegistry reg;
  Counter& c = reg.AddCounter("c_total", "c", {}).WithLabels({});
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
  EXPECT_EQ(c.Value(), double{kPerThread} * (kThreads / 2) * 3);
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
  std::map<std::string, double> seen;
  auto families = reg.Collect();
  ASSERT_EQ(families.size(), 1u);
  for (const auto& m : families[0].metric) seen[m.label.at(0).value] = m.counter.value;
  EXPECT_EQ(seen, (std::map<std::string, double>{{"0", 60000}, {"1", 60000}, {"2", 60000}}));
  // The same label values give the same child.
  EXPECT_EQ(&fam.WithLabels({"1"}), &fam.WithLabels({"1"}));
}

TEST(Histogram, BucketCountsSumAndCount) {
  MetricsRegistry reg;
  Histogram& h = reg.AddHistogram("h_seconds", "h", {}, {0.1, 0.5, 1.0}).WithLabels({});
  for (double v : {0.05, 0.1, 0.2, 0.5, 0.7, 1.0, 2.0, 100.0}) h.Observe(v);
  auto s = h.Collect().histogram;
  // le=0.1: 0.05, 0.1 (bounds are inclusive); le=0.5: + 0.2, 0.5; le=1: + 0.7, 1.0; +Inf: all 8.
  ASSERT_EQ(s.bucket.size(), 4u);
  EXPECT_EQ(s.bucket[0].cumulative_count, 2u);
  EXPECT_EQ(s.bucket[1].cumulative_count, 4u);
  EXPECT_EQ(s.bucket[2].cumulative_count, 6u);
  EXPECT_EQ(s.bucket[3].cumulative_count, 8u);
  EXPECT_EQ(s.sample_count, 8u);
  EXPECT_DOUBLE_EQ(s.sample_sum, 0.05 + 0.1 + 0.2 + 0.5 + 0.7 + 1.0 + 2.0 + 100.0);
}

TEST(Histogram, ConcurrentObservationsAreExact) {
  MetricsRegistry reg;
  Histogram& h = reg.AddHistogram("h_seconds", "h", {}, {1, 2, 3}).WithLabels({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 100000; ++i) h.Observe(static_cast<double>(i % 4) + 0.5);
    });
  }
  for (auto& t : threads) t.join();
  auto s = h.Collect().histogram;
  ASSERT_EQ(s.bucket.size(), 4u);
  EXPECT_EQ(s.bucket[0].cumulative_count, 100000u);
  EXPECT_EQ(s.bucket[1].cumulative_count, 200000u);
  EXPECT_EQ(s.bucket[2].cumulative_count, 300000u);
  EXPECT_EQ(s.sample_count, 400000u);
  // Every value is k + 0.5 (exact in binary), so the sum is exact: 4 threads * 25000 * (0.5+1.5+2.5+3.5).
  EXPECT_DOUBLE_EQ(s.sample_sum, 4 * 25000 * 8.0);
}

TEST(Exposition, CounterAndHistogramLinesKeepTheDeclaredLabelOrder) {
  MetricsRegistry reg;
  auto& req = reg.AddCounter("http_requests_total", "Requests.", {"route", "status"});
  auto& dur = reg.AddHistogram("http_duration_seconds", "Latency.", {"route"}, {0.25, 1});
  req.WithLabels({"/a", "200"}).Increment(3);
  req.WithLabels({"/b\"q\\\n", "404"}).Increment();
  dur.WithLabels({"/a"}).Observe(0.125);
  dur.WithLabels({"/a"}).Observe(0.5);
  dur.WithLabels({"/a"}).Observe(4);
  std::string text = FormatPrometheusText(reg.Collect());
  std::vector<std::string> lines = SplitLines(text);
  auto has = [&](const std::string& l) {
    return std::find(lines.begin(), lines.end(), l) != lines.end();
  };
  for (const char* l : {
           "# HELP http_requests_total Requests.",
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
       }) {
    EXPECT_TRUE(has(l)) << l << "\nin:\n" << text;
  }
  // Families in registration order.
  EXPECT_LT(text.find("http_requests_total"), text.find("http_duration_seconds"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(Exposition, ScrapedFamilies) {
  std::vector<prometheus::MetricFamily> fams;
  fams.push_back(ScrapedFamily("up_total", "Plain.", prometheus::MetricType::Counter));
  AddSample(fams.back(), {}, 12345678901.0);
  fams.push_back(ScrapedFamily("temp", "Gauge.", prometheus::MetricType::Gauge));
  AddSample(fams.back(), {{"k", "v"}}, -1.5);
  AddSample(fams.back(), {{"k", "w"}}, 0.1);
  AddSample(fams.back(), {{"k", "x"}}, std::numeric_limits<double>::infinity());
  EXPECT_EQ(FormatPrometheusText(fams),
            "# HELP up_total Plain.\n# TYPE up_total counter\nup_total 12345678901\n"
            "# HELP temp Gauge.\n# TYPE temp gauge\ntemp{k=\"v\"} -1.5\ntemp{k=\"w\"} 0.1\n"
            "temp{k=\"x\"} +Inf\n");
}

TEST(Registry, CollectKeepsRegistrationOrder) {
  MetricsRegistry reg;
  reg.AddHistogram("b_seconds", "b", {}, {1}).WithLabels({}).Observe(0.5);
  reg.AddCounter("a_total", "a", {}).WithLabels({}).Increment();
  auto fams = reg.Collect();
  ASSERT_EQ(fams.size(), 2u);
  EXPECT_EQ(fams[0].name, "b_seconds");
  EXPECT_EQ(fams[0].type, prometheus::MetricType::Histogram);
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
