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
#include "tests/integration/maint_fixture.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using namespace maint_fixture;

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
