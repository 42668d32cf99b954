// `caretaker maint start/stop/list` against a real sandbox of four replicas
// behind two HAProxy instances: what HAProxy and MariaDB really do.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <memory>
#include <thread>

#include "mysql/connection.h"
#include "src/store/state_store.h"
#include "tests/integration/cli_run.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

// Four replicas (a floor of 3 of 4 needs them), separate from the shared
// sandbox so that maintenance here never disturbs the other tests.
sandbox::Sandbox& MaintSandbox() {
  static std::unique_ptr<sandbox::Sandbox> sb = StartOwnSandbox(4);
  return *sb;
}

Run Caretaker(const std::string& args, const std::string& config = "") {
  return RunCaretaker(MaintSandbox(), args, config);
}

// A variant of the sandbox's config: `extra` TOML inserted right after the
// pool's `backend = ...` line (pool keys and its sub-tables come after it).
std::string PoolVariant(const std::string& name, const std::string& extra) {
  const std::string anchor = "backend = \"replicas\"\n";
  std::string text = ConfigText(MaintSandbox());
  size_t at = text.find(anchor);
  REQUIRE(at != std::string::npos);
  // Keys first, sub-tables last: split `extra` at its first table header.
  size_t table = extra.find("\n[");
  std::string keys = table == std::string::npos ? extra : extra.substr(0, table + 1);
  std::string tables = table == std::string::npos ? "" : extra.substr(table + 1);
  text.insert(at + anchor.size(), keys);
  if (!tables.empty()) {
    size_t members = text.find("\n[[pools.members]]");
    REQUIRE(members != std::string::npos);
    text.insert(members + 1, tables + "\n");
  }
  return WriteFileIn(MaintSandbox(), name, text);
}

// srv_admin_state of `server` on every instance, e.g. {"1", "1"} for MAINT.
std::vector<std::string> AdminStates(const std::string& server, const std::string& backend = "replicas") {
  std::vector<std::string> out;
  for (size_t i = 0; i < MaintSandbox().haproxies().size(); ++i) {
    std::istringstream reply(MaintSandbox().HaproxyCommand(i, "show servers state " + backend));
    std::string line;
    while (std::getline(reply, line)) {
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string w; fields >> w;) f.push_back(w);
      // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
      if (f.size() > 6 && f[1] == backend && f[3] == server) out.push_back(f[6]);
    }
  }
  return out;
}

// Every server's admin state on every instance, to compare before and after.
std::string AllStates() {
  std::string out;
  for (const auto& r : MaintSandbox().replicas()) {
    for (const std::string& s : AdminStates(r.name)) out += r.name + "=" + s + " ";
  }
  return out;
}

const std::vector<std::string> kMaint{"1", "1"};
const std::vector<std::string> kReady{"0", "0"};

// Puts everything back for the next case: records, HAProxy state, MySQL.
void Reset() {
  auto& sb = MaintSandbox();
  auto store = OpenSqliteStore(sb.dir() + "/state/caretaker.db").value();
  auto records = store->List().value();
  for (const MaintRecord& r : records) REQUIRE(store->Remove(r.pool, r.server));
  for (size_t i = 0; i < sb.haproxies().size(); ++i) {
    for (const auto& r : sb.replicas()) {
      sb.HaproxyCommand(i, "set server replicas/" + r.name + " state ready");
      sb.HaproxyCommand(i, "set server replicas/" + r.name + " weight 100%");
    }
  }
  sb.WaitAllUp(20s);
}

// A client session through lb1's frontend, and the replica it landed on.
struct AppSession {
  mysql::Connection connection;
  std::string server;  // "db2"
};

AppSession OpenAppSession() {
  auto& sb = MaintSandbox();
  mysql::Target t;
  t.port = sb.haproxies()[0].frontend_port;
  t.user = "caretaker";
  t.password = sb.mysql_password();
  auto c = mysql::Connection::Open(t);
  REQUIRE(c);
  auto rows = c.value().Query("SELECT @@port");
  REQUIRE(rows);
  std::string port = *rows.value().rows.at(0).at(0);
  for (const auto& r : sb.replicas()) {
    if (std::to_string(r.port) == port) return AppSession{std::move(c.value()), r.name};
  }
  FAIL("no replica has port " << port);
  throw;
}

