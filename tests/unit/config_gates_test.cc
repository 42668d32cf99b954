// The configuration of draining and of the gates: [state], [defaults.drain] /
// [pools.drain], [defaults.gates] / [pools.gates], [pools.primary].
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "src/config/config.h"
#include "tests/unit/config_fixture.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {

using namespace config_testing;


namespace {

// A document whose [defaults.gates] holds `line` (line 2).
std::string DefaultsGates(const std::string& line) { return "[defaults.gates]\n" + line + "\n" + kValid; }
// A document whose pool's [pools.gates] holds `line` (line 7; the table header is line 6).
std::string PoolGates(const std::string& line) { return kLb + kPool + "[pools.gates]\n" + line + "\n" + kMember; }
std::string DefaultsDrain(const std::string& line) { return "[defaults.drain]\n" + line + "\n" + kValid; }
std::string PoolDrain(const std::string& line) { return kLb + kPool + "[pools.drain]\n" + line + "\n" + kMember; }
// [pools.primary] with `lines` (from line 7).
std::string PoolPrimary(const std::string& lines) { return kLb + kPool + "[pools.primary]\n" + lines + kMember; }

}  // namespace

TEST_CASE("[state], [drain], [gates] and [pools.primary]: each bad document gets one exact message", "[config]") {
  // given: a document with one mistake in a new table; expect: file:line:column: key.path: what.
  const std::vector<BadConfig> cases = {
      // [state] dir: an absolute path.
      {"[state]\ndir = \"var/lib/caretaker\"\n" + kValid,
       "bad.toml:2:7: state.dir: expected an absolute path, got \"var/lib/caretaker\""},
      {"[state]\ndir = \"\"\n" + kValid, "bad.toml:2:7: state.dir: must not be empty"},
      {"[state]\ndir = 5\n" + kValid, "bad.toml:2:7: state.dir: expected a string, got an integer"},
      {"[state]\nhalt_file = \"HALT\"\n" + kValid,
       "bad.toml:2:13: state.halt_file: expected an absolute path, got \"HALT\""},
      {"[state]\ndirectory = \"/var/lib/caretaker\"\n" + kValid,
       "bad.toml:2:1: state.directory: unknown key (allowed: dir, halt_file)"},
      {"[state]\ndri = \"/var/lib/caretaker\"\n" + kValid,
       "bad.toml:2:1: state.dri: unknown key (did you mean \"dir\"?)"},
      {"state = \"/var/lib/caretaker\"\n" + kValid,
       "bad.toml:1:9: state: expected a table ([state]), got a string"},
      // [defaults.drain] and [pools.drain].
      {DefaultsDrain("deadline = \"2 minutes\""),
       "bad.toml:2:12: defaults.drain.deadline: expected a duration like \"500ms\", \"5s\" or \"2m\", got "
       "\"2 minutes\""},
      {DefaultsDrain("deadline = \"0s\""),
       "bad.toml:2:12: defaults.drain.deadline: a timeout must be greater than zero, got \"0s\""},
      {DefaultsDrain("poll_interval = 100"),
       "bad.toml:2:17: defaults.drain.poll_interval: expected a duration like \"500ms\", \"5s\" or \"2m\", got "
       "100"},
      {DefaultsDrain("poll_interval = \"-100ms\""),
       "bad.toml:2:17: defaults.drain.poll_interval: a timeout must be greater than zero, got \"-100ms\""},
      {DefaultsDrain("on_timeout = \"kill\""),
       "bad.toml:2:14: defaults.drain.on_timeout: expected \"restore\" or \"shutdown\", got \"kill\""},
      {PoolDrain("on_timeout = \"Shutdown\""),
       "bad.toml:7:14: pools[0].drain.on_timeout: expected \"restore\" or \"shutdown\", got \"Shutdown\""},
      {PoolDrain("on_timeout = true"),
       "bad.toml:7:14: pools[0].drain.on_timeout: expected a string, got a boolean"},
      {PoolDrain("deadlin = \"1m\""), "bad.toml:7:1: pools[0].drain.deadlin: unknown key (did you mean \"deadline\"?)"},
      {DefaultsDrain("force = true"),
       "bad.toml:2:1: defaults.drain.force: unknown key (allowed: deadline, on_timeout, poll_interval)"},
      {kLb + kPool + "drain = \"2m\"\n" + kMember,
       "bad.toml:6:9: pools[0].drain: expected a table ([drain]), got a string"},
      // [defaults.gates] and [pools.gates]: the keys that are not durations.
      {DefaultsGates("catch_up_reads = 0"),
       "bad.toml:2:18: defaults.gates.catch_up_reads: expected an integer 1-1000, got 0"},
      {DefaultsGates("catch_up_reads = 1001"),
       "bad.toml:2:18: defaults.gates.catch_up_reads: expected an integer 1-1000, got 1001"},
      {PoolGates("catch_up_reads = \"3\""),
       "bad.toml:7:18: pools[0].gates.catch_up_reads: expected an integer 1-1000, got \"3\""},
      {PoolGates("catch_up_reads = 3.0"),
       "bad.toml:7:18: pools[0].gates.catch_up_reads: expected an integer 1-1000, got 3.0"},
      {PoolGates("gtid_wait = \"yes\""), "bad.toml:7:13: pools[0].gates.gtid_wait: expected true or false, got \"yes\""},
      {PoolGates("max_lagg = \"5s\""), "bad.toml:7:1: pools[0].gates.max_lagg: unknown key (did you mean \"max_lag\"?)"},
      {PoolGates("primary = \"10.0.0.1\""),
       "bad.toml:7:1: pools[0].gates.primary: unknown key (allowed: probe_interval, mysql_timeout, max_lag, "
       "catch_up_reads, catch_up_timeout, gtid_wait, heartbeat_table, heartbeat_server_id, warmup_timeout, "
       "warmup_queries, weight_ramp, ramp_hold, enable_timeout)"},
      {"[defaults]\ngates = []\n" + kValid, "bad.toml:2:9: defaults.gates: expected a table ([gates]), got an array"},
      // The heartbeat table: db.table, with the primary's server_id.
      {DefaultsGates("heartbeat_table = \"percona.heartbeat\""),
       "bad.toml:2:19: defaults.gates.heartbeat_server_id: heartbeat_table needs heartbeat_server_id: the "
       "primary's server_id, whose row is read"},
      {PoolGates("heartbeat_table = \"heartbeat\"\nheartbeat_server_id = 1"),
       "bad.toml:7:19: pools[0].gates.heartbeat_table: expected \"database.table\" of plain identifiers, got "
       "\"heartbeat\""},
      {PoolGates("heartbeat_table = \"percona.heartbeat; DROP TABLE x\"\nheartbeat_server_id = 1"),
       "bad.toml:7:19: pools[0].gates.heartbeat_table: expected \"database.table\" of plain identifiers, got "
       "\"percona.heartbeat; DROP TABLE x\""},
      {PoolGates("heartbeat_table = \"percona.heartbeat\"\nheartbeat_server_id = -1"),
       "bad.toml:8:23: pools[0].gates.heartbeat_server_id: expected an integer 0-4294967295, got -1"},
      {PoolGates("heartbeat_table = \"percona.heartbeat\"\nheartbeat_server_id = 4294967296"),
       "bad.toml:8:23: pools[0].gates.heartbeat_server_id: expected an integer 0-4294967295, got 4294967296"},
      // Warm-up queries: a non-empty array of strings.
      {PoolGates("warmup_queries = []"),
       "bad.toml:7:18: pools[0].gates.warmup_queries: must not be an empty array (leave the key out for the "
       "default)"},
      {PoolGates("warmup_queries = \"SELECT 1\""),
       "bad.toml:7:18: pools[0].gates.warmup_queries: expected an array of strings, got a string"},
      {PoolGates("warmup_queries = [\"SELECT 1\", 2]"),
       "bad.toml:7:31: pools[0].gates.warmup_queries[1]: expected a string, got an integer"},
      // weight_ramp: percentages 1%-100%, rising, ending at 100%.
      {PoolGates("weight_ramp = [\"10\", \"100%\"]"),
       "bad.toml:7:16: pools[0].gates.weight_ramp[0]: expected a percentage 1%-100%, got \"10\""},
      {PoolGates("weight_ramp = [\"0%\", \"100%\"]"),
       "bad.toml:7:16: pools[0].gates.weight_ramp[0]: expected a percentage 1%-100%, got \"0%\""},
      {PoolGates("weight_ramp = [\"10%\", \"150%\"]"),
       "bad.toml:7:23: pools[0].gates.weight_ramp[1]: expected a percentage 1%-100%, got \"150%\""},
      {PoolGates("weight_ramp = [\"12.5%\", \"100%\"]"),
       "bad.toml:7:16: pools[0].gates.weight_ramp[0]: expected a percentage 1%-100%, got \"12.5%\""},
      {PoolGates("weight_ramp = [\" 10%\", \"100%\"]"),
       "bad.toml:7:16: pools[0].gates.weight_ramp[0]: expected a percentage 1%-100%, got \" 10%\""},
      {PoolGates("weight_ramp = [10, 100]"),
       "bad.toml:7:16: pools[0].gates.weight_ramp[0]: expected a string, got an integer"},
      {PoolGates("weight_ramp = [\"50%\", \"25%\", \"100%\"]"),
       "bad.toml:7:23: pools[0].gates.weight_ramp[1]: the ramp must rise: \"25%\" after \"50%\""},
      {PoolGates("weight_ramp = [\"50%\", \"50%\", \"100%\"]"),
       "bad.toml:7:23: pools[0].gates.weight_ramp[1]: the ramp must rise: \"50%\" after \"50%\""},
      {DefaultsGates("weight_ramp = [\"10%\", \"50%\"]"),
       "bad.toml:2:15: defaults.gates.weight_ramp: the ramp must end at \"100%\""},
      {DefaultsGates("weight_ramp = []"),
       "bad.toml:2:15: defaults.gates.weight_ramp: must not be an empty array (leave the key out for the "
       "default)"},
      // [pools.primary]: host required, port 1-65535.
      {PoolPrimary("port = 3306\n"), "bad.toml:6:1: pools[0].primary.host: missing (required)"},
      {PoolPrimary("host = \"\"\n"), "bad.toml:7:8: pools[0].primary.host: must not be empty"},
      {PoolPrimary("host = \"10.0.0.10\"\nport = 0\n"),
       "bad.toml:8:8: pools[0].primary.port: expected an integer 1-65535, got 0"},
      {PoolPrimary("host = \"10.0.0.10\"\nport = \"3306\"\n"),
       "bad.toml:8:8: pools[0].primary.port: expected an integer 1-65535, got \"3306\""},
      {PoolPrimary("host = \"10.0.0.10\"\nuser = \"repl\"\n"),
       "bad.toml:8:1: pools[0].primary.user: unknown key (allowed: host, port)"},
      {kLb + kPool + "primary = \"10.0.0.10\"\n" + kMember,
       "bad.toml:6:11: pools[0].primary: expected a table ([primary]), got a string"},
      {"[defaults.primary]\nhost = \"10.0.0.10\"\n" + kValid,
       "bad.toml:1:11: defaults.primary: unknown key (allowed: haproxy_connect_timeout, haproxy_reply_timeout, "
       "haproxy_unresponsive_deadline, min_in_service, max_out, count_unhealthy_as_out, drain, gates, on_maint_expiry)"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK(ErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("every duration key of [drain] and [gates] takes a duration greater than zero", "[config]") {
  // given: each key set to "soon", then to "0ms", in [defaults.*] and in [pools.*];
  // expect: the duration message at the value (column = length of "key = " + 1).
  struct Key {
    const char* table;
    const char* key;
  };
  const Key keys[] = {
      {"drain", "deadline"},         {"drain", "poll_interval"},  {"gates", "probe_interval"},
      {"gates", "mysql_timeout"},    {"gates", "max_lag"},        {"gates", "catch_up_timeout"},
      {"gates", "warmup_timeout"},   {"gates", "ramp_hold"},      {"gates", "enable_timeout"},
  };
  for (const Key& k : keys) {
    const std::string table = k.table;
    const std::string key = k.key;
    const std::string column = std::to_string(key.size() + 4);
    INFO(table << "." << key);
    CHECK(ErrorOf("[defaults." + table + "]\n" + key + " = \"soon\"\n" + kValid) ==
          "bad.toml:2:" + column + ": defaults." + table + "." + key +
              ": expected a duration like \"500ms\", \"5s\" or \"2m\", got \"soon\"");
    // max_lag = "0s" is left out on purpose: "a timeout must be greater than
    // zero" does not describe a lag limit, and 0s may be a fair one.
    if (key == "max_lag") continue;
    CHECK(ErrorOf(kLb + kPool + "[pools." + table + "]\n" + key + " = \"0ms\"\n" + kMember) ==
          "bad.toml:7:" + column + ": pools[0]." + table + "." + key +
              ": a timeout must be greater than zero, got \"0ms\"");
  }
}

TEST_CASE("[state], [drain], [gates] and [pools.primary] have defaults for every key", "[config]") {
  // given: a document without the new tables; expect: the built-in defaults.
  auto loaded = ParseConfig(kValid, "min.toml");
  REQUIRE(loaded);
  const Config& c = loaded.value();
  CHECK(c.state_dir == "/var/lib/caretaker");
  CHECK(c.halt_file == "/etc/caretaker/HALT");
  const PoolConfig& p = c.pools[0];
  CHECK(p.drain.deadline == 2min);
  CHECK(p.drain.on_timeout == DrainTimeoutAction::kRestore);
  CHECK(p.drain.poll_interval == 100ms);
  CHECK(p.gates.probe_interval == 1s);
  CHECK(p.gates.mysql_timeout == 10min);
  CHECK(p.gates.max_lag == 5s);
  CHECK(p.gates.catch_up_reads == 3);
  CHECK(p.gates.catch_up_timeout == 30min);
  CHECK_FALSE(p.gates.gtid_wait);
  CHECK(p.gates.heartbeat_table.empty());
  CHECK(p.gates.heartbeat_server_id == 0);
  CHECK(p.gates.warmup_timeout == 30min);
  CHECK(p.gates.warmup_queries.empty());
  CHECK(p.gates.weight_ramp.empty());
  CHECK(p.gates.ramp_hold == 30s);
  CHECK(p.gates.enable_timeout == 30s);
  CHECK_FALSE(p.primary.has_value());
}

TEST_CASE("[defaults.drain] and [defaults.gates] set every key, a pool overrides them key by key", "[config]") {
  // given: every key in [defaults.drain] and [defaults.gates]; pool p overrides
  // some of them, pool q none; expect: p's own values where set, the defaults'
  // everywhere else, never the built-in ones.
  const std::string toml = R"(
[state]
dir = "/srv/caretaker/state"
halt_file = "/srv/caretaker/HALT"

[defaults.drain]
deadline = "5m"
on_timeout = "shutdown"
poll_interval = "250ms"

[defaults.gates]
probe_interval = "2s"
mysql_timeout = "20m"
max_lag = "10s"
catch_up_reads = 5
catch_up_timeout = "1h"
heartbeat_table = "percona.heartbeat"
heartbeat_server_id = 11
warmup_timeout = "45m"
warmup_queries = ["SELECT COUNT(*) FROM app.hot", "SELECT 1"]
weight_ramp = ["10%", "50%", "100%"]
ramp_hold = "1m"
enable_timeout = "40s"

[[haproxy]]
name = "lb1"
socket = "unix:/run/a.sock"

[[pools]]
name = "p"
  [pools.primary]
  host = "10.0.0.10"
  port = 3307
  [pools.drain]
  on_timeout = "restore"
  [pools.gates]
  max_lag = "1s"
  gtid_wait = true
  heartbeat_server_id = 12
  weight_ramp = ["100%"]
  [[pools.members]]
  server = "db1"
  host = "h1"

[[pools]]
name = "q"
  [[pools.members]]
  server = "db1"
  host = "h1"
)";
  auto loaded = ParseConfig(toml, "full.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  const Config& c = loaded.value();
  CHECK(c.state_dir == "/srv/caretaker/state");
  CHECK(c.halt_file == "/srv/caretaker/HALT");
  REQUIRE(c.pools.size() == 2);

  const PoolConfig& p = c.pools[0];
  REQUIRE(p.primary.has_value());
  CHECK(p.primary->host == "10.0.0.10");
  CHECK(p.primary->port == 3307);
  CHECK(p.drain.deadline == 5min);                          // [defaults.drain]
  CHECK(p.drain.on_timeout == DrainTimeoutAction::kRestore);  // its own
  CHECK(p.drain.poll_interval == 250ms);
  CHECK(p.gates.probe_interval == 2s);
  CHECK(p.gates.mysql_timeout == 20min);
  CHECK(p.gates.max_lag == 1s);  // its own
  CHECK(p.gates.catch_up_reads == 5);
  CHECK(p.gates.catch_up_timeout == 1h);
  CHECK(p.gates.gtid_wait);  // its own
  CHECK(p.gates.heartbeat_table == "percona.heartbeat");
  CHECK(p.gates.heartbeat_server_id == 12);  // its own
  CHECK(p.gates.warmup_timeout == 45min);
  CHECK(p.gates.warmup_queries == std::vector<std::string>{"SELECT COUNT(*) FROM app.hot", "SELECT 1"});
  CHECK(p.gates.weight_ramp == std::vector<int>{100});  // its own, whole: lists are not merged
  CHECK(p.gates.ramp_hold == 1min);
  CHECK(p.gates.enable_timeout == 40s);

  const PoolConfig& q = c.pools[1];
  CHECK_FALSE(q.primary.has_value());
  CHECK(q.drain.deadline == 5min);
  CHECK(q.drain.on_timeout == DrainTimeoutAction::kShutdownSessions);
  CHECK(q.drain.poll_interval == 250ms);
  CHECK(q.gates.probe_interval == 2s);
  CHECK(q.gates.mysql_timeout == 20min);
  CHECK(q.gates.max_lag == 10s);
  CHECK(q.gates.catch_up_reads == 5);
  CHECK(q.gates.catch_up_timeout == 1h);
  CHECK_FALSE(q.gates.gtid_wait);
  CHECK(q.gates.heartbeat_table == "percona.heartbeat");
  CHECK(q.gates.heartbeat_server_id == 11);
  CHECK(q.gates.warmup_timeout == 45min);
  CHECK(q.gates.warmup_queries.size() == 2);
  CHECK(q.gates.weight_ramp == std::vector<int>{10, 50, 100});
  CHECK(q.gates.ramp_hold == 1min);
  CHECK(q.gates.enable_timeout == 40s);
}

TEST_CASE("limits of the new keys that load", "[config]") {
  // given: one value at an edge of what is allowed; expect: it loads as read.
  auto gates = [](const std::string& toml) { return ParseConfig(toml, "ok.toml"); };
  SECTION("catch_up_reads 1 and 1000") {
    CHECK(gates(PoolGates("catch_up_reads = 1")).value().pools[0].gates.catch_up_reads == 1);
    CHECK(gates(PoolGates("catch_up_reads = 1000")).value().pools[0].gates.catch_up_reads == 1000);
  }
  SECTION("weight_ramp from 1% to 100%") {
    CHECK(gates(PoolGates("weight_ramp = [\"1%\", \"2%\", \"99%\", \"100%\"]")).value().pools[0].gates.weight_ramp ==
          std::vector<int>{1, 2, 99, 100});
  }
  SECTION("a heartbeat table in a pool with the primary's server_id from [defaults.gates]") {
    auto c = gates("[defaults.gates]\nheartbeat_server_id = 3\n" + kLb + kPool +
                   "[pools.gates]\nheartbeat_table = \"hb.heartbeat\"\n" + kMember);
    INFO((c ? std::string() : c.error().message));
    REQUIRE(c);
    CHECK(c.value().pools[0].gates.heartbeat_table == "hb.heartbeat");
    CHECK(c.value().pools[0].gates.heartbeat_server_id == 3);
  }
  SECTION("gtid_wait with [pools.primary], whose port defaults to 3306") {
    auto c = gates(PoolPrimary("host = \"db-primary.example\"\n") + "[pools.gates]\ngtid_wait = true\n");
    INFO((c ? std::string() : c.error().message));
    REQUIRE(c);
    CHECK(c.value().pools[0].gates.gtid_wait);
    CHECK(c.value().pools[0].primary->host == "db-primary.example");
    CHECK(c.value().pools[0].primary->port == 3306);
  }
  SECTION("gtid_wait = false in [defaults.gates]") {
    CHECK(gates(DefaultsGates("gtid_wait = false")));
  }
}

TEST_CASE("DrainTimeoutActionName", "[config]") {
  CHECK(std::string(DrainTimeoutActionName(DrainTimeoutAction::kRestore)) == "restore");
  CHECK(std::string(DrainTimeoutActionName(DrainTimeoutAction::kShutdownSessions)) == "shutdown");
}

TEST_CASE("the shipped example configuration sets the new tables as documented", "[config]") {
  auto loaded = LoadConfig(std::string(CARETAKER_SOURCE_DIR) + "/conf/caretaker.example.toml");
  REQUIRE(loaded);
  const Config& c = loaded.value();
  CHECK(c.state_dir == "/var/lib/caretaker");
  const PoolConfig* eu = c.FindPool("replicas-eu");
  REQUIRE(eu != nullptr);
  REQUIRE(eu->primary.has_value());
  CHECK(eu->primary->host == "10.0.0.10");
  CHECK(eu->drain.deadline == 5min);  // [pools.drain]
  CHECK(eu->drain.on_timeout == DrainTimeoutAction::kRestore);
  CHECK(eu->gates.max_lag == 2s);  // [pools.gates]
  CHECK(eu->gates.gtid_wait);
  CHECK(eu->gates.catch_up_reads == 3);  // [defaults.gates]
}



TEST_CASE("gtid_wait without a primary names the key path gates.gtid_wait, unquoted", "[config]") {
  // given: gtid_wait = true in [defaults.gates], or in a pool's [pools.gates]
  // without [pools.primary]. expect: the key path defaults.gates.gtid_wait /
  // pools[0].gates.gtid_wait (not defaults."gates.gtid_wait").
  CHECK(ErrorOf(DefaultsGates("gtid_wait = true")) ==
        "bad.toml:2:13: defaults.gates.gtid_wait: gtid_wait needs a pool's primary: set it in the [pools.gates] of "
        "pools that have [pools.primary]");
  CHECK(ErrorOf(PoolGates("gtid_wait = true")) ==
        "bad.toml:7:13: pools[0].gates.gtid_wait: gtid_wait needs the pool's primary: add [pools.primary] with its "
        "host and port");
}

TEST_CASE("an empty warm-up query is refused", "[config]") {
  // given: warmup_queries = ["SELECT 1", ""]. expect: refused like every
  // other empty string ("must not be empty", config_reader.h), at load time
  // rather than as "Query was empty" at the end of a walk.
  CHECK(ErrorOf(PoolGates("warmup_queries = [\"SELECT 1\", \"\"]")) ==
        "bad.toml:7:31: pools[0].gates.warmup_queries[1]: must not be empty");
}

}  // namespace caretaker
