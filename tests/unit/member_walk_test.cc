// `maint start` and `maint stop` as the walks of one member they are
// (src/run/member_walk.h), on the walker scenarios' simulated world: the exact
// commands and records, and how each ends.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/run/member_walk.h"
#include "src/run/walk_io.h"
#include "tests/unit/walker_fixture.h"
#include "tests/unit/walker_world.h"

namespace caretaker {
namespace {

using namespace walker_testing;

// Pool "replicas" of db1..db4 as the walker scenarios have it (walker_fixture.h).
Config MaintConfig() {
  const WalkSpec like = Spec();
  Config config;
  PoolConfig pool;
  pool.name = "replicas";
  pool.backend = "replicas";
  for (const std::string& s : Pool()) {
    MemberConfig m;
    m.server = s;
    m.host = "127.0.0.1";
    pool.members.push_back(m);
  }
  pool.capacity = like.capacity;
  pool.drain = like.drain;
  pool.gates = like.gates;
  config.pools.push_back(pool);
  config.roll.pause_deadline = 30min;
  return config;
}

const MemberConfig& Member(const Config& config, const std::string& server) {
  for (const MemberConfig& m : config.pools.front().members) {
    if (m.server == server) return m;
  }
  throw std::logic_error("no such member");
}

WalkSpec TakeOut(const Config& config, const std::string& server, bool force_sessions = false) {
  return TakeOutSpec(config, config.pools.front(), Member(config, server), force_sessions);
}

WalkSpec PutBack(const Config& config, const std::string& server) {
  return PutBackSpec(config, config.pools.front(), Member(config, server));
}

TEST_CASE("maint start: its record, DRAIN, no sessions, its record again, MAINT, then held there", "[maint][walker]") {
  const Config config = MaintConfig();
  World world(Pool());
  Walker walker(TakeOut(config, "db2"), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands ==
        std::vector<std::string>{"journal db2 draining", Set("db2", "state drain"), "journal db2 maint",
                                 Set("db2", "state maint")});
  const HostStatus& db2 = walker.hosts().front();
  CHECK(db2.phase == HostPhase::kHeld);
  CHECK(db2.out_of_traffic);
  CHECK(db2.record);
  CHECK(world["db2"].admin == Admin::kMaint);
  CHECK(walker.active() == 0);
}

TEST_CASE("maint start: a drain confirmed on one instance and timed out on the other puts it back READY",
          "[maint][walker]") {
  // given: lb1 took the DRAIN, lb2 did not answer in time; expect: READY
  // again on every instance, its record removed, failed with the reason.
  const Config config = MaintConfig();
  World world(Pool());
  world.FailNext(Set("db2", "state drain"),
                 "haproxy lb2 (tcp:127.0.0.1:9002): no reply within 2s (now: lb1 DRAIN, lb2 cannot be read)");
  Walker walker(TakeOut(config, "db2"), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{"journal db2 draining", Set("db2", "state drain"),
                                                   Set("db2", "state ready"), "release db2"});
  const HostStatus& db2 = walker.hosts().front();
  CHECK(db2.phase == HostPhase::kFailed);
  CHECK(db2.restored);
  CHECK_FALSE(db2.out_of_traffic);
  CHECK_FALSE(db2.record);
  CHECK_THAT(db2.detail, Catch::StartsWith("the drain failed: haproxy lb2") && Catch::EndsWith("; back READY"));
  CHECK(world["db2"].admin == Admin::kReady);
}

TEST_CASE("maint start: sessions open at the drain deadline", "[maint][walker]") {
  const Config config = MaintConfig();
  World world(Pool());
  world["db2"].sessions = 3;
  world["db2"].sessions_linger = std::nullopt;  // they never end by themselves
  SECTION("without --force-sessions it goes back READY") {
    Walker walker(TakeOut(config, "db2"), t0);
    REQUIRE_FINISHED(world, walker);
    CHECK(world.commands == std::vector<std::string>{"journal db2 draining", Set("db2", "state drain"),
                                                     Set("db2", "state ready"), "release db2"});
    CHECK(world.TimeOf(Set("db2", "state ready")) >= t0 + 2min);
    const HostStatus& db2 = walker.hosts().front();
    CHECK(db2.phase == HostPhase::kFailed);
    CHECK(db2.restored);
    CHECK_THAT(db2.detail, Catch::Contains("3 sessions still open after the drain deadline of 2m") &&
                               Catch::Contains("use --force-sessions"));
  }
  SECTION("with --force-sessions they are shut down, then MAINT") {
    Walker walker(TakeOut(config, "db2", /*force_sessions=*/true), t0);
    REQUIRE_FINISHED(world, walker);
    CHECK(world.commands == std::vector<std::string>{"journal db2 draining", Set("db2", "state drain"),
                                                     "shutdown sessions server replicas/db2", "journal db2 maint",
                                                     Set("db2", "state maint")});
    const HostStatus& db2 = walker.hosts().front();
    CHECK(db2.phase == HostPhase::kHeld);
    CHECK(db2.sessions_shut_down == 3);
  }
}

TEST_CASE("maint start: refused at once when the policy says no, nothing sent", "[maint][walker]") {
  // given: min_in_service 2 of 4, db1 and db3 down; expect: db2 is not
  // taken out, no pause, the policy's reason kept for the refusal.
  const Config config = MaintConfig();
  World world(Pool());
  world["db1"].down = true;
  world["db3"].down = true;
  Walker walker(TakeOut(config, "db2"), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands.empty());
  CHECK(walker.hosts().front().phase == HostPhase::kPending);
  CHECK(walker.stopped_on_capacity());
  CHECK_THAT(walker.capacity_refusal(), Catch::Contains("in service"));
  CHECK(world.now == t0);
}

TEST_CASE("maint stop: the gates, READY, its record removed, and a failing gate leaves it out", "[maint][walker]") {
  const Config config = MaintConfig();
  World world(Pool());
  world["db3"].admin = Admin::kMaint;
  SECTION("healthy: back in service") {
    Walker walker(PutBack(config, "db3"), t0);
    REQUIRE_FINISHED(world, walker);
    CHECK(world.commands == std::vector<std::string>{"journal db3 gates", "journal db3 enabling",
                                                     Set("db3", "state ready"), "release db3"});
    CHECK(walker.hosts().front().phase == HostPhase::kDone);
    CHECK(world.HasEvent("db3", "putting it back: the gates, once MAINT is confirmed"));
  }
  SECTION("its SQL thread stopped: out, with its record") {
    world["db3"].sql = mysql::ThreadState::kNo;
    world["db3"].sql_error = "Duplicate entry '7' for key 'PRIMARY'";
    Walker walker(PutBack(config, "db3"), t0);
    REQUIRE_FINISHED(world, walker);
    CHECK(world.commands == std::vector<std::string>{"journal db3 gates"});
    const HostStatus& db3 = walker.hosts().front();
    CHECK(db3.phase == HostPhase::kFailed);
    CHECK(db3.out_of_traffic);
    CHECK(db3.record);
    CHECK_THAT(db3.detail, Catch::StartsWith("gate replication"));
    CHECK(world["db3"].admin == Admin::kMaint);
  }
  SECTION("a weight ramp: its first step while in MAINT, before the gates; undone when a gate fails") {
    Config ramped = config;
    ramped.pools.front().gates.weight_ramp = {10, 100};
    world["db3"].sql = mysql::ThreadState::kNo;
    Walker walker(PutBack(ramped, "db3"), t0);
    REQUIRE_FINISHED(world, walker);
    CHECK(world.commands == std::vector<std::string>{"journal db3 gates", Set("db3", "weight 10%"),
                                                     Set("db3", "weight 100%")});
    CHECK(walker.hosts().front().phase == HostPhase::kFailed);
    CHECK(world["db3"].weight == 100);
  }
}

TEST_CASE("maint stop: a member someone set READY again is put in MAINT before its gates", "[maint][walker]") {
  // given: db3's record says MAINT, but HAProxy has it READY (a reload);
  // expect: MAINT again first, then the gates, then READY.
  const Config config = MaintConfig();
  World world(Pool());
  Walker walker(PutBack(config, "db3"), t0);
  REQUIRE_FINISHED(world, walker);
  CHECK(world.commands == std::vector<std::string>{Set("db3", "state maint (again)"), "journal db3 gates",
                                                   "journal db3 enabling", Set("db3", "state ready"),
                                                   "release db3"});
  CHECK(walker.hosts().front().phase == HostPhase::kDone);
}

// Only records: RecordIfOut writes one and touches no server.
class RecordsOnly : public WalkIo {
 public:
  std::vector<std::string> journal;
  std::optional<std::string> fail;

