// The [[rules]] tables, and the condition language (rule_config.h).
#include <fnmatch.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "src/config/config_reader.h"

namespace caretaker {
namespace {

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size()) break;
    size_t start = i;
    if (text[i] == '\'') {
      // 'a quoted label', '' a quote inside it: one word, quotes kept.
      ++i;
      while (i < text.size()) {
        if (text[i] == '\'' && (i + 1 >= text.size() || text[i + 1] != '\'')) break;
        i += text[i] == '\'' ? 2 : 1;
      }
      ++i;
    } else {
      while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    }
    out.push_back(text.substr(start, std::min(i, text.size()) - start));
  }
  return out;
}

std::optional<Condition::Op> OpOf(std::string_view w) {
  using Op = Condition::Op;
  if (w == ">") return Op::kGt;
  if (w == ">=") return Op::kGe;
  if (w == "<") return Op::kLt;
  if (w == "<=") return Op::kLe;
  if (w == "==") return Op::kEq;
  if (w == "!=") return Op::kNe;
  return std::nullopt;
}

std::optional<double> Number(std::string_view w) {
  if (!w.empty() && w[0] == '+') w.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v, std::chars_format::fixed);
  if (ec != std::errc() || end != w.data() + w.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Error Bad(std::string_view text, const std::string& why) {
  return Error{"condition " + config_detail::Quote(text) + ": " + why, ErrorKind::kUsage};
}

// `SUBJECT is WORD` of the probe source: the word that holds when bad, and
// its opposite.
struct IsWords {
  std::string_view subject, bad, good;
  Condition::Subject kind;
};
constexpr IsWords kIs[] = {
    {"replication", "stopped", "running", Condition::Subject::kReplication},
    {"mysqld", "unreachable", "reachable", Condition::Subject::kMysqld},
    {"check", "down", "up", Condition::Subject::kCheck},
    {"check", "flapping", "steady", Condition::Subject::kCheck},
    {"buffer_pool", "cold", "warm", Condition::Subject::kBufferPool},
};

constexpr std::string_view kProbeForms =
    "lag OP DURATION, replication is stopped|running, mysqld is unreachable|reachable, check is "
    "down|up|flapping|steady, buffer_pool is cold|warm";
constexpr std::string_view kNagiosForms = "state OP ok|warning|critical, perf LABEL OP NUMBER";
constexpr std::string_view kValueForms = "value OP NUMBER";
constexpr std::string_view kAlertForms = "alert is firing|resolved";
constexpr std::string_view kOps = "> >= < <= == !=";

}  // namespace

const char* RuleSourceName(RuleSource source) {
  switch (source) {
    case RuleSource::kProbe: return "probe";
    case RuleSource::kNagios: return "nagios";
    case RuleSource::kPrometheus: return "prometheus";
    case RuleSource::kGraphite: return "graphite";
    case RuleSource::kAlertmanager: return "alertmanager";
  }
  return "probe";
}

const char* RuleActionName(RuleAction action) {
  switch (action) {
    case RuleAction::kDepool: return "depool";
    case RuleAction::kTask: return "task";
    case RuleAction::kNotify: return "notify";
  }
  return "depool";
}

Result<AlertMatcher> ParseAlertMatcher(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error{"matcher " + config_detail::Quote(text) + ": " + why +
                     " (write NAME=\"VALUE\", NAME!=\"VALUE\", NAME=~\"REGEX\" or NAME!~\"REGEX\")",
                 ErrorKind::kUsage};
  };
  AlertMatcher m;
  m.text = std::string(text);
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  size_t i = 0;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
  if (i == 0 || std::isdigit(static_cast<unsigned char>(s[0]))) return bad("no label name");
  m.name = std::string(s.substr(0, i));
  std::string_view rest = s.substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.starts_with("=~")) m.op = AlertMatcher::Op::kRe;
  else if (rest.starts_with("!~")) m.op = AlertMatcher::Op::kNre;
  else if (rest.starts_with("!=")) m.op = AlertMatcher::Op::kNe;
  else if (rest.starts_with("=")) m.op = AlertMatcher::Op::kEq;
  else return bad("no operator after " + config_detail::Quote(m.name));
  rest.remove_prefix(m.op == AlertMatcher::Op::kEq ? 1 : 2);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') {
    rest = rest.substr(1, rest.size() - 2);
    for (size_t k = 0; k < rest.size(); ++k) {
      if (rest[k] == '\\' && k + 1 < rest.size()) ++k;
      else if (rest[k] == '"') return bad("a quote inside the value is not escaped");
      m.value += rest[k];
    }
  } else if (rest.find_first_of("\" ") == std::string_view::npos) {
    m.value = std::string(rest);  // unquoted, as Alertmanager also takes
  } else {
    return bad("the value's quotes are not closed");
  }
  if (m.op == AlertMatcher::Op::kRe || m.op == AlertMatcher::Op::kNre) {
    try {
      std::regex check(m.value, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return bad("the regular expression does not compile (" + std::string(e.what()) + ")");
    }
  }
  return m;
}

