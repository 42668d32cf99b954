// What the walk does when something outside it touches a member it works
// on: an instance that shows a member held in MAINT as READY again (a
// reload, a person), an instance that cannot confirm MAINT, a caretaker
// command that holds a member's lock.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "src/walk/walker.h"
#include "tests/unit/walker_fixture.h"
#include "tests/unit/walker_world.h"

namespace caretaker {
namespace {

using namespace walker_testing;

const std::string kAgain = "set server replicas/db1 state maint (again)";

size_t EventsWith(const World& world, const std::string& text) {
  return static_cast<size_t>(std::count_if(world.events.begin(), world.events.end(),
                                           [&](const WalkEvent& e) { return e.text.find(text) != std::string::npos; }));
}

// The walk of db1 alone, its MAINT unconfirmed for at most 30s.
WalkSpec OnlyDb1() {
  WalkSpec spec = Spec();
  spec.members = {"db1"};
  spec.unconfirmed_deadline = 30s;
  return spec;
}

// Every kReassert fails: lb1 refuses commands but its reads still say READY.
void RefuseReasserts(World& world) {
  world.fault = [](const WalkAction& a, const std::string&) -> std::optional<std::string> {
    if (a.kind == WalkAction::Kind::kReassert) return "lb1: Connection refused";
    return std::nullopt;
  };
}

}  // namespace

TEST_CASE("a member whose lock a command holds for a moment is walked once it is free, not skipped", "[walker]") {
  // given: max_out 1; a `maint start db2` that is being refused holds db2's
  // lock until 30s, and db4's from 60s to 100s; expect: db1, then db3 (db2
  // is locked when db1 is back at 22s), db2 once free, and db4, the last,
  // waited for and walked at 100s; nobody skipped. A lock is not capacity:
  // the walk says it waits for the lock, once, and does not pause.
  World world(Pool());
  world["db2"].locked_by = "a caretaker maint command";
  world.At(t0 + 30s, [&] { world["db2"].locked_by.clear(); });
  world.At(t0 + 60s, [&] { world["db4"].locked_by = "a caretaker maint command"; });
  world.At(t0 + 100s, [&] { world["db4"].locked_by.clear(); });
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db3"), Walked("db2"), Walked("db4")}));
  CHECK(world.HasEvent("db4", "waiting: a caretaker maint command holds its lock; walked once it is free (for up to 30m)"));
  CHECK(std::count_if(world.events.begin(), world.events.end(),
                      [](const WalkEvent& e) { return e.text.starts_with("waiting:"); }) == 2);  // db2, db4
  CHECK_FALSE(world.HasEvent("", "paused"));
  CHECK(world.TimeOf("journal db4 draining") == t0 + 100s);
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("a member locked between the read and its drain goes back to pending, nothing done", "[walker]") {
  // given: the driver finds db1's lock taken when it starts the drain;
  // expect: no record, no command; db1 pending again and walked later.
  Walker walker(Spec(), t0);
  std::vector<WalkAction> first = walker.Next(t0, 10);
  REQUIRE(first.size() == 1);
  REQUIRE(first[0].kind == WalkAction::Kind::kObserve);
  World world(Pool());
  walker.OnObserved(first[0].seq, world.View(), t0);
  std::vector<WalkAction> start = walker.Next(t0, 10);
  REQUIRE(!start.empty());
  REQUIRE(start[0].journal == "draining");
  walker.OnLocked(start[0], "another caretaker command", t0);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kPending);
  CHECK(StatusOf(walker, "db1").detail == "waiting: another caretaker command holds its lock");
  CHECK(walker.active() == 0);
  CHECK_FALSE(walker.finished());
  // A later read starts it again.
  SteadyTime now = t0 + Spec().gates.probe_interval;
  std::vector<WalkAction> again = start;
  for (int round = 0; round < 3; ++round) {
    for (const WalkAction& a : again) {
      if (a.kind == WalkAction::Kind::kObserve) walker.OnObserved(a.seq, world.View(), now);
    }
    again = walker.Next(now, 10);
    if (!again.empty() && again[0].journal == "draining") break;
  }
  REQUIRE(!again.empty());
  CHECK(again[0].server == "db1");
  CHECK(again[0].journal == "draining");
}

TEST_CASE("a member held in MAINT that an instance shows READY again is set back before its next step", "[walker]") {
  // given: db1 in its first step (10s); at 3.5s lb1 shows it READY (a reload
  // that forgot the runtime state). expect: MAINT again at the next read
  // (4s), said and noted; its second step starts only after that; the walk
  // goes on and every member is done.
  WalkSpec spec = OnlyDb1();
  World world(Pool());
  world.lb_time = 100ms;
  world.At(t0 + 3500ms, [&] { world["db1"].admin = Admin::kReady; });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const std::string again = "set server replicas/db1 state maint (again)";
  REQUIRE(world.TimeOf(again));
  CHECK(*world.TimeOf(again) == t0 + 100ms + 4s);  // reads every 1s from the drain's at 100ms
  CHECK(world.HasEvent("db1", "lb1 had db1 READY; setting MAINT again"));
  CHECK(world.HasEvent("db1", "MAINT again on every instance"));
  CHECK(StatusOf(walker, "db1").notes == std::vector<std::string>{"lb1 had db1 READY; set MAINT again"});
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kDone);
  CHECK(std::count(world.commands.begin(), world.commands.end(), again) == 1);
}

