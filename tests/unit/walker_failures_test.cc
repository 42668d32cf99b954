// How a walk fails, stops, is interrupted and aborted: the exact commands the
// load balancer received, and where each member ended.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "src/walk/walker.h"
#include "tests/unit/walker_fixture.h"
#include "tests/unit/walker_world.h"

namespace caretaker {
namespace {

using namespace walker_testing;

const std::vector<std::string> kTwoIntoSteps = {
    "journal db1 draining", Set("db1", "state drain"), "journal db2 draining", Set("db2", "state drain"),
    "journal db1 maint",    Set("db1", "state maint"), "journal db2 maint",    Set("db2", "state maint"),
    "journal db1 steps",    "step db1 upgrade",        "journal db2 steps",    "step db2 upgrade"};

TEST_CASE("an instance dead mid-walk: each fact said once, naming the instance and what each holds", "[walker]") {
  // given: db1's READY and then its MAINT fail the same way on lb2 (dead);
  // expect: one FAILED line that says the cause once ("the same error" the
  // second time) with what each instance holds now; the stop refers to it in
  // a few words.
  World world(Pool());
  const std::string dead = "haproxy lb2 (tcp:10.0.0.2:9999): cannot connect: Connection refused";
  world.FailNext(Set("db1", "state ready"), dead + " (now: lb1 READY, lb2 cannot be read)");
  world.On(Set("db1", "state ready"),
           [&] { world.FailNext(Set("db1", "state maint"), dead + " (now: lb1 MAINT, lb2 cannot be read)"); });
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  std::vector<std::string> lines;
  for (const WalkEvent& e : world.events) {
    if (e.text.find(dead) != std::string::npos) lines.push_back(e.server + ": " + e.text);
  }
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "db1: FAILED: setting READY failed: " + dead +
                        " (now: lb1 READY, lb2 cannot be read); SETTING IT BACK TO MAINT FAILED, IT MAY BE IN TRAFFIC "
                        "UNHEALTHY: the same error (now: lb1 MAINT, lb2 cannot be read); it stays out of traffic "
                        "(record kept)");
  CHECK(walker.stop_reason() == "db1 failed");
  CHECK(world.HasEvent("", "stopping: db1 failed"));
}

}  // namespace

TEST_CASE("a failed drain command puts the member back READY and stops the walk", "[walker]") {
  // given: "set server ... state drain" fails for db1; expect: READY sent
  // back (the drain may have reached some instances), the record removed,
  // db1 failed but in traffic, nothing else drained.
  World world(Pool());
  world.FailNext(Set("db1", "state drain"), "lb2: Permission denied");
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db1 draining", Set("db1", "state drain"),
                                                   Set("db1", "state ready"), "release db1"});
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.restored);
  CHECK_FALSE(db1.out_of_traffic);
  CHECK(db1.detail == "the drain failed: lb2: Permission denied; back READY");
  // Said in full once, on db1's own line; the walk's lines refer to it.
  CHECK(walker.stop_reason() == "db1 failed");
  CheckOthersPending(walker, {"db1"});
}

TEST_CASE("sessions still open at the drain deadline: the member goes back READY and the walk stops", "[walker]") {
  // given: db1 keeps 12 sessions for good, drain deadline 2m, no
  // force_sessions; expect: READY again at 2m, nothing else drained.
  World world(Pool());
  world["db1"].sessions = 12;
  world["db1"].sessions_linger = std::nullopt;
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db1 draining", Set("db1", "state drain"),
                                                   Set("db1", "state ready"), "release db1"});
  CHECK(world.TimeOf(Set("db1", "state ready")) == t0 + 2min);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.restored);
  CHECK(db1.detail == "12 sessions still open after the drain deadline of 2m; use --force-sessions to end them, or "
                      "a longer [drain] deadline; back READY");
  CheckOthersPending(walker, {"db1"});
  CHECK(world["db1"].admin == Admin::kReady);
}

