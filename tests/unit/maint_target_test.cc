// What `caretaker maint` works on: the member a HOST argument names, how its
// MySQL is reached, and the pool as the capacity policy sees it from live
// HAProxy and MySQL state (built here by hand, merged by haproxy::MergeBackend).
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "haproxy/backend_view.h"
#include "src/run/maint_target.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using State = policies::Member::State;

MemberConfig Member(std::string server, std::string host, uint16_t port = 3306) {
  MemberConfig m;
  m.server = std::move(server);
  m.host = std::move(host);
  m.port = port;
  return m;
}

PoolConfig Pool(std::string name, std::vector<MemberConfig> members) {
  PoolConfig p;
  p.name = std::move(name);
  p.backend = p.name;
  p.haproxy = {"lb1", "lb2"};
  p.members = std::move(members);
  p.gates.max_lag = 5s;
  return p;
}

// Given two pools: "replicas" has db1, db2, and db3 and db4 as two mysqld on
// one host; "reports" has its own db1, and rep2 on port 3307.
Config Fleet() {
  Config c;
  c.path = "/etc/caretaker.toml";
  c.pools.push_back(Pool("replicas", {Member("db1", "10.0.0.1"), Member("db2", "10.0.0.2"),
                                      Member("db3", "shared.example"), Member("db4", "shared.example", 3307)}));
  c.pools.push_back(Pool("reports", {Member("db1", "10.0.1.1"), Member("rep2", "10.0.1.2", 3307)}));
  return c;
}

// "pool/server" of what FindMember found, or its error message.
std::string Found(const Config& config, std::string_view host) {
  auto ref = FindMember(config, host);
  if (!ref) return ref.error().message;
  return ref.value().pool->name + "/" + ref.value().member->server;
}

// --- HAProxy and MySQL state, built by hand ---------------------------------

// One server's rows on one instance, written as a word:
//   up, nocheck     READY, health UP / not checked, weight 1
//   down            READY, health DOWN
//   w0              READY, UP, weight 0
//   drain           set server ... state drain: DRAIN, weight 0
//   drain+down      drained and failing its checks: show stat says only DOWN
//   maint           set server ... state maint
//   -               not in the backend on that instance
//   unreachable     the instance could not be read
haproxy::InstanceDump Instance(const std::string& name, const std::string& server, std::string_view cell) {
  haproxy::InstanceDump d;
  d.instance = name;
  if (cell == "unreachable") {
    d.error = haproxy::Error{haproxy::ErrorCode::kConnect, "haproxy " + name + ": Connection refused"};
    return d;
  }
  if (cell == "-") return d;
  struct Row {
    std::string_view cell;
    const char* status;
    int weight;
    uint32_t admin;
  };
  const Row rows[] = {
      {"up", "UP", 1, 0},
      {"nocheck", "no check", 1, 0},
      {"down", "DOWN", 1, 0},
      {"w0", "UP", 0, 0},
      {"drain", "DRAIN", 0, haproxy::kAdminForcedDrain},
      {"drain+down", "DOWN", 0, haproxy::kAdminForcedDrain},
      {"maint", "MAINT", 0, haproxy::kAdminForcedMaint},
  };
  for (const Row& r : rows) {
    if (r.cell != cell) continue;
    haproxy::ServerStat stat;
    stat.backend = "replicas";
    stat.server = server;
    stat.status = haproxy::ParseStatusField(r.status);
    stat.weight = r.weight;
    d.stats.push_back(stat);
    haproxy::ServerState state;
    state.backend = "replicas";
    state.server = server;
    state.admin_state = r.admin;
    state.uweight = r.weight;
    state.iweight = 1;
    d.states.push_back(state);
    return d;
  }
  FAIL("unknown cell " << cell);
  return d;
}

