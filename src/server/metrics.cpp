#include "server/metrics.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace da::server {
namespace {

[[noreturn]] void MetricsBug(const std::string& what) {
  std::fprintf(stderr, "metrics: %s\n", what.c_str());
  std::abort();
}

// Each thread adds to one shard, assigned round-robin on its first metric update.
size_t ShardIndex() {
  static std::atomic<size_t> next{0};
  thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed) % kMetricShards;
  return index;
}

bool IsMetricName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool ok = std::isalpha(c) || c == '_' || c == ':' || (i > 0 && std::isdigit(c));
    if (!ok) return false;
  }
  return true;
}

void AppendEscaped(std::string& out, const std::string& s, bool quote_too) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote_too && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

// ----------------------------------------------------------------------------------- Counter

void Counter::Increment(uint64_t n) {
  shards_[ShardIndex()].value.fetch_add(n, std::memory_order_relaxed);
}

uint64_t Counter::Value() const {
  uint64_t total = 0;
  for (const Shard& s : shards_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

// --------------------------------------------------------------------------------- Histogram

Histogram::Histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (!std::isfinite(upper_bounds_[i]) || (i > 0 && upper_bounds_[i] <= upper_bounds_[i - 1])) {
      MetricsBug("histogram bounds must be finite and strictly ascending");
    }
  }
  for (Shard& s : shards_) {
    s.buckets = std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1);
  }
}

void Histogram::Observe(double value) {
  // Bucket lists are short (~15); a linear scan beats binary search at this size.
  size_t i = 0;
  while (i < upper_bounds_.size() && value > upper_bounds_[i]) ++i;
  Shard& s = shards_[ShardIndex()];
  s.buckets[i].fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Get() const {
  Snapshot snap;
  snap.upper_bounds = upper_bounds_;
  std::vector<uint64_t> per_bucket(upper_bounds_.size() + 1, 0);
  for (const Shard& s : shards_) {
    for (size_t i = 0; i < per_bucket.size(); ++i) {
      per_bucket[i] += s.buckets[i].load(std::memory_order_relaxed);
    }
    snap.sum += s.sum.load(std::memory_order_relaxed);
  }
  uint64_t running = 0;
  snap.cumulative.reserve(upper_bounds_.size());
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    running += per_bucket[i];
    snap.cumulative.push_back(running);
  }
  snap.count = running + per_bucket.back();
  return snap;
}

// ------------------------------------------------------------------------------ MetricFamily

template <typename Metric>
Metric& MetricFamily<Metric>::WithLabels(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    MetricsBug(name_ + ": expected " + std::to_string(label_names_.size()) + " label values, got " +
               std::to_string(label_values.size()));
  }
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(label_values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = children_[label_values];
  if (!slot) slot = make_();
  return *slot;
}

template <typename Metric>
void MetricFamily<Metric>::ForEach(
    const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const {
  std::shared_lock lock(mu_);
  for (const auto& [labels, metric] : children_) fn(labels, *metric);
}

template class MetricFamily<Counter>;
template class MetricFamily<Histogram>;

// --------------------------------------------------------------------------- MetricsRegistry

void MetricsRegistry::CheckNewName(const std::string& name,
                                   const std::vector<std::string>& label_names) {
  if (!IsMetricName(name)) MetricsBug("invalid metric name '" + name + "'");
  for (const auto& l : label_names) {
    if (!IsMetricName(l) || l.find(':') != std::string::npos || l == "le") {
      MetricsBug(name + ": invalid label name '" + l + "'");
    }
  }
  for (const auto& c : counters_) {
    if (c->name() == name) MetricsBug("metric '" + name + "' registered twice");
  }
  for (const auto& h : histograms_) {
    if (h->name() == name) MetricsBug("metric '" + name + "' registered twice");
  }
}

CounterFamily& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                           std::vector<std::string> label_names) {
  std::unique_lock lock(mu_);
  CheckNewName(name, label_names);
  counters_.push_back(std::make_unique<CounterFamily>(
      name, help, std::move(label_names), [] { return std::make_unique<Counter>(); }));
  order_.emplace_back(false, counters_.size() - 1);
  return *counters_.back();
}

HistogramFamily& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> upper_bounds) {
  std::unique_lock lock(mu_);
  CheckNewName(name, label_names);
  Histogram probe(upper_bounds);  // validates the bounds now rather than on first use
  histograms_.push_back(std::make_unique<HistogramFamily>(
      name, help, std::move(label_names),
      [bounds = std::move(upper_bounds)] { return std::make_unique<Histogram>(bounds); }));
  order_.emplace_back(true, histograms_.size() - 1);
  return *histograms_.back();
}

std::vector<FamilySnapshot> MetricsRegistry::Collect() const {
  std::shared_lock lock(mu_);
  std::vector<FamilySnapshot> out;
  for (const auto& [is_histogram, index] : order_) {
    FamilySnapshot f;
    if (!is_histogram) {
      const CounterFamily& fam = *counters_[index];
      f.name = fam.name();
      f.help = fam.help();
      f.type = "counter";
      fam.ForEach([&](const std::vector<std::string>& values, const Counter& c) {
        MetricSample s;
        for (size_t i = 0; i < values.size(); ++i) s.labels.emplace_back(fam.label_names()[i], values[i]);
        s.value = static_cast<double>(c.Value());
        f.samples.push_back(std::move(s));
      });
    } else {
      const HistogramFamily& fam = *histograms_[index];
      f.name = fam.name();
      f.help = fam.help();
      f.type = "histogram";
      fam.ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
        std::vector<std::pair<std::string, std::string>> labels;
        for (size_t i = 0; i < values.size(); ++i) labels.emplace_back(fam.label_names()[i], values[i]);
        Histogram::Snapshot snap = h.Get();
        for (size_t i = 0; i < snap.upper_bounds.size(); ++i) {
          MetricSample b{"_bucket", labels, static_cast<double>(snap.cumulative[i])};
          b.labels.emplace_back("le", FormatMetricValue(snap.upper_bounds[i]));
          f.samples.push_back(std::move(b));
        }
        MetricSample inf{"_bucket", labels, static_cast<double>(snap.count)};
        inf.labels.emplace_back("le", "+Inf");
        f.samples.push_back(std::move(inf));
        f.samples.push_back({"_sum", labels, snap.sum});
        f.samples.push_back({"_count", labels, static_cast<double>(snap.count)});
      });
    }
    out.push_back(std::move(f));
  }
  return out;
}

// -------------------------------------------------------------------------------- exposition

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Exact integers (counts, byte totals up to 2^53) print without a fraction or exponent.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string FormatPrometheusText(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const FamilySnapshot& f : families) {
    out += "# HELP " + f.name + " ";
    AppendEscaped(out, f.help, /*quote_too=*/false);
    out += "\n# TYPE " + f.name + " " + f.type + "\n";
    for (const MetricSample& s : f.samples) {
      out += f.name;
      out += s.suffix;
      if (!s.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += s.labels[i].first;
          out += "=\"";
          AppendEscaped(out, s.labels[i].second, /*quote_too=*/true);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      out += FormatMetricValue(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace da::server