TEST_CASE("sessions are waited for, with force_sessions those left at the deadline are shut down", "[walker]") {
  // given: force_sessions; db1 keeps 12 sessions for good, db2's 3 end 30s
  // after the drain; expect: db1's sessions shut down at 2m, then MAINT and
  // its task; db2 in MAINT 30s after its drain; the walk goes on.
  WalkSpec spec = Spec();
  spec.force_sessions = true;
  World world(Pool());
  world["db1"].sessions = 12;
  world["db1"].sessions_linger = std::nullopt;
  world["db2"].sessions = 3;
  world["db2"].sessions_linger = 30s;
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  std::vector<std::string> db1 = Walked("db1");
  db1.insert(db1.begin() + 2, "shutdown sessions server replicas/db1");
  CHECK(world.commands == Cat({db1, Walked("db2"), Walked("db3"), Walked("db4")}));
  CHECK(world.TimeOf("shutdown sessions server replicas/db1") == t0 + 2min);
  CHECK(world.HasEvent("db1", "12 sessions still open after the drain deadline of 2m; shutting them down"));
  CHECK(*world.TimeOf(Set("db2", "state maint")) - *world.TimeOf(Set("db2", "state drain")) == 30s);
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("a drain undone behind the walk's back puts the member back READY and stops the walk", "[walker]") {
  // given: right after db1's DRAIN, something (an agent check answering
  // "ready") sets it READY again; expect: the walker sees it at its next
  // count, sets READY itself, removes the record, and stops.
  World world(Pool());
  Walker walker(Spec(), t0);
  world.On(Set("db1", "state drain"), [&] { world["db1"].admin = Admin::kReady; });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db1 draining", Set("db1", "state drain"),
                                                   Set("db1", "state ready"), "release db1"});
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.detail == "the drain was undone on some instance (an agent check answering \"ready\"?): "
                      "lb1 UP READY; back READY");
  CheckOthersPending(walker, {"db1"});
}

TEST_CASE("a member whose sessions were shut down as the walk stopped goes back READY", "[walker]") {
  // given: max_out 2, force_sessions; db1 and db2 keep their sessions past
  // the drain deadline; shutting db1's down fails, which stops the walk, and
  // db2's succeeds just after; expect: both put back READY (db2 was still
  // draining when the walk stopped), neither set to MAINT.
  WalkSpec spec = Spec(2);
  spec.force_sessions = true;
  World world(Pool());
  for (const char* s : {"db1", "db2"}) {
    world[s].sessions = 4;
    world[s].sessions_linger = std::nullopt;
  }
  world.FailNext("shutdown sessions server replicas/db1", "lb2: Connection refused");
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{
                              "journal db1 draining", Set("db1", "state drain"), "journal db2 draining",
                              Set("db2", "state drain"), "shutdown sessions server replicas/db1",
                              "shutdown sessions server replicas/db2", Set("db1", "state ready"),
                              Set("db2", "state ready"), "release db1", "release db2"});
  CHECK(StatusOf(walker, "db1").detail == "shutting its sessions down failed: lb2: Connection refused; back READY");
  const HostStatus& db2 = StatusOf(walker, "db2");
  CHECK(db2.phase == HostPhase::kStopped);
  CHECK(db2.restored);
  CHECK(db2.detail == "stopped while draining (db1 failed); back READY");
  CheckOthersPending(walker, {"db1", "db2"});
}

TEST_CASE("a failed MAINT leaves the member drained, out of traffic, and stops the walk", "[walker]") {
  // given: "state maint" fails for db1; expect: db1 failed, left in DRAIN
  // with its record; nothing else drained.
  World world(Pool());
  world.FailNext(Set("db1", "state maint"), "lb1: Permission denied");
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db1 draining", Set("db1", "state drain"),
                                                   "journal db1 maint", Set("db1", "state maint")});
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK(db1.detail == "drained, but MAINT failed: lb1: Permission denied");
  CHECK(world["db1"].admin == Admin::kDrain);
  CheckOthersPending(walker, {"db1"});
}