TEST_CASE("maint start drains then sets MAINT on both instances; stop waits for mysqld and the gates", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  // Given db2 in service, expect maint start to drain it, confirm, then MAINT it everywhere.
  Run start = Caretaker("maint start db2 --reason 'disk swap' --for 4h");
  INFO(start.err);
  REQUIRE(start.exit_code == 0);
  CHECK_THAT(start.err, Catch::Contains("db2: drained in") && Catch::Contains("db2: MAINT on every instance"));
  CHECK_THAT(start.out, Catch::Contains("db2 is in maintenance: drained in"));
  CHECK_THAT(start.out, Catch::Contains("MAINT on lb1, lb2"));
  CHECK(AdminStates("db2") == kMaint);
  Run list = Caretaker("maint list --json");
  CHECK_THAT(list.out, Catch::Contains("\"server\":\"db2\"") && Catch::Contains("\"reason\":\"disk swap\"") &&
                           Catch::Contains("\"phase\":\"maint\""));

  // While out, the test stops its mysqld: maint stop waits, and the host stays out.
  sb.StopReplica(1);
  Spawned stop = SpawnCaretaker(sb, "maint stop db2");
  std::this_thread::sleep_for(1500ms);
  CHECK(AdminStates("db2") == kMaint);
  sb.StartReplica(1);
  Run r = Finish(stop);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("db2: gate mysqld passed in"));
  CHECK_THAT(r.err, Catch::Contains("gate catch-up passed in"));
  CHECK_THAT(r.out, Catch::Contains("db2 is back in service: READY and UP on lb1, lb2"));
  CHECK(AdminStates("db2") == kReady);
  CHECK_THAT(Caretaker("maint list").out, Catch::Contains("no hosts in maintenance"));
  sb.WaitAllUp(20s);
}

TEST_CASE("a replica whose SQL thread is stopped is not put back", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  REQUIRE(Caretaker("maint start db3 --reason test").exit_code == 0);
  sb.Sql(sb.replicas()[2], "STOP SLAVE SQL_THREAD");
  std::string config = PoolVariant("sql-stopped.toml", "\n[pools.gates]\nmysql_timeout = \"2s\"\n");
  Run r = Caretaker("maint stop db3", config);
  sb.Sql(sb.replicas()[2], "START SLAVE SQL_THREAD");
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("replication: gave up after 2") && Catch::Contains("SQL thread No") &&
                        Catch::Contains("db3 stays out of traffic"));
  CHECK(AdminStates("db3") == kMaint);
  CHECK_THAT(Caretaker("maint list").out, Catch::Contains("db3"));
  // Once the thread runs again, the same command puts it back.
  Run again = Caretaker("maint stop db3");
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(AdminStates("db3") == kReady);
}

// pt-heartbeat's table on the primary, replicated everywhere.
void WriteHeartbeat(const std::string& ts) {
  auto& sb = MaintSandbox();
  sb.Sql(sb.primary(),
         "CREATE DATABASE IF NOT EXISTS maint_test; CREATE TABLE IF NOT EXISTS maint_test.heartbeat(ts "
         "varchar(26) NOT NULL, server_id int unsigned NOT NULL PRIMARY KEY, file varchar(255), position bigint "
         "unsigned, relay_master_log_file varchar(255), exec_master_log_pos bigint unsigned); "
         "REPLACE INTO maint_test.heartbeat(ts, server_id) VALUES ('" + ts + "', " +
             std::to_string(sb.primary().server_id) + ")");
}

