// maint stop's gates on the real sandbox: a stopped SQL thread, a replica
// held back (MASTER_DELAY) against the heartbeat and GTID gates, and Ctrl-C
// while a gate waits.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/integration/cli_run.h"
#include "tests/integration/maint_fixture.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using namespace maint_fixture;

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

}  // namespace
}  // namespace caretaker
