// The walker's records and budget after failures: a record that cannot be
// written, the record following each member, a walk paused by its own
// failed member. The world and pool are walker_world.h / walker_fixture.h.
#include <catch2/catch.hpp>

#include "tests/unit/walker_fixture.h"

namespace caretaker::walker_testing {
namespace {

TEST_CASE("a walk paused by its own failed member says so, and how to give the budget back", "[walker]") {
  // given: max_out 1, max_failures 2; db1 fails and stays out, holding the
  // whole budget; expect: paused, naming db1 and `maint stop`.
  WalkSpec spec = Spec(1);
  spec.max_failures = 2;
  spec.pause_deadline = 10min;
  World world(Pool());
  world.Step("db1", 0, {false, "E: disk full", 5s});
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.HasEvent("", "paused: pool replicas: 1 of 4 already out, max_out is 1; no host starts until capacity "
                           "is back (at most 10m); out of traffic after failing in this walk: db1 (`caretaker maint "
                           "stop` puts one back through the gates, and the walk goes on)"));
  CHECK(walker.stopped_on_capacity());
  CHECK(StatusOf(walker, "db2").phase == HostPhase::kPending);
}

}  // namespace
}  // namespace caretaker::walker_testing

namespace caretaker::walker_testing {
namespace {

TEST_CASE("a record that cannot be written before the drain: nothing is done, the walk stops", "[walker]") {
  // given: the "draining" record of db1 cannot be written; expect: no
  // command at all, db1 failed where it stood (in traffic, no record).
  World world(Pool());
  world.FailNext("journal db1 draining", "No space left on device");
  Walker walker(Spec(), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands.empty());
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK_FALSE(db1.out_of_traffic);
  CHECK_FALSE(db1.record);
  CHECK(db1.detail == "cannot write its maintenance record before \"draining\": No space left on device; that change "
                      "was not made");
  CheckOthersPending(walker, {"db1"});
}

TEST_CASE("a record that cannot be written before the first step: the member stays in MAINT, never retried", "[walker]") {
  WalkSpec spec = Spec();
  spec.steps[0].retries = 3;
  World world(Pool());
  world.FailNext("journal db1 steps", "No space left on device");
  Walker walker(spec, t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db1 draining", Set("db1", "state drain"),
                                                   "journal db1 maint", Set("db1", "state maint")});
  const HostStatus& db1 = StatusOf(walker, "db1");
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.out_of_traffic);
  CHECK(db1.record);
}

TEST_CASE("the record follows the member: kept while out or failed, gone once back or restored", "[walker]") {
  World world(Pool());
  world.FailNext(Set("db3", "state drain"), "lb2: timeout");
  WalkSpec spec = Spec();
  spec.max_failures = 2;
  Walker walker(spec, t0);
  world.Step("db4", 0, {false, "E: disk full", 5s});
  REQUIRE_FINISHED(world, walker);
  CHECK_FALSE(StatusOf(walker, "db1").record);  // done
  CHECK_FALSE(StatusOf(walker, "db3").record);  // drain failed, restored, released
  CHECK(StatusOf(walker, "db3").restored);
  CHECK(StatusOf(walker, "db4").record);        // failed in its step: out, with its record
  CHECK(StatusOf(walker, "db4").out_of_traffic);
}

}  // namespace
}  // namespace caretaker::walker_testing
