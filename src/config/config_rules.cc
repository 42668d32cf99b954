// The [[rules]] tables and the bakes' checks (rule_config.h); the
// condition language is rule_condition.cc's.
#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "src/config/config_reader.h"

namespace caretaker {

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

// `when`: what makes a rule act (or a bake check fire). "alert is resolved"
// is refused there: it holds for every member without an alert.
Condition ReadWhen(TableReader& t, RuleSource source) {
  Condition when = ReadCondition(t, "when", source);
  if (t.sink().ok() && when.subject == Condition::Subject::kAlert && !when.is_bad) {
    t.Fail(t.table().get("when"), "when",
           "\"alert is resolved\" holds for every member that has no alert: write when = \"alert is firing\" "
           "(and, if you like, clear = \"alert is resolved\")");
  }
  return when;
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
      {"server", {S::kPrometheus, S::kGraphite}}, {"query", {S::kPrometheus}},
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
  r.when = ReadWhen(t, r.source);
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
  r.when = ReadWhen(t, r.source);
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