TEST_CASE("a failed step leaves the member in MAINT, names the step and its output, starts no other", "[walker]") {
  // given: db1's second step fails; expect: no gate, no READY; db1 failed in
  // MAINT; the reason quotes the step and what it printed.
  World world(Pool());
  world.Step("db1", 1, {false, "E: Sub-process /usr/bin/dpkg returned an error code (1)", 3s});
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({IntoSteps("db1"), {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart"}}));
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK(db1.detail == "step 2/2 \"restart\" failed: E: Sub-process /usr/bin/dpkg returned an error code (1)");
  CHECK(walker.stop_reason() == "db1 failed");
  CHECK(world.probes.empty());
  CHECK(world["db1"].admin == Admin::kMaint);
  CheckOthersPending(walker, {"db1"});
}

TEST_CASE("a step that fails and then succeeds on its retry", "[walker]") {
  // given: "upgrade" has 1 retry after 5s; its first run on db1 fails after
  // 3s; expect: attempt 2 at 8s, then the walk as usual.
  WalkSpec spec = Spec();
  spec.steps[0].retries = 1;
  spec.steps[0].retry_delay = 5s;
  World world(Pool());
  world.Step("db1", 0, {false, "E: Could not get lock /var/lib/dpkg/lock", 3s});
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const std::vector<std::string> db1 = Cat({
      IntoSteps("db1"),
      {"journal db1 steps", "step db1 upgrade (attempt 2)", "journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart", "journal db1 maint, next step 3", "journal db1 gates", "journal db1 enabling", Set("db1", "state ready"),
       "release db1"},
  });
  CHECK(world.commands == Cat({db1, Walked("db2"), Walked("db3"), Walked("db4")}));
  CHECK(world.TimeOf("step db1 upgrade (attempt 2)") == t0 + 8s);
  CHECK(world.HasEvent("db1", "step 1/2 \"upgrade\" failed (E: Could not get lock /var/lib/dpkg/lock); "
                              "retrying in 5s"));
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("a replication thread stopped on an error fails the gates: the member stays out", "[walker]") {
  // given: after its task, db1's SQL thread stops on a duplicate key;
  // expect: one probe, no READY, db1 failed in MAINT with the error.
  World world(Pool());
  world["db1"].break_replication = "Error 'Duplicate entry '42' for key 'PRIMARY'' on query";
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({IntoSteps("db1"), {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart", "journal db1 maint, next step 3",
                               "journal db1 gates"}}));
  CHECK(world.probes["db1"] == 1);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK(db1.detail == "gate replication: the SQL thread stopped on an error: "
                      "Error 'Duplicate entry '42' for key 'PRIMARY'' on query");
  CheckOthersPending(walker, {"db1"});
}

TEST_CASE("a failed READY sets the member back to MAINT", "[walker]") {
  // given: "state ready" fails for db1; expect: MAINT again (recorded first,
  // its record saying every step is done: a retry goes to the gates), db1
  // failed out of traffic, the walk stops.
  World world(Pool());
  world.FailNext(Set("db1", "state ready"), "lb2: Permission denied");
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({IntoSteps("db1"),
                               {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart", "journal db1 maint, next step 3", "journal db1 gates", "journal db1 enabling", Set("db1", "state ready"),
                                "journal db1 maint, next step 3", Set("db1", "state maint")}}));
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK(db1.detail == "setting READY failed: lb2: Permission denied; set back to MAINT");
  CheckOthersPending(walker, {"db1"});
}

TEST_CASE("a member HAProxy never reports UP within enable_timeout is set back to MAINT", "[walker]") {
  // given: db1's checks never pass after READY, enable_timeout 30s; expect:
  // MAINT again 30s after READY, db1 failed out of traffic.
  World world(Pool());
  world["db1"].stay_down = true;
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({IntoSteps("db1"),
                               {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart", "journal db1 maint, next step 3", "journal db1 gates", "journal db1 enabling", Set("db1", "state ready"),
                                "journal db1 maint, next step 3", Set("db1", "state maint")}}));
  CHECK(world.TimeOf(Set("db1", "state maint")) == t0);
  CHECK(world.command_times.back() == t0 + 20s + 30s);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.detail == "HAProxy did not report it UP within 30s (lb1 DOWN READY); set back to MAINT");
  CHECK(world["db1"].admin == Admin::kMaint);
}

TEST_CASE("with max_out 2 the first failure stops the walk: the other member ends its step and stops", "[walker]") {
  // given: db1 and db2 start together; db1's first step fails at 5s while
  // db2's runs until 10s; expect: db2 finishes that step and stops there, in
  // MAINT; db3 and db4 never start.
  World world(Pool());
  world.Step("db1", 0, {false, "E: disk full", 5s});
  Walker walker(Spec(2), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({kTwoIntoSteps, {"journal db2 maint, next step 2"}}));  // its retry starts at step 2
  CHECK(world.now == t0 + 10s);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kFailed);
  const HostStatus& db2 = StatusOf(walker, "db2");
  CHECK(db2.phase == HostPhase::kStopped);
  CHECK(db2.out_of_traffic);
  CHECK(db2.detail == "stopped after step 1/2 \"upgrade\" (db1 failed)");
  CHECK(world["db2"].admin == Admin::kMaint);
  CheckOthersPending(walker, {"db1", "db2"});
}

