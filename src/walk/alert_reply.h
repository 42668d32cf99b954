// What Alertmanager sends, read (pure): its webhook's payload (version 4) as
// the intake takes it, and which of the alerts kept are a member's, for rules
// of source = "alertmanager". run/ and serve/ store and ask; these read, so
// every shape a real Alertmanager sends is tested on its captured payload
// (tests/fixtures/alertmanager-0.25).
//
// The payload: {"version":"4","status","receiver","groupKey",
// "truncatedAlerts","alerts":[{"status","labels","annotations","startsAt",
// "endsAt","fingerprint"}]}; times RFC 3339 with a fraction and an offset,
// "0001-01-01T00:00:00Z" for no end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/result.h"
#include "src/config/config.h"
#include "src/store/alerts.h"
#include "src/walk/monitor_reply.h"
#include "src/walk/rule.h"

namespace caretaker {

struct AlertmanagerPayload {
  std::string receiver;
  std::string group_key;
  int64_t truncated = 0;  // alerts Alertmanager left out (max_alerts): they keep what was known of them
  std::vector<AlertNotice> alerts;
};

// The payload, or what is wrong with it (one clause naming the field:
// "alerts[2].startsAt: not an RFC 3339 time"). Nothing of a bad payload is
// taken.
Result<AlertmanagerPayload> ParseAlertmanagerPayload(std::string_view body);

// "2026-12-05T07:10:52.123456789Z", "...+01:00"; to the millisecond.
std::optional<WallTime> ParseRfc3339(std::string_view text);

// Each member's when and clear verdicts from the alerts kept (pool and
// server set; `out` left to the caller): a member's alerts are those every
// rule.matchers selects whose rule.label holds rule.series_template
// expanded for it. One firing (not past its endsAt) holds "alert is
// firing"; one firing but not sent again within rule.alert_max_age (when
// set) is unknown; none, or all resolved, holds "alert is resolved".
std::vector<RuleMember> AlertmanagerVerdicts(const RuleConfig& rule, const std::vector<StoredAlert>& alerts,
                                             const std::vector<MonitoredMember>& members, WallTime now);

}  // namespace caretaker