TEST_CASE("a member whose MAINT cannot be set again waits: its next step does not start", "[walker]") {
  // given: as above, but setting MAINT again fails 8 times (a read each
  // second). expect: the second step, due at 10s, starts only once MAINT is
  // confirmed on every instance (12s).
  WalkSpec spec = OnlyDb1();
  World world(Pool());
  const std::string again = "set server replicas/db1 state maint (again)";
  world.At(t0 + 3500ms, [&] { world["db1"].admin = Admin::kReady; });
  for (int i = 0; i < 8; ++i) world.FailNext(again, "lb1: Connection refused");
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.HasEvent("db1", "SETTING MAINT AGAIN FAILED, IT MAY BE IN TRAFFIC: lb1: Connection refused"));
  CHECK(std::count(world.commands.begin(), world.commands.end(), again) == 9);
  CHECK(world.TimeOf("step db1 restart") == t0 + 12s);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kDone);
}

TEST_CASE("MAINT that cannot be set again for unconfirmed_deadline fails the member, saying it may be in traffic",
          "[walker]") {
  // given: db1 in its first step; lb1 shows it READY from 3.5s and refuses
  // every command; expect: MAINT tried again every read, said once; its
  // second step never starts; 30s after the first read that saw it READY
  // (4s) it fails, MAY BE IN TRAFFIC on lb1, and the walk stops.
  WalkSpec spec = OnlyDb1();
  World world(Pool());
  world.At(t0 + 3500ms, [&] { world["db1"].admin = Admin::kReady; });
  RefuseReasserts(world);
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);  // it counts against the budget
  CHECK(db1.ended == t0 + 34s);
  CHECK_FALSE(world.TimeOf("step db1 restart"));
  CHECK(std::count(world.commands.begin(), world.commands.end(), kAgain) > 20);
  CHECK(EventsWith(world, "setting MAINT again") == 1);
  CHECK(EventsWith(world, "SETTING MAINT AGAIN FAILED, IT MAY BE IN TRAFFIC: lb1: Connection refused; trying again "
                          "every 1s for up to 30s") == 1);
  CHECK(world.HasEvent("db1", "FAILED: MAINT not confirmed on every instance for 30s; IT MAY BE IN TRAFFIC: lb1 had "
                              "it READY, and MAINT is not confirmed there (record kept)"));
  CHECK(db1.notes == std::vector<std::string>{"lb1 had db1 READY; set MAINT again",
                                              "setting MAINT again failed: lb1: Connection refused"});
  CHECK(db1.may_be_in_traffic == "lb1 had it READY, and MAINT is not confirmed there");
  CHECK(walker.stop_reason() == "db1 failed");
}