TEST_CASE("the first failure stops a member waiting to retry its step", "[walker]") {
  // given: max_out 2; db2's first step fails at 10s and waits 30s for its
  // retry; db1's second step fails at 20s; expect: no retry, db2 stopped.
  WalkSpec spec = Spec(2);
  spec.steps[0].retries = 1;
  spec.steps[0].retry_delay = 30s;
  World world(Pool());
  world.Step("db2", 0, {false, "E: mirror unreachable", 10s});
  world.Step("db1", 1, {false, "mariadb.service: start timed out", 10s});
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands ==
        Cat({kTwoIntoSteps, {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart"}}));
  const HostStatus& db2 = StatusOf(walker, "db2");
  CHECK(db2.phase == HostPhase::kStopped);
  CHECK(db2.detail == "stopped before retrying step 1/2 \"upgrade\" (db1 failed)");
  CHECK(world.now == t0 + 20s);
}

TEST_CASE("a driver delivering results in a batch: the first failure stops a member before its next step",
          "[walker]") {
  // given: max_out 2; db2's first step ends well at 11s, and db1's fails at
  // 11s too (db1 drained 1s later); the driver reports both before asking
  // Next(); expect: db2 stops in MAINT before its second step, said so.
  World world(Pool());
  world.batch = true;
  world["db1"].sessions = 2;
  world["db1"].sessions_linger = 1s;
  world.Step("db1", 0, {false, "E: disk full", 10s});
  world.Step("db2", 0, {true, "ok", 11s});
  Walker walker(Spec(2), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db1 draining", Set("db1", "state drain"),
                                                   "journal db2 draining", Set("db2", "state drain"),
                                                   "journal db2 maint", Set("db2", "state maint"),
                                                   "journal db2 steps", "step db2 upgrade",
                                                   "journal db1 maint", Set("db1", "state maint"),
                                                   "journal db1 steps", "step db1 upgrade",
                                                   "journal db2 maint, next step 2"});
  const HostStatus& db2 = StatusOf(walker, "db2");
  CHECK(db2.phase == HostPhase::kStopped);
  CHECK(db2.detail == "stopped after step 1/2 \"upgrade\" (db1 failed)");
  CHECK(world.now == t0 + 11s);
}

TEST_CASE("max_failures 2 lets the walk go on after one failure", "[walker]") {
  // given: max_out 2, max_failures 2; db1's first step fails; expect: db2
  // finishes, then db3 and db4 one at a time (db1 stays out and keeps its
  // share of the budget); the walk does not stop.
  WalkSpec spec = Spec(2);
  spec.max_failures = 2;
  World world(Pool());
  world.Step("db1", 0, {false, "E: disk full", 5s});
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const std::vector<std::string> db2 = {"journal db2 maint, next step 2", "journal db2 steps, step 2", "step db2 restart", "journal db2 maint, next step 3", "journal db2 gates", "journal db2 enabling", Set("db2", "state ready"),
                                        "release db2"};
  CHECK(world.commands == Cat({kTwoIntoSteps, db2, Walked("db3"), Walked("db4")}));
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kFailed);
  for (const char* s : {"db2", "db3", "db4"}) CHECK(StatusOf(walker, s).phase == HostPhase::kDone);
  CHECK(walker.stop_reason().empty());
  CHECK(world["db1"].admin == Admin::kMaint);
}

TEST_CASE("Interrupt(): the draining member goes back READY, the one in its steps finishes, none starts", "[walker]") {
  // given: max_out 2; db1 keeps its sessions, so it is still draining when
  // db2 starts its first step, and then Ctrl-C; expect: db1 READY again at
  // its next count, db2 runs its whole task and comes back; db3 and db4
  // never start.
  World world(Pool());
  world["db1"].sessions = 5;
  world["db1"].sessions_linger = std::nullopt;
  Walker walker(Spec(2), t0);
  world.On("step db2 upgrade", [&] { walker.Interrupt(world.now); });
  REQUIRE_FINISHED(world, walker);
  const std::vector<std::string> expected = {
      "journal db1 draining", Set("db1", "state drain"), "journal db2 draining", Set("db2", "state drain"),
      "journal db2 maint",    Set("db2", "state maint"), "journal db2 steps",    "step db2 upgrade",
      Set("db1", "state ready"), "release db1",
      "journal db2 maint, next step 2", "journal db2 steps, step 2", "step db2 restart",
      "journal db2 maint, next step 3", "journal db2 gates", "journal db2 enabling", Set("db2", "state ready"),
      "release db2"};
  CHECK(world.commands == expected);
  CHECK(world.TimeOf(Set("db1", "state ready")) == t0 + 1s);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kStopped);
  CHECK(db1.restored);
  CHECK_FALSE(db1.out_of_traffic);
  CHECK(StatusOf(walker, "db2").phase == HostPhase::kDone);
  CHECK(walker.stop_reason() == "interrupted; members out of traffic finish their task, draining ones go back");
  CheckOthersPending(walker, {"db1", "db2"});
}

