// Members picked up where an earlier run of their job left them (after a
// crash, or a retry): they start at once at their resume point, before any
// other member and without a capacity check, and the walk goes on.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/walk/walker.h"
#include "tests/unit/walker_fixture.h"
#include "tests/unit/walker_world.h"

namespace caretaker {
namespace {

using namespace walker_testing;

// The end of a member's walk, from its gates.
std::vector<std::string> FromGates(const std::string& s) {
  return {"journal " + s + " gates", "journal " + s + " enabling", Set(s, "state ready"), "release " + s};
}

TEST_CASE("a member left in its second step is picked up there, then the others walk", "[walker]") {
  // given: db2 in MAINT, its record saying step 2/2; expect: step 2 at
  // once, db2 back, then db1, db3, db4 as usual.
  WalkSpec spec = Spec();
  spec.resume["db2"] = ResumePoint{HostPhase::kStep, 1};
  World world(Pool());
  world["db2"].admin = Admin::kMaint;
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({{"journal db2 steps, step 2", "step db2 restart", "journal db2 maint, next step 3"},
                               FromGates("db2"), Walked("db1"), Walked("db3"), Walked("db4")}));
  CHECK(world.TimeOf("step db2 restart") == t0);
  CHECK(world.HasEvent("db2", "picked up where the last run left it: step 2/2 \"restart\""));
  CHECK(world.max_out_seen == 1);
}

TEST_CASE("a member left draining or in MAINT is put in MAINT again and runs every step", "[walker]") {
  WalkSpec spec = Spec();
  spec.members = {"db3", "db4"};
  spec.resume["db3"] = ResumePoint{HostPhase::kMaint, 0};
  World world(Pool());
  world["db3"].admin = Admin::kDrain;
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands ==
        Cat({{"journal db3 maint", Set("db3", "state maint"), "journal db3 steps", "step db3 upgrade",
              "journal db3 maint, next step 2", "journal db3 steps, step 2", "step db3 restart",
              "journal db3 maint, next step 3"},
             FromGates("db3"), Walked("db4")}));
}

TEST_CASE("a member left in its gates or enabling goes through the gates again, then READY", "[walker]") {
  WalkSpec spec = Spec();
  spec.members = {"db1"};
  spec.resume["db1"] = ResumePoint{HostPhase::kGates, 0};
  World world(Pool());
  world["db1"].admin = Admin::kMaint;
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == FromGates("db1"));
  CHECK(world.probes["db1"] == 1);
}

TEST_CASE("a resumed member needs no capacity as it is out already, and the next waits for the policy", "[walker]") {
  // given: max_out 1, db4 (outside the walk) down until 10m, db2 resumed in
  // its steps; expect: db2 finishes at once, db1 only after db4 is back.
  WalkSpec spec = Spec();
  spec.members = {"db1", "db2"};
  spec.resume["db2"] = ResumePoint{HostPhase::kStep, 0};
  World world(Pool());
  world["db2"].admin = Admin::kMaint;
  world["db4"].down = true;
  world.At(t0 + 10min, [&] {
    world["db4"].down = false;
    world["db4"].up_from = world.now + world.check_interval;
  });
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.TimeOf("release db2") < t0 + 1min);
  CHECK(world.TimeOf("journal db1 draining") >= t0 + 10min);
}

TEST_CASE("a member whose drain was the job's is drained again, or put back READY when the walk stops",
          "[walker]") {
  // given: db2 in DRAIN, its record (of this job) saying draining; expect:
  // with the walk going on, drained again and walked; with the walk
  // interrupted from the start (its window closed), put back READY — not
  // left drained as a member that was out before the walk.
  WalkSpec spec = Spec();
  spec.members = {"db2"};
  spec.resume["db2"] = ResumePoint{HostPhase::kDraining, 0};
  {
    World world(Pool());
    world["db2"].admin = Admin::kDrain;
    Walker walker(spec, t0);
    REQUIRE_FINISHED(world, walker);
    CHECK(world.commands == Walked("db2"));
  }
  World world(Pool());
  world["db2"].admin = Admin::kDrain;
  Walker walker(spec, t0);
  walker.Interrupt(t0, "its window closed");
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db2 draining", Set("db2", "state drain"),
                                                   Set("db2", "state ready"), "release db2"});
  CHECK(world["db2"].admin == Admin::kReady);
  CHECK(walker.stop_reason() ==
        "its window closed; members out of traffic finish their task, draining ones go back");
}

TEST_CASE("Stop() after Interrupt(): the step running finishes and the next does not start", "[walker]") {
  // given: a window closed while db1 ran its first step (Interrupt: it would
  // finish its task), then serve is stopped (Stop); expect: the first step
  // ends, the second never starts, db1 stays in MAINT, out, with its record.
  WalkSpec spec = Spec();
  spec.members = {"db1"};
  World world(Pool());
  Walker walker(spec, t0);
  world.On("step db1 upgrade", [&] {
    walker.Interrupt(world.now, "its window closed");
    walker.Stop("caretaker serve is stopping", world.now);
  });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({IntoSteps("db1"), {"journal db1 maint, next step 2"}}));
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kStopped);
  CHECK(db1.out_of_traffic);
  CHECK(world["db1"].admin == Admin::kMaint);
  CHECK(walker.stop_reason() == "caretaker serve is stopping");
}

}  // namespace
}  // namespace caretaker
