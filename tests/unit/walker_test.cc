// The rolling walk of one pool, driven through a simulated pool with a fake
// clock: the exact commands the load balancer received, in order. Failures,
// Interrupt() and Abort() are in walker_failures_test.cc.
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
using End = World::End;

}  // namespace

TEST_CASE("members are walked one at a time in config order: drain, maint, steps, gates, ready", "[walker]") {
  // given: 4 members, min_in_service 2 (as a count, then as 50%), max_out 1;
  // expect: db1..db4 in order, each record written before its command, each
  // member drained only once the previous one is back; every one done.
  for (policies::Limit floor : {policies::Limit::Count(2), policies::Limit::Percent(50)}) {
    INFO("min_in_service " << floor.ToString());
    WalkSpec spec = Spec();
    spec.capacity.min_in_service = floor;
    World world(Pool());
    Walker walker(spec, t0);
    REQUIRE_FINISHED(world, walker);
    // Every record the walker decides, in order, each before its change.
    const std::vector<std::string> db1 = {"journal db1 draining",
                                          "set server replicas/db1 state drain",
                                          "journal db1 maint",
                                          "set server replicas/db1 state maint",
                                          "journal db1 steps",
                                          "step db1 upgrade",
                                          "journal db1 maint, next step 2",
                                          "journal db1 steps, step 2",
                                          "step db1 restart",
                                          "journal db1 maint, next step 3",
                                          "journal db1 gates",
                                          "journal db1 enabling",
                                          "set server replicas/db1 state ready",
                                          "release db1"};
    CHECK(world.commands == Cat({db1, Walked("db2"), Walked("db3"), Walked("db4")}));
    CHECK(world.max_out_seen == 1);
    // Steps take 10s each and READY is UP after a 2s check: 22s a member.
    CHECK(world.TimeOf("release db1") == t0 + 22s);
    CHECK(world.TimeOf("journal db2 draining") == t0 + 22s);
    CHECK(world.TimeOf("release db4") == t0 + 88s);
    for (const HostStatus& s : walker.hosts()) {
      CHECK(s.phase == HostPhase::kDone);
      CHECK_FALSE(s.out_of_traffic);
      CHECK(world.probes[s.server] == 1);
    }
    CHECK(walker.stop_reason().empty());
    CHECK(world.HasEvent("db1", "drained in 0ms"));
    CHECK(world.HasEvent("db1", "back in service in 22s"));
  }
}

