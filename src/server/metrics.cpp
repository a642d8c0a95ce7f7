#include "server/metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <type_traits>

#include <prometheus/text_serializer.h>

namespace da::server {
namespace {

[[noreturn]] void MetricsBug(const std::string& what) {
  std::fprintf(stderr, "metrics: %s\n", what.c_str());
  std::abort();
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

}  // namespace

template <typename Metric>
Metric& MetricFamily<Metric>::WithLabels(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    MetricsBug("expected " + std::to_string(label_names_.size()) + " label values, got " +
               std::to_string(label_values.size()));
  }
  prometheus::Labels labels;
  for (size_t i = 0; i < label_values.size(); ++i) labels[label_names_[i]] = label_values[i];
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return family_.Add(labels, upper_bounds_);
  } else {
    return family_.Add(labels);
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Histogram>;

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}

void MetricsRegistry::CheckNewName(const std::string& name,
                                   const std::vector<std::string>& label_names) {
  if (!IsMetricName(name)) MetricsBug("invalid metric name '" + name + "'");
  for (const auto& l : label_names) {
    if (!IsMetricName(l) || l.find(':') != std::string::npos || l == "le") {
      MetricsBug(name + ": invalid label name '" + l + "'");
    }
  }
  for (const auto& d : declared_) {
    if (d.name == name) MetricsBug("metric '" + name + "' registered twice");
  }
}

CounterFamily& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                           std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  CheckNewName(name, label_names);
  auto& family = prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  declared_.push_back({name, label_names});
  counters_.push_back(std::make_unique<CounterFamily>(family, std::move(label_names),
                                                      std::vector<double>{}));
  return *counters_.back();
}

HistogramFamily& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> upper_bounds) {
  std::lock_guard lock(mu_);
  CheckNewName(name, label_names);
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && upper_bounds[i] <= upper_bounds[i - 1])) {
      MetricsBug(name + ": bucket bounds must be finite and strictly ascending");
    }
  }
  auto& family = prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
  declared_.push_back({name, label_names});
  histograms_.push_back(std::make_unique<HistogramFamily>(family, std::move(label_names),
                                                          std::move(upper_bounds)));
  return *histograms_.back();
}

std::vector<prometheus::MetricFamily> MetricsRegistry::Collect() const {
  std::vector<prometheus::MetricFamily> collected = registry_->Collect();
  std::vector<prometheus::MetricFamily> out;
  std::lock_guard lock(mu_);
  out.reserve(declared_.size());
  for (const auto& d : declared_) {
    auto it = std::find_if(collected.begin(), collected.end(),
                           [&](const prometheus::MetricFamily& f) { return f.name == d.name; });
    if (it == collected.end()) continue;
    // The library keeps labels sorted by name; print them in the declared order.
    for (auto& metric : it->metric) {
      std::vector<prometheus::ClientMetric::Label> ordered;
      ordered.reserve(metric.label.size());
      for (const auto& name : d.label_names) {
        for (const auto& l : metric.label) {
          if (l.name == name) ordered.push_back(l);
        }
      }
      metric.label = std::move(ordered);
    }
    out.push_back(std::move(*it));
  }
  return out;
}

prometheus::MetricFamily ScrapedFamily(const std::string& name, const std::string& help,
                                       prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void AddSample(prometheus::MetricFamily& family,
               const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  if (family.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family.metric.push_back(std::move(m));
}

std::string FormatPrometheusText(const std::vector<prometheus::MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace da::server