// A reading of the member's MySQL:
//   "lag 1s", "lag 5s", "lag 6s", "lag ?" (NULL)    both threads running
//   "io No", "io Connecting", "sql No"              the other thread running, lag 0
//   "error" (refused), "timeout", "lost", "query"   the server could not be read
//   "denied", "privilege", "tls", "not a replica"   it answered: caretaker's config, or no replica
mysql::Result<mysql::ReplicaStatus> Reading(std::string_view what) {
  using mysql::ErrorCode;
  const std::pair<std::string_view, mysql::Error> errors[] = {
      {"error", {ErrorCode::kConnect, 2003, "cannot connect to 10.0.0.1:3306: Connection refused"}},
      {"timeout", {ErrorCode::kTimeout, 2013, "10.0.0.1:3306: no reply within 2s"}},
      {"lost", {ErrorCode::kConnect, 2013, "10.0.0.1:3306: Lost connection to server during query"}},
      {"query", {ErrorCode::kQuery, 1053, "10.0.0.1:3306: Server shutdown in progress"}},
      {"denied", {ErrorCode::kAccessDenied, 1045, "10.0.0.1:3306: access denied"}},
      {"privilege", {ErrorCode::kMissingPrivilege, 1227, "10.0.0.1:3306: REPLICA MONITOR is needed"}},
      {"tls", {ErrorCode::kTls, 2026, "10.0.0.1:3306: TLS error"}},
      {"not a replica", {ErrorCode::kNotAReplica, 0, "10.0.0.1:3306: not a replica"}},
  };
  for (const auto& [name, error] : errors) {
    if (what == name) return error;
  }
  mysql::ReplicaStatus s;
  s.io_thread = mysql::ThreadState::kYes;
  s.sql_thread = mysql::ThreadState::kYes;
  s.lag = 0ms;
  if (what == "lag 1s") s.lag = 1s;
  if (what == "lag 5s") s.lag = 5s;
  if (what == "lag 6s") s.lag = 6s;
  if (what == "lag ?") s.lag = std::nullopt;
  if (what == "io No") s.io_thread = mysql::ThreadState::kNo;
  if (what == "io Connecting") s.io_thread = mysql::ThreadState::kConnecting;
  if (what == "sql No") s.sql_thread = mysql::ThreadState::kNo;
  return s;
}

using Readings = std::map<std::string, mysql::Result<mysql::ReplicaStatus>>;

MaintRecord Record(std::string pool, std::string server) {
  MaintRecord r;
  r.pool = std::move(pool);
  r.server = std::move(server);
  r.host = "10.0.0.1:3306";
  r.who = "ann@ops1";
  r.reason = "kernel upgrade";
  return r;
}

}  // namespace

TEST_CASE("FindMember: a HOST argument names one member, one case per line", "[maint]") {
  // given: the fleet above; expect: "pool/server" found, or the exact error.
  const Config config = Fleet();
  const std::string known = " in /etc/caretaker.toml (members: db1, db2, db3, db4, db1, rep2)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      // By server name, when only one pool has it.
      {"db2", "replicas/db2"},
      {"rep2", "reports/rep2"},
      // By POOL/SERVER.
      {"replicas/db1", "replicas/db1"},
      {"reports/db1", "reports/db1"},
      {"reports/db2", "no member of any pool is named \"reports/db2\"" + known},
      // By host, when only one member lives there; by host:port.
      {"10.0.0.2", "replicas/db2"},
      {"10.0.1.2", "reports/rep2"},
      {"10.0.0.2:3306", "replicas/db2"},
      {"10.0.1.2:3307", "reports/rep2"},
      {"shared.example:3307", "replicas/db4"},
      {"shared.example:3306", "replicas/db3"},
      {"10.0.1.2:3306", "no member of any pool is named \"10.0.1.2:3306\"" + known},
      // Ambiguous: say which members, and how to pick one.
      {"db1", "\"db1\" names 2 members (replicas/db1, reports/db1): write POOL/SERVER"},
      {"shared.example", "\"shared.example\" names 2 members (replicas/db3, replicas/db4): write POOL/SERVER"},
      // Unknown.
      {"db9", "no member of any pool is named \"db9\"" + known},
      {"DB2", "no member of any pool is named \"DB2\"" + known},
      {"", "no member of any pool is named \"\"" + known},
  };
  for (const auto& [host, found] : cases) {
    INFO(host);
    CHECK(Found(config, host) == found);
  }
}

TEST_CASE("FindMember points into the config, and Describe names the member for messages", "[maint]") {
  const Config config = Fleet();
  auto ref = FindMember(config, "shared.example:3307");
  REQUIRE(ref);
  CHECK(ref.value().pool == &config.pools[0]);
  CHECK(ref.value().member == &config.pools[0].members[3]);
  CHECK(Describe(ref.value()) == "db4 (pool replicas, shared.example:3307)");
}

TEST_CASE("MemberTarget and PrimaryTarget use the config's account and timeouts", "[maint]") {
  Config config = Fleet();
  config.mysql.user = "ct";
  config.mysql.connect_timeout = 4s;
  config.mysql.read_timeout = 20s;
  mysql::Target t = MemberTarget(config, config.pools[1].members[1], "s3cret");
  CHECK(t.host == "10.0.1.2");
  CHECK(t.port == 3307);
  CHECK(t.user == "ct");
  CHECK(t.password == "s3cret");
  CHECK(t.connect_timeout == 4s);
  CHECK(t.read_timeout == 20s);
  CHECK(t.write_timeout == 20s);

  CHECK_FALSE(PrimaryTarget(config, config.pools[0], "s3cret").has_value());
  PrimaryConfig primary;
  primary.host = "10.0.0.100";
  primary.port = 3310;
  config.pools[0].primary = primary;
  auto p = PrimaryTarget(config, config.pools[0], "s3cret");
  REQUIRE(p.has_value());
  CHECK(p->host == "10.0.0.100");
  CHECK(p->port == 3310);
  CHECK(p->user == "ct");
  CHECK(p->password == "s3cret");
  CHECK(p->read_timeout == 20s);
}