TEST_CASE("gates that pass while MAINT is lost do not set READY, and the member fails at the deadline", "[walker]") {
  // given: lb1 shows db1 READY half a second into its warm-up queries (2s)
  // and refuses every command; the gates pass meanwhile. expect: no READY
  // and no idle walk: reads go on, and at the deadline db1 fails, saying
  // it may be in traffic.
  WalkSpec spec = OnlyDb1();
  spec.gates.warmup_queries = {"SELECT 1"};
  spec.unconfirmed_deadline = 30s;
  World world(Pool());
  world.probe_time = 2s;
  world.on_action = [&](const WalkAction& a) {
    if (a.kind == WalkAction::Kind::kWarmupQueries) {
      world.At(world.now + 500ms, [&] { world["db1"].admin = Admin::kReady; });
    }
  };
  RefuseReasserts(world);
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(std::find(world.commands.begin(), world.commands.end(), "journal db1 enabling") == world.commands.end());
  CHECK(world.HasEvent("db1", "gate warm-up passed"));
  CHECK(world.HasEvent("db1", "FAILED: MAINT not confirmed on every instance for 30s; IT MAY BE IN TRAFFIC"));
}

TEST_CASE("a member picked up in its steps or gates runs nothing before a read confirms MAINT", "[walker]") {
  // given: a job picked up again with db1's record in step 2 (or the
  // gates), but lb1 was reloaded meanwhile and holds db1 READY; expect:
  // MAINT set again first, said; then the step (the gates), and db1 back.
  for (HostPhase phase : {HostPhase::kStep, HostPhase::kGates}) {
    INFO(HostPhaseName(phase));
    WalkSpec spec = OnlyDb1();
    spec.resume["db1"] = ResumePoint{phase, 1};
    World world(Pool());
    std::optional<size_t> commands_at_first_probe;
    world.on_action = [&](const WalkAction& a) {
      if (a.kind == WalkAction::Kind::kProbe && !commands_at_first_probe) commands_at_first_probe = world.commands.size();
    };
    Walker walker(spec, t0);
    REQUIRE_FINISHED(world, walker);
    REQUIRE(!world.commands.empty());
    CHECK(world.commands.front() == kAgain);
    REQUIRE(commands_at_first_probe);
    CHECK(*commands_at_first_probe >= 1);  // no probe before MAINT again
    CHECK(world.HasEvent("db1", "lb1 had db1 READY; setting MAINT again"));
    CHECK(world.HasEvent("db1", "once MAINT is confirmed"));
    if (phase == HostPhase::kStep) CHECK(world.commands[2] == "step db1 restart");  // after its "steps" record
    CHECK(StatusOf(walker, "db1").phase == HostPhase::kDone);
  }
}

TEST_CASE("a member picked up in its steps while HAProxy cannot be read fails at the deadline, nothing run",
          "[walker]") {
  // given: db1 picked up in step 2; every read of HAProxy fails; expect:
  // the step never starts, db1 fails after 30s saying it may be in traffic.
  WalkSpec spec = OnlyDb1();
  spec.resume["db1"] = ResumePoint{HostPhase::kStep, 1};
  World world(Pool());
  world["db1"].admin = Admin::kMaint;
  world.observe_fault = [] { return std::optional<std::string>("lb1: Connection refused"); };
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands.empty());
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kFailed);
  CHECK(StatusOf(walker, "db1").ended == t0 + 30s);
  CHECK(world.HasEvent("db1", "FAILED: MAINT not confirmed on every instance for 30s (cannot read HAProxy: lb1: "
                              "Connection refused); IT MAY BE IN TRAFFIC: MAINT is not confirmed on every instance"));
}

TEST_CASE("a read sent before MAINT was set again does not set it again", "[walker]") {
  // given: reads show the pool as it was when sent and take 800ms; a
  // command takes effect as it answers, after 1.5s; lb1 shows db1 READY
  // from 8s (in its first step). expect: MAINT set again once, said once,
  // although reads sent before it took effect still show READY.
  WalkSpec spec = OnlyDb1();
  World world(Pool());
  world.views_at_send = true;
  world.applied_at_reply = true;
  world.observe_time = 800ms;
  world.lb_time = 1500ms;
  world.At(t0 + 8s, [&] { world["db1"].admin = Admin::kReady; });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(std::count(world.commands.begin(), world.commands.end(), kAgain) == 1);
  CHECK(EventsWith(world, "setting MAINT again") == 1);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kDone);
}

