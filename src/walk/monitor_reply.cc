// See monitor_reply.h.
#include "src/walk/monitor_reply.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_map>

#include "src/walk/rule_eval.h"

namespace caretaker {
namespace {

namespace json = boost::json;

constexpr size_t kMaxQuoted = 200;  // of a body that is not what was expected

// The first line of a body that is not JSON, shortened, for a message.
std::string Excerpt(std::string_view body) {
  while (!body.empty() && (body.front() == '\n' || body.front() == '\r' || body.front() == ' ')) body.remove_prefix(1);
  std::string_view line = body.substr(0, body.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return "an empty body";
  std::string out(line.substr(0, kMaxQuoted));
  if (line.size() > kMaxQuoted) out += "...";
  return "\"" + out + "\"";
}

std::optional<json::value> ParseJson(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return std::nullopt;
  return v;
}

const json::string* StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

// A Prometheus value string: a float, or NaN / +Inf / -Inf as Go writes them.
std::optional<double> PromNumber(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// [timestamp, "value"] into `sample`; false when it is not that.
bool ReadPromValue(const json::value& v, PromSample& sample) {
  const json::array* pair = v.if_array();
  if (!pair || pair->size() != 2 || !(*pair)[0].is_number() || !(*pair)[1].is_string()) return false;
  const json::string& text = (*pair)[1].get_string();
  std::optional<double> n = PromNumber(text);
  if (!n) return false;
  sample.value = *n;
  sample.text = std::string(text);
  return true;
}

std::optional<double> JsonNumber(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

std::string Number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "?";
}

}  // namespace

const std::string* PromSample::Label(std::string_view name) const {
  for (const auto& [k, v] : labels) {
    if (k == name) return &v;
  }
  return nullptr;
}

Result<PromResult> ParsePrometheusReply(int status, std::string_view body) {
  const std::string http = "HTTP " + std::to_string(status);
  std::optional<json::value> doc = ParseJson(body);
  const json::object* root = doc ? doc->if_object() : nullptr;
  if (!root) {
    // A proxy's error page, a 404 of a wrong url prefix, a server that is not Prometheus.
    return Error{http + " with a body that is not Prometheus' JSON: " + Excerpt(body)};
  }
  const json::string* st = StringAt(*root, "status");
  if (st && *st == "error") {
    const json::string* type = StringAt(*root, "errorType");
    const json::string* error = StringAt(*root, "error");
    return Error{http + " " + (type ? std::string(*type) : "error") + ": " +
                 (error ? std::string(*error) : "(no error text)")};
  }
  if (!st || *st != "success") return Error{http + " with no \"status\":\"success\" in its JSON"};
  if (status != 200) return Error{http + " with a success body: not what Prometheus answers"};
  const json::value* data_v = root->if_contains("data");
  const json::object* data = data_v ? data_v->if_object() : nullptr;
  const json::string* type = data ? StringAt(*data, "resultType") : nullptr;
  const json::value* result = data ? data->if_contains("result") : nullptr;
  if (!type || !result) return Error{"a reply without data.resultType and data.result"};
  PromResult out;
  if (const json::value* w = root->if_contains("warnings"); w && w->is_array()) {
    for (const json::value& one : w->get_array()) {
      if (one.is_string()) out.warnings.emplace_back(one.get_string());
    }
  }
  if (*type == "scalar") {
    PromSample s;
    if (!ReadPromValue(*result, s)) return Error{"a scalar result that is not [time, \"value\"]"};
    out.scalar = true;
    out.samples.push_back(std::move(s));
    return out;
  }
  if (*type != "vector") {
    return Error{"the query gives a " + std::string(*type) +
                 " result; a rule needs an instant vector (one number per series) or a scalar"};
  }
  const json::array* series = result->if_array();
  if (!series) return Error{"a vector result that is not an array"};
  out.samples.reserve(series->size());
  for (const json::value& one : *series) {
    const json::object* o = one.if_object();
    const json::value* metric = o ? o->if_contains("metric") : nullptr;
    const json::value* value = o ? o->if_contains("value") : nullptr;
    PromSample s;
    if (!metric || !metric->is_object() || !value || !ReadPromValue(*value, s)) {
      return Error{"a vector element that is not {\"metric\":{...},\"value\":[time,\"value\"]}"};
    }
    for (const auto& kv : metric->get_object()) {
      if (!kv.value().is_string()) return Error{"label " + std::string(kv.key()) + " is not a string"};
      s.labels.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<GraphiteSeries>> ParseGraphiteReply(int status, std::string_view body) {
  const std::string http = "HTTP " + std::to_string(status);
  std::optional<json::value> doc = ParseJson(body);
  if (status != 200) {
    // graphite-web answers errors as text or an HTML page, not JSON.
    return Error{http + ": " + Excerpt(body)};
  }
  const json::array* all = doc ? doc->if_array() : nullptr;
  if (!all) return Error{http + " with a body that is not Graphite's JSON (an array of series): " + Excerpt(body)};
  std::vector<GraphiteSeries> out;
  out.reserve(all->size());
  for (const json::value& one : *all) {
    const json::object* o = one.if_object();
    const json::string* target = o ? StringAt(*o, "target") : nullptr;
    const json::value* dps = o ? o->if_contains("datapoints") : nullptr;
    if (!target || !dps || !dps->is_array()) {
      return Error{"a series that is not {\"target\":\"...\",\"datapoints\":[[value, time], ...]}"};
    }
    GraphiteSeries s;
    s.target = std::string(*target);
    s.points.reserve(dps->get_array().size());
    for (const json::value& p : dps->get_array()) {
      const json::array* pair = p.if_array();
      std::optional<double> time = pair && pair->size() == 2 ? JsonNumber((*pair)[1]) : std::nullopt;
      if (!time) return Error{"series " + s.target + ": a datapoint that is not [value, time]"};
      GraphitePoint point;
      point.time = static_cast<int64_t>(*time);
      if (!(*pair)[0].is_null()) {
        point.value = JsonNumber((*pair)[0]);
        if (!point.value) return Error{"series " + s.target + ": a datapoint whose value is not a number or null"};
      }
      s.points.push_back(point);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<GraphitePoint> LastValue(const GraphiteSeries& series) {
  for (auto it = series.points.rbegin(); it != series.points.rend(); ++it) {
    if (it->value) return *it;
  }
  return std::nullopt;
}

namespace {

std::vector<RuleMember> Blank(const std::vector<MonitoredMember>& members) {
  std::vector<RuleMember> out(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    out[i].pool = members[i].pool->name;
    out[i].server = members[i].member->server;
  }
  return out;
}

void SetUnknown(RuleMember& r, const std::string& why) {
  r.when = {Verdict::Is::kUnknown, why};
  r.clear = {Verdict::Is::kUnknown, why};
}

void SetValue(const RuleConfig& rule, RuleMember& r, double value, const std::string& text) {
  r.when = EvaluateValue(rule.when, value, text);
  r.clear = rule.clear ? EvaluateValue(*rule.clear, value, text) : Negated(r.when);
}

}  // namespace

std::vector<RuleMember> PrometheusVerdicts(const RuleConfig& rule, const PromResult& result,
                                           const std::vector<MonitoredMember>& members) {
  std::vector<RuleMember> out = Blank(members);
  if (result.scalar && !result.samples.empty()) {
    for (size_t i = 0; i < members.size(); ++i) {
      if (members[i].read) SetValue(rule, out[i], result.samples[0].value, result.samples[0].text);
    }
    return out;
  }
  // label value -> its sample, and how many series hold it.
  std::unordered_map<std::string, std::pair<const PromSample*, size_t>> by_value;
  by_value.reserve(result.samples.size());
  for (const PromSample& s : result.samples) {
    const std::string* v = s.Label(rule.label);
    if (!v) continue;
    auto& [sample, count] = by_value[*v];
    sample = &s;
    ++count;
  }
  for (size_t i = 0; i < members.size(); ++i) {
    if (!members[i].read) continue;
    const std::string want = ExpandPlaceholders(rule.series_template, *members[i].pool, *members[i].member);
    auto it = by_value.find(want);
    if (it == by_value.end()) {
      SetUnknown(out[i], "no series with " + rule.label + "=\"" + want + "\"");
    } else if (it->second.second > 1) {
      SetUnknown(out[i], std::to_string(it->second.second) + " series with " + rule.label + "=\"" + want +
                             "\": aggregate the query to one per member (max by (" + rule.label + ") (...))");
    } else {
      SetValue(rule, out[i], it->second.first->value, it->second.first->text);
    }
  }
  return out;
}

std::vector<RuleMember> GraphiteVerdicts(const RuleConfig& rule, const std::vector<GraphiteSeries>& series,
                                         const std::vector<MonitoredMember>& members, int64_t now) {
  std::vector<RuleMember> out = Blank(members);
  std::unordered_map<std::string, const GraphiteSeries*> by_name;
  by_name.reserve(series.size());
  for (const GraphiteSeries& s : series) by_name[s.target] = &s;
  const int64_t max_age = rule.max_age.count() / 1000;
  for (size_t i = 0; i < members.size(); ++i) {
    if (!members[i].read) continue;
    const std::string want = ExpandPlaceholders(rule.series_template, *members[i].pool, *members[i].member);
    auto it = by_name.find(want);
    if (it == by_name.end()) {
      SetUnknown(out[i], "no series " + want);
      continue;
    }
    std::optional<GraphitePoint> last = LastValue(*it->second);
    if (!last || last->time < now - max_age) {
      SetUnknown(out[i], "no datapoint of " + want + " within max_age " + FormatDuration(rule.max_age));
      continue;
    }
    char text[64];
    std::snprintf(text, sizeof text, "%g", *last->value);
    SetValue(rule, out[i], *last->value, text);
  }
  return out;
}

Verdict EvaluateValue(const Condition& condition, double value, const std::string& text) {
  const std::string shown = "value " + (text.empty() ? Number(value) : text);
  if (std::isnan(value)) return {Verdict::Is::kUnknown, shown + ": not a number"};
  return {condition.Compare(value) ? Verdict::Is::kHolds : Verdict::Is::kNot, shown};
}

}  // namespace caretaker