// Holds db4 back: its last applied heartbeat 30 s old, the next one applied
// an hour late (MASTER_DELAY) while both threads run. A config whose catch-up
// gate waits at most `catch_up_timeout` for a lag of 1 s.
std::string HoldBackDb4(const std::string& name, const std::string& catch_up_timeout) {
  auto& sb = MaintSandbox();
  const auto& db4 = sb.replicas()[3];
  std::string now = sb.Sql(sb.primary(),
                           "SELECT DATE_FORMAT(UTC_TIMESTAMP(6) - INTERVAL 30 SECOND, '%Y-%m-%dT%H:%i:%s.%f')");
  now = now.substr(0, 26);
  WriteHeartbeat(now);
  auto until = std::chrono::steady_clock::now() + 10s;
  auto replicated = [&] {
    try {
      return sb.Sql(db4, "SELECT ts FROM maint_test.heartbeat").substr(0, 26) == now;
    } catch (const std::exception&) {
      return false;  // the table has not reached db4 yet
    }
  };
  while (!replicated()) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(50ms);
  }
  sb.Sql(db4, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 3600; START SLAVE");
  WriteHeartbeat("2099-01-01T00:00:00.000000");  // held back on db4 by the delay
  return PoolVariant(name, "\n[pools.gates]\nmax_lag = \"1s\"\ncatch_up_timeout = \"" + catch_up_timeout +
                               "\"\nheartbeat_table = \"maint_test.heartbeat\"\nheartbeat_server_id = " +
                               std::to_string(sb.primary().server_id) + "\n");
}

// db4 applies at once again (it catches up within a second or two).
void LetDb4CatchUp() {
  auto& sb = MaintSandbox();
  sb.Sql(sb.replicas()[3], "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
}

TEST_CASE("an artificially lagging replica is not put back; the gate says how far behind", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  REQUIRE(Caretaker("maint start db4 --reason test").exit_code == 0);
  std::string config = HoldBackDb4("lagging.toml", "3s");
  Run r = Caretaker("maint stop db4", config);
  LetDb4CatchUp();
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("catch-up: gave up after 3") && Catch::Contains(": lag 3") &&
                        Catch::Contains(", max_lag 1s") &&
                        Catch::Contains("db4 stays out of traffic"));
  CHECK(AdminStates("db4") == kMaint);
  sb.Sql(sb.primary(), "DROP DATABASE maint_test");
  Run again = Caretaker("maint stop db4");
  INFO(again.err);
  CHECK(again.exit_code == 0);
}

bool Running(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == 0; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("Ctrl-C in maint stop's gates lets them finish; a second Ctrl-C stops and the host stays out", "[maint]") {
  // given: db4 in maintenance and held back, so its catch-up gate waits (up
  // to 60 s); `maint stop db4` interrupted while it waits. expect: the gate
  // goes on waiting after the first signal; once db4 catches up it is put
  // back (exit 0). A second signal instead ends it within seconds: exit 1,
  // db4 still in MAINT with its record, said so.
  Reset();
  auto& sb = MaintSandbox();
  REQUIRE(Caretaker("maint start db4 --reason test").exit_code == 0);
  std::string config = HoldBackDb4("held-back.toml", "60s");
  Spawned stop = SpawnCaretaker(sb, "maint stop db4", config);
  auto until = std::chrono::steady_clock::now() + 20s;
  while (ReadAll(stop.err_path).find("gate replication passed") == std::string::npos) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(50ms);
  }
  kill(stop.pid, SIGINT);
  std::this_thread::sleep_for(1500ms);
  REQUIRE(Running(stop.pid));  // still in its catch-up gate
  CHECK(AdminStates("db4") == kMaint);
  SECTION("once: the gates finish and db4 is back") {
    LetDb4CatchUp();
    Run r = Finish(stop);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("! interrupted: a member draining goes back READY, one in its gates finishes "
                                      "them") &&
                          Catch::Contains("gate catch-up passed"));
    CHECK_THAT(r.out, Catch::Contains("db4 is back in service"));
    CHECK(AdminStates("db4") == kReady);
    CHECK_THAT(Caretaker("maint list").out, Catch::Contains("no hosts in maintenance"));
  }
  SECTION("twice: it stops where it is, db4 stays out with its record") {
    const auto second = std::chrono::steady_clock::now();
    kill(stop.pid, SIGINT);
    Run r = Finish(stop);
    LetDb4CatchUp();
    INFO(r.err);
    CHECK(std::chrono::steady_clock::now() - second < 5s);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("! aborting: members stay where they are") &&
                          Catch::Contains("db4 stays out of traffic"));
    CHECK(AdminStates("db4") == kMaint);
    CHECK_THAT(Caretaker("maint list").out, Catch::Contains("db4"));
    sb.Sql(sb.primary(), "DROP DATABASE maint_test");
    Run again = Caretaker("maint stop db4");
    INFO(again.err);
    CHECK(again.exit_code == 0);
  }
  sb.Sql(sb.primary(), "DROP DATABASE IF EXISTS maint_test");
}

