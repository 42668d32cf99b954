// The bake (WalkSpec::bake): after READY a member's checks must read clear
// for the bake — the walk's first member, the canary, for canary_bake —
// before another member starts; a check that holds takes it out again with
// its record and stops the walk; unknown is never clear.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "src/walk/job_run.h"
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

BakeReading Fired() {
  return BakeReading{BakeReading::Is::kFired, "condition 'value > 30' (prometheus main) holds: value 42"};
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
      return Fired();
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
    world.bake = [](const std::string&) { return Fired(); };
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
    // In traffic, unjudged: it stays "baking", so the job picked up again
    // bakes it again first (the last test case below).
    const HostStatus& db1 = StatusOf(walker, "db1");
    CHECK(db1.phase == HostPhase::kBaking);
    CHECK(db1.ended);
    CHECK_FALSE(db1.out_of_traffic);
    CHECK_THAT(db1.detail, Catch::StartsWith("in traffic, its bake cut short: the walk stopped (caretaker serve is stopping)"));
    CHECK(StatusOf(walker, "db2").phase == HostPhase::kPending);
    CHECK(JobHostsOf(walker)[0].phase == "baking");
    CHECK_FALSE(JobHostsOf(walker)[0].out_of_traffic);
  }
}

}  // namespace caretaker

namespace caretaker {

TEST_CASE("a check that holds while the walk stops is still acted on: the member is taken out, not left unjudged",
          "[walker][bake]") {
  World world(Pool());
  world.bake = [](const std::string&) { return Fired(); };
  Walker walker(BakeSpec(1), t0);
  world.On("bake db1", [&] { walker.Stop("caretaker serve is stopping", world.now); });  // the read in flight
  REQUIRE_FINISHED(world, walker);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK(db1.record);
  CHECK(IndexOf(world, Set("db1", "state maint")) < IndexOf(world, "release db1"));
  CHECK(std::count(world.commands.begin(), world.commands.end(), Set("db1", "state maint")) == 2);
}

TEST_CASE("a failed bake takes its member out only as the pool's policy allows, against a fresh read",
          "[walker][bake]") {
  // given: while db1 bakes, db3 and db4 go down; min_in_service 2 of 4;
  // expect: db1 failed IN traffic, the policy's refusal said, no MAINT.
  World world(Pool());
  world.bake = [&](const std::string&) {
    if (world.bake_reads["db1"] < 2) return BakeReading{BakeReading::Is::kClear, "value 0"};
    return Fired();
  };
  Walker walker(BakeSpec(1), t0);
  world.On("bake db1", [&] {
    world["db3"].down = true;
    world["db4"].down = true;
  });
  REQUIRE_FINISHED(world, walker);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK_FALSE(db1.out_of_traffic);
  CHECK_THAT(db1.detail, Catch::Contains("NOT taken out: pool replicas"));
  CHECK(std::count(world.commands.begin(), world.commands.end(), Set("db1", "state maint")) == 1);  // its steps' only
  CHECK(world.HasEvent("db1", "FAILED: " + db1.detail + "; it is IN TRAFFIC"));
}

TEST_CASE("a failed bake whose record cannot be written still takes the member out", "[walker][bake]") {
  World world(Pool());
  world.bake = [](const std::string&) { return Fired(); };
  Walker walker(BakeSpec(1), t0);
  world.On("bake db1", [&] { world.FailNext("journal db1 maint, next step 3", "disk full"); });
  REQUIRE_FINISHED(world, walker);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK_THAT(db1.detail, Catch::Contains("cannot write its maintenance record"));
  CHECK(std::count(world.commands.begin(), world.commands.end(), Set("db1", "state maint")) == 2);
}

TEST_CASE("checks that keep changing never hang a bake: not clear for a whole bake within three fails it",
          "[walker][bake]") {
  World world(Pool());
  world.bake = [&](const std::string&) {
    return world.bake_reads["db1"] % 2 ? BakeReading{BakeReading::Is::kClear, "value 0"}
                                       : BakeReading{BakeReading::Is::kUnknown, "prometheus main: HTTP 503"};
  };
  WalkSpec spec = BakeSpec(1);
  spec.canary_bake = 30s;
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK_THAT(db1.detail, Catch::StartsWith("bake: its checks did not stay clear for 30s in a row within 1m50s"));
}

TEST_CASE("a job picked up with a member whose bake was cut short bakes it again before any other starts",
          "[walker][bake]") {
  World world(Pool());
  WalkSpec spec = BakeSpec(1);
  spec.resume["db1"] = ResumePoint{HostPhase::kBaking, 0, "its bake was cut short"};
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(std::find(world.commands.begin(), world.commands.end(), "journal db1 draining") == world.commands.end());
  CHECK(world.commands.front() == "bake db1");
  CHECK(TimeOf(world, "journal db2 draining") >= TimeOf(world, "bake db1") + 2min);
  CHECK(world.HasEvent("db1", "its bake was cut short: baking again"));
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(StatusOf(walker, m).phase == HostPhase::kDone);
}

}  // namespace caretaker