TEST_CASE("PoolProbeOptions reads lag from the pool's heartbeat table when it has one", "[maint]") {
  PoolConfig pool = Fleet().pools[0];
  CHECK_FALSE(PoolProbeOptions(pool).heartbeat.has_value());
  pool.gates.heartbeat_table = "percona.heartbeat";
  pool.gates.heartbeat_server_id = 7;
  auto options = PoolProbeOptions(pool);
  REQUIRE(options.heartbeat.has_value());
  CHECK(options.heartbeat->table == "percona.heartbeat");
  CHECK(options.heartbeat->primary_server_id == 7);
}

TEST_CASE("BuildSnapshot: one member's state from HAProxy, MySQL and records, one case per line", "[maint]") {
  // given: db1 as lb1 and lb2 see it, its MySQL reading ("-": not probed), and
  // whether it has a maintenance record; the pool's max_lag is 5s.
  // expect: the state the capacity policy counts.
  struct Case {
    const char* lb1;
    const char* lb2;
    const char* mysql;
    bool recorded;
    State state;
  };
  const Case cases[] = {
      // In service: READY, UP (or not checked), weight > 0 everywhere, not lagging.
      {"up", "up", "lag 1s", false, State::kInService},
      {"nocheck", "up", "lag 1s", false, State::kInService},
      {"up", "up", "-", false, State::kInService},       // not probed: not known to lag
      {"up", "up", "lag 5s", false, State::kInService},  // at max_lag
      {"up", "up", "lag ?", false, State::kInService},   // unknown lag is not known to lag
      // Unreachable: UP in HAProxy (its checks have not noticed yet), but the
      // probe could not read the server. Unknown is never in service.
      {"up", "up", "error", false, State::kUnreachable},
      {"up", "up", "timeout", false, State::kUnreachable},
      {"up", "up", "lost", false, State::kUnreachable},
      {"nocheck", "up", "query", false, State::kUnreachable},
      // The server answered: caretaker's own account or TLS (the commands
      // refuse those with their sentence), or not a replica.
      {"up", "up", "denied", false, State::kInService},
      {"up", "up", "privilege", false, State::kInService},
      {"up", "up", "tls", false, State::kInService},
      {"up", "up", "not a replica", false, State::kInService},
      {"down", "up", "error", false, State::kDown},  // HAProxy knows: down
      // A maintenance record wins over everything.
      {"up", "up", "lag 1s", true, State::kInMaintenance},
      {"drain", "drain", "-", true, State::kInMaintenance},
      {"down", "unreachable", "error", true, State::kInMaintenance},
      // Drained or in maint on any instance read.
      {"drain", "drain", "lag 1s", false, State::kDrained},
      {"drain", "up", "lag 1s", false, State::kDrained},
      {"up", "maint", "lag 1s", false, State::kDrained},
      {"drain+down", "up", "lag 1s", false, State::kDrained},  // drained wins over down
      {"maint", "unreachable", "-", false, State::kDrained},
      {"drain", "drain", "lag 6s", false, State::kDrained},  // drained wins over lagging
      // Down: not UP with weight > 0 on every instance, or missing, or not read.
      {"down", "up", "lag 1s", false, State::kDown},
      {"down", "down", "lag 6s", false, State::kDown},  // down wins over lagging
      {"up", "w0", "lag 1s", false, State::kDown},
      {"up", "-", "lag 1s", false, State::kDown},
      {"-", "-", "lag 1s", false, State::kDown},
      {"up", "unreachable", "lag 1s", false, State::kDown},
      // Lagging: threads not both running, or lag above max_lag.
      {"up", "up", "lag 6s", false, State::kLagging},
      {"up", "up", "io No", false, State::kLagging},
      {"up", "up", "io Connecting", false, State::kLagging},
      {"nocheck", "nocheck", "sql No", false, State::kLagging},
  };
  const PoolConfig pool = Pool("replicas", {Member("db1", "10.0.0.1")});
  for (const Case& c : cases) {
    INFO("lb1 " << c.lb1 << ", lb2 " << c.lb2 << ", mysql " << c.mysql << (c.recorded ? ", recorded" : ""));
    auto view = haproxy::MergeBackend(
        "replicas", std::vector<haproxy::InstanceDump>{Instance("lb1", "db1", c.lb1), Instance("lb2", "db1", c.lb2)},
        {"db1"});
    Readings readings;
    if (std::string_view(c.mysql) != "-") readings.emplace("db1", Reading(c.mysql));
    std::vector<MaintRecord> records;
    if (c.recorded) records.push_back(Record("replicas", "db1"));
    policies::PoolSnapshot snapshot = BuildSnapshot(pool, view, readings, records);
    CHECK(snapshot.name == "replicas");
    REQUIRE(snapshot.members.size() == 1);
    CHECK(snapshot.members[0].name == "db1");
    CHECK(policies::StateName(snapshot.members[0].state) == std::string(policies::StateName(c.state)));
  }
}