TEST_CASE("Abort() of a member whose MAINT is lost says it may be in traffic", "[walker]") {
  // given: db1 in its first step, lb1 shows it READY from 3.5s and refuses
  // commands; Abort() at 5s; expect: db1 stops after its step, and says it
  // may be in traffic on lb1, not that it stays out.
  WalkSpec spec = OnlyDb1();
  World world(Pool());
  world.At(t0 + 3500ms, [&] { world["db1"].admin = Admin::kReady; });
  RefuseReasserts(world);
  Walker walker(spec, t0);
  world.At(t0 + 5s, [&] { walker.Abort(world.now); });
  REQUIRE_FINISHED(world, walker);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kStopped);
  CHECK(world.HasEvent("db1", "IT MAY BE IN TRAFFIC: lb1 had it READY, and MAINT is not confirmed there (record kept)"));
  CHECK_FALSE(world.HasEvent("db1", "it stays out of traffic"));
}

TEST_CASE("while an instance cannot be read no member starts, though the budget has room", "[walker]") {
  // given: max_out 2, but the global cap lets one member out until 5s;
  // from 4s to 20s every read fails (an instance frozen). expect: db1
  // walks at once; db2, allowed from 5s, is drained only after 20s.
  World world(Pool());
  bool frozen = false;
  world.At(t0 + 4s, [&] { frozen = true; });
  world.At(t0 + 20s, [&] { frozen = false; });
  world.observe_fault = [&]() -> std::optional<std::string> {
    if (frozen) return "haproxy lb2: no reply within 1s";
    return std::nullopt;
  };
  size_t cap = 1;
  world.At(t0 + 5s, [&] { cap = 2; });
  world.slots = [&](const Walker& w) { return w.active() < cap ? cap - w.active() : size_t{0}; };
  Walker walker(Spec(2), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.TimeOf("journal db1 draining") == t0);
  REQUIRE(world.TimeOf("journal db2 draining"));
  CHECK(*world.TimeOf("journal db2 draining") >= t0 + 20s);
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("a member whose lock is taken at each drain waits, says so once, and is walked once free", "[walker]") {
  // given: reads show db1 free, but until 20s the driver finds its lock
  // taken each time it starts the drain (a command spamming `maint stop`);
  // expect: the drain tried at each read, said once; no pause; db1 drained
  // at 20s or right after, and every member done.
  World world(Pool());
  world["db1"].lock_taken = true;
  world.At(t0 + 20s, [&] { world["db1"].lock_taken = false; });
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2"), Walked("db3"), Walked("db4")}));
  const SteadyTime drained = *world.TimeOf("journal db1 draining");
  CHECK(drained >= t0 + 20s);
  CHECK(drained <= t0 + 21s);
  CHECK(EventsWith(world, "not drained: another caretaker command holds its lock; trying again at each read (for up "
                          "to 30m)") == 1);
  CHECK(world.HasEvent("db1", "draining: its lock is free now"));
  CHECK(std::count_if(world.events.begin(), world.events.end(),
                      [](const WalkEvent& e) { return e.server == "db1" && e.text.starts_with("draining"); }) == 2);
  CHECK_FALSE(world.HasEvent("", "paused"));
}

TEST_CASE("a member whose lock stays taken past pause_deadline stops the walk, not on capacity", "[walker]") {
  WalkSpec spec = Spec();
  spec.pause_deadline = 1min;
  World world(Pool());
  world["db1"].lock_taken = true;
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands.empty());
  CHECK(walker.stop_reason() == "db1's lock held by a caretaker command for 1m");
  CHECK_FALSE(walker.stopped_on_capacity());
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kPending);
}

TEST_CASE("a member picked up from its record whose lock a command holds waits for it, out of traffic", "[walker]") {
  // given: db3 picked up in MAINT; until 5s its lock is taken; expect: no
  // failure: "journal db3 maint" once free, every step, db3 back.
  WalkSpec spec = Spec();
  spec.members = {"db3"};
  spec.resume["db3"] = ResumePoint{HostPhase::kMaint, 0};
  World world(Pool());
  world["db3"].admin = Admin::kMaint;
  world["db3"].lock_taken = true;
  world.At(t0 + 5s, [&] { world["db3"].lock_taken = false; });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.TimeOf("journal db3 maint") >= t0 + 5s);
  CHECK(world.HasEvent("db3", "waiting: another caretaker command holds its lock; it stays out of traffic meanwhile"));
  CHECK(StatusOf(walker, "db3").phase == HostPhase::kDone);
}

