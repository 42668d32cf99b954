// See metrics_text.h.
#include "src/serve/metrics_text.h"

#include <cmath>
#include <cstdio>

namespace caretaker {

namespace {

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void EscapeHelp(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void EscapeLabel(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

}  // namespace

void MetricsText::Family(std::string_view name, std::string_view type, std::string_view help) {
  name_ = std::string(name);
  out_ += "# HELP " + name_ + " ";
  EscapeHelp(out_, help);
  out_ += "\n# TYPE " + name_ + " " + std::string(type) + "\n";
}

void MetricsText::Sample(const MetricLabels& labels, double value, std::string_view suffix) {
  out_ += name_;
  out_ += suffix;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ',';
      out_ += labels[i].first;
      out_ += "=\"";
      EscapeLabel(out_, labels[i].second);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += Number(value);
  out_ += '\n';
}

void MetricsText::Histogram(const MetricLabels& labels, const std::vector<double>& bounds,
                            const std::vector<uint64_t>& counts, double sum) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    MetricLabels with = labels;
    with.emplace_back("le", i < bounds.size() ? Number(bounds[i]) : "+Inf");
    Sample(with, static_cast<double>(cumulative), "_bucket");
  }
  Sample(labels, sum, "_sum");
  Sample(labels, static_cast<double>(cumulative), "_count");
}

void HistogramCounts::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
}

}  // namespace caretaker