TEST_CASE("BuildSnapshot lists every configured member, in config order, whatever HAProxy lists", "[maint]") {
  // given: a pool of db1..db4; HAProxy (one instance) has db4, db2, db1 and
  // an unmanaged db9, not db3; a record for db2 of this pool and records for
  // db1 of another pool and db4 of a pool named like a prefix.
  // expect: db1..db4 in order; only replicas/db2 in maintenance; db3 down.
  const PoolConfig pool = Pool("replicas", {Member("db1", "h1"), Member("db2", "h2"), Member("db3", "h3"),
                                            Member("db4", "h4")});
  haproxy::InstanceDump lb1 = Instance("lb1", "db4", "up");
  for (const char* name : {"db2", "db1", "db9"}) {
    haproxy::InstanceDump more = Instance("lb1", name, "up");
    lb1.stats.push_back(more.stats[0]);
    lb1.states.push_back(more.states[0]);
  }
  auto view = haproxy::MergeBackend("replicas", std::vector<haproxy::InstanceDump>{lb1}, {});
  Readings readings;
  readings.emplace("db4", Reading("lag 6s"));
  readings.emplace("db9", Reading("io No"));
  std::vector<MaintRecord> records = {Record("replicas", "db2"), Record("reports", "db1"), Record("replica", "db4")};

  policies::PoolSnapshot snapshot = BuildSnapshot(pool, view, readings, records);
  std::vector<std::string> got;
  for (const policies::Member& m : snapshot.members) {
    got.push_back(m.name + " " + policies::StateName(m.state));
  }
  CHECK(got == std::vector<std::string>{"db1 in service", "db2 in maintenance", "db3 down", "db4 lagging"});
}

TEST_CASE("BuildSnapshot: a member that the view does not list at all is down", "[maint]") {
  const PoolConfig pool = Pool("replicas", {Member("db1", "h1")});
  haproxy::BackendView empty;
  empty.backend = "replicas";
  policies::PoolSnapshot snapshot = BuildSnapshot(pool, empty, {}, {});
  REQUIRE(snapshot.members.size() == 1);
  CHECK(snapshot.members[0].state == State::kDown);
}

TEST_CASE("BuildSnapshot compares lag with the pool's own max_lag", "[maint]") {
  // given: lag 10s; expect: lagging with max_lag 5s, in service with 30s.
  PoolConfig pool = Pool("replicas", {Member("db1", "h1")});
  auto view = haproxy::MergeBackend("replicas", std::vector<haproxy::InstanceDump>{Instance("lb1", "db1", "up")},
                                    {"db1"});
  Readings readings;
  readings.emplace("db1", Reading("lag 1s"));
  readings.at("db1").value().lag = 10s;
  CHECK(BuildSnapshot(pool, view, readings, {}).members[0].state == State::kLagging);
  pool.gates.max_lag = 30s;
  CHECK(BuildSnapshot(pool, view, readings, {}).members[0].state == State::kInService);
}

TEST_CASE("FindMember lists at most 8 known members, and says how many there are", "[maint]") {
  // given: one pool of 10 members and an unknown name; expect: the first 8
  // names, then "... (10 in all)".
  Config config;
  config.path = "/etc/caretaker.toml";
  std::vector<MemberConfig> members;
  for (int i = 1; i <= 10; ++i) members.push_back(Member("db" + std::to_string(i), "h" + std::to_string(i)));
  config.pools.push_back(Pool("replicas", members));
  CHECK(Found(config, "db11") ==
        "no member of any pool is named \"db11\" in /etc/caretaker.toml (members: db1, db2, db3, db4, db5, db6, "
        "db7, db8, ... (10 in all))");
}

}  // namespace caretaker