  Awaitable<Result<PoolView>> Observe(const PoolConfig&, bool) override { co_return Error{"no servers here"}; }
  Awaitable<Result<void>> SetState(const PoolConfig&, const std::string&, LbState) override {
    co_return Error{"no servers here"};
  }
  Awaitable<Result<void>> SetWeight(const PoolConfig&, const std::string&, int) override {
    co_return Error{"no servers here"};
  }
  Awaitable<Result<void>> ShutdownSessions(const PoolConfig&, const std::string&) override {
    co_return Error{"no servers here"};
  }
  Awaitable<mysql::Result<mysql::ReplicaStatus>> Probe(const PoolConfig&, const MemberConfig&) override {
    co_return mysql::Error{mysql::ErrorCode::kQuery, 0, "no servers here"};
  }
  Awaitable<mysql::Result<bool>> WaitForPrimary(const PoolConfig&, const MemberConfig&, SteadyTime) override {
    co_return mysql::Error{mysql::ErrorCode::kQuery, 0, "no servers here"};
  }
  Awaitable<mysql::Status> RunWarmupQueries(const PoolConfig&, const MemberConfig&) override {
    co_return mysql::Error{mysql::ErrorCode::kQuery, 0, "no servers here"};
  }
  Result<void> Journal(const PoolConfig&, const MemberConfig& member, const std::string& phase, size_t) override {
    if (fail) return Error{*fail};
    journal.push_back(member.server + " " + phase);
    return boost::outcome_v2::success();
  }
  Result<void> Release(const PoolConfig&, const MemberConfig&) override { return Error{"no records here"}; }
  void Cancel() override {}
};

TEST_CASE("maint stop of a member out of traffic without a record writes one first", "[maint]") {
  const Config config = MaintConfig();
  const PoolConfig& pool = config.pools.front();
  RecordsOnly world;
  MemberView view;
  view.server = "db2";
  SECTION("drained by hand: a \"maint\" record before anything else") {
    view.ready_everywhere = false;
    auto wrote = RecordIfOut(world, pool, Member(config, "db2"), view);
    REQUIRE(wrote);
    CHECK(wrote.value());
    CHECK(world.journal == std::vector<std::string>{"db2 maint"});
  }
  SECTION("READY everywhere: nothing to record") {
    view.ready_everywhere = true;
    auto wrote = RecordIfOut(world, pool, Member(config, "db2"), view);
    REQUIRE(wrote);
    CHECK_FALSE(wrote.value());
    CHECK(world.journal.empty());
  }
  SECTION("the record cannot be written: the error, and the caller changes nothing") {
    view.ready_everywhere = false;
    world.fail = "disk full";
    auto wrote = RecordIfOut(world, pool, Member(config, "db2"), view);
    REQUIRE_FALSE(wrote);
    CHECK(wrote.error().message == "disk full");
  }
}

}  // namespace
}  // namespace caretaker