TEST_CASE("Abort() while MAINT again is in flight: the member stops once it returns, nothing more is sent",
          "[walker]") {
  // given: db1 in its gates from 5s (steps of 2s); lb1 shows it READY at
  // 5.6s; the MAINT again sent at the 6.5s read takes 500ms; Abort() at
  // 6.7s. expect:
  // nothing sent after the MAINT again; db1 stopped, out of traffic.
  WalkSpec spec = OnlyDb1();
  spec.gates.catch_up_reads = 30;  // the gates go on for a while
  World world(Pool());
  world.step_time = 2s;
  world.lb_time = 500ms;
  world.At(t0 + 5600ms, [&] { world["db1"].admin = Admin::kReady; });
  Walker walker(spec, t0);
  world.At(t0 + 6700ms, [&] { walker.Abort(world.now); });
  REQUIRE_FINISHED(world, walker);
  REQUIRE(!world.commands.empty());
  CHECK(world.commands.back() == kAgain);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kStopped);
  CHECK(StatusOf(walker, "db1").out_of_traffic);
  CHECK(world.TimeOf(kAgain) == t0 + 6500ms);
  CHECK(StatusOf(walker, "db1").ended == t0 + 7000ms);
  CHECK(world.HasEvent("db1", "stopped while gate "));
}

TEST_CASE("a member an instance keeps setting READY while held fails after the third time", "[walker]") {
  // given: db1 in its first step; lb1 shows it READY at 3.5s, 5.5s and 7.5s
  // (an agent check answering "ready"); expect: MAINT again each time, said
  // each time with its count; after the third db1 fails, MAINT set, its
  // second step never runs, and the walk stops.
  WalkSpec spec = OnlyDb1();
  World world(Pool());
  for (auto at : {3500ms, 5500ms, 7500ms}) world.At(t0 + at, [&] { world["db1"].admin = Admin::kReady; });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(std::count(world.commands.begin(), world.commands.end(), kAgain) == 3);
  CHECK(world.HasEvent("db1", "lb1 had db1 READY (the 2nd time); setting MAINT again"));
  CHECK(world.HasEvent("db1", "lb1 had db1 READY (the 3rd time); setting MAINT again"));
  CHECK(world.HasEvent("db1", "FAILED: an instance set it READY 3 times while it was held in MAINT"));
  CHECK(world["db1"].admin == Admin::kMaint);
  CHECK_FALSE(world.TimeOf("step db1 restart"));
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.may_be_in_traffic.empty());
  CHECK(walker.stop_reason() == "db1 failed");
}

TEST_CASE("Stop() while a member picked up from its record waits for its lock: it stops there, no failure",
          "[walker]") {
  WalkSpec spec = Spec();
  spec.members = {"db3"};
  spec.resume["db3"] = ResumePoint{HostPhase::kMaint, 0};
  World world(Pool());
  world["db3"].admin = Admin::kMaint;
  world["db3"].lock_taken = true;
  Walker walker(spec, t0);
  world.At(t0 + 2500ms, [&] { walker.Stop("serve is stopping", world.now); });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands.empty());
  const HostStatus& db3 = StatusOf(walker, "db3");
  CHECK(db3.phase == HostPhase::kStopped);
  CHECK(db3.out_of_traffic);
  CHECK(db3.detail == "stopped waiting for its lock (another caretaker command holds it) (serve is stopping)");
  CHECK(walker.stop_reason() == "serve is stopping");
}

TEST_CASE("a lock seen long ago is a new wait when seen again, not the same one", "[walker]") {
  // given: pause_deadline 50s; db4's lock is held from 1s to 2s (seen by a
  // read while db1 walks) and again from 65s to 70s, when db4's turn comes.
  // expect: no stop at 65s ("held for 50s"): two waits of a few seconds;
  // db4 walked at 70s; every member done.
  WalkSpec spec = Spec();
  spec.pause_deadline = 50s;
  World world(Pool());
  world.At(t0 + 1s, [&] { world["db4"].locked_by = "a caretaker maint command"; });
  world.At(t0 + 2s, [&] { world["db4"].locked_by.clear(); });
  world.At(t0 + 65s, [&] { world["db4"].locked_by = "a caretaker maint command"; });
  world.At(t0 + 70s, [&] { world["db4"].locked_by.clear(); });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(walker.stop_reason().empty());
  CHECK(world.TimeOf("journal db4 draining") >= t0 + 70s);
  for (const HostStatus& st : walker.hosts()) CHECK(st.phase == HostPhase::kDone);
}

}  // namespace caretaker
