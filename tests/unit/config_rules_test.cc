// [[rules]] and their condition language (src/config/rule_config.h): what a
// rule table sets, and the file:line:column message of each mistake.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "tests/unit/config_fixture.h"

namespace caretaker {

using namespace config_testing;

namespace {

// kLb + kPool + 3 members (lines 1-14), a task "restart" (15-18), then a
// rule "r" ([[rules]] line 19, its name line 20, `lines` from line 21).
std::string Rule(const std::string& lines) {
  return kLb + kPool + Members(3) + "[[tasks]]\nname = \"restart\"\n[[tasks.steps]]\ncommand = [\"true\"]\n" +
         "[[rules]]\nname = \"r\"\n" + lines;
}

RuleConfig RuleOf(const std::string& toml) {
  auto loaded = ParseConfig(toml, "ok.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  REQUIRE(loaded.value().rules.size() == 1);
  return loaded.value().rules[0];
}

}  // namespace

TEST_CASE("a [[rules]] table sets every field of its RuleConfig", "[config][rules]") {
  RuleConfig r = RuleOf(Rule(R"(pools = ["p"]
members = ["db[12]"]
mode = "observe"
source = "nagios"
command = ["/usr/lib/nagios/plugins/check_mysql", "-H", "{host}", "-P", "{port}", "-S", "-w", "10", "-c", "60"]
timeout = "5s"
when = "perf 'seconds behind master' > 60"
clear = "perf 'seconds behind master' < 5"
for = "30s"
clear_for = "2m"
interval = "5s"
action = "task"
task = "restart"
cooldown = "15m"
max_actions = 4
max_actions_per_host = 2
max_actions_per_pool = 3
per = "2h"
breaker_actions = 6
breaker_pool = "34%"
breaker_window = "3h"
)"));
  CHECK(r.name == "r");
  CHECK(r.line == 19);
  CHECK(r.pools == std::vector<std::string>{"p"});
  CHECK(r.members == std::vector<std::string>{"db[12]"});
  CHECK(r.observe);
  CHECK(r.source == RuleSource::kNagios);
  CHECK(r.argv.size() == 10);
  CHECK(r.argv[2] == "{host}");
  CHECK(r.timeout == 5s);
  CHECK(r.when.subject == Condition::Subject::kPerf);
  CHECK(r.when.label == "seconds behind master");
  CHECK(r.when.op == Condition::Op::kGt);
  CHECK(r.when.number == 60);
  REQUIRE(r.clear);
  CHECK(r.clear->op == Condition::Op::kLt);
  CHECK(r.hold_for == 30s);
  CHECK(r.clear_for == 2min);
  CHECK(r.interval == 5s);
  CHECK(r.action == RuleAction::kTask);
  CHECK(r.task == "restart");
  CHECK(r.cooldown == 15min);
  CHECK(r.max_actions == 4);
  CHECK(r.max_actions_per_host == 2);
  CHECK(r.max_actions_per_pool == 3);
  CHECK(r.per == 2h);
  CHECK(r.breaker_actions == 6);
  CHECK(r.breaker_pool == policies::Limit::Percent(34));
  CHECK(r.breaker_window == 3h);
}

TEST_CASE("a rule with only `when` gets the defaults: every pool, act, probe, depool", "[config][rules]") {
  RuleConfig r = RuleOf(Rule("when = \"lag > 30s\"\n"));
  CHECK(r.pools.empty());
  CHECK(r.members.empty());
  CHECK_FALSE(r.observe);
  CHECK(r.source == RuleSource::kProbe);
  CHECK(r.action == RuleAction::kDepool);
  CHECK_FALSE(r.clear);
  CHECK(r.hold_for == 0s);
  CHECK(r.clear_for == 1min);
  CHECK(r.max_actions == 3);
  CHECK(r.per == 1h);
  CHECK(r.breaker_pool == policies::Limit::Percent(50));
}

TEST_CASE("conditions of source probe parse to their subject", "[config][rules]") {
  struct Row {
    const char* text;
    Condition::Subject subject;
    Condition::Op op;
    double number;
    bool is_bad;
  };
  using S = Condition::Subject;
  using O = Condition::Op;
  const Row rows[] = {
      {"lag > 30s", S::kLag, O::kGt, 30, true},          {"lag >= 500ms", S::kLag, O::kGe, 0.5, true},
      {"lag < 5", S::kLag, O::kLt, 5, true},             {"lag <= 2m", S::kLag, O::kLe, 120, true},
      {"  lag   >   1.5 ", S::kLag, O::kGt, 1.5, true},
      {"replication is stopped", S::kReplication, O::kIs, 0, true},
      {"replication is running", S::kReplication, O::kIs, 0, false},
      {"mysqld is unreachable", S::kMysqld, O::kIs, 0, true}, {"mysqld is reachable", S::kMysqld, O::kIs, 0, false},
      {"check is down", S::kCheck, O::kIs, 0, true},      {"check is up", S::kCheck, O::kIs, 0, false},
      {"check is flapping", S::kCheck, O::kIs, 0, true},  {"check is steady", S::kCheck, O::kIs, 0, false},
      {"buffer_pool is cold", S::kBufferPool, O::kIs, 0, true},
      {"buffer_pool is warm", S::kBufferPool, O::kIs, 0, false},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    auto c = ParseCondition(r.text, RuleSource::kProbe);
    INFO((c ? std::string() : c.error().message));
    REQUIRE(c);
    CHECK(c.value().subject == r.subject);
    CHECK(c.value().op == r.op);
    CHECK(c.value().number == r.number);
    CHECK(c.value().is_bad == r.is_bad);
  }
  CHECK(ParseCondition("check is flapping", RuleSource::kProbe).value().label == "flapping");
  CHECK(ParseCondition("check is steady", RuleSource::kProbe).value().label == "flapping");
  CHECK(ParseCondition("check is up", RuleSource::kProbe).value().label == "down");
}

TEST_CASE("conditions of source nagios: state and perfdata", "[config][rules]") {
  auto state = ParseCondition("state >= warning", RuleSource::kNagios);
  REQUIRE(state);
  CHECK(state.value().subject == Condition::Subject::kState);
  CHECK(state.value().number == 1);
  CHECK(state.value().Compare(2));
  CHECK_FALSE(state.value().Compare(0));
  auto quoted = ParseCondition("perf 'it''s' != -1.5", RuleSource::kNagios);
  REQUIRE(quoted);
  CHECK(quoted.value().label == "it's");
  CHECK(quoted.value().number == -1.5);
  auto bare = ParseCondition("perf load1 > 4", RuleSource::kNagios);
  REQUIRE(bare);
  CHECK(bare.value().label == "load1");
}

TEST_CASE("a condition that cannot be read says why and what can be written", "[config][rules]") {
  struct Row {
    const char* text;
    RuleSource source;
    const char* says;
  };
  const RuleSource P = RuleSource::kProbe, N = RuleSource::kNagios;
  const Row rows[] = {
      {"", P, "is empty; write one of: lag OP DURATION"},
      {"lag 30s", P, "expected lag OP DURATION"},
      {"lag => 30s", P, "\"=>\" is not one of > >= < <= == !="},
      {"lag > soon", P, "\"soon\" is not a duration"},
      {"lag > -1", P, "a lag is never below 0"},
      {"replication stopped", P, "expected replication is stopped|running"},
      {"replication is broken", P, "not a condition of source \"probe\""},
      {"state >= critical", P, "not a condition of source \"probe\""},
      {"lag > 30s", N, "not a condition of source \"nagios\"; write one of: state OP ok|warning|critical"},
      {"state >= unknown", N, "\"unknown\" is not ok, warning or critical (UNKNOWN is never"},
      {"state critical", N, "expected state OP ok|warning|critical"},
      {"perf 'open > 3", N, "expected perf LABEL OP NUMBER"},
      {"perf x > 3s", N, "\"3s\" is not a number (perfdata values have no unit here)"},
      {"perf x ~ 3", N, "\"~\" is not one of"},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    auto c = ParseCondition(r.text, r.source);
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message, Catch::Contains(r.says));
    CHECK(c.error().code == ErrorKind::kUsage);
  }
}

TEST_CASE("a bad [[rules]] table is refused at file:line:column, naming the key", "[config][rules]") {
  const std::vector<BadConfig> cases = {
      {Rule(""), "bad.toml:19:1: rules[0].when: missing (required)"},
      {Rule("when = \"lag > 30s\"\nbogus = 1\n"), "bad.toml:22:1: rules[0].bogus: unknown key"},
      {Rule("when = \"lag >> 30s\"\n"), "bad.toml:21:8: rules[0].when: condition \"lag >> 30s\": \">>\" is not one of"},
      {Rule("when = \"lag > 30s\"\nclear = \"lag < x\"\n"),
       "bad.toml:22:9: rules[0].clear: condition \"lag < x\": \"x\" is not a duration"},
      {Rule("when = \"lag > 30s\"\npools = [\"q\"]\n"), "bad.toml:22:10: rules[0].pools: no pool is named \"q\""},
      {Rule("when = \"lag > 30s\"\nmembers = [\"db9\"]\n"),
       "bad.toml:22:12: rules[0].members: \"db9\" names no member of the pools this rule watches"},
      {Rule("when = \"lag > 30s\"\nmode = \"dry\"\n"), "bad.toml:22:8: rules[0].mode: \"dry\" is not \"act\" or \"observe\""},
      {Rule("when = \"lag > 30s\"\nsource = \"zabbix\"\n"),
       "bad.toml:22:10: rules[0].source: \"zabbix\" is not \"probe\", \"nagios\", \"prometheus\", \"graphite\" or \"alertmanager\""},
      {Rule("source = \"nagios\"\nwhen = \"state >= critical\"\n"), "bad.toml:19:1: rules[0].command: missing (required)"},
      {Rule("source = \"nagios\"\ncommand = [\"check_x\", \"{hots}\"]\nwhen = \"state >= critical\"\n"),
       "bad.toml:22:23: rules[0].command[1]: unknown placeholder \"{hots}\""},
      {Rule("when = \"lag > 30s\"\ncommand = \"x\"\n"),
       "bad.toml:22:11: rules[0].command: only a rule of source = \"nagios\" runs a command"},
      {Rule("when = \"lag > 30s\"\naction = \"task\"\ntask = \"upgrade\"\n"),
       "bad.toml:23:8: rules[0].task: no task is named \"upgrade\""},
      {Rule("when = \"lag > 30s\"\naction = \"task\"\n"), "rules[0].task: missing (required)"},
      {Rule("when = \"lag > 30s\"\ntask = \"restart\"\n"), "bad.toml:22:8: rules[0].task: only action = \"task\" runs a task"},
      {Rule("when = \"lag > 30s\"\naction = \"reboot\"\n"), "rules[0].action: \"reboot\" is not \"depool\", \"task\" or \"notify\""},
      {Rule("when = \"lag > 30s\"\nfor = \"-1s\"\n"), "bad.toml:22:7: rules[0].for: must not be negative"},
      {Rule("when = \"lag > 30s\"\nmax_actions = 0\n"), "rules[0].max_actions"},
      {Rule("when = \"lag > 30s\"\nbreaker_pool = \"150%\"\n"), "rules[0].breaker_pool"},
      {Rule("when = \"lag > 30s\"\n") + "[[rules]]\nname = \"r\"\nwhen = \"lag > 1s\"\n",
       "bad.toml:23:8: rules[1].name: duplicate"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK_THAT(ErrorOf(c.toml), Catch::StartsWith(c.message) || Catch::Contains(c.message));
  }
}

namespace {

const std::string kProm = "[[prometheus]]\nname = \"main\"\nurl = \"http://prom.example:9090/prom/\"\n";
const std::string kGraphite = "[[graphite]]\nurl = \"http://graphite.example\"\ntimeout = \"2s\"\n";

}  // namespace

TEST_CASE("rules of source prometheus and graphite read their server, query and mapping", "[config][rules]") {
  RuleConfig p = RuleOf(Rule("source = \"prometheus\"\nquery = \"mysql_slave_status_seconds_behind_master\"\n"
                             "label = \"server\"\nwhen = \"value > 30\"\nclear = \"value <= -1.5\"\n") +
                        kProm);
  CHECK(p.source == RuleSource::kPrometheus);
  CHECK(p.server == "main");
  CHECK(p.query == "mysql_slave_status_seconds_behind_master");
  CHECK(p.label == "server");
  CHECK(p.series_template == "{server}");
  CHECK(p.when.subject == Condition::Subject::kValue);
  CHECK(p.when.number == 30);
  REQUIRE(p.clear);
  CHECK(p.clear->number == -1.5);
  CHECK(p.clear->op == Condition::Op::kLe);

  auto loaded = ParseConfig(Rule("source = \"prometheus\"\nquery = \"up\"\nwhen = \"value < 1\"\n") + kProm, "ok.toml");
  REQUIRE(loaded);
  REQUIRE(loaded.value().prometheus.size() == 1);
  const MonitorServerConfig& m = loaded.value().prometheus[0];
  CHECK(m.host == "prom.example");
  CHECK(m.port == 9090);
  CHECK(m.path_prefix == "/prom");
  CHECK(m.timeout == 5s);
  CHECK(loaded.value().rules[0].label == "instance");

  RuleConfig g = RuleOf(Rule("source = \"graphite\"\ntarget = \"mysql.{server}.lag\"\nmax_age = \"90s\"\n"
                             "when = \"value > 30\"\n") + kGraphite);
  CHECK(g.source == RuleSource::kGraphite);
  CHECK(g.server == "graphite");  // the table's default name
  CHECK(g.query == "mysql.{server}.lag");
  CHECK(g.series_template == "mysql.{server}.lag");
  CHECK(g.max_age == 90s);
  RuleConfig aliased = RuleOf(Rule("source = \"graphite\"\ntarget = \"aliasByNode(mysql.{server}.lag, 1)\"\n"
                                   "series = \"{server}\"\nwhen = \"value > 30\"\n") + kGraphite);
  CHECK(aliased.series_template == "{server}");
}

TEST_CASE("a rule of source alertmanager reads its matchers, label and max_age", "[config][rules][alerts]") {
  RuleConfig r = RuleOf(Rule("source = \"alertmanager\"\n"
                             "matchers = ['alertname=\"MySQLReplicationLag\"', 'severity=~\"page|critical\"']\n"
                             "label = \"server\"\nmax_age = \"5h\"\nwhen = \"alert is firing\"\n"));
  CHECK(r.source == RuleSource::kAlertmanager);
  REQUIRE(r.matchers.size() == 2);
  CHECK(r.matchers[0].name == "alertname");
  CHECK(r.matchers[1].op == AlertMatcher::Op::kRe);
  CHECK(r.label == "server");
  CHECK(r.series_template == "{server}");
  CHECK(r.alert_max_age == 5h);
  CHECK(r.when.subject == Condition::Subject::kAlert);
  CHECK(r.when.is_bad);
  RuleConfig d = RuleOf(Rule("source = \"alertmanager\"\nmatchers = ['alertname=\"DiskFull\"']\n"
                             "label_value = \"{host}:9104\"\nwhen = \"alert is firing\"\n"));
  CHECK(d.label == "instance");  // the defaults: instance="{server}"
  CHECK(d.series_template == "{host}:9104");
  CHECK(d.alert_max_age == 0ms);  // never stale unless said

  const std::vector<BadConfig> cases = {
      {Rule("source = \"alertmanager\"\nwhen = \"alert is firing\"\n"),
       "rules[0].matchers: source = \"alertmanager\" needs the alerts it counts"},
      {Rule("source = \"alertmanager\"\nmatchers = ['alertname']\nwhen = \"alert is firing\"\n"),
       "bad.toml:22:13: rules[0].matchers: matcher \"alertname\": no operator after \"alertname\""},
      {Rule("source = \"alertmanager\"\nmatchers = ['a=\"b\"']\nwhen = \"value > 1\"\n"),
       "rules[0].when: condition \"value > 1\": not a condition of source \"alertmanager\"; write alert is "
       "firing|resolved"},
      {Rule("source = \"alertmanager\"\nmatchers = ['a=\"b\"']\nquery = \"up\"\nwhen = \"alert is firing\"\n"),
       "rules[0].query: only a rule of source = \"prometheus\" reads it"},
      {Rule("source = \"alertmanager\"\nmatchers = ['a=\"b\"']\nwhen = \"alert is resolved\"\n"),
       "rules[0].when: \"alert is resolved\" holds for every member that has no alert"},
      {Rule("matchers = ['a=\"b\"']\nwhen = \"lag > 3s\"\n"),
       "rules[0].matchers: only a rule of source = \"alertmanager\" reads it"},
      {Rule("source = \"alertmanager\"\nmatchers = ['a=\"b\"']\nmax_age = \"-1s\"\nwhen = \"alert is firing\"\n"),
       "rules[0].max_age"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK_THAT(ErrorOf(c.toml), Catch::StartsWith(c.message) || Catch::Contains(c.message));
  }
}

TEST_CASE("a bad [[prometheus]], [[graphite]] or monitoring rule is refused at file:line, naming the key",
          "[config][rules]") {
  const std::string prom_rule = "source = \"prometheus\"\nquery = \"up\"\nwhen = \"value < 1\"\n";
  const std::vector<BadConfig> cases = {
      {Rule(prom_rule), "rules[0].source: source = \"prometheus\" needs a [[prometheus]] table (name, url)"},
      {Rule(prom_rule) + kProm + "[[prometheus]]\nname = \"dc2\"\nurl = \"http://p2\"\n",
       "rules[0].server: there are 2 [[prometheus]] tables: say which one this rule asks"},
      {Rule(prom_rule + "server = \"dc3\"\n") + kProm, "bad.toml:24:10: rules[0].server: no [[prometheus]] is named \"dc3\""},
      {Rule("source = \"prometheus\"\nwhen = \"value < 1\"\n") + kProm, "rules[0].query: missing (required)"},
      {Rule("source = \"prometheus\"\nquery = \"up\"\nwhen = \"lag > 3s\"\n") + kProm,
       "rules[0].when: condition \"lag > 3s\": not a condition of source \"prometheus\"; write value OP NUMBER"},
      {Rule("source = \"prometheus\"\nquery = \"up\"\nwhen = \"value > 3s\"\n") + kProm,
       "rules[0].when: condition \"value > 3s\": \"3s\" is not a number"},
      {Rule(prom_rule + "label_value = \"{hots}:9104\"\n") + kProm, "rules[0].label_value: unknown placeholder \"{hots}\""},
      {Rule(prom_rule + "target = \"a.b\"\n") + kProm, "rules[0].target: only a rule of source = \"graphite\" reads it"},
      {Rule("when = \"lag > 3s\"\nquery = \"up\"\n") + kProm,
       "rules[0].query: only a rule of source = \"prometheus\" reads it"},
      {Rule("source = \"graphite\"\ntarget = \"mysql.{server}.lag\"\nquery = \"up\"\nwhen = \"value > 1\"\n") + kGraphite,
       "rules[0].query: only a rule of source = \"prometheus\" reads it"},
      {Rule("source = \"graphite\"\ntarget = \"mysql.all.lag\"\nwhen = \"value > 1\"\n") + kGraphite,
       "rules[0].target: the series name must hold {server} or {host}"},
      {Rule(prom_rule) + "[[prometheus]]\nurl = \"https://p\"\n", "prometheus[0].url: https is not supported yet"},
      {Rule(prom_rule) + "[[prometheus]]\nurl = \"prom:9090\"\n", "prometheus[0].url: expected http://HOST[:PORT][/PATH]"},
      {Rule(prom_rule) + "[[prometheus]]\nurl = \"http://u:pw@p\"\n", "prometheus[0].url: credentials in the url are refused"},
      {Rule(prom_rule) + "[[prometheus]]\nurl = \"http://p:99999\"\n", "prometheus[0].url: the port of"},
      {Rule(prom_rule) + "[[prometheus]]\nurl = \"http://p\"\nbearer_token_file = \"token\"\n",
       "prometheus[0].bearer_token_file: expected an absolute path"},
      {Rule(prom_rule) + "[[prometheus]]\nurl = \"http://p\"\nbasic_user = \"me\"\n",
       "prometheus[0].basic_user: needs basic_password_file"},
      {Rule(prom_rule) + "[[prometheus]]\nurl = \"http://p\"\npassword = \"x\"\n", "prometheus[0].password"},
      {Rule(prom_rule) + kProm + kProm, "prometheus[1].name: duplicate"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK_THAT(ErrorOf(c.toml), Catch::StartsWith(c.message) || Catch::Contains(c.message));
  }
}

}  // namespace caretaker

namespace caretaker {

TEST_CASE("[pools.bake] and [tasks.bake]: the bake, the canary's, and checks in the rule condition language",
          "[config][rules]") {
  const std::string bake = "[pools.bake]\nfor = \"2m\"\ncanary = \"10m\"\ninterval = \"2s\"\n"
                           "[[pools.bake.checks]]\nsource = \"prometheus\"\nquery = \"lag\"\nlabel = \"server\"\n"
                           "when = \"value > 30\"\n[[pools.bake.checks]]\nwhen = \"check is down\"\n";
  auto loaded = ParseConfig(config_testing::kLb + config_testing::kPool + bake + config_testing::Members(3) +
                                "[[prometheus]]\nurl = \"http://p:9090\"\n",
                            "ok.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  const PoolConfig& p = loaded.value().pools[0];
  REQUIRE(p.bake);
  CHECK(p.bake->bake == 2min);
  CHECK(p.bake->canary_bake == 10min);
  CHECK(p.bake->interval == 2s);
  REQUIRE(p.bake->checks.size() == 2);
  CHECK(p.bake->checks[0].source == RuleSource::kPrometheus);
  CHECK(p.bake->checks[0].server == "prometheus");
  CHECK(p.bake->checks[0].when.number == 30);
  CHECK(p.bake->checks[1].source == RuleSource::kProbe);
  CHECK(p.bake->checks[1].name == "pool p bake check 2");

  const std::vector<config_testing::BadConfig> cases = {
      {config_testing::kLb + config_testing::kPool + "[pools.bake]\nfor = \"1m\"\n" + config_testing::Members(3),
       "pools[0].bake.checks: missing"},
      {config_testing::kLb + config_testing::kPool + "[pools.bake]\nfor = \"1m\"\n[[pools.bake.checks]]\nwhen = \"lag >> 1\"\n" +
           config_testing::Members(3),
       "pools[0].bake.checks[0].when: condition \"lag >> 1\""},
      {config_testing::kLb + config_testing::kPool + "[pools.bake]\nfor = \"1m\"\n[[pools.bake.checks]]\nsource = \"prometheus\"\n"
           "query = \"x\"\nwhen = \"value > 1\"\n" + config_testing::Members(3),
       "pools[0].bake.checks[0].source: source = \"prometheus\" needs a [[prometheus]] table"},
      {config_testing::kLb + config_testing::kPool + "[pools.bake]\nfour = \"1m\"\n" + config_testing::Members(3),
       "pools[0].bake.four: unknown key"},
  };
  for (const config_testing::BadConfig& c : cases) {
    INFO(c.toml);
    CHECK_THAT(ErrorOf(c.toml), Catch::StartsWith(c.message) || Catch::Contains(c.message));
  }
}

}  // namespace caretaker
