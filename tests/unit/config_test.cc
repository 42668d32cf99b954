// The configuration loader: exact error messages for bad documents, every
// field of a good one, defaults, the shipped example, durations, passwords.
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
namespace {

using namespace config_testing;

}  // namespace

TEST_CASE("a valid minimal document loads", "[config]") {
  CHECK(ErrorOf(kValid) == "");
}

TEST_CASE("each bad document gets one exact message", "[config]") {
  // given: a document with one mistake; expect: file:line:column: key.path: what.
  const std::vector<BadConfig> cases = {
      // Ports: integers 1-65535, nothing converted.
      {kValid + "port = \"abc\"\n",
       "bad.toml:9:8: pools[0].members[0].port: expected an integer 1-65535, got \"abc\""},
      {kValid + "port = 70000\n",
       "bad.toml:9:8: pools[0].members[0].port: expected an integer 1-65535, got 70000"},
      {kValid + "port = 3306.5\n",
       "bad.toml:9:8: pools[0].members[0].port: expected an integer 1-65535, got 3306.5"},
      {kValid + "port = 3306.0\n",
       "bad.toml:9:8: pools[0].members[0].port: expected an integer 1-65535, got 3306.0"},
      {kValid + "port = 0\n",
       "bad.toml:9:8: pools[0].members[0].port: expected an integer 1-65535, got 0"},
      {kValid + "port = true\n",
       "bad.toml:9:8: pools[0].members[0].port: expected an integer 1-65535, got true"},
      // Unknown keys: the nearest known key, or the list of allowed ones.
      {kLb + kPool + "backnd = \"x\"\n" + kMember,
       "bad.toml:6:1: pools[0].backnd: unknown key (did you mean \"backend\"?)"},
      {kLb + kPool + kMember + "prot = 3306\n",
       "bad.toml:9:1: pools[0].members[0].prot: unknown key (did you mean \"port\"?)"},
      {kLb + kPool + "weight = 3\n" + kMember,
       "bad.toml:6:1: pools[0].weight: unknown key (allowed: name, backend, haproxy, min_in_service, "
       "max_out, count_unhealthy_as_out, members, drain, gates, bake, primary, schedule, on_maint_expiry)"},
      {"[pool]\nname = \"x\"\n" + kValid,
       "bad.toml:1:2: pool: unknown key (did you mean \"pools\"?)"},
      {"[defaults]\nhaproxy_timeout = \"1s\"\n" + kValid,
       "bad.toml:2:1: defaults.haproxy_timeout: unknown key (allowed: haproxy_connect_timeout, "
       "haproxy_reply_timeout, haproxy_unresponsive_deadline, min_in_service, max_out, "
       "count_unhealthy_as_out, drain, gates, on_maint_expiry)"},
      {kLb + kPool + "[[pools.member]]\nserver = \"db1\"\nhost = \"h1\"\n",
       "bad.toml:6:9: pools[0].member: unknown key (did you mean \"members\"?)"},
      {"\"max out\" = 1\n" + kValid,
       "bad.toml:1:1: \"max out\": unknown key (allowed: state, defaults, mysql, haproxy, pools, tasks, roll, serve, rules, prometheus, graphite, notify, api)"},
      // Capacity limits: a count (integer) or a percent (string); ParseLimit's messages.
      {kLb + kPool + "min_in_service = \"abc\"\n" + kMember,
       "bad.toml:6:18: pools[0].min_in_service: \"abc\" is not a count or a percent: write a count "
       "of members like 3 or a percent of the pool like 75%"},
      {kLb + kPool + "min_in_service = \"150%\"\n" + kMember,
       "bad.toml:6:18: pools[0].min_in_service: \"150%\" is more than 100%: a percent of the pool "
       "must be 0% to 100%"},
      {kLb + kPool + "min_in_service = \"75 %\"\n" + kMember,
       "bad.toml:6:18: pools[0].min_in_service: \"75 %\" is not a count or a percent: write a count "
       "of members like 3 or a percent of the pool like 75%"},
      {kLb + kPool + "min_in_service = -1\n" + kMember,
       "bad.toml:6:18: pools[0].min_in_service: -1 is negative: write a count of members like 3 or "
       "a percent of the pool like \"75%\""},
      {kLb + kPool + "min_in_service = 2.5\n" + kMember,
       "bad.toml:6:18: pools[0].min_in_service: expected a count of members like 3 or a percent of "
       "the pool like \"75%\", got 2.5"},
      {kLb + kPool + "min_in_service = 0.75\n" + kMember,
       "bad.toml:6:18: pools[0].min_in_service: expected a count of members like 3 or a percent of "
       "the pool like \"75%\", got 0.75"},
      {kLb + kPool + "max_out = \"1.5\"\n" + kMember,
       "bad.toml:6:11: pools[0].max_out: \"1.5\" is not a whole number: write a count of members "
       "like 3 or a percent of the pool like 75%"},
      {kLb + kPool + "max_out = \"-25%\"\n" + kMember,
       "bad.toml:6:11: pools[0].max_out: \"-25%\" is negative: write a count of members like 3 or "
       "a percent of the pool like 75%"},
      {kLb + kPool + "max_out = \"\"\n" + kMember,
       "bad.toml:6:11: pools[0].max_out: an empty value is not a count or a percent: write a count "
       "of members like 3 or a percent of the pool like 75%"},
      {kLb + kPool + "max_out = true\n" + kMember,
       "bad.toml:6:11: pools[0].max_out: expected a count of members like 3 or a percent of the "
       "pool like \"75%\", got true"},
      {kLb + kPool + "count_unhealthy_as_out = \"yes\"\n" + kMember,
       "bad.toml:6:26: pools[0].count_unhealthy_as_out: expected true or false, got \"yes\""},
      {kLb + kPool + "count_unhealthy_as_out = 1\n" + kMember,
       "bad.toml:6:26: pools[0].count_unhealthy_as_out: expected true or false, got 1"},
      {"[defaults]\nmax_out = \"x\"\n" + kValid,
       "bad.toml:2:11: defaults.max_out: \"x\" is not a count or a percent: write a count of "
       "members like 3 or a percent of the pool like 75%"},
      {"[defaults]\nmin_in_service = \"101%\"\n" + kValid,
       "bad.toml:2:18: defaults.min_in_service: \"101%\" is more than 100%: a percent of the pool "
       "must be 0% to 100%"},
      {kLb + kPool + "min_in_servce = 2\n" + kMember,
       "bad.toml:6:1: pools[0].min_in_servce: unknown key (did you mean \"min_in_service\"?)"},
      {kValid + "max_out = 1\n",
       "bad.toml:9:1: pools[0].members[0].max_out: unknown key (allowed: server, host, port)"},
      // Passwords are never in the file.
      {"password = \"hunter2\"\n" + kValid,
       "bad.toml:1:1: password: passwords are never read from the config file; use "
       "password_file or password_env in [mysql]"},
      {"[mysql]\npassword = \"hunter2\"\n" + kValid,
       "bad.toml:2:1: mysql.password: passwords are never read from the config file; use "
       "password_file or password_env"},
      {kValid + "password = \"hunter2\"\n",
       "bad.toml:9:1: pools[0].members[0].password: passwords are never read from the config "
       "file; use password_file or password_env in [mysql]"},
      // Durations.
      {"[[haproxy]]\nname = \"lb1\"\nsocket = \"unix:/a\"\nreply_timeout = \"5 seconds\"\n" +
           kPool + kMember,
       "bad.toml:4:17: haproxy[0].reply_timeout: expected a duration like \"500ms\", \"5s\" or "
       "\"2m\", got \"5 seconds\""},
      {"[[haproxy]]\nname = \"lb1\"\nsocket = \"unix:/a\"\nreply_timeout = 5\n" + kPool + kMember,
       "bad.toml:4:17: haproxy[0].reply_timeout: expected a duration like \"500ms\", \"5s\" or "
       "\"2m\", got 5"},
      {"[[haproxy]]\nname = \"lb1\"\nsocket = \"unix:/a\"\nconnect_timeout = \"0s\"\n" + kPool +
           kMember,
       "bad.toml:4:19: haproxy[0].connect_timeout: a timeout must be greater than zero, got "
       "\"0s\""},
      {"[defaults]\nhaproxy_reply_timeout = \"-5s\"\n" + kValid,
       "bad.toml:2:25: defaults.haproxy_reply_timeout: a timeout must be greater than zero, got "
       "\"-5s\""},
      {"[defaults]\nhaproxy_unresponsive_deadline = \"0s\"\n" + kValid,
       "bad.toml:2:33: defaults.haproxy_unresponsive_deadline: a timeout must be greater than zero, got "
       "\"0s\""},
      {"[defaults]\nhaproxy_unresponsive_deadline = 30\n" + kValid,
       "bad.toml:2:33: defaults.haproxy_unresponsive_deadline: expected a duration like \"500ms\", \"5s\" or "
       "\"2m\", got 30"},
      {"[mysql]\nread_timeout = \"1500ms\"\n" + kValid,
       "bad.toml:2:16: mysql.read_timeout: MySQL timeouts are whole seconds (Connector/C counts "
       "seconds), got \"1500ms\""},
      // Names: unique, safe characters.
      {kLb + kLb + kPool + kMember,
       "bad.toml:5:8: haproxy[1].name: duplicate name \"lb1\" (first used by haproxy[0] at line 2)"},
      {kLb + kPool + kMember + kPool + kMember,
       "bad.toml:10:8: pools[1].name: duplicate name \"p\" (first used by pools[0] at line 5)"},
      {kValid + kMember,
       "bad.toml:10:10: pools[0].members[1].server: duplicate server \"db1\" (first used by "
       "pools[0].members[0] at line 7)"},
      {"[[haproxy]]\nname = \"lb 1\"\nsocket = \"unix:/a\"\n" + kPool + kMember,
       "bad.toml:2:8: haproxy[0].name: expected a name of letters, digits and _ . -, got \"lb 1\""},
      {kLb + kPool + kMember.substr(0, 18) + "server = \"db1;shutdown\"\nhost = \"h\"\n",
       "bad.toml:7:10: pools[0].members[0].server: expected a name of letters, digits and _ . - "
       ":, got \"db1;shutdown\""},
      // References from pools to [[haproxy]].
      {kLb + kLb2 + kPool + kMember + "[[pools]]\nname = \"q\"\nhaproxy = [\"lb1\", \"lb3\"]\n" +
           kMember,
       "bad.toml:14:19: pools[1].haproxy[1]: no [[haproxy]] named \"lb3\" (known: lb1, lb2)"},
      {kLb + kPool + "haproxy = [\"lb1\", \"lb1\"]\n" + kMember,
       "bad.toml:6:19: pools[0].haproxy[1]: \"lb1\" is listed twice"},
      {kLb + kPool + "haproxy = []\n" + kMember,
       "bad.toml:6:11: pools[0].haproxy: must not be an empty array (leave the key out for the "
       "default)"},
      {kLb + kPool + "haproxy = [\"lb1\", 2]\n" + kMember,
       "bad.toml:6:19: pools[0].haproxy[1]: expected a string, got an integer"},
      {kLb + kPool + "haproxy = \"lb1\"\n" + kMember,
       "bad.toml:6:11: pools[0].haproxy: expected an array of strings, got a string"},
      {kLb + kPool + kMember + "[[pools]]\nname = \"q\"\nbackend = \"p\"\n" + kMember,
       "bad.toml:11:11: pools[1].backend: backend \"p\" on lb1 already belongs to pool \"p\"; one "
       "backend is managed by one pool"},
      // Sockets.
      {"[[haproxy]]\nname = \"lb1\"\nsocket = \"foo\"\n" + kPool + kMember,
       "bad.toml:3:10: haproxy[0].socket: bad HAProxy socket \"foo\": unknown scheme (expected "
       "unix:/path/to/admin.sock or tcp:host:port)"},
      {"[[haproxy]]\nname = \"lb1\"\nsocket = \"tcp:lb1:0\"\n" + kPool + kMember,
       "bad.toml:3:10: haproxy[0].socket: bad HAProxy socket \"tcp:lb1:0\": the port must be an "
       "integer 1-65535 (expected unix:/path/to/admin.sock or tcp:host:port)"},
      // Types.
      {"[[haproxy]]\nname = 5\nsocket = \"unix:/a\"\n" + kPool + kMember,
       "bad.toml:2:8: haproxy[0].name: expected a string, got an integer"},
      {kLb + kPool + "[[pools.members]]\nserver = \"db1\"\nhost = \"\"\n",
       "bad.toml:8:8: pools[0].members[0].host: must not be empty"},
      {"mysql = \"root\"\n" + kValid,
       "bad.toml:1:9: mysql: expected a table ([mysql]), got a string"},
      {"[haproxy]\nname = \"lb1\"\nsocket = \"unix:/a\"\n" + kPool + kMember,
       "bad.toml:1:1: haproxy: expected an array of tables ([[haproxy]]), got a table"},
      {kLb + kPool + "members = [1]\n",
       "bad.toml:6:12: pools[0].members[0]: expected a table, got an integer"},
      {"[mysql]\npassword_file = \"mysql.pass\"\n" + kValid,
       "bad.toml:2:17: mysql.password_file: expected an absolute path, got \"mysql.pass\""},
      {"[mysql]\npassword_env = \"MY-PASS\"\n" + kValid,
       "bad.toml:2:16: mysql.password_env: expected an environment variable name "
       "([A-Za-z_][A-Za-z0-9_]*), got \"MY-PASS\""},
      // Missing and empty sections and keys.
      {kPool + kMember,
       "bad.toml:1:1: haproxy: missing; at least one [[haproxy]] table is required"},
      {"haproxy = []\n" + kPool + kMember,
       "bad.toml:1:11: haproxy: expected at least one [[haproxy]] table, got an empty array"},
      {kLb, "bad.toml:1:1: pools: missing; at least one [[pools]] table is required"},
      {kLb + kPool,
       "bad.toml:4:1: pools[0].members: missing; at least one [[pools.members]] table is "
       "required"},
      {kLb + kPool + "[[pools.members]]\nserver = \"db1\"\n",
       "bad.toml:6:1: pools[0].members[0].host: missing (required)"},
      {"[[haproxy]]\nname = \"lb1\"\n" + kPool + kMember,
       "bad.toml:1:1: haproxy[0].socket: missing (required)"},
      // TOML syntax: toml++'s position and description.
      {kValid + "port = \n",
       "bad.toml:9:8: Error while parsing key-value pair: expected value, saw '\\n'"},
      {kValid + "host = \"h2\"\n",
       "bad.toml:9:8: Error while parsing key-value pair: cannot redefine existing string "
       "'host'"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK(ErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("a file that does not exist is one clear error", "[config]") {
  auto config = LoadConfig("/nonexistent/caretaker.toml");
  REQUIRE_FALSE(config);
  CHECK(config.error().message == "/nonexistent/caretaker.toml: cannot read: No such file or directory");
}

TEST_CASE("LoadConfig names the file in messages", "[config]") {
  TempDir dir;
  std::string path = dir.Write("c.toml", kValid + "port = 0\n", 0600);
  auto config = LoadConfig(path);
  REQUIRE_FALSE(config);
  CHECK(config.error().message ==
        path + ":9:8: pools[0].members[0].port: expected an integer 1-65535, got 0");
}

TEST_CASE("a complete document sets every field", "[config]") {
  const std::string toml = R"(
[defaults]
haproxy_connect_timeout = "2s"
haproxy_reply_timeout = "7s"
haproxy_unresponsive_deadline = "12s"

[mysql]
user = "ct"
password_file = "/etc/ct/pass"
password_env = "CT_PASS"
connect_timeout = "4s"
read_timeout = "2m"

[[haproxy]]
name = "lb1"
socket = "unix:/run/haproxy/admin.sock"
connect_timeout = "250ms"
reply_timeout = "1h"

[[haproxy]]
name = "lb2"
socket = "tcp:[2001:db8::2]:9999"

[[pools]]
name = "replicas-eu"
backend = "mysql:ro"
haproxy = ["lb2", "lb1"]
min_in_service = "75%"
max_out = 2
count_unhealthy_as_out = false
  [[pools.members]]
  server = "db1"
  host = "10.0.0.11"
  port = 3307
  [[pools.members]]
  server = "db2"
  host = "db2.example.net"
)";
  auto loaded = ParseConfig(toml, "full.toml");
  REQUIRE(loaded);
  const Config& c = loaded.value();
  CHECK(c.path == "full.toml");
  CHECK(c.mysql.user == "ct");
  CHECK(c.mysql.password_file == "/etc/ct/pass");
  CHECK(c.mysql.password_env == "CT_PASS");
  CHECK(c.mysql.connect_timeout == 4s);
  CHECK(c.mysql.read_timeout == 2min);
  REQUIRE(c.haproxy.size() == 2);
  CHECK(c.haproxy[0].name == "lb1");
  CHECK(c.haproxy[0].socket == "unix:/run/haproxy/admin.sock");
  CHECK(c.haproxy[0].connect_timeout == 250ms);
  CHECK(c.haproxy[0].reply_timeout == 1h);
  CHECK(c.haproxy[1].name == "lb2");
  CHECK(c.haproxy[1].socket == "tcp:[2001:db8::2]:9999");
  CHECK(c.haproxy[1].connect_timeout == 2s);  // from [defaults]
  CHECK(c.haproxy[1].reply_timeout == 7s);
  CHECK(c.haproxy_unresponsive_deadline == 12s);
  REQUIRE(c.pools.size() == 1);
  const PoolConfig& p = c.pools[0];
  CHECK(p.name == "replicas-eu");
  CHECK(p.backend == "mysql:ro");
  CHECK(p.haproxy == std::vector<std::string>{"lb2", "lb1"});  // as written
  REQUIRE(p.members.size() == 2);
  CHECK(p.members[0].server == "db1");
  CHECK(p.members[0].host == "10.0.0.11");
  CHECK(p.members[0].port == 3307);
  CHECK(p.members[1].server == "db2");
  CHECK(p.members[1].host == "db2.example.net");
  CHECK(p.members[1].port == 3306);
  CHECK(p.capacity.min_in_service == policies::Limit::Percent(75));
  CHECK(p.capacity.max_out == policies::Limit::Count(2));
  CHECK_FALSE(p.capacity.count_unhealthy_as_out);
  CHECK(p.line == 24);  // its [[pools]] header
  CHECK(p.column == 1);
}

TEST_CASE("[defaults] sets the capacity policy of every pool that does not set its own", "[config]") {
  const std::string toml = "[defaults]\nmin_in_service = 2\nmax_out = \"50%\"\ncount_unhealthy_as_out = false\n" +
                           kLb + kPool + Members(4) + "[[pools]]\nname = \"q\"\nbackend = \"q\"\nmax_out = 0\n" +
                           Members(4);
  auto loaded = ParseConfig(toml, "d.toml");
  REQUIRE(loaded);
  const PoolConfig& p = loaded.value().pools[0];
  CHECK(p.capacity.min_in_service == policies::Limit::Count(2));
  CHECK(p.capacity.max_out == policies::Limit::Percent(50));
  CHECK_FALSE(p.capacity.count_unhealthy_as_out);
  const PoolConfig& q = loaded.value().pools[1];
  CHECK(q.capacity.min_in_service == policies::Limit::Count(2));  // from [defaults]
  CHECK(q.capacity.max_out == policies::Limit::Count(0));         // its own
  CHECK_FALSE(q.capacity.count_unhealthy_as_out);
}

TEST_CASE("defaults apply to every key left out", "[config]") {
  auto loaded = ParseConfig(kLb2 + kLb + kPool + kMember, "min.toml");
  REQUIRE(loaded);
  const Config& c = loaded.value();
  CHECK(c.mysql.user == "caretaker");
  CHECK(c.mysql.password_file.empty());
  CHECK(c.mysql.password_env.empty());
  CHECK(c.mysql.connect_timeout == 3s);
  CHECK(c.mysql.read_timeout == 10s);
  for (const HaproxyConfig& h : c.haproxy) {
    CHECK(h.connect_timeout == 1s);
    CHECK(h.reply_timeout == 5s);
  }
  CHECK(c.haproxy_unresponsive_deadline == 30s);
  REQUIRE(c.pools.size() == 1);
  CHECK(c.pools[0].backend == "p");  // the pool's name
  CHECK(c.pools[0].haproxy == std::vector<std::string>{"lb2", "lb1"});  // all, in file order
  CHECK(c.pools[0].members[0].port == 3306);
  // The default capacity policy: half the pool serves, one member out at a time.
  CHECK(c.pools[0].capacity.min_in_service == policies::Limit::Percent(50));
  CHECK(c.pools[0].capacity.max_out == policies::Limit::Count(1));
  CHECK(c.pools[0].capacity.count_unhealthy_as_out);
}

TEST_CASE("the default capacity policy lets pools of two or more members be walked", "[config]") {
  for (int n = 2; n <= 20; ++n) {
    INFO(n << " members");
    CHECK(PolicyErrorOf(kLb + kPool + Members(n)) == "");
  }
}

TEST_CASE("a policy that can never work is refused by CheckPoolPolicy, naming the pool", "[config]") {
  // given: a document that loads; expect: file:line:column of the pool's [[pools]] header,
  // its key path, and ValidatePolicy's sentence naming the pool.
  const std::vector<BadConfig> cases = {
      // One member: the default policy cannot walk it, nor can any other.
      {kValid,
       "policy.toml:4:1: pools[0]: pool p: a pool of one member can only go out whole, which no "
       "capacity policy allows; add a member to the pool"},
      {kLb + kPool + "min_in_service = 0\n" + kMember,
       "policy.toml:4:1: pools[0]: pool p: a pool of one member can only go out whole, which no "
       "capacity policy allows; add a member to the pool"},
      // Floor at or above the size.
      {kLb + kPool + "min_in_service = 2\n" + Members(2),
       "policy.toml:4:1: pools[0]: pool p: min_in_service 2 requires 2 members in service and the "
       "pool has 2, so none can ever go out; set it to at most 1"},
      {"[defaults]\nmin_in_service = \"75%\"\n" + kLb + kPool + Members(3),
       "policy.toml:6:1: pools[0]: pool p: min_in_service 75% requires 3 members in service "
       "(rounded up) and the pool has 3, so none can ever go out; set it to at most 66%"},
      // max_out that resolves to 0.
      {kLb + kPool + "max_out = 0\n" + Members(3),
       "policy.toml:4:1: pools[0]: pool p: max_out 0 lets 0 of 3 members out, so none can ever go "
       "out; set it to at least 1"},
      {kLb + kPool + "max_out = \"25%\"\n" + Members(3),
       "policy.toml:4:1: pools[0]: pool p: max_out 25% lets 0 of 3 members out (rounded down), so "
       "none can ever go out; set it to at least 34%"},
      // The whole pool out at once.
      {kLb + kPool + "min_in_service = 0\nmax_out = \"100%\"\n" + Members(3),
       "policy.toml:4:1: pools[0]: pool p: min_in_service 0 with max_out 100% lets all 3 members "
       "out at once; set min_in_service to at least 1, or max_out to at most 2"},
      // The second pool is the bad one: its own position and index.
      {kLb + kPool + Members(3) + "[[pools]]\nname = \"q\"\nbackend = \"q\"\n" + kMember,
       "policy.toml:15:1: pools[1]: pool q: a pool of one member can only go out whole, which no "
       "capacity policy allows; add a member to the pool"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK(PolicyErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("FindHaproxy and FindPool look names up", "[config]") {
  auto loaded = ParseConfig(kLb + kLb2 + kPool + kMember, "x.toml");
  REQUIRE(loaded);
  const Config& c = loaded.value();
  REQUIRE(c.FindHaproxy("lb2") != nullptr);
  CHECK(c.FindHaproxy("lb2")->socket == "tcp:10.0.0.2:9999");
  CHECK(c.FindHaproxy("lb3") == nullptr);
  REQUIRE(c.FindPool("p") != nullptr);
  CHECK(c.FindPool("p")->members.size() == 1);
  CHECK(c.FindPool("q") == nullptr);
}

TEST_CASE("the shipped example configuration loads clean", "[config]") {
  auto loaded = LoadConfig(std::string(CARETAKER_SOURCE_DIR) + "/conf/caretaker.example.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  const Config& c = loaded.value();
  CHECK(c.haproxy.size() == 2);
  CHECK(c.pools.size() == 2);
  REQUIRE(c.FindPool("replicas-eu") != nullptr);
  CHECK(c.FindPool("replicas-eu")->members.size() == 3);
  // ... and `caretaker check` accepts every pool's capacity policy.
  for (const PoolConfig& p : c.pools) {
    auto valid = CheckPoolPolicy(c, p);
    INFO((valid ? std::string() : valid.error().message));
    CHECK(valid);
  }
}

}  // namespace caretaker
