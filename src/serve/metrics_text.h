// The Prometheus text exposition format 0.0.4, written family by family:
// one # HELP and one # TYPE before a family's samples, its samples together,
// HELP and label values escaped, the last line ending in a newline. Names
// and label names are the caller's (constants, checked by `promtool check
// metrics` in the tests); values are escaped here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caretaker {

using MetricLabels = std::vector<std::pair<std::string_view, std::string>>;

class MetricsText {
 public:
  // Starts a family: `type` is counter, gauge or histogram.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the family begun last; `suffix` for histograms ("_bucket").
  void Sample(const MetricLabels& labels, double value, std::string_view suffix = "");
  // A histogram's samples from its bucket bounds (seconds), counts per bucket
  // (not cumulative; one more than bounds, the last for +Inf) and sum.
  void Histogram(const MetricLabels& labels, const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                 double sum);

  const std::string& text() const { return out_; }

 private:
  std::string out_;
  std::string name_;
};

// A histogram kept in memory: observations into fixed buckets.
class HistogramCounts {
 public:
  explicit HistogramCounts(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
};

}  // namespace caretaker
