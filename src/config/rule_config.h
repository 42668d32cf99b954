// [[rules]]: a condition watched per member, and what to do when it has held
// long enough (DESIGN.md, "Self-managing: rules"). Read by config_rules.cc;
// evaluated by walk/rule.h; run by serve. Conditions are a small language,
// parsed here so that a typo is a config error at file:line:
//
//   source "probe" (caretaker's own probes of HAProxy and MySQL):
//     lag > 30s              lag OP DURATION (a bare number is seconds)
//     replication is stopped | running
//     mysqld is unreachable  | reachable
//     check is down | up     (HAProxy's health check, on any instance)
//     check is flapping | steady   (changed state within `flap_window`)
//     buffer_pool is cold | warm
//   source "nagios" (a plugin run per member, `command` as a task step's):
//     state >= critical      state OP ok|warning|critical (UNKNOWN is unknown)
//     perf 'seconds behind master' > 60    perf LABEL OP NUMBER
//   source "prometheus" (one instant `query` per evaluation, each series
//   mapped to a member by `label`) and "graphite" (one render of `target`,
//   each series' name mapped back to a member):
//     value > 30             value OP NUMBER (NaN, or no series: unknown)
//   source "alertmanager" (the alerts Alertmanager's webhook sent to serve's
//   API, those the rule's `matchers` select, each mapped to a member by
//   `label`):
//     alert is firing | resolved   (a firing alert of the member, or none)
//
// OP is one of > >= < <= == !=.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/limit.h"
#include "src/base/result.h"
#include "src/base/time.h"

namespace caretaker {

enum class RuleSource { kProbe, kNagios, kPrometheus, kGraphite, kAlertmanager };
// "probe", "nagios", "prometheus", "graphite", "alertmanager"
const char* RuleSourceName(RuleSource source);

// [[prometheus]] and [[graphite]]: a monitoring server rules query over HTTP.
// Secrets are read from files (mode 600, as the MySQL password) at each
// query, so a rotated token is picked up; never from the config.
struct MonitorServerConfig {
  std::string name;          // what a rule's `server` names; unique per kind
  std::string url;           // as written: "http://prometheus:9090" (a path prefix may follow)
  std::string host;          // parsed from url
  uint16_t port = 80;
  std::string path_prefix;   // "" or "/prom": what comes before /api/v1/query or /render
  Millis timeout{std::chrono::seconds(5)};  // connect, send and read of one query
  std::string bearer_token_file;            // "Authorization: Bearer <file's text>"
  std::string basic_user;                   // with basic_password_file: basic auth
  std::string basic_password_file;
  unsigned line = 0;
};

struct Condition {
  enum class Op { kGt, kGe, kLt, kLe, kEq, kNe, kIs };
  enum class Subject { kLag, kReplication, kMysqld, kCheck, kBufferPool, kState, kPerf, kValue, kAlert };
  Subject subject = Subject::kLag;
  Op op = Op::kGt;
  std::string label;   // kPerf: the perfdata label
  double number = 0;   // kLag: seconds; kState: 0 ok, 1 warning, 2 critical; kPerf: the value
  // kIs: the word holds ("stopped", "cold", ...) when `is_bad`, its opposite
  // otherwise ("running", "warm", ...).
  bool is_bad = true;
  std::string text;    // as written, for messages

  bool Compare(double value) const;  // value OP number
};

// `text` for `source`, or why not (one sentence naming what is known).
Result<Condition> ParseCondition(std::string_view text, RuleSource source);

// One of Alertmanager's label matchers, as its own config writes them:
// alertname="MySQLReplicationLag", severity=~"critical|page", env!="test"
// (=~ and !~ match the whole value, as Alertmanager's do).
struct AlertMatcher {
  enum class Op { kEq, kNe, kRe, kNre };
  std::string name;
  Op op = Op::kEq;
  std::string value;  // unquoted
  std::string text;   // as written, for messages
};

// `text` as a matcher, or why not (one sentence).
Result<AlertMatcher> ParseAlertMatcher(std::string_view text);

enum class RuleAction { kDepool, kTask, kNotify };
const char* RuleActionName(RuleAction action);  // "depool", "task", "notify"

struct RuleConfig {
  std::string name;                  // unique; records and audits say "rule:NAME"
  std::vector<std::string> pools;    // empty: every pool
  std::vector<std::string> members;  // names or globs; empty: every member
  bool observe = false;              // mode = "observe": journal what it would do, act never
  RuleSource source = RuleSource::kProbe;
  std::vector<std::string> argv;     // nagios: command = [...] (or `shell`), placeholders as steps'
  std::string shell;
  Millis timeout{std::chrono::seconds(10)};  // nagios: a plugin running longer is UNKNOWN
  // prometheus, graphite: which [[prometheus]] / [[graphite]] (`server`; may
  // be left out when there is one), and what is asked of it.
  std::string server;
  std::string query;   // prometheus: the PromQL `query`; graphite: the `target`, {server} and {pool} read as *
  // prometheus: the series label that names a member (`label`) and what it
  // holds for one (`label_value`, placeholders as a step's); graphite: the
  // series name as the reply has it (`series`, default the target).
  std::string label = "instance";
  std::string series_template = "{server}";
  Millis max_age{std::chrono::minutes(5)};  // graphite: a last datapoint older than this is unknown
  // alertmanager: the alerts that count (every matcher holds; at least one),
  // mapped to a member by `label` and `label_value` as prometheus'; a firing
  // alert Alertmanager has not sent again within `alert_max_age` is unknown
  // (0: never; set it above its repeat_interval).
  std::vector<AlertMatcher> matchers;
  Millis alert_max_age{0};
  Condition when;
  std::optional<Condition> clear;  // absent: `when` no longer holding
  Millis hold_for{0};              // `for`: `when` holds this long before acting
  Millis clear_for{std::chrono::minutes(1)};
  Millis interval{std::chrono::seconds(10)};  // evaluated this often
  Millis flap_window{std::chrono::minutes(5)};
  RuleAction action = RuleAction::kDepool;
  std::string task;                // action = "task"
  Millis cooldown{std::chrono::minutes(10)};  // after an action's walk ended, the host is held this long
  // Rate limits: at most max_actions per `per`, for the rule, for one host
  // and for one pool.
  int max_actions = 3;
  int max_actions_per_host = 1;
  int max_actions_per_pool = 2;
  Millis per{std::chrono::hours(1)};
  // The circuit breaker trips when, within breaker_window, the rule wanted to
  // act more than breaker_actions times, or acted on more than breaker_pool
  // of one pool's members. Tripped, it acts no more until `rules reset`.
  int breaker_actions = 5;
  policies::Limit breaker_pool = policies::Limit::Percent(50);
  Millis breaker_window{std::chrono::hours(1)};
  unsigned line = 0;
};

}  // namespace caretaker
