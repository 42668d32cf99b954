// What Prometheus and Graphite answer, read (pure): an instant query's reply
// (/api/v1/query) and a render (/render?format=json), and which member each
// series is of. The run/ sources ask; these read the bodies, so that every
// shape a real server sends is tested on its captured reply
// (tests/fixtures/prometheus-2.42, tests/fixtures/graphite-1.1).
//
// Prometheus writes sample values as strings ("42", "NaN", "+Inf", "-Inf");
// Graphite writes [value, timestamp] pairs, value first, null where a point
// is missing. An error is one clause of what the server said ("HTTP 400
// bad_data: invalid parameter ..."); the caller names server and query.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/result.h"
#include "src/config/config.h"
#include "src/walk/rule.h"

namespace caretaker {

struct PromSample {
  std::vector<std::pair<std::string, std::string>> labels;  // as the reply has them
  double value = 0;
  std::string text;  // the value as written: "42", "NaN", "+Inf"
  const std::string* Label(std::string_view name) const;
};

struct PromResult {
  bool scalar = false;  // a scalar: one sample, no labels, the value of every member
  std::vector<PromSample> samples;
  std::vector<std::string> warnings;
};

// `status`: the HTTP status; `body`: the reply's body. A matrix or a string
// result is an error too: a rule compares one number per member.
Result<PromResult> ParsePrometheusReply(int status, std::string_view body);

struct GraphitePoint {
  std::optional<double> value;  // null: no datapoint in that slot
  int64_t time = 0;             // unix seconds
};

struct GraphiteSeries {
  std::string target;  // the series' name as the reply has it
  std::vector<GraphitePoint> points;
};

Result<std::vector<GraphiteSeries>> ParseGraphiteReply(int status, std::string_view body);

// The last non-null point of `series`, if there is one.
std::optional<GraphitePoint> LastValue(const GraphiteSeries& series);

// A member a rule reads, for the mappings below: `read` false for one not
// read (out of traffic by a person or by caretaker: never touched).
struct MonitoredMember {
  const PoolConfig* pool = nullptr;
  const MemberConfig* member = nullptr;
  bool read = true;
};

// Each member's when and clear verdicts from one query's result (pool and
// server set; `out` left to the caller): its series is the one whose
// rule.label holds rule.series_template expanded for it; none, or more than
// one, is unknown; a scalar is every member's value.
std::vector<RuleMember> PrometheusVerdicts(const RuleConfig& rule, const PromResult& result,
                                           const std::vector<MonitoredMember>& members);
// The same from one render: a member's series is the one named
// rule.series_template expanded for it; its last non-null point counts when
// no older than rule.max_age at `now` (unix seconds), else unknown.
std::vector<RuleMember> GraphiteVerdicts(const RuleConfig& rule, const std::vector<GraphiteSeries>& series,
                                         const std::vector<MonitoredMember>& members, int64_t now);

// What `condition` (value OP NUMBER) says of a value read; NaN is unknown
// (Prometheus' "no meaningful value"), infinities compare as numbers.
// `text` is the value as read, for messages ("42", "+Inf").
Verdict EvaluateValue(const Condition& condition, double value, const std::string& text);

}  // namespace caretaker
