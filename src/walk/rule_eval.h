// What a rule's condition says of one member, from what a source read: the
// facts of caretaker's own probes, or a Nagios plugin's output. Pure; the
// sources that read them live in run/. Unknown stays unknown: a probe that
// failed is "mysqld unreachable" only for that condition, and unknown for
// every other one (a lag nobody could read never clears).
#pragma once

#include <optional>
#include <string>

#include "mysql/replica_status.h"
#include "src/config/rule_config.h"
#include "src/walk/nagios.h"
#include "src/walk/rule.h"

namespace caretaker {

struct ProbeFacts {
  std::optional<std::string> mysql_error;       // the probe of mysqld failed: why
  std::optional<mysql::ReplicaStatus> replica;  // when it answered
  std::optional<bool> check_up;                 // HAProxy's check UP on every instance; nullopt: unreadable
  std::string check_text;                       // "lb1 UP, lb2 DOWN"
  std::optional<bool> flapping;                 // its check changed within flap_window; nullopt: unreadable
};

Verdict Evaluate(const Condition& condition, const ProbeFacts& facts);
// `ran`: the plugin's output, or why it could not be run (not started, timed
// out, killed): unknown.
Verdict Evaluate(const Condition& condition, const Result<PluginOutput>& ran);
// `when` no longer holding, for a rule without a clear condition.
Verdict Negated(const Verdict& verdict);

}  // namespace caretaker