bool Condition::Compare(double value) const {
  switch (op) {
    case Op::kGt: return value > number;
    case Op::kGe: return value >= number;
    case Op::kLt: return value < number;
    case Op::kLe: return value <= number;
    case Op::kEq: return value == number;
    case Op::kNe: return value != number;
    case Op::kIs: return false;
  }
  return false;
}

Result<Condition> ParseCondition(std::string_view text, RuleSource source) {
  std::vector<std::string_view> w = Words(text);
  Condition c;
  c.text = std::string(text);
  const std::string forms(source == RuleSource::kProbe          ? kProbeForms
                          : source == RuleSource::kNagios       ? kNagiosForms
                          : source == RuleSource::kAlertmanager ? kAlertForms
                                                                : kValueForms);
  if (w.empty()) return Bad(text, "is empty; write one of: " + forms);
  if (source == RuleSource::kAlertmanager) {
    if (w.size() != 3 || w[0] != "alert" || w[1] != "is" || (w[2] != "firing" && w[2] != "resolved")) {
      return Bad(text, "not a condition of source \"alertmanager\"; write " + forms);
    }
    c.subject = Condition::Subject::kAlert;
    c.op = Condition::Op::kIs;
    c.is_bad = w[2] == "firing";
    c.label = "firing";
    return c;
  }
  if (source == RuleSource::kPrometheus || source == RuleSource::kGraphite) {
    const std::string name = RuleSourceName(source);
    if (w[0] != "value") return Bad(text, "not a condition of source \"" + name + "\"; write " + forms);
    if (w.size() != 3) return Bad(text, "expected value OP NUMBER, as in \"value > 30\"");
    auto op = OpOf(w[1]);
    if (!op) return Bad(text, config_detail::Quote(w[1]) + " is not one of " + std::string(kOps));
    std::string_view n = w[2];
    bool negative = !n.empty() && n[0] == '-';
    if (negative) n.remove_prefix(1);
    std::optional<double> v = Number(n);
    if (!v) return Bad(text, config_detail::Quote(w[2]) + " is not a number (the series' values have no unit here)");
    c.subject = Condition::Subject::kValue;
    c.op = *op;
    c.number = negative ? -*v : *v;
    return c;
  }
  if (source == RuleSource::kProbe) {
    if (w[0] == "lag") {
      if (w.size() != 3) return Bad(text, "expected lag OP DURATION, as in \"lag > 30s\"");
      auto op = OpOf(w[1]);
      if (!op) return Bad(text, config_detail::Quote(w[1]) + " is not one of " + std::string(kOps));
      std::optional<double> seconds = Number(w[2]);
      if (!seconds) {
        std::optional<Millis> d = ParseDuration(w[2]);
        if (!d) return Bad(text, config_detail::Quote(w[2]) + " is not a duration (\"30s\", \"500ms\", \"2m\")");
        seconds = static_cast<double>(d->count()) / 1000.0;
      }
      if (*seconds < 0) return Bad(text, "a lag is never below 0");
      c.subject = Condition::Subject::kLag;
      c.op = *op;
      c.number = *seconds;
      return c;
    }
    for (const IsWords& is : kIs) {
      if (w[0] != is.subject) continue;
      if (w.size() != 3 || w[1] != "is") {
        return Bad(text, "expected " + std::string(is.subject) + " is " + std::string(is.bad) + "|" +
                             std::string(is.good));
      }
      if (w[2] != is.bad && w[2] != is.good) continue;  // the next entry of the same subject
      c.subject = is.kind;
      c.op = Condition::Op::kIs;
      c.is_bad = w[2] == is.bad;
      c.label = std::string(is.bad);  // which test: "down" or "flapping" for check
      return c;
    }
    return Bad(text, "not a condition of source \"probe\"; write one of: " + forms);
  }
  if (w[0] == "state") {
    if (w.size() != 3) return Bad(text, "expected state OP ok|warning|critical, as in \"state >= critical\"");
    auto op = OpOf(w[1]);
    if (!op) return Bad(text, config_detail::Quote(w[1]) + " is not one of " + std::string(kOps));
    const std::string_view states[] = {"ok", "warning", "critical"};
    for (int i = 0; i < 3; ++i) {
      if (w[2] == states[i]) {
        c.subject = Condition::Subject::kState;
        c.op = *op;
        c.number = i;
        return c;
      }
    }
    return Bad(text, config_detail::Quote(w[2]) + " is not ok, warning or critical (UNKNOWN is never a state a "
                                                  "condition holds on: it counts as unknown)");
  }
  if (w[0] == "perf") {
    if (w.size() != 4) return Bad(text, "expected perf LABEL OP NUMBER, as in \"perf 'seconds behind master' > 60\"");
    std::string label(w[1]);
    if (label.size() >= 2 && label.front() == '\'' && label.back() == '\'') {
      std::string unquoted;
      for (size_t i = 1; i + 1 < label.size(); ++i) {
        unquoted += label[i];
        if (label[i] == '\'') ++i;  // '' is one quote
      }
      label = unquoted;
    } else if (label.front() == '\'') {
      return Bad(text, "the label's quote is not closed");
    }
    if (label.empty()) return Bad(text, "the perfdata label is empty");
    auto op = OpOf(w[2]);
    if (!op) return Bad(text, config_detail::Quote(w[2]) + " is not one of " + std::string(kOps));
    std::optional<double> n = Number(w[3]);
    if (!n) return Bad(text, config_detail::Quote(w[3]) + " is not a number (perfdata values have no unit here)");
    c.subject = Condition::Subject::kPerf;
    c.label = label;
    c.op = *op;
    c.number = *n;
    return c;
  }
  return Bad(text, "not a condition of source \"nagios\"; write one of: " + forms);
}