TEST_CASE("with gtid_wait, maint stop waits for the primary's position; a replica held back fails it", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  const auto& db4 = sb.replicas()[3];
  std::string config = PoolVariant("gtid.toml", "\n[pools.gates]\ngtid_wait = true\ncatch_up_timeout = \"2s\"\n");
  REQUIRE(Caretaker("maint start db4 --reason gtid", config).exit_code == 0);
  sb.Sql(sb.primary(), "CREATE DATABASE IF NOT EXISTS maint_gtid");  // a position to wait for
  Run ok = Caretaker("maint stop db4", config);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.err, Catch::Contains("gate catch-up passed in"));

  // Given db4 applying an hour late, the primary's next write is never reached in time.
  REQUIRE(Caretaker("maint start db4 --reason gtid", config).exit_code == 0);
  sb.Sql(db4, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 3600; START SLAVE");
  sb.Sql(sb.primary(), "DROP DATABASE maint_gtid");
  Run late = Caretaker("maint stop db4", config);
  sb.Sql(db4, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
  INFO(late.err);
  CHECK(late.exit_code == 1);
  CHECK_THAT(late.err, Catch::Contains("catch-up: gave up after 2") &&
                           Catch::Contains("the primary's GTID position was not reached") &&
                           Catch::Contains("db4 stays out of traffic"));
  CHECK(AdminStates("db4") == kMaint);
  Run again = Caretaker("maint stop db4", config);
  INFO(again.err);
  CHECK(again.exit_code == 0);
}

TEST_CASE("maint stop of a host drained by hand records it first, so a failed gate leaves a record", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  for (size_t i = 0; i < sb.haproxies().size(); ++i) sb.HaproxyCommand(i, "set server replicas/db2 state drain");
  sb.Sql(sb.replicas()[1], "STOP SLAVE SQL_THREAD");
  std::string config = PoolVariant("byhand.toml", "\n[pools.gates]\nmysql_timeout = \"1s\"\n");
  Run r = Caretaker("maint stop db2", config);
  sb.Sql(sb.replicas()[1], "START SLAVE SQL_THREAD");
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("has no maintenance record but is out of traffic") &&
                        Catch::Contains("db2 stays out of traffic; its maintenance record stays"));
  CHECK_THAT(Caretaker("maint list --json").out,
             Catch::Contains("\"server\":\"db2\"") &&
                 Catch::Contains("maint stop of a server found out of traffic without a record"));
  Run again = Caretaker("maint stop db2");
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(AdminStates("db2") == kReady);
  CHECK_THAT(Caretaker("maint list").out, Catch::Contains("no hosts in maintenance"));
}