TEST_CASE("max_out 2 walks two members at a time and never has more than two out", "[walker]") {
  // given: max_out 2; db2's steps take 13s, the others' 10s; expect: db1 and
  // db2 start from one read, db3 takes db1's place when db1 is back, db4
  // takes db2's; the steps interleave by time; never 3 out at once.
  World world(Pool());
  world.Step("db2", 0, {true, "ok", 13s});
  world.Step("db2", 1, {true, "ok", 13s});
  Walker walker(Spec(2), t0);
  REQUIRE_FINISHED(world, walker);
  const std::vector<std::string> expected = {
      "journal db1 draining", Set("db1", "state drain"), "journal db2 draining", Set("db2", "state drain"),
      "journal db1 maint", Set("db1", "state maint"), "journal db2 maint", Set("db2", "state maint"),
      "journal db1 steps", "step db1 upgrade", "journal db2 steps", "step db2 upgrade",
      "journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart",                                                     // t+10s
      "journal db2 maint, next step 2", "journal db2 steps, step 2", "step db2 restart",                                                     // t+13s
      "journal db1 maint, next step 3", "journal db1 gates", "journal db1 enabling", Set("db1", "state ready"), "release db1",       // t+20s, UP t+22s
      "journal db3 draining", Set("db3", "state drain"), "journal db3 maint", Set("db3", "state maint"),
      "journal db3 steps", "step db3 upgrade",                                // t+22s
      "journal db2 maint, next step 3", "journal db2 gates", "journal db2 enabling", Set("db2", "state ready"), "release db2",       // t+26s, UP t+28s
      "journal db4 draining", Set("db4", "state drain"), "journal db4 maint", Set("db4", "state maint"),
      "journal db4 steps", "step db4 upgrade",                                // t+28s
      "journal db3 maint, next step 2", "journal db3 steps, step 2", "step db3 restart",                                                     // t+32s
      "journal db4 maint, next step 2", "journal db4 steps, step 2", "step db4 restart",                                                     // t+38s
      "journal db3 maint, next step 3", "journal db3 gates", "journal db3 enabling", Set("db3", "state ready"), "release db3",       // t+42s, UP t+44s
      "journal db4 maint, next step 3", "journal db4 gates", "journal db4 enabling", Set("db4", "state ready"), "release db4"};      // t+48s, UP t+50s
  CHECK(world.commands == expected);
  CHECK(world.TimeOf("journal db3 draining") == t0 + 22s);
  CHECK(world.TimeOf("journal db4 draining") == t0 + 28s);
  CHECK(world.TimeOf("release db4") == t0 + 50s);
  CHECK(world.max_out_seen == 2);
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("a member already down is walked first", "[walker]") {
  // given: db3 DOWN before the walk (its task repairs it), max_out 1; expect:
  // db3 first (taking it out costs no capacity), then db1, db2, db4.
  World world(Pool());
  world["db3"].down = true;
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db3"), Walked("db1"), Walked("db2"), Walked("db4")}));
  CHECK(world.HasEvent("db3", "draining"));
  CHECK(world.max_out_seen == 1);
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("a member outside the walk that goes down pauses the walk until it is back", "[walker]") {
  // given: the walk is db1..db3 of db1..db4, max_out 1; db4 goes DOWN while
  // db1 runs its first step and comes back at 10m; expect: db1 finishes, no
  // member is drained while db4 is down ("paused"), then db2 and db3 once
  // db4 is UP again ("resumed").
  WalkSpec spec = Spec();
  spec.members = {"db1", "db2", "db3"};
  World world(Pool());
  world.At(t0 + 5s, [&] { world["db4"].down = true; });
  world.At(t0 + 10min, [&] {
    world["db4"].down = false;
    world["db4"].up_from = world.now + world.check_interval;
  });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2"), Walked("db3")}));
  CHECK(world.HasEvent("", "paused: pool replicas: 1 of 4 already out, max_out is 1; counted out: db4 (down); no "
                           "host starts until capacity is back (at most 30m)"));
  CHECK(world.HasEvent("", "resumed: capacity is back"));
  CHECK(world.TimeOf("journal db2 draining") == t0 + 10min + 2s);  // UP one check after it is back
  CHECK_FALSE(walker.stopped_on_capacity());
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("a member whose MySQL does not answer counts as out while HAProxy still says UP", "[walker]") {
  // given: the walk is db1..db3 of db1..db4, max_out 1; db4's mysqld dies at
  // 5s, HAProxy's checks never notice (it stays UP there), and it answers
  // again at 10m; expect: db1 finishes, nothing else is drained while db4's
  // probes fail (paused, naming it), then db2 and db3.
  WalkSpec spec = Spec();
  spec.members = {"db1", "db2", "db3"};
  World world(Pool());
  world.At(t0 + 5s, [&] { world["db4"].mysql_dead = true; });
  world.At(t0 + 10min, [&] { world["db4"].mysql_dead = false; });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2"), Walked("db3")}));
  CHECK(world.HasEvent("", "paused: pool replicas: 1 of 4 already out, max_out is 1; counted out: db4 (MySQL "
                           "unreachable); no host starts"));
  CHECK(world.TimeOf("journal db2 draining") == t0 + 10min);
  CHECK(world.max_out_seen == 1);
}

TEST_CASE("a member of the walk whose MySQL does not answer goes first, alone from its read", "[walker]") {
  // given: max_out 2; db3's mysqld is dead before the walk (HAProxy says UP;
  // its task repairs it); reads take 100ms; expect: db3 starts alone from
  // the first read (costing nothing: it is out already), db1 from the next
  // read, then db2 and db4 as budget frees; never more than 2 out.
  World world(Pool());
  world.observe_time = 100ms;
  world["db3"].mysql_dead = true;
  Walker walker(Spec(2), t0);
  REQUIRE_FINISHED(world, walker);
  REQUIRE(world.commands.size() > 2);
  CHECK(world.commands[0] == "journal db3 draining");
  CHECK(world.TimeOf("journal db3 draining") == t0 + 100ms);
  CHECK(world.TimeOf("journal db1 draining") == t0 + 200ms);
  CHECK(world.max_out_seen == 2);
  CHECK_FALSE(world.HasEvent("", "paused"));
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("the walk says it resumed as it starts again, also when that is its last member", "[walker]") {
  // given: the walk is db1 and db2; db4 down from 5s to 10m; expect: the
  // "resumed" event right before db2's drain, not after the walk.
  WalkSpec spec = Spec();
  spec.members = {"db1", "db2"};
  World world(Pool());
  world.At(t0 + 5s, [&] { world["db4"].down = true; });
  world.At(t0 + 10min, [&] {
    world["db4"].down = false;
    world["db4"].up_from = world.now + world.check_interval;
  });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  std::vector<std::string> events;
  for (const WalkEvent& e : world.events) {
    if (e.text.starts_with("paused") || e.text.starts_with("resumed") || e.text == "draining") {
      events.push_back(e.server + " " + e.text.substr(0, 7));
    }
  }
  CHECK(events == std::vector<std::string>{"db1 drainin", " paused:", " resumed", "db2 drainin"});
}

TEST_CASE("a walk paused longer than pause_deadline stops on capacity", "[walker]") {
  // given: as above, but db4 never comes back; expect: after db1, nothing is
  // drained; 30m after the pause began the walk stops on capacity, db2 and
  // db3 never started.
  WalkSpec spec = Spec();
  spec.members = {"db1", "db2", "db3"};
  World world(Pool());
  world.At(t0 + 5s, [&] { world["db4"].down = true; });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Walked("db1"));
  CHECK(walker.stopped_on_capacity());
  CHECK(walker.stop_reason() ==
        "paused for 30m on capacity: pool replicas: 1 of 4 already out, max_out is 1; counted out: db4 (down)");
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kDone);
  CHECK(StatusOf(walker, "db2").phase == HostPhase::kPending);
  CHECK(StatusOf(walker, "db3").phase == HostPhase::kPending);
  CHECK(world.now == t0 + 22s + 30min);  // paused when db1 came back at 22s
}

TEST_CASE("a member not yet walked that goes down mid-walk is walked next, at no cost", "[walker]") {
  // given: max_out 1; db3 goes DOWN while db1 runs its first step; expect:
  // db3 is taken out at the next read (it already counts as out, so the
  // walk does not pause), alongside db1; db2 waits for both; db4 last.
  World world(Pool());
  world.At(t0 + 5s, [&] { world["db3"].down = true; });
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  const std::vector<std::string> expected = Cat({
      IntoSteps("db1"),  // t+0
      IntoSteps("db3"),  // t+5s
      {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart", "journal db3 maint, next step 2", "journal db3 steps, step 2", "step db3 restart", "journal db1 maint, next step 3", "journal db1 gates", "journal db1 enabling", Set("db1", "state ready"), "release db1",
       "journal db3 maint, next step 3", "journal db3 gates", "journal db3 enabling", Set("db3", "state ready"), "release db3"},
      Walked("db2"),
      Walked("db4"),
  });
  CHECK(world.commands == expected);
  CHECK(world.TimeOf("journal db3 draining") == t0 + 5s);
  CHECK_FALSE(world.HasEvent("", "paused"));
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("a member held by someone else's maintenance record is skipped", "[walker]") {
  // given: db2 in MAINT under alice's record, max_out 2; expect: db2 is
  // skipped and said so; db1, db3, db4 one at a time (db2 is out already).
  World world(Pool());
  world["db2"].admin = Admin::kMaint;
  world["db2"].held_by = "alice: disk swap";
  Walker walker(Spec(2), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db3"), Walked("db4")}));
  const HostStatus& db2 = StatusOf(walker, "db2");
  CHECK(db2.phase == HostPhase::kSkipped);
  CHECK(db2.detail == "held by a maintenance record (alice: disk swap)");
  CHECK(world.HasEvent("db2", "skipped: held by a maintenance record (alice: disk swap)"));
  CHECK(world["db2"].admin == Admin::kMaint);
  CHECK(walker.stop_reason().empty());
}

TEST_CASE("the weight ramp: first weight while in MAINT, READY, then each weight after ramp_hold", "[walker]") {
  // given: weight_ramp {10, 50, 100}, ramp_hold 30s, only db1 walked;
  // expect: weight 10% in MAINT, READY, 50% 30s after UP, 100% 30s later,
  // then the record is removed.
  WalkSpec spec = Spec();
  spec.members = {"db1"};
  spec.gates.weight_ramp = {10, 50, 100};
  World world(Pool());
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const std::vector<std::string> expected = Cat({
      IntoSteps("db1"),
      {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart",
       "journal db1 maint, next step 3", "journal db1 gates", Set("db1", "weight 10%"), "journal db1 enabling",
       Set("db1", "state ready"), Set("db1", "weight 50%"), Set("db1", "weight 100%"), "release db1"},
  });
  CHECK(world.commands == expected);
  CHECK(world.TimeOf(Set("db1", "weight 10%")) == t0 + 20s);
  CHECK(world.TimeOf(Set("db1", "weight 50%")) == t0 + 22s + 30s);
  CHECK(world.TimeOf(Set("db1", "weight 100%")) == t0 + 22s + 60s);
  CHECK(world["db1"].weight == 100);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kDone);
}

TEST_CASE("with every gate off, no probe is made", "[walker]") {
  // given: the task turns every gate off; expect: the same commands, no probe.
  WalkSpec spec = Spec();
  spec.gates.off = GatesOff{true, true, true, true};
  World world(Pool());
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const bool gates = false;  // no probe: no "gates" record either
  CHECK(world.commands == Cat({Walked("db1", gates), Walked("db2", gates), Walked("db3", gates), Walked("db4", gates)}));
  CHECK(world.probes.empty());
  CHECK(StatusOf(walker, "db4").phase == HostPhase::kDone);
}

TEST_CASE("no slot: nothing starts and nothing is read, a slot later: the walk goes on", "[walker]") {
  // given: the global cap leaves no slot; expect: no command, no read, no
  // wake-up; once slots are given, the walk runs as usual.
  World world(Pool());
  world.slots = [](const Walker&) { return size_t{0}; };
  Walker walker(Spec(), t0);
  CHECK(world.Run(walker) == End::kIdle);
  CHECK(world.commands.empty());
  CHECK(world.observes == 0);
  CHECK_FALSE(walker.WakeAt());
  world.now = t0 + 1h;
  world.slots = [](const Walker&) { return size_t{4}; };
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2"), Walked("db3"), Walked("db4")}));
  CHECK(world.TimeOf("journal db1 draining") == t0 + 1h);
}

TEST_CASE("a global cap of one with max_out 2: one member at a time", "[walker]") {
  // given: max_out 2 but one slot (the cap counts this walk's members);
  // expect: db1..db4 one after the other, never two out.
  World world(Pool());
  world.slots = Cap(1);
  Walker walker(Spec(2), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2"), Walked("db3"), Walked("db4")}));
  CHECK(world.max_out_seen == 1);
}

TEST_CASE("a read made while the global cap had no slot is not used to start a member later", "[walker]") {
  // given: walk db1, db2 (db3, db4 outside it), max_out 2, a global cap of
  // one; db3 and db4 go DOWN while db1 is out and come back at 10m; expect:
  // when db1 is back at 22s the pool is read again: no drain of db2 while
  // they are down (the read from before they went down said it could go).
  WalkSpec spec = Spec(2);
  spec.members = {"db1", "db2"};
  World world(Pool());
  world.slots = Cap(1);
  world.At(t0 + 5s, [&] { world["db3"].down = world["db4"].down = true; });
  world.At(t0 + 10min, [&] {
    for (const char* s : {"db3", "db4"}) {
      world[s].down = false;
      world[s].up_from = world.now + world.check_interval;
    }
  });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2")}));
  CHECK(world.TimeOf("journal db2 draining") == t0 + 10min + 2s);
  CHECK(world.HasEvent("", "paused: pool replicas: 2 of 4 in service, floor is 2"));
}

TEST_CASE("a walked member counts as out until HAProxy reports it UP, even with unhealthy counted in", "[walker]") {
  // given: count_unhealthy_as_out false, min_in_service 3 of 4; db1 is READY
  // at 20s but never UP, and goes back to MAINT at 50s; expect: db2 is not
  // drained meanwhile (db1 may go out again, as it does): the walk never
  // takes the pool below its floor by itself.
  WalkSpec spec = Spec();
  spec.capacity.min_in_service = policies::Limit::Count(3);
  spec.capacity.count_unhealthy_as_out = false;
  World world(Pool());
  world["db1"].stay_down = true;
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({IntoSteps("db1"),
                               {"journal db1 maint, next step 2", "journal db1 steps, step 2", "step db1 restart", "journal db1 maint, next step 3", "journal db1 gates", "journal db1 enabling", Set("db1", "state ready"),
                                "journal db1 maint, next step 3", Set("db1", "state maint")}}));
  CHECK(world.max_out_seen == 1);
  CHECK(StatusOf(walker, "db1").phase == HostPhase::kFailed);
  CHECK(StatusOf(walker, "db2").phase == HostPhase::kPending);
}

}  // namespace caretaker
