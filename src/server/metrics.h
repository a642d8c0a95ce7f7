#pragma once
/// In-process metrics for `GET /metrics`: counters and fixed-bucket histograms with labels,
/// exposed in the Prometheus text format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
///
/// Thread-safety: Counter::Increment and Histogram::Observe are lock-free (relaxed atomics,
/// spread over kMetricShards cache-line shards picked per thread, so concurrent request threads
/// do not bounce one cache line). A family's WithLabels takes a shared lock to find an existing
/// child and an exclusive lock only the first time a label combination appears; callers on a hot
/// path keep the returned reference (children live as long as their registry).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace da::server {

/// Shards per metric: each thread adds to one of them, a read sums them all.
inline constexpr size_t kMetricShards = 8;

/// The Content-Type of the Prometheus text exposition format.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// A monotonically increasing 64-bit counter.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  /// Adds `n` (lock-free, relaxed ordering).
  void Increment(uint64_t n = 1);
  /// The sum over all shards; exact once concurrent Increment calls have returned.
  uint64_t Value() const;

 private:
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, kMetricShards> shards_;
};

/// A histogram over fixed bucket upper bounds (inclusive, as Prometheus `le`), plus +Inf.
class Histogram {
 public:
  /// `upper_bounds`: finite, strictly ascending (checked; a violation aborts — it is a bug).
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /// Counts `value` in the first bucket whose bound is >= value (lock-free).
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;  ///< as given (without +Inf)
    std::vector<uint64_t> cumulative;  ///< per bound, observations <= bound; size == bounds
    uint64_t count = 0;                ///< all observations (the +Inf bucket)
    double sum = 0;                    ///< sum of observed values
  };
  /// Reads the counts; consistent with each other (count == +Inf bucket) even while observing.
  Snapshot Get() const;

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  struct alignas(64) Shard {
    std::atomic<double> sum{0};
    std::unique_ptr<std::atomic<uint64_t>[]> buckets;  ///< bounds + 1 (last = +Inf), not cumulative
  };
  std::vector<double> upper_bounds_;
  std::array<Shard, kMetricShards> shards_;
};

/// One exposition line's worth: `<family name><suffix>{labels} value`.
struct MetricSample {
  std::string suffix;  ///< "" or "_bucket", "_sum", "_count"
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

/// A metric family as exposed: `# HELP`, `# TYPE` and its samples.
struct FamilySnapshot {
  std::string name;
  std::string help;
  std::string type;  ///< counter | gauge | histogram
  std::vector<MetricSample> samples;
};

/// Children of one metric name, keyed by label values (in the order of the label names).
template <typename Metric>
class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               std::function<std::unique_ptr<Metric>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  /// The child for `label_values` (created on first use). The size must equal the number of
  /// label names (a mismatch aborts — it is a bug). The reference stays valid for the family's
  /// lifetime.
  Metric& WithLabels(const std::vector<std::string>& label_values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  /// Calls `fn(label_values, metric)` for every child, in label-value order.
  void ForEach(const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

extern template class MetricFamily<Counter>;
extern template class MetricFamily<Histogram>;
using CounterFamily = MetricFamily<Counter>;
using HistogramFamily = MetricFamily<Histogram>;

/// Owns metric families and renders them.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  /// Registers a counter family. `name` and label names must match [a-zA-Z_:][a-zA-Z0-9_:]*
  /// and `name` must be new (violations abort — they are bugs, not input).
  CounterFamily& AddCounter(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names);
  /// Registers a histogram family whose children share `upper_bounds` (see Histogram).
  HistogramFamily& AddHistogram(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names,
                                std::vector<double> upper_bounds);

  /// Snapshots of every family in registration order (histograms as _bucket/_sum/_count).
  std::vector<FamilySnapshot> Collect() const;

 private:
  void CheckNewName(const std::string& name, const std::vector<std::string>& label_names);
  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<std::pair<bool, size_t>> order_;  ///< (is_histogram, index) in registration order
};

/// Renders families in the Prometheus text format 0.0.4: `# HELP`, `# TYPE`, then one line per
/// sample with label values escaped (`\\`, `\"`, `\n`); integers print without a fraction,
/// infinities as `+Inf`/`-Inf`. Ends with a newline.
std::string FormatPrometheusText(const std::vector<FamilySnapshot>& families);

/// Formats a sample value as Prometheus does (`1`, `0.25`, `+Inf`, `NaN`).
std::string FormatMetricValue(double value);

}  // namespace da::server