TEST_CASE("one maint command per member at a time", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  AppSession app = OpenAppSession();  // holds the drain of its server
  Spawned first = SpawnCaretaker(sb, "maint start " + app.server + " --reason first");
  auto until = std::chrono::steady_clock::now() + 10s;
  while (AdminStates(app.server) != std::vector<std::string>{"8", "8"} && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  Run second = Caretaker("maint stop " + app.server);
  CHECK(second.exit_code == 3);
  CHECK_THAT(second.err, Catch::Contains("another caretaker command holds"));
  kill(first.pid, SIGINT);
  Run r = Finish(first);
  CHECK(r.exit_code == 1);
  CHECK(AdminStates(app.server) == kReady);
}

TEST_CASE("with a floor of 3 of 4, taking a second replica out is refused and nothing changes", "[maint]") {
  Reset();
  std::string config = PoolVariant("floor3.toml", "min_in_service = 3\nmax_out = 2\n");
  REQUIRE(Caretaker("maint start db1 --reason first", config).exit_code == 0);
  std::string before = AllStates();
  Run r = Caretaker("maint start db2 --reason second", config);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("refusing to take db2 out: pool replicas: 3 of 4 in service, floor is 3") &&
                        Catch::Contains("nothing was changed"));
  CHECK(AllStates() == before);
  CHECK(AdminStates("db2") == kReady);
  Run list = Caretaker("maint list --json", config);
  CHECK_THAT(list.out, !Catch::Contains("\"server\":\"db2\""));
  CHECK(Caretaker("maint stop db1", config).exit_code == 0);
}

TEST_CASE("an open session holds the drain until the deadline: restored without --force-sessions", "[maint]") {
  Reset();
  AppSession app = OpenAppSession();
  std::string config = PoolVariant("deadline.toml", "\n[pools.drain]\ndeadline = \"1s\"\n");
  Run r = Caretaker("maint start " + app.server + " --reason test", config);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("1 session still open (lb1 1, lb2 0) after the drain deadline of 1s") &&
                        Catch::Contains("--force-sessions") &&
                        Catch::Contains(app.server + " is back READY on lb1, lb2"));
  CHECK(AdminStates(app.server) == kReady);
  CHECK_THAT(Caretaker("maint list").out, Catch::Contains("no hosts in maintenance"));
  CHECK(app.connection.Query("SELECT 1"));  // the application never noticed

  // With --force-sessions the session is shut down and the host goes to MAINT.
  Run forced = Caretaker("maint start " + app.server + " --reason test --force-sessions", config);
  INFO(forced.err);
  CHECK(forced.exit_code == 0);
  CHECK_THAT(forced.out, Catch::Contains("(1 session shut down)"));
  CHECK(AdminStates(app.server) == kMaint);
  CHECK_FALSE(app.connection.Query("SELECT 1"));
  CHECK(Caretaker("maint stop " + app.server).exit_code == 0);
}

TEST_CASE("Ctrl-C while draining restores the host", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  AppSession app = OpenAppSession();
  Spawned start = SpawnCaretaker(sb, "maint start " + app.server + " --reason test");
  // Wait until the drain is in place on both instances, then interrupt.
  auto until = std::chrono::steady_clock::now() + 10s;
  while (AdminStates(app.server) != std::vector<std::string>{"8", "8"} && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(AdminStates(app.server) == std::vector<std::string>{"8", "8"});
  kill(start.pid, SIGINT);
  Run r = Finish(start);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("stopped while draining (interrupted)") &&
                        Catch::Contains(app.server + " is back READY on lb1, lb2"));
  CHECK(AdminStates(app.server) == kReady);
  CHECK_THAT(Caretaker("maint list").out, Catch::Contains("no hosts in maintenance"));
}

TEST_CASE("a wrong MySQL password or a missing privilege stops maint start before HAProxy is touched", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  std::string before = AllStates();
  std::string wrong = WriteFileIn(sb, "wrong.pass", "not-the-password\n");
  chmod(wrong.c_str(), 0600);
  std::string wrong_config =
      WriteFileIn(sb, "wrong-pass.toml", Replaced(ConfigText(sb), sb.password_file(), wrong));
  Run r = Caretaker("maint start db1 --reason test", wrong_config);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("Access denied") || Catch::Contains("access denied"));
  CHECK_THAT(r.err, Catch::Contains("nothing was changed"));
  CHECK(AllStates() == before);

  std::string nopriv = WriteFileIn(sb, "nopriv.toml", Replaced(ConfigText(sb), "user = \"caretaker\"",
                                                                "user = \"caretaker_nopriv\""));
  Run p = Caretaker("maint start db1 --reason test", nopriv);
  CHECK(p.exit_code == 2);
  CHECK_THAT(p.err, Catch::Contains("REPLICA MONITOR"));
  CHECK(AllStates() == before);
  CHECK_THAT(Caretaker("maint list").out, Catch::Contains("no hosts in maintenance"));
}

