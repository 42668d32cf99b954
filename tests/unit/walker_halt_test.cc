// The halt switch as the walker sees it (SetHalt): no member and no step
// starts while halted, the walk goes on where it stood after the halt is
// lifted, and the time halted is not a capacity pause.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/walk/walker.h"
#include "tests/unit/walker_fixture.h"
#include "tests/unit/walker_world.h"

namespace caretaker {
namespace {

using namespace walker_testing;
using End = World::End;

const std::optional<std::string> kHalt = std::string("halted by bob@ops2: incident 4412");

TEST_CASE("halt mid-step: the step finishes, no next step or drain until resume, then the walk goes on", "[walker]") {
  // given: db1 runs its first step (0s..10s); halted at 5s, lifted at 10m;
  // expect: db1's second step starts at 10m, not at 10s; every member walked,
  // in order, and nothing at all happens between 10s and 10m.
  World world(Pool());
  Walker walker(Spec(), t0);
  world.At(t0 + 5s, [&] { walker.SetHalt(kHalt, world.now); });
  world.At(t0 + 10min, [&] { walker.SetHalt(std::nullopt, world.now); });
  world.At(t0 + 1min, [&] {
    CHECK(StatusOf(walker, "db1").detail == "halted before step 2/2 \"restart\"");
    CHECK_FALSE(walker.finished());
  });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2"), Walked("db3"), Walked("db4")}));
  CHECK(world.TimeOf("step db1 restart") == t0 + 10min);
  for (size_t i = 0; i < world.commands.size(); ++i) {
    bool during = world.command_times[i] > t0 + 10s && world.command_times[i] < t0 + 10min;
    INFO(world.commands[i]);
    CHECK_FALSE(during);
  }
  CHECK(world.HasEvent("", "HALTED: halted by bob@ops2: incident 4412; no member starts and no step starts until "
                           "`caretaker resume`"));
  CHECK(world.HasEvent("", "resumed: the halt was lifted"));
  for (const HostStatus& s : walker.hosts()) CHECK(s.phase == HostPhase::kDone);
}

TEST_CASE("halt between members: the member in its gates goes back, the next one waits for resume", "[walker]") {
  // given: halted at 21s (db1 back READY at 20s, UP at 22s), lifted at 1h;
  // expect: db1 done, db2 drained at 1h.
  World world(Pool());
  Walker walker(Spec(), t0);
  world.At(t0 + 21s, [&] { walker.SetHalt(kHalt, world.now); });
  world.At(t0 + 1h, [&] { walker.SetHalt(std::nullopt, world.now); });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.TimeOf("release db1") == t0 + 22s);
  CHECK(world.TimeOf("journal db2 draining") == t0 + 1h);
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2"), Walked("db3"), Walked("db4")}));
}

TEST_CASE("a walk halted from its start drains nothing until resume", "[walker]") {
  World world(Pool());
  Walker walker(Spec(), t0);
  walker.SetHalt(kHalt, t0);
  world.At(t0 + 2h, [&] { walker.SetHalt(std::nullopt, world.now); });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.TimeOf("journal db1 draining") == t0 + 2h);
  CHECK(world.observes > 0);
}

TEST_CASE("the time halted does not count against pause_deadline", "[walker]") {
  // given: db4 (outside the walk) down from 5s to 60m, so the walk pauses
  // after db1 (22s); halted from 20m to 45m; pause_deadline 30m. The pause
  // counts again from 45m, so db4 back at 60m is in time: the walk finishes.
  WalkSpec spec = Spec();
  spec.members = {"db1", "db2", "db3"};
  World world(Pool());
  world.At(t0 + 5s, [&] { world["db4"].down = true; });
  world.At(t0 + 60min, [&] {
    world["db4"].down = false;
    world["db4"].up_from = world.now + world.check_interval;
  });
  Walker walker(spec, t0);
  world.At(t0 + 20min, [&] { walker.SetHalt(kHalt, world.now); });
  world.At(t0 + 45min, [&] { walker.SetHalt(std::nullopt, world.now); });
  REQUIRE_FINISHED(world, walker);
  CHECK_FALSE(walker.stopped_on_capacity());
  CHECK(world.commands == Cat({Walked("db1"), Walked("db2"), Walked("db3")}));
}

TEST_CASE("Ctrl-C while halted stops the member waiting for its step, out of traffic with its record", "[walker]") {
  World world(Pool());
  Walker walker(Spec(), t0);
  world.At(t0 + 5s, [&] { walker.SetHalt(kHalt, world.now); });
  world.At(t0 + 1min, [&] { walker.Interrupt(world.now); });
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == Cat({IntoSteps("db1"), {"journal db1 maint, next step 2"}}));  // not step 2's
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kStopped);
  CHECK(db1.out_of_traffic);
  CHECK(db1.record);
  CHECK(db1.detail.find("(halted)") != std::string::npos);
  CHECK(StatusOf(walker, "db2").phase == HostPhase::kPending);
}

}  // namespace
}  // namespace caretaker