namespace config_detail {
namespace {

constexpr int kMaxActions = 1000;

RuleSource ReadSource(TableReader& t) {
  std::string s = t.String("source", "probe");
  for (RuleSource r : {RuleSource::kProbe, RuleSource::kNagios, RuleSource::kPrometheus, RuleSource::kGraphite,
                       RuleSource::kAlertmanager}) {
    if (s == RuleSourceName(r)) return r;
  }
  t.Fail(t.table().get("source"), "source",
         Quote(s) + " is not \"probe\", \"nagios\", \"prometheus\", \"graphite\" or \"alertmanager\"");
  return RuleSource::kProbe;
}

// A string with placeholders, checked as a step's are.
std::string ReadTemplate(TableReader& t, std::string_view key, std::optional<std::string> fallback) {
  std::string text = t.String(key, fallback);
  if (!t.sink().ok()) return text;
  std::string why = CheckPlaceholders(text);
  if (!why.empty()) t.Fail(t.table().get(key), key, why);
  return text;
}

// The rule's `server`: the one [[prometheus]] / [[graphite]] when it names
// none, else the one it names.
void ReadMonitorKeys(TableReader& t, const Config& config, RuleConfig& r) {
  const bool prometheus = r.source == RuleSource::kPrometheus;
  const std::vector<MonitorServerConfig>& servers = prometheus ? config.prometheus : config.graphite;
  const std::string kind = prometheus ? "[[prometheus]]" : "[[graphite]]";
  if (servers.empty()) {
    t.Fail(t.table().get("source"), "source",
           "source = \"" + std::string(RuleSourceName(r.source)) + "\" needs a " + kind + " table (name, url)");
    return;
  }
  if (t.table().get("server")) {
    r.server = t.Name("server", NameChars::kPlain, std::nullopt);
    bool known = false;
    for (const MonitorServerConfig& m : servers) known = known || m.name == r.server;
    if (t.sink().ok() && !known) t.Fail(t.table().get("server"), "server", "no " + kind + " is named " + Quote(r.server));
  } else if (servers.size() == 1) {
    r.server = servers.front().name;
  } else {
    t.Fail(nullptr, "server", "there are " + std::to_string(servers.size()) + " " + kind +
                                  " tables: say which one this rule asks (server = \"NAME\")");
  }
  if (prometheus) {
    r.query = t.String("query", std::nullopt);
    r.label = t.String("label", r.label);
    r.series_template = ReadTemplate(t, "label_value", r.series_template);
  } else {
    r.query = ReadTemplate(t, "target", std::nullopt);
    r.series_template = ReadTemplate(t, "series", r.query);
    if (t.sink().ok() && r.series_template.find("{server}") == std::string::npos &&
        r.series_template.find("{host}") == std::string::npos) {
      t.Fail(t.table().get(t.table().get("series") ? "series" : "target"), t.table().get("series") ? "series" : "target",
             "the series name must hold {server} or {host}, to tell which member a series is of");
    }
    r.max_age = t.Timeout("max_age", r.max_age);
  }
  r.timeout = Millis(0);  // the server's
}

// source = "alertmanager": which alerts (`matchers`, Alertmanager's own
// syntax, every one must hold) and how one names its member.
void ReadAlertKeys(TableReader& t, RuleConfig& r) {
  auto items = t.Strings("matchers");
  if (!items || items->empty()) {
    if (t.sink().ok()) {
      t.Fail(t.table().get("matchers"), "matchers",
             "source = \"alertmanager\" needs the alerts it counts, as Alertmanager's matchers: "
             "matchers = ['alertname=\"MySQLReplicationLag\"']");
    }
    return;
  }
  for (const StringItem& item : *items) {
    auto m = ParseAlertMatcher(item.value);
    if (!m) {
      t.Fail(item.node, "matchers", m.error().message);
      return;
    }
    r.matchers.push_back(std::move(m).value());
  }
  r.label = t.String("label", r.label);
  r.series_template = ReadTemplate(t, "label_value", r.series_template);
  if (auto d = t.Duration("max_age")) {
    if (*d < Millis(0)) t.Fail(t.table().get("max_age"), "max_age", "must not be negative");
    r.alert_max_age = *d;
  }
}

// A condition the table must have (an optional one is read only when present).
Condition ReadCondition(TableReader& t, std::string_view key, RuleSource source) {
  const toml::node* node = t.table().get(key);
  std::string text = t.String(key, std::nullopt);
  if (!t.sink().ok()) return Condition{};
  auto c = ParseCondition(text, source);
  if (!c) {
    t.Fail(node, key, c.error().message);
    return Condition{};
  }
  return c.value();
}

std::vector<std::string> ReadPoolNames(TableReader& t, const std::vector<PoolConfig>& pools) {
  std::vector<std::string> out;
  auto items = t.Strings("pools");
  if (!items) return out;
  for (const StringItem& item : *items) {
    bool known = false;
    for (const PoolConfig& p : pools) known = known || p.name == item.value;
    if (!known) {
      t.Fail(item.node, "pools", "no pool is named " + Quote(item.value));
      return out;
    }
    out.push_back(item.value);
  }
  return out;
}

// Each member pattern must name a member of a pool in scope: a typo would
// otherwise watch nothing, silently.
std::vector<std::string> ReadMemberPatterns(TableReader& t, const std::vector<PoolConfig>& pools,
                                            const std::vector<std::string>& scope) {
  std::vector<std::string> out;
  auto items = t.Strings("members");
  if (!items) return out;
  for (const StringItem& item : *items) {
    bool matched = false;
    for (const PoolConfig& p : pools) {
      if (!scope.empty() && std::find(scope.begin(), scope.end(), p.name) == scope.end()) continue;
      for (const MemberConfig& m : p.members) {
        matched = matched || fnmatch(item.value.c_str(), m.server.c_str(), 0) == 0;
      }
    }
    if (!matched) {
      t.Fail(item.node, "members", Quote(item.value) + " names no member of the pools this rule watches");
      return out;
    }
    out.push_back(item.value);
  }
  return out;
}

// `source` and the keys of that source (a plugin's command, a monitoring
// server's query), into `r`; keys of another source are refused. `what`: "a
// rule" or "a check", for the messages.
void ReadSourceKeys(TableReader& t, const Config& config, RuleConfig& r, const std::string& what) {
  r.source = ReadSource(t);
  if (!t.sink().ok()) return;
  if (r.source == RuleSource::kNagios) {
    StepConfig command;
    ReadCommand(t, command);
    r.argv = std::move(command.argv);
    r.shell = std::move(command.shell);
    r.timeout = t.Timeout("timeout", r.timeout);
  } else if (t.table().get("command")) {
    t.Fail(t.table().get("command"), "command", "only " + what + " of source = \"nagios\" runs a command");
  }
  if (r.source == RuleSource::kPrometheus || r.source == RuleSource::kGraphite) {
    ReadMonitorKeys(t, config, r);
  } else if (r.source == RuleSource::kAlertmanager) {
    ReadAlertKeys(t, r);
  }
  // A key of another source is a mistake (it would be silently ignored).
  struct Owned {
    const char* key;
    std::vector<RuleSource> by;
  };
  using S = RuleSource;
  const Owned owned[] = {
      {"server", {S::kPrometheus, S::kGraphite}}, {"query", {S::kPrometheus, S::kGraphite}},
      {"label", {S::kPrometheus, S::kAlertmanager}}, {"label_value", {S::kPrometheus, S::kAlertmanager}},
      {"target", {S::kGraphite}}, {"series", {S::kGraphite}}, {"max_age", {S::kGraphite, S::kAlertmanager}},
      {"matchers", {S::kAlertmanager}},
  };
  for (const Owned& o : owned) {
    if (!t.table().get(o.key) || std::find(o.by.begin(), o.by.end(), r.source) != o.by.end()) continue;
    std::string sources;
    for (size_t i = 0; i < o.by.size(); ++i) {
      sources += std::string(i == 0 ? "" : " or ") + "\"" + RuleSourceName(o.by[i]) + "\"";
    }
    t.Fail(t.table().get(o.key), o.key, "only " + what + " of source = " + sources + " reads it");
    return;
  }
}

RuleConfig ReadRule(TableReader& t, const Config& config, std::map<std::string, FirstUse>& names) {
  const std::vector<PoolConfig>& pools = config.pools;
  const std::vector<TaskConfig>& tasks = config.tasks;
  t.CheckKeys({"name", "pools", "members", "mode", "source", "command", "timeout", "server", "query", "label",
               "label_value", "target", "series", "max_age", "matchers", "when", "clear", "for",
               "clear_for", "interval", "flap_window", "action", "task", "cooldown", "max_actions",
               "max_actions_per_host", "max_actions_per_pool", "per", "breaker_actions", "breaker_pool",
               "breaker_window"});
  RuleConfig r;
  r.line = t.table().source().begin.line;
  r.name = t.Name("name", NameChars::kPlain, std::nullopt);
  CheckUnique(t, "name", r.name, names);
  r.pools = ReadPoolNames(t, pools);
  if (t.sink().ok()) r.members = ReadMemberPatterns(t, pools, r.pools);
  std::string mode = t.String("mode", "act");
  if (mode != "act" && mode != "observe") {
    t.Fail(t.table().get("mode"), "mode", Quote(mode) + " is not \"act\" or \"observe\"");
  }
  r.observe = mode == "observe";
  ReadSourceKeys(t, config, r, "a rule");
  if (!t.sink().ok()) return r;
  r.when = ReadCondition(t, "when", r.source);
  if (t.table().get("clear")) r.clear = ReadCondition(t, "clear", r.source);
  if (auto d = t.Duration("for")) {
    if (*d < Millis(0)) t.Fail(t.table().get("for"), "for", "must not be negative");
    r.hold_for = *d;
  }
  if (auto d = t.Duration("clear_for")) {
    if (*d < Millis(0)) t.Fail(t.table().get("clear_for"), "clear_for", "must not be negative");
    r.clear_for = *d;
  }
  r.interval = t.Timeout("interval", r.interval);
  r.flap_window = t.Timeout("flap_window", r.flap_window);
  std::string action = t.String("action", "depool");
  if (action == "task") {
    r.action = RuleAction::kTask;
    r.task = t.Name("task", NameChars::kPlain, std::nullopt);
    bool known = false;
    for (const TaskConfig& task : tasks) known = known || task.name == r.task;
    if (t.sink().ok() && !known) t.Fail(t.table().get("task"), "task", "no task is named " + Quote(r.task));
  } else if (action == "notify") {
    r.action = RuleAction::kNotify;
  } else if (action != "depool") {
    t.Fail(t.table().get("action"), "action", Quote(action) + " is not \"depool\", \"task\" or \"notify\"");
  }
  if (r.action != RuleAction::kTask && t.table().get("task")) {
    t.Fail(t.table().get("task"), "task", "only action = \"task\" runs a task");
  }
  if (auto d = t.Duration("cooldown")) {
    if (*d < Millis(0)) t.Fail(t.table().get("cooldown"), "cooldown", "must not be negative");
    r.cooldown = *d;
  }
  r.max_actions = static_cast<int>(t.Int("max_actions", r.max_actions, 1, kMaxActions));
  r.max_actions_per_host = static_cast<int>(t.Int("max_actions_per_host", r.max_actions_per_host, 1, kMaxActions));
  r.max_actions_per_pool = static_cast<int>(t.Int("max_actions_per_pool", r.max_actions_per_pool, 1, kMaxActions));
  r.per = t.Timeout("per", r.per);
  r.breaker_actions = static_cast<int>(t.Int("breaker_actions", r.breaker_actions, 1, kMaxActions));
  r.breaker_pool = t.CapacityLimit("breaker_pool", r.breaker_pool);
  r.breaker_window = t.Timeout("breaker_window", r.breaker_window);
  return r;
}

}  // namespace

std::vector<RuleConfig> ReadRules(TableReader& root, const Config& config) {
  std::vector<RuleConfig> out;
  if (!root.table().get("rules")) return out;  // rules are optional
  std::map<std::string, FirstUse> names;
  auto tables = root.Tables("rules", "[[rules]]");
  for (size_t i = 0; i < tables.size() && root.sink().ok(); ++i) {
    TableReader t(root.sink(), *tables[i], Index("rules", i));
    out.push_back(ReadRule(t, config, names));
  }
  return out;
}

namespace {

// One [[...bake.checks]] table: a rule's source and its `when`.
RuleConfig ReadCheck(TableReader& t, const Config& config, const std::string& owner, size_t i) {
  t.CheckKeys({"source", "command", "timeout", "server", "query", "label", "label_value", "target", "series",
               "max_age", "matchers", "when"});
  RuleConfig r;
  r.name = owner + " bake check " + std::to_string(i + 1);
  r.line = t.table().source().begin.line;
  ReadSourceKeys(t, config, r, "a check");
  if (!t.sink().ok()) return r;
  r.when = ReadCondition(t, "when", r.source);
  return r;
}

std::optional<BakeConfig> ReadBake(TableReader& parent, const Config& config, const std::string& owner) {
  const toml::table* table = parent.SubTable("bake");
  if (!table) return std::nullopt;
  TableReader t(parent.sink(), *table, parent.PathOf("bake"));
  t.CheckKeys({"for", "canary", "interval", "checks"});
  BakeConfig b;
  b.bake = t.Timeout("for", b.bake);
  b.canary_bake = t.Timeout("canary", b.bake);
  b.interval = t.Timeout("interval", b.interval);
  auto checks = t.Tables("checks", "[[" + parent.PathOf("bake") + ".checks]]");
  for (size_t i = 0; i < checks.size() && t.sink().ok(); ++i) {
    TableReader c(t.sink(), *checks[i], Index(t.PathOf("checks"), i));
    b.checks.push_back(ReadCheck(c, config, owner, i));
  }
  return b;
}

}  // namespace

void ReadBakes(TableReader& root, Config& config) {
  for (const char* key : {"pools", "tasks"}) {
    if (!root.table().get(key)) continue;
    const toml::array* array = root.table().get(key)->as_array();
    if (!array) continue;
    const bool pools = std::string_view(key) == "pools";
    for (size_t i = 0; i < array->size() && root.sink().ok(); ++i) {
      const toml::table* table = (*array)[i].as_table();
      if (!table) continue;
      TableReader t(root.sink(), *table, Index(key, i));
      if (pools && i < config.pools.size()) {
        config.pools[i].bake = ReadBake(t, config, "pool " + config.pools[i].name);
      } else if (!pools && i < config.tasks.size()) {
        config.tasks[i].bake = ReadBake(t, config, "task " + config.tasks[i].name);
      }
    }
  }
}

}  // namespace config_detail
}  // namespace caretaker