TEST_CASE("a stats socket without level admin is refused before any change", "[maint]") {
  Reset();
  auto& sb = MaintSandbox();
  const auto& lb1 = sb.haproxies()[0];
  std::string before = AllStates();
  std::string config = WriteFileIn(sb, "operator.toml",
                                   Replaced(ConfigText(sb), lb1.admin_socket, lb1.operator_socket));
  Run r = Caretaker("maint start db1 --reason test", config);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("lb1") && Catch::Contains("level operator") && Catch::Contains("level admin"));
  CHECK(AllStates() == before);
}

// The sandbox's config with the pool on another backend of the same servers,
// plus `gates` TOML for its [pools.gates].
std::string OnBackend(const std::string& name, const std::string& backend, const std::string& gates) {
  std::string text = Replaced(ConfigText(MaintSandbox()), "backend = \"replicas\"\n", "backend = \"" + backend + "\"\n");
  if (!gates.empty()) text = Replaced(text, "\n[[pools.members]]", "\n[pools.gates]\n" + gates + "\n[[pools.members]]");
  return WriteFileIn(MaintSandbox(), name, text);
}

TEST_CASE("a weight ramp steps the weight up after READY", "[maint]") {
  Reset();
  std::string ramp = "weight_ramp = [\"20%\", \"60%\", \"100%\"]\nramp_hold = \"200ms\"\n";
  std::string config = OnBackend("ramp.toml", "replicas_weighted", ramp);
  REQUIRE(Caretaker("maint start db1 --reason ramp", config).exit_code == 0);
  Run r = Caretaker("maint stop db1", config);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("db1: weight 60%") && Catch::Contains("db1: weight 100%"));
  CHECK(AdminStates("db1", "replicas_weighted") == kReady);
  CHECK_THAT(MaintSandbox().HaproxyCommand(0, "get weight replicas_weighted/db1"), Catch::StartsWith("100 (initial 100)"));

  // Given servers of weight 1, 20% is 0: a config that could not put it
  // back does not take it out; one taken out with another config is refused
  // before the gates, and stays out.
  std::string tiny = OnBackend("ramp-tiny.toml", "replicas", ramp);
  Run refused = Caretaker("maint start db1 --reason ramp", tiny);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("initial weight on lb1 is 1: HAProxy rounds that down to 0"));
  CHECK(AdminStates("db1") == kReady);
  REQUIRE(Caretaker("maint start db1 --reason ramp").exit_code == 0);
  Run t = Caretaker("maint stop db1", tiny);
  CHECK(t.exit_code == 2);
  CHECK_THAT(t.err, Catch::Contains("initial weight on lb1 is 1: HAProxy rounds that down to 0"));
  CHECK(AdminStates("db1") == kMaint);
  CHECK(Caretaker("maint stop db1").exit_code == 0);
}

TEST_CASE("a weight ramp on a static balance algorithm is refused clearly", "[maint]") {
  Reset();
  std::string ramp = "weight_ramp = [\"50%\", \"100%\"]\n";
  std::string config = OnBackend("static.toml", "replicas_static", ramp);
  REQUIRE(Caretaker("maint start db1 --reason static", config).exit_code == 0);
  Run s = Caretaker("maint stop db1", config);
  CHECK(s.exit_code == 2);
  CHECK_THAT(s.err, Catch::Contains("backend replicas_static uses a static balance algorithm") &&
                        Catch::Contains("remove its gates.weight_ramp"));
  CHECK(AdminStates("db1", "replicas_static") == kMaint);
  Run back = Caretaker("maint stop db1", OnBackend("static-noramp.toml", "replicas_static", ""));
  INFO(back.err);
  CHECK(back.exit_code == 0);
  CHECK(AdminStates("db1", "replicas_static") == kReady);
}

}  // namespace
}  // namespace caretaker
