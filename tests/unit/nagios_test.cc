// Nagios plugin output (src/walk/nagios.h): states, ranges and perfdata, on
// lines real plugins print (check_mysql, check_load, check_disk) and on the
// edge cases of the Monitoring Plugins Development Guidelines.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "src/walk/nagios.h"

namespace caretaker {
namespace {

TEST_CASE("nagios: the exit code is the state, anything but 0-2 is UNKNOWN", "[nagios]") {
  CHECK(NagiosStateOf(0) == NagiosState::kOk);
  CHECK(NagiosStateOf(1) == NagiosState::kWarning);
  CHECK(NagiosStateOf(2) == NagiosState::kCritical);
  CHECK(NagiosStateOf(3) == NagiosState::kUnknown);
  CHECK(NagiosStateOf(4) == NagiosState::kUnknown);
  CHECK(NagiosStateOf(127) == NagiosState::kUnknown);
  CHECK(NagiosStateOf(-1) == NagiosState::kUnknown);
  CHECK(std::string(NagiosStateName(NagiosState::kCritical)) == "CRITICAL");
}

TEST_CASE("nagios: ranges alert as the guidelines say, ends inclusive", "[nagios]") {
  struct Row {
    const char* range;
    double value;
    bool alerts;
  };
  const Row rows[] = {
      {"10", -1, true},    {"10", 0, false},     {"10", 10, false},   {"10", 10.5, true},
      {"10:", 9.99, true}, {"10:", 10, false},   {"10:", 1e9, false},
      {"~:10", -1e9, false}, {"~:10", 10, false}, {"~:10", 11, true},
      {"10:20", 9, true},  {"10:20", 10, false}, {"10:20", 20, false}, {"10:20", 21, true},
      {"@10:20", 9, false}, {"@10:20", 10, true}, {"@10:20", 15, true}, {"@10:20", 20, true}, {"@10:20", 21, false},
      {"@10", 0, true},    {"@10", 11, false},   {"-5:-1", -3, false}, {"-5:-1", 0, true},
      {"0.5:1.5", 0.4, true}, {"0.5:1.5", 1.5, false}, {":10", 11, true}, {":10", -1, true},
      {"~:", 1e300, false}, {"1e2", 101, true},
  };
  for (const Row& r : rows) {
    INFO(r.range << " at " << r.value);
    auto range = NagiosRange::Parse(r.range);
    REQUIRE(range);
    CHECK(range.value().Alerts(r.value) == r.alerts);
  }
}

TEST_CASE("nagios: a range that cannot be read says why", "[nagios]") {
  struct Row {
    const char* range;
    const char* says;
  };
  const Row rows[] = {
      {"", "is empty"},          {"@", "is empty"},
      {"abc", "is not a number"}, {"-10", "ends below 0"},
      {"20:10", "starts above its end"}, {"x:10", "its start is not a number or ~"},
      {"1:y", "its end is not a number"}, {"10s", "is not a number"},
      {"0x10", "is not a number"}, {"inf", "is not a number"},
  };
  for (const Row& r : rows) {
    INFO(r.range);
    auto range = NagiosRange::Parse(r.range);
    REQUIRE_FALSE(range);
    CHECK_THAT(range.error().message, Catch::Contains(r.says));
  }
}

TEST_CASE("nagios: check_mysql -S on a replica in sync and on one lagging", "[nagios]") {
  PluginOutput ok = ParsePluginOutput(
      0,
      "Uptime: 27  Threads: 3  Questions: 17  Slow queries: 0  Opens: 17  Flush tables: 1  Open tables: 10  "
      "Queries per second avg: 0.629 Slave IO: Yes Slave SQL: Yes Seconds Behind Master: 0|Connections=6c;;; "
      "Open_files=25;;; Open_tables=10;;; Qcache_free_memory=0;;; Qcache_hits=0c;;; Qcache_inserts=0c;;; "
      "Qcache_lowmem_prunes=0c;;; Qcache_not_cached=0c;;; Qcache_queries_in_cache=0;;; Queries=19c;;; "
      "Questions=17c;;; Table_locks_waited=0c;;; Threads_connected=3;;; Threads_running=1;;; Uptime=27c;;; "
      "'seconds behind master'=0.000000s;10.000000;60.000000;\n");
  CHECK(ok.state == NagiosState::kOk);
  CHECK(ok.text.ends_with("Seconds Behind Master: 0"));
  CHECK(ok.problems.empty());
  CHECK(ok.perf.size() == 16);
  const PerfValue* lag = ok.Find("seconds behind master");
  REQUIRE(lag);
  CHECK(lag->value == 0.0);
  CHECK(lag->uom == "s");
  REQUIRE(lag->warn);
  CHECK(lag->warn->Alerts(10.5));
  CHECK_FALSE(lag->crit->Alerts(60));
  CHECK_FALSE(lag->min);
  const PerfValue* connections = ok.Find("Connections");
  REQUIRE(connections);
  CHECK(connections->uom == "c");
  CHECK(connections->value == 6.0);

  PluginOutput slow = ParsePluginOutput(1, "SLOW_SLAVE WARNING: Slave IO: Yes Slave SQL: Yes Seconds Behind Master: 42\n");
  CHECK(slow.state == NagiosState::kWarning);
  CHECK(slow.perf.empty());
  CHECK(slow.text == "SLOW_SLAVE WARNING: Slave IO: Yes Slave SQL: Yes Seconds Behind Master: 42");
}

TEST_CASE("nagios: long text on later lines, and perfdata after the first bar there runs to the end", "[nagios]") {
  PluginOutput out = ParsePluginOutput(2,
                                       "DISK CRITICAL - free space: / 10 MB (1%) | /=990MB;800;900;0;1000\n"
                                       "/ is nearly full\n"
                                       "/var is fine | /var=10MB;800;900;0;1000\n"
                                       "/tmp=1MB;;;0;100 'a b'=U\n");
  CHECK(out.state == NagiosState::kCritical);
  CHECK(out.text == "DISK CRITICAL - free space: / 10 MB (1%)");
  CHECK(out.long_text == "/ is nearly full\n/var is fine ");
  REQUIRE(out.perf.size() == 4);
  CHECK(out.perf[0].label == "/");
  CHECK(out.perf[0].value == 990.0);
  CHECK(out.perf[0].uom == "MB");
  CHECK(out.perf[0].min == 0.0);
  CHECK(out.perf[0].max == 1000.0);
  CHECK(out.perf[2].label == "/tmp");
  CHECK(out.perf[3].label == "a b");
  CHECK_FALSE(out.perf[3].value);
  CHECK(out.problems.empty());
}

TEST_CASE("nagios: perfdata items, one per row: label, value, unit, thresholds, min and max", "[nagios]") {
  struct Row {
    const char* item;
    const char* label;
    std::optional<double> value;
    const char* uom;
    bool warn, crit;
    std::optional<double> min, max;
  };
  const std::optional<double> none;
  const Row rows[] = {
      {"load1=0.150", "load1", 0.15, "", false, false, none, none},
      {"load1=0.150;5.000;10.000;0;", "load1", 0.15, "", true, true, 0.0, none},
      {"time=0.001s;;;0.000000;10.000000", "time", 0.001, "s", false, false, 0.0, 10.0},
      {"'it''s'=5%;@1:2;~:3", "it's", 5.0, "%", true, true, none, none},
      {"'label=with equals'=1", "label=with equals", 1.0, "", false, false, none, none},
      {"x=U;1;2", "x", none, "", true, true, none, none},
      {"x=-3.5ms", "x", -3.5, "ms", false, false, none, none},
      {"x=+1us", "x", 1.0, "us", false, false, none, none},
      {"bytes=1024B;;;0;", "bytes", 1024.0, "B", false, false, 0.0, none},
      {"x=2TB;", "x", 2.0, "TB", false, false, none, none},
      {"x=1e3c", "x", 1000.0, "c", false, false, none, none},
  };
  for (const Row& r : rows) {
    INFO(r.item);
    std::vector<std::string> problems;
    std::vector<PerfValue> perf = ParsePerfdata(r.item, problems);
    CHECK(problems.empty());
    REQUIRE(perf.size() == 1);
    CHECK(perf[0].label == r.label);
    CHECK(perf[0].value == r.value);
    CHECK(perf[0].uom == r.uom);
    CHECK(perf[0].warn.has_value() == r.warn);
    CHECK(perf[0].crit.has_value() == r.crit);
    CHECK(perf[0].min == r.min);
    CHECK(perf[0].max == r.max);
  }
}

TEST_CASE("nagios: a malformed perfdata item is said and skipped, the others still count", "[nagios]") {
  struct Row {
    const char* item;
    const char* says;
  };
  const Row rows[] = {
      {"novalue", "no '=' after its label"},
      {"=1", "its label is empty"},
      {"x=abc", "value \"abc\" is not a number or U"},
      {"x=1parsecs", "unit \"parsecs\" is not one of"},
      {"x=1;20:10", "warn range \"20:10\" starts above its end"},
      {"x=1;;zz", "crit range \"zz\" is not a number"},
      {"x=1;;;lo", "min \"lo\" is not a number"},
      {"x=1;;;;;", "more than 5 fields"},
      {"x=", "value \"\" is not a number or U"},
  };
  for (const Row& r : rows) {
    INFO(r.item);
    std::vector<std::string> problems;
    std::vector<PerfValue> perf = ParsePerfdata(std::string("good=1 ") + r.item + " also=2", problems);
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Catch::Contains(r.says) && Catch::Contains(std::string("perfdata \"") + r.item + "\""));
    REQUIRE(perf.size() == 2);
    CHECK(perf[0].label == "good");
    CHECK(perf[1].label == "also");
  }
}

TEST_CASE("nagios: a quote never closed takes the rest of the perfdata with it, said", "[nagios]") {
  std::vector<std::string> problems;
  std::vector<PerfValue> perf = ParsePerfdata("good=1 'open=1 also=2", problems);
  REQUIRE(perf.size() == 1);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == "perfdata \"'open=1 also=2\": its label's quote is not closed");
}

TEST_CASE("nagios: no output, or only a bar", "[nagios]") {
  PluginOutput empty = ParsePluginOutput(3, "");
  CHECK(empty.state == NagiosState::kUnknown);
  CHECK(empty.text.empty());
  CHECK(empty.perf.empty());
  PluginOutput bar = ParsePluginOutput(0, "OK |");
  CHECK(bar.text == "OK");
  CHECK(bar.perf.empty());
  CHECK(bar.problems.empty());
}

}  // namespace
}  // namespace caretaker