TEST_CASE("Interrupt() during a weight ramp goes to full weight at once", "[walker]") {
  // given: weight_ramp {10, 50, 100} with 30s holds; Ctrl-C 5s after db1 is
  // UP at 10%; expect: 100% at once, then db1 done. (Only db1 is walked: a
  // member at 10% is in service, the next one could start meanwhile.)
  WalkSpec spec = Spec();
  spec.members = {"db1"};
  spec.gates.weight_ramp = {10, 50, 100};
  World world(Pool());
  Walker walker(spec, t0);
  world.At(t0 + 27s, [&] { walker.Interrupt(world.now); });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({IntoSteps("db1"),
                               {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart",
                                "journal db1 maint, next step 3", "journal db1 gates", Set("db1", "weight 10%"),
                                "journal db1 enabling", Set("db1", "state ready"), Set("db1", "weight 100%"),
                                "release db1"}}));
  CHECK(world.TimeOf(Set("db1", "weight 100%")) == t0 + 27s);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kDone);
}

TEST_CASE("Abort(): nothing more is sent, members stay where they are", "[walker]") {
  // given: as for Interrupt(), but a second Ctrl-C; expect: no server
  // command after it (db2's step, which ends well, still gets its record);
  // db1 left in DRAIN and db2 (after its step) in MAINT, both stopped out of
  // traffic with their records.
  World world(Pool());
  world["db1"].sessions = 5;
  world["db1"].sessions_linger = std::nullopt;
  Walker walker(Spec(2), t0);
  world.On("step db2 upgrade", [&] {
    walker.Interrupt(world.now);
    walker.Abort(world.now);
  });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db1 draining", Set("db1", "state drain"),
                                                   "journal db2 draining", Set("db2", "state drain"),
                                                   "journal db2 maint", Set("db2", "state maint"),
                                                   "journal db2 steps", "step db2 upgrade",
                                                   "journal db2 maint, next step 2"});
  CHECK(world.now == t0 + 10s);  // db2's step ran to its end
  for (const char* server : {"db1", "db2"}) {
    const HostStatus& s = StatusOf(walker, server);
    CHECK(s.phase == HostPhase::kStopped);
    CHECK(s.out_of_traffic);
  }
  CHECK(world["db1"].admin == Admin::kDrain);
  CHECK(world["db2"].admin == Admin::kMaint);
  CHECK(walker.stop_reason() == "aborted; members out of traffic stay where they are");
  CheckOthersPending(walker, {"db1", "db2"});
}

TEST_CASE("Abort() once READY was sent: the member is in traffic, not reported out", "[walker]") {
  // given: Ctrl-C twice while db1's READY is in flight, or 500ms later while
  // HAProxy has not reported it UP yet; expect: nothing more sent, db1
  // stopped with its record, but READY: not out of traffic.
  for (Millis after : {Millis(0), Millis(500)}) {
    INFO("abort " << after.count() << "ms after READY");
    WalkSpec spec = Spec();
    spec.members = {"db1"};
    World world(Pool());
    Walker walker(spec, t0);
    world.On(Set("db1", "state ready"), [&] { world.At(world.now + after, [&] { walker.Abort(world.now); }); });
    REQUIRE_FINISHED(world, walker);
    CHECK(world.commands == Cat({IntoSteps("db1"), {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart", "journal db1 maint, next step 3", "journal db1 gates", "journal db1 enabling",
                                                     Set("db1", "state ready")}}));
    const HostStatus& db1 = StatusOf(walker, "db1");
    CHECK(db1.phase == HostPhase::kStopped);
    CHECK_FALSE(db1.out_of_traffic);
    CHECK(world.HasEvent("db1", "; it is READY, in traffic (record kept)"));
    CHECK(world["db1"].admin == Admin::kReady);
  }
}

}  // namespace caretaker

