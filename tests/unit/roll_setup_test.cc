// From the command line to walk specs (src/run/roll_setup.h), and the plan a
// walk would follow (src/walk/plan.h): pure, one behaviour per case.
#include <catch2/catch.hpp>

#include "src/walk/plan.h"
#include "src/run/roll_setup.h"
#include "tests/unit/config_fixture.h"

namespace caretaker {
namespace {

using config_testing::kLb;
using config_testing::Members;
using roll_detail::LimitMatches;
using roll_detail::ResolveWalks;

const std::string kTask =
    "[[tasks]]\nname = \"restart\"\ngates_off = [\"warm-up\"]\n"
    "  [[tasks.steps]]\n  command = \"systemctl restart mariadb\"\n";

Config Load(const std::string& pools) {
  auto config = ParseConfig(kLb + pools + kTask, "roll.toml");
  REQUIRE(config);
  return config.value();
}

RollOptions Options(std::vector<std::string> pools, std::vector<std::string> limit = {}) {
  RollOptions o;
  o.pools = std::move(pools);
  o.task = "restart";
  o.limit = std::move(limit);
  return o;
}

std::string ErrorOf(const Config& config, const RollOptions& options) {
  auto walks = ResolveWalks(config, options);
  return walks ? std::string() : walks.error().message;
}

TEST_CASE("limit patterns (--limit) match a member by server, pool/server, host or host:port, as globs", "[roll]") {
  Config config = Load("[[pools]]\nname = \"eu\"\n" + Members(4));
  const PoolConfig& pool = config.pools[0];
  const MemberConfig& db2 = pool.members[1];  // server db2, host h2, port 3306
  for (const char* yes : {"db2", "db[12]", "db*", "eu/db2", "eu/*", "h2", "h2:3306", "h?:*"}) {
    INFO(yes);
    CHECK(LimitMatches(yes, pool, db2));
  }
  for (const char* no : {"db1", "db", "us/db2", "h2:3307", "DB2", "*/db3"}) {
    INFO(no);
    CHECK_FALSE(LimitMatches(no, pool, db2));
  }
}

TEST_CASE("ResolveWalks: the pool's members, limited and ordered, with the task's gates off", "[roll]") {
  Config config = Load("[[pools]]\nname = \"eu\"\n" + Members(4));
  auto walks = ResolveWalks(config, Options({"eu"}, {"db[134]"}));
  REQUIRE(walks);
  REQUIRE(walks.value().size() == 1);
  const WalkSpec& spec = walks.value()[0].spec;
  CHECK(spec.members == std::vector<std::string>{"db1", "db3", "db4"});
  CHECK(spec.gates.off.warmup);
  CHECK_FALSE(spec.gates.off.catch_up);
  CHECK(spec.steps.size() == 1);
  CHECK(spec.max_failures == 1);

  RollOptions reverse = Options({"eu"});
  reverse.order = "reverse";
  CHECK(ResolveWalks(config, reverse).value()[0].spec.members == std::vector<std::string>{"db4", "db3", "db2", "db1"});
}

TEST_CASE("ResolveWalks: a pool the --limit leaves empty is not walked", "[roll]") {
  Config config = Load("[[pools]]\nname = \"eu\"\n" + Members(4) + "[[pools]]\nname = \"us\"\nbackend = \"us\"\n" +
                       "[[pools.members]]\nserver = \"u1\"\nhost = \"u1\"\n[[pools.members]]\nserver = \"u2\"\n"
                       "host = \"u2\"\n[[pools.members]]\nserver = \"u3\"\nhost = \"u3\"\n");
  auto walks = ResolveWalks(config, Options({"eu", "us"}, {"us/*"}));
  REQUIRE(walks);
  REQUIRE(walks.value().size() == 1);
  CHECK(walks.value()[0].pool->name == "us");
}

TEST_CASE("ResolveWalks: each bad input gets one sentence", "[roll]") {
  Config config = Load("[[pools]]\nname = \"eu\"\n" + Members(4));
  RollOptions task = Options({"eu"});
  task.task = "upgrade";
  RollOptions order = Options({"eu"});
  order.order = "random";
  RollOptions failures = Options({"eu"});
  failures.max_failures = 0;
  const std::vector<std::pair<RollOptions, std::string>> cases = {
      {task, "no task \"upgrade\" in roll.toml (tasks: restart)"},
      {Options({"us"}), "no pool \"us\" in roll.toml (pools: eu)"},
      {Options({"eu", "eu"}), "--pool names eu twice"},
      {Options({"eu"}, {"db9"}), "--limit db9 matches no member of eu"},
      {order, "--order: expected config, reverse or name, got \"random\""},
      {failures, "--max-failures: expected 1 or more"},
  };
  for (const auto& [options, message] : cases) CHECK(ErrorOf(config, options) == message);
  // A pool whose policy can never let a member out is refused here too.
  Config tiny = Load("[[pools]]\nname = \"one\"\n" + Members(1));
  CHECK(ErrorOf(tiny, Options({"one"})).find("pool one") != std::string::npos);
}

// A healthy pool of `n` members as a read shows it.
PoolView Healthy(int n) {
  PoolView view;
  for (int i = 1; i <= n; ++i) {
    MemberView m;
    m.server = "db" + std::to_string(i);
    m.ready_everywhere = true;
    m.checked_up = true;
    view.members.push_back(m);
  }
  return view;
}

WalkSpec PlanSpec(size_t max_out) {
  Config config = Load("[[pools]]\nname = \"eu\"\nmax_out = " + std::to_string(max_out) + "\n" + Members(4));
  return ResolveWalks(config, Options({"eu"})).value()[0].spec;
}

TEST_CASE("plan: waves follow max_out, and the global cap", "[roll]") {
  using Waves = std::vector<std::vector<std::string>>;
  CHECK(SimulateWalk(PlanSpec(1), Healthy(4), 20).waves == Waves{{"db1"}, {"db2"}, {"db3"}, {"db4"}});
  CHECK(SimulateWalk(PlanSpec(2), Healthy(4), 20).waves == Waves{{"db1", "db2"}, {"db3", "db4"}});
  CHECK(SimulateWalk(PlanSpec(2), Healthy(4), 1).waves == Waves{{"db1"}, {"db2"}, {"db3"}, {"db4"}});
}

TEST_CASE("plan: a member already down goes first, one held by a record is skipped", "[roll]") {
  PoolView view = Healthy(4);
  view.members[2].state = policies::Member::State::kDown;
  view.members[2].checked_up = false;
  view.members[3].held_by = "alice@admin: disk swap";
  view.members[3].state = policies::Member::State::kInMaintenance;
  view.members[3].out_everywhere = true;
  // 4 members, min 2, max_out 2: db4 held and db3 down leave room for db3 only (free), then one at a time.
  WalkPlan plan = SimulateWalk(PlanSpec(2), view, 20);
  REQUIRE_FALSE(plan.waves.empty());
  CHECK(plan.waves.front().front() == "db3");
  CHECK(plan.skipped == std::vector<std::string>{"db4: held by a maintenance record (alice@admin: disk swap)"});
  CHECK(plan.blocked.empty());
  CHECK(plan.not_started.empty());
}

TEST_CASE("plan: a pool that cannot be walked now says why, and who was not reached", "[roll]") {
  // max_out 1, and a member outside the limit is out already: nothing may start.
  PoolView view = Healthy(4);
  view.members[0].state = policies::Member::State::kDrained;
  view.members[0].out_everywhere = true;
  view.members[0].ready_everywhere = false;
  WalkSpec spec = PlanSpec(1);
  spec.members = {"db2", "db3", "db4"};
  WalkPlan plan = SimulateWalk(spec, view, 20);
  CHECK(plan.waves.empty());
  CHECK(plan.blocked == "pool eu: 1 of 4 already out, max_out is 1");
  CHECK(plan.not_started == std::vector<std::string>{"db2", "db3", "db4"});
}

TEST_CASE("plan: a member whose MySQL cannot be read is counted out, and the plan says so", "[roll]") {
  // db3 is UP in HAProxy but its probe failed: out for the policy (max_out
  // 1), so it is walked first, alone, and the plan explains why.
  PoolView view = Healthy(4);
  view.members[2].state = policies::Member::State::kUnreachable;
  view.members[2].mysql_error = "MySQL 127.0.0.1:3309: connecting failed: unreachable (refused)";
  WalkPlan plan = SimulateWalk(PlanSpec(1), view, 20);
  REQUIRE(plan.counted_out.size() == 1);
  CHECK(Describe(plan.counted_out[0]) ==
        "db3: MySQL unreachable, counted out (MySQL 127.0.0.1:3309: connecting failed: unreachable (refused))");
  CHECK(plan.waves == std::vector<std::vector<std::string>>{{"db3"}, {"db1"}, {"db2"}, {"db4"}});
  CHECK(plan.blocked.empty());
  // With count_unhealthy_as_out = false it is in service for the budget.
  WalkSpec lenient = PlanSpec(1);
  lenient.capacity.count_unhealthy_as_out = false;
  CHECK(SimulateWalk(lenient, view, 20).counted_out.empty());
}

}  // namespace
}  // namespace caretaker
