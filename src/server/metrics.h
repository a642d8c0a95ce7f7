#pragma once
/// In-process metrics for `GET /metrics`, kept by prometheus-cpp (core library) and rendered by
/// its TextSerializer in the Prometheus text format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
///
/// This file adds only what da needs on top of the library: families addressed by label
/// *values* in a declared label order (prometheus-cpp keys children by a sorted label map and
/// prints labels sorted; da prints them in the declared order, e.g. route, method, status),
/// families listed in registration order, registration mistakes treated as bugs, and builders
/// for families computed at scrape time (gauges read from the state DB).
///
/// Thread-safety: prometheus::Counter::Increment and Histogram::Observe are safe from any thread
/// (Counter lock-free, Histogram with a short per-child lock). MetricFamily::WithLabels takes the
/// library's family lock; callers on a hot path resolve their children once and keep the
/// reference (children live as long as their registry).
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

namespace da::server {

/// The Content-Type of the Prometheus text exposition format.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

using Counter = prometheus::Counter;
using Histogram = prometheus::Histogram;

/// Children of one metric name, addressed by label values in the order of the label names.
template <typename Metric>
class MetricFamily {
 public:
  MetricFamily(prometheus::Family<Metric>& family, std::vector<std::string> label_names,
               std::vector<double> upper_bounds)
      : family_(family),
        label_names_(std::move(label_names)),
        upper_bounds_(std::move(upper_bounds)) {}

  /// The child for `label_values` (created on first use). The size must equal the number of
  /// label names (a mismatch aborts — it is a bug). The reference stays valid for the
  /// registry's lifetime.
  Metric& WithLabels(const std::vector<std::string>& label_values);

  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  prometheus::Family<Metric>& family_;
  std::vector<std::string> label_names_;
  std::vector<double> upper_bounds_;  ///< histograms: bucket upper bounds shared by children
};

using CounterFamily = MetricFamily<Counter>;
using HistogramFamily = MetricFamily<Histogram>;

/// Owns a prometheus::Registry and the declared label order of each family.
class MetricsRegistry {
 public:
  MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  /// Registers a counter family. `name` and label names must match [a-zA-Z_:][a-zA-Z0-9_:]*
  /// (no `:` and no `le` in label names) and `name` must be new; violations abort — they are
  /// bugs, not input.
  CounterFamily& AddCounter(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names);
  /// Registers a histogram family whose children share `upper_bounds` (finite, strictly
  /// ascending, inclusive as Prometheus `le`; +Inf is implied). Violations abort.
  HistogramFamily& AddHistogram(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names,
                                std::vector<double> upper_bounds);

  /// Every family in registration order (a family without children has no samples), with each
  /// sample's labels in the declared order.
  std::vector<prometheus::MetricFamily> Collect() const;

 private:
  struct Declared {
    std::string name;
    std::vector<std::string> label_names;
  };
  void CheckNewName(const std::string& name, const std::vector<std::string>& label_names);
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mu_;
  std::vector<Declared> declared_;  ///< registration order
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
};

/// An empty family computed at scrape time (`type`: counter or gauge).
prometheus::MetricFamily ScrapedFamily(const std::string& name, const std::string& help,
                                       prometheus::MetricType type);
/// Appends one sample with `labels` (printed in this order) and `value` to `family`.
void AddSample(prometheus::MetricFamily& family,
               const std::vector<std::pair<std::string, std::string>>& labels, double value);

/// Renders `families` with prometheus-cpp's TextSerializer: `# HELP`, `# TYPE`, then one line
/// per sample with label values escaped (`\\`, `\"`, `\n`); whole numbers print without a
/// fraction, infinities as `+Inf`/`-Inf`.
std::string FormatPrometheusText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace da::server
