// See nagios.h.
#include "src/walk/nagios.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace caretaker {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A number and what follows it ("10.5s" -> 10.5, "s"); nullopt when `s`
// does not start with one. Only decimal: no hex, no inf or nan words.
std::optional<double> Number(std::string_view s, std::string_view* rest = nullptr) {
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
    return std::nullopt;
  }
  if (s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed | std::chars_format::scientific);
  if (ec != std::errc() || !std::isfinite(v)) return std::nullopt;
  if (rest) *rest = s.substr(static_cast<size_t>(end - s.data()));
  return v;
}

std::optional<double> WholeNumber(std::string_view s) {
  std::string_view rest;
  std::optional<double> v = Number(s, &rest);
  if (!v || !rest.empty()) return std::nullopt;
  return v;
}

bool KnownUom(std::string_view u) {
  for (std::string_view k : {"", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"}) {
    if (u == k) return true;
  }
  return false;
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    size_t semi = s.find(';');
    out.push_back(s.substr(0, semi));
    if (semi == std::string_view::npos) return out;
    s.remove_prefix(semi + 1);
  }
}

// `label=...` after its label: the value and its four optional fields.
std::optional<std::string> ReadValue(std::string_view text, PerfValue& v) {
  std::vector<std::string_view> f = Fields(text);
  if (f.size() > 5) return "more than 5 fields";
  if (f[0] == "U") {
    v.value = std::nullopt;
  } else {
    std::string_view uom;
    v.value = Number(f[0], &uom);
    if (!v.value) return "value \"" + std::string(f[0]) + "\" is not a number or U";
    if (!KnownUom(uom)) return "unit \"" + std::string(uom) + "\" is not one of s ms us % B KB MB GB TB c";
    v.uom = std::string(uom);
  }
  for (size_t i = 1; i < 3 && i < f.size(); ++i) {
    if (f[i].empty()) continue;
    auto range = NagiosRange::Parse(f[i]);
    if (!range) return std::string(i == 1 ? "warn" : "crit") + " " + range.error().message;
    (i == 1 ? v.warn : v.crit) = range.value();
  }
  for (size_t i = 3; i < 5 && i < f.size(); ++i) {
    if (f[i].empty()) continue;
    std::string_view unit;
    std::optional<double> n = Number(f[i], &unit);
    if (!n || (!unit.empty() && unit != v.uom)) {
      return std::string(i == 3 ? "min" : "max") + " \"" + std::string(f[i]) + "\" is not a number";
    }
    (i == 3 ? v.min : v.max) = n;
  }
  return std::nullopt;
}

}  // namespace

const char* NagiosStateName(NagiosState state) {
  switch (state) {
    case NagiosState::kOk: return "OK";
    case NagiosState::kWarning: return "WARNING";
    case NagiosState::kCritical: return "CRITICAL";
    case NagiosState::kUnknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

NagiosState NagiosStateOf(int exit_code) {
  switch (exit_code) {
    case 0: return NagiosState::kOk;
    case 1: return NagiosState::kWarning;
    case 2: return NagiosState::kCritical;
    default: return NagiosState::kUnknown;
  }
}

Result<NagiosRange> NagiosRange::Parse(std::string_view text) {
  const std::string whole(text);
  NagiosRange r;
  if (!text.empty() && text[0] == '@') {
    r.inside = true;
    text.remove_prefix(1);
  }
  if (text.empty()) return Error{"range \"" + whole + "\" is empty", ErrorKind::kUsage};
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    r.low = 0;
    r.high = WholeNumber(text);
    if (!r.high) return Error{"range \"" + whole + "\" is not a number", ErrorKind::kUsage};
    if (*r.high < 0) return Error{"range \"" + whole + "\" ends below 0 (0:" + whole + ")", ErrorKind::kUsage};
    return r;
  }
  std::string_view low = text.substr(0, colon), high = text.substr(colon + 1);
  if (low == "~") {
    r.low = std::nullopt;
  } else {
    r.low = low.empty() ? std::optional<double>(0) : WholeNumber(low);
    if (!r.low) return Error{"range \"" + whole + "\": its start is not a number or ~", ErrorKind::kUsage};
  }
  if (!high.empty()) {
    r.high = WholeNumber(high);
    if (!r.high) return Error{"range \"" + whole + "\": its end is not a number", ErrorKind::kUsage};
  }
  if (r.low && r.high && *r.low > *r.high) {
    return Error{"range \"" + whole + "\" starts above its end", ErrorKind::kUsage};
  }
  return r;
}

bool NagiosRange::Alerts(double value) const {
  const bool in = (!low || value >= *low) && (!high || value <= *high);
  return inside ? in : !in;
}

const PerfValue* PluginOutput::Find(std::string_view label) const {
  for (const PerfValue& p : perf) {
    if (p.label == label) return &p;
  }
  return nullptr;
}

std::vector<PerfValue> ParsePerfdata(std::string_view text, std::vector<std::string>& problems) {
  std::vector<PerfValue> out;
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) return out;
    const size_t item_start = i;
    PerfValue v;
    std::optional<std::string> problem;
    if (text[i] == '\'') {
      // 'label with spaces', '' inside it is one quote.
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {
            v.label += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        v.label += text[i++];
      }
      if (!closed) problem = "its label's quote is not closed";
      else if (i >= text.size() || text[i] != '=') problem = "no '=' after its label";
    } else {
      while (i < text.size() && text[i] != '=' && !IsSpace(text[i])) v.label += text[i++];
      if (i >= text.size() || text[i] != '=') problem = "no '=' after its label";
    }
    if (!problem && v.label.empty()) problem = "its label is empty";
    if (!problem) {
      ++i;  // '='
      size_t end = i;
      while (end < text.size() && !IsSpace(text[end])) ++end;
      problem = ReadValue(text.substr(i, end - i), v);
      i = end;
    }
    if (problem) {
      while (i < text.size() && !IsSpace(text[i])) ++i;
      problems.push_back("perfdata \"" + std::string(text.substr(item_start, i - item_start)) + "\": " + *problem);
      continue;
    }
    out.push_back(std::move(v));
  }
}

PluginOutput ParsePluginOutput(int exit_code, std::string_view output) {
  PluginOutput out;
  out.state = NagiosStateOf(exit_code);
  std::string perf;
  bool in_perf = false;
  bool first = true;
  while (!output.empty() || first) {
    size_t nl = output.find('\n');
    std::string_view line = output.substr(0, nl);
    output.remove_prefix(nl == std::string_view::npos ? output.size() : nl + 1);
    if (in_perf) {
      perf += " " + std::string(line);
    } else {
      size_t bar = line.find('|');
      std::string_view before = line.substr(0, bar);
      if (first) {
        out.text = std::string(Trim(before));
      } else {
        if (!out.long_text.empty()) out.long_text += "\n";
        out.long_text += std::string(before);
      }
      if (bar != std::string_view::npos) {
        perf += " " + std::string(line.substr(bar + 1));
        in_perf = !first;  // after the first line, perfdata runs to the end
      }
    }
    first = false;
  }
  out.perf = ParsePerfdata(perf, out.problems);
  return out;
}

}  // namespace caretaker
