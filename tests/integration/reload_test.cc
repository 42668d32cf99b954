// A member caretaker holds out stays out while it works on it (issue 13,
// item 5), on the walk tests' real sandbox under the load generator: an
// HAProxy instance reloaded the usual way (`-sf`, no server state saved)
// starts every server READY, and the walk sets its member back to MAINT at
// its next read, says which instance and why, and goes on.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/roll_fixture.h"
#include "tests/sandbox/load.h"

namespace caretaker {
namespace {

using Clock = std::chrono::steady_clock;

TEST_CASE("a reload mid-task sets the member READY on that instance; the walk sets MAINT again and goes on",
          "[roll][reload]") {
  // given: a roll of db1 through a 3 s step, the load generator on both
  // frontends; lb1 reloaded while the step runs. expect: db1 MAINT on lb1
  // again within about one read (probe_interval 200 ms) and well before the
  // step ends; the event names lb1 and the restart (pid changed); the roll
  // ends 1 of 1 done and its summary names the event.
  const std::string config = ConfigWith(
      "reload.toml", "[[tasks]]\nname = \"slow3\"\n  [[tasks.steps]]\n  name = \"work\"\n"
                     "  command = \"echo working on {server}; sleep 3\"\n");
  auto load = sandbox::Load::Start(RollSandbox(), sandbox::LoadOptions{});
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow3 --limit db1 --yes", config);
  // Under the sanitizers, with the load running, the drain can take longer than 10 s.
  const bool working = WaitForText(roll.err_path, "db1 | working on db1", std::chrono::seconds(60));
  REQUIRE(working);
  REQUIRE(AdminStates("db1") == "1 1");
  const auto reloaded = Clock::now();
  RollSandbox().ReloadHaproxy(0);
  // The new lb1 holds db1 READY until caretaker sets it back.
  const bool forgotten = AdminStates("db1") == "0 1";
  bool back = false;
  for (auto until = reloaded + std::chrono::seconds(3); !back && Clock::now() < until;) {
    back = AdminStates("db1") == "1 1";
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - reloaded);
  Run run = Finish(roll);
  sandbox::LoadReport report = load->Stop();
  INFO(run.out << run.err << report.Summary() << "\nback in MAINT on lb1 " << took.count() << " ms after the reload");
  REQUIRE(working);
  CHECK(forgotten);  // the reload really forgot it (else the test proves nothing)
  CHECK(back);
  // About one read (probe_interval 200 ms) and one command: far less than
  // the step's 3 s (measured: under 200 ms).
  CHECK(took < std::chrono::milliseconds(1500));
  for (const sandbox::KindCounts& k : report.kinds) CHECK(k.queries > 0);  // the load ran throughout
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("pool replicas: 1 of 1 done") != std::string::npos);
  const std::string said = "db1: lb1 had db1 READY after a restart of that HAProxy (pid ";
  CHECK(Find(run.err, said) < Find(run.err, "db1: step 1/1 \"work\": ok"));
  CHECK(run.err.find("db1: MAINT again on every instance") != std::string::npos);
  CHECK(run.out.find("      ! lb1 had db1 READY after a restart of that HAProxy (pid ") != std::string::npos);
  CHECK(AdminStates("db1") == "0 0");
  RollSandbox().WaitAllUp(std::chrono::seconds(10));
}

TEST_CASE("a person setting a held member READY is told apart from a restart, and undone", "[roll][reload]") {
  // given: as above, but `set server replicas/db1 state ready` on lb2 by
  // hand. expect: "with no restart of that HAProxy (the same process ...)",
  // MAINT again, the walk goes on.
  const std::string config = ConfigWith(
      "by-hand.toml", "[[tasks]]\nname = \"slow3\"\n  [[tasks.steps]]\n  name = \"work\"\n"
                      "  command = \"echo working on {server}; sleep 3\"\n");
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow3 --limit db2 --yes", config);
  const bool working = WaitForText(roll.err_path, "db2 | working on db2");
  RollSandbox().HaproxyCommand(1, "set server replicas/db2 state ready");
  Run run = Finish(roll);
  INFO(run.out << run.err);
  REQUIRE(working);
  CHECK(run.exit_code == 0);
  CHECK(run.err.find("db2: lb2 had db2 READY with no restart of that HAProxy (the same process, pid ") !=
        std::string::npos);
  CHECK(run.err.find("a person, an agent check or another tool set it; setting MAINT again") != std::string::npos);
  CHECK(AdminStates("db2") == "0 0");
}

TEST_CASE("maint stop: an instance reloaded during the gates gets MAINT again before the member goes back",
          "[roll][reload]") {
  // given: db3 held by `maint start`; `maint stop db3` with 15 catch-up
  // reads (3 s of gates); lb1 reloaded (forgetting db3's MAINT) once the
  // first gate passed. expect: said, MAINT again on lb1 while the gates
  // run, then db3 back in service on both; exit 0.
  const std::string config = WriteFileIn(
      RollSandbox(), "reload-maint.toml",
      Replaced(ConfigText(RollSandbox()), "catch_up_reads = 3", "catch_up_reads = 15"));
  REQUIRE(Caretaker("maint start db3 --reason reload-test", config).exit_code == 0);
  REQUIRE(AdminStates("db3") == "1 1");
  Spawned stop = SpawnCaretaker(RollSandbox(), "maint stop db3", config);
  const bool gating = WaitForText(stop.err_path, "gate replication passed in");
  RollSandbox().ReloadHaproxy(0);
  const bool forgotten = AdminStates("db3") == "0 1";
  bool back = false;
  for (auto until = Clock::now() + std::chrono::seconds(2); !back && Clock::now() < until;) {
    back = AdminStates("db3") == "1 1";
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Run run = Finish(stop);
  INFO(run.out << run.err);
  REQUIRE(gating);
  CHECK(forgotten);  // the reload really forgot it (else the test proves nothing)
  CHECK(back);       // MAINT again while the gates still ran
  CHECK(run.exit_code == 0);
  // The walk's own guard (maint stop is a walk of one member): it says why.
  CHECK(Find(run.err, "lb1 had db3 READY after a restart of that HAProxy") < Find(run.err, "gate catch-up passed in"));
  CHECK(run.err.find("; setting MAINT again") != std::string::npos);
  CHECK(run.err.find("MAINT again on every instance") != std::string::npos);
  CHECK(AdminStates("db3") == "0 0");
  RollSandbox().WaitAllUp(std::chrono::seconds(10));
}

}  // namespace
}  // namespace caretaker
