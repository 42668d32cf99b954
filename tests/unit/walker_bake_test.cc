// The bake (WalkSpec::bake): after READY a member's checks must read clear
// for the bake — the walk's first member, the canary, for canary_bake —
// before another member starts; a check that holds takes it out again with
// its record and stops the walk; unknown is never clear.
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

WalkSpec BakeSpec(size_t max_out = 2) {
  WalkSpec spec = Spec(max_out);
  spec.bake = 30s;
  spec.canary_bake = 2min;
  spec.bake_interval = 10s;
  RuleConfig check;
  check.name = "pool replicas bake check 1";
  check.source = RuleSource::kPrometheus;
  spec.bake_checks = {check};
  return spec;
}

// When `command` was first received.
SteadyTime TimeOf(const World& world, const std::string& command) {
  auto it = std::find(world.commands.begin(), world.commands.end(), command);
  if (it == world.commands.end()) FAIL("never received: " << command);
  return world.command_times[it - world.commands.begin()];
}

size_t IndexOf(const World& world, const std::string& command) {
  auto it = std::find(world.commands.begin(), world.commands.end(), command);
  if (it == world.commands.end()) FAIL("never received: " << command);
  return static_cast<size_t>(it - world.commands.begin());
}

}  // namespace

TEST_CASE("no member starts while one bakes: the canary bakes canary_bake, the others bake", "[walker][bake]") {
  // given: max_out 2 (two would start at once without a bake); expect: each
  // member starts only after the one before baked clear, db1 for 2 min, the
  // others for 30 s; every member done, in traffic.
  World world(Pool());
  Walker walker(BakeSpec(2), t0);
  REQUIRE_FINISHED(world, walker);
  for (const char* m : {"db1", "db2", "db3", "db4"}) {
    INFO(m);
    CHECK(StatusOf(walker, m).phase == HostPhase::kDone);
    CHECK_FALSE(StatusOf(walker, m).out_of_traffic);
  }
  const SteadyTime db1_baking = TimeOf(world, "bake db1");
  const SteadyTime db2_start = TimeOf(world, "journal db2 draining");
  CHECK(db2_start >= db1_baking + 2min);
  CHECK(db2_start < db1_baking + 2min + 15s);
  CHECK(TimeOf(world, "journal db3 draining") >= TimeOf(world, "bake db2") + 30s);
  CHECK(TimeOf(world, "journal db3 draining") < TimeOf(world, "bake db2") + 45s);
  CHECK(IndexOf(world, "release db1") < IndexOf(world, "bake db1"));  // back in traffic, its record gone, then the bake
  CHECK(world.bake_reads["db1"] >= 12);  // every 10 s for 2 min
  CHECK(world.HasEvent("db1", "canary bake: its checks must stay clear for 2m before the next member starts"));
  CHECK(world.HasEvent("db2", "bake: its checks must stay clear for 30s before the next member starts"));
  CHECK(world.HasEvent("db1", "baked 2m: every check stayed clear (value 0)"));
}

TEST_CASE("a check that holds during the bake takes the member out again, its record first, and stops the walk",
          "[walker][bake]") {
  World world(Pool());
  world.bake = [&](const std::string& server) {
    if (server == "db1" && world.bake_reads["db1"] >= 3) {
      return BakeReading{BakeReading::Is::kFired, "condition 'value > 30' (prometheus main) holds: value 42"};
    }
    return BakeReading{BakeReading::Is::kClear, "value 0"};
  };
  Walker walker(BakeSpec(2), t0);
  REQUIRE_FINISHED(world, walker);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK(db1.record);
  CHECK(db1.detail == "bake: condition 'value > 30' (prometheus main) holds: value 42; taken out of traffic again (MAINT)");
  // The record before MAINT, after the last bake read (the same record as
  // after its last step: a retry goes to the gates).
  auto last = std::find(world.commands.rbegin(), world.commands.rend(), "journal db1 maint, next step 3");
  REQUIRE(last != world.commands.rend());
  const size_t journal = static_cast<size_t>(world.commands.rend() - last - 1);
  CHECK(journal > IndexOf(world, "release db1"));
  CHECK(world.commands.at(journal + 1) == Set("db1", "state maint"));
  CHECK(walker.stop_reason() == "db1 failed");
  for (const char* m : {"db2", "db3", "db4"}) {
    INFO(m);
    CHECK(StatusOf(walker, m).phase == HostPhase::kPending);
  }
  CHECK(std::find(world.commands.begin(), world.commands.end(), "journal db2 draining") == world.commands.end());
}

TEST_CASE("bake checks that cannot be read never count as clear: unknown past the bake fails the member",
          "[walker][bake]") {
  World world(Pool());
  world.bake = [](const std::string&) {
    return BakeReading{BakeReading::Is::kUnknown, "prometheus main: cannot connect to 127.0.0.1:9090"};
  };
  WalkSpec spec = BakeSpec(1);
  spec.canary_bake = 30s;
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK_THAT(db1.detail, Catch::StartsWith("bake: its checks could not be read for 40s (prometheus main: cannot "
                                           "connect to 127.0.0.1:9090); unknown is never clear; taken out"));
  CHECK(StatusOf(walker, "db2").phase == HostPhase::kPending);
}

TEST_CASE("halted, a member whose check holds fails in traffic, said so. Stopped while baking, it is done",
          "[walker][bake]") {
  {
    World world(Pool());
    world.bake = [&](const std::string&) {
      return BakeReading{BakeReading::Is::kFired, "condition 'value > 30' (prometheus main) holds: value 42"};
    };
    Walker walker(BakeSpec(1), t0);
    world.On("bake db1", [&] { walker.SetHalt(std::string("incident 42"), world.now); });
    REQUIRE_FINISHED(world, walker);
    const HostStatus& db1 = StatusOf(walker, "db1");
    CHECK(db1.phase == HostPhase::kFailed);
    CHECK_FALSE(db1.out_of_traffic);
    CHECK_THAT(db1.detail, Catch::Contains("NOT taken out: caretaker is halted (incident 42)"));
    // MAINT only once, for the steps, before the bake: never after it.
    CHECK(std::count(world.commands.begin(), world.commands.end(), Set("db1", "state maint")) == 1);
    CHECK(IndexOf(world, Set("db1", "state maint")) < IndexOf(world, "release db1"));
  }
  {
    World world(Pool());
    Walker walker(BakeSpec(1), t0);
    world.On("bake db1", [&] { world.At(world.now + 15s, [&] { walker.Stop("caretaker serve is stopping", world.now); }); });
    REQUIRE_FINISHED(world, walker);
    const HostStatus& db1 = StatusOf(walker, "db1");
    CHECK(db1.phase == HostPhase::kDone);
    CHECK_FALSE(db1.out_of_traffic);
    CHECK_THAT(db1.detail, Catch::StartsWith("back in service; its bake did not finish: stopped while baking"));
    CHECK(StatusOf(walker, "db2").phase == HostPhase::kPending);
  }
}

}  // namespace caretaker
