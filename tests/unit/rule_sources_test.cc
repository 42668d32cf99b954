// The probe source of rules (src/run/rule_sources.h) against a fake world:
// one HAProxy read per pool, MySQL probed only when a condition needs it and
// never for a host someone else took out, HAProxy unreadable is unknown for
// every member, flapping across evaluations.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <map>

#include "src/base/event_loop.h"
#include "src/run/rule_sources.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using Is = Verdict::Is;

class World : public WalkIo {
 public:
  std::map<std::string, bool> up;           // server -> checked up
  std::map<std::string, std::string> dead;  // server -> probe error
  std::map<std::string, Millis> lag;
  std::optional<std::string> haproxy_error;
  int observes = 0, probes = 0;

  Awaitable<Result<PoolView>> Observe(const PoolConfig& pool, bool) override {
    ++observes;
    if (haproxy_error) co_return Error{*haproxy_error};
    PoolView view;
    for (const MemberConfig& m : pool.members) {
      MemberView v;
      v.server = m.server;
      v.checked_up = up.count(m.server) ? up[m.server] : true;
      v.health = std::string("lb1 ") + (v.checked_up ? "UP" : "DOWN") + " READY";
      view.members.push_back(v);
    }
    co_return view;
  }
  Awaitable<mysql::Result<mysql::ReplicaStatus>> Probe(const PoolConfig&, const MemberConfig& m) override {
    ++probes;
    if (dead.count(m.server)) co_return mysql::Error{mysql::ErrorCode::kConnect, 2003, dead[m.server]};
    mysql::ReplicaStatus r;
    r.io_thread = r.sql_thread = mysql::ThreadState::kYes;
    r.lag = lag.count(m.server) ? lag[m.server] : 0ms;
    co_return r;
  }
  Awaitable<Result<void>> SetState(const PoolConfig&, const std::string&, LbState) override { co_return Error{"no"}; }
  Awaitable<Result<void>> SetWeight(const PoolConfig&, const std::string&, int) override { co_return Error{"no"}; }
  Awaitable<Result<void>> ShutdownSessions(const PoolConfig&, const std::string&) override { co_return Error{"no"}; }
  Awaitable<mysql::Result<bool>> WaitForPrimary(const PoolConfig&, const MemberConfig&, SteadyTime) override {
    co_return true;
  }
  Awaitable<mysql::Status> RunWarmupQueries(const PoolConfig&, const MemberConfig&) override { co_return mysql::Ok(); }
  Result<void> Journal(const PoolConfig&, const MemberConfig&, const std::string&, size_t) override {
    return Error{"no"};
  }
  Result<void> Release(const PoolConfig&, const MemberConfig&) override { return Error{"no"}; }
  void Cancel() override {}
};

struct Setup {
  std::vector<PoolConfig> pools;
  World world;
  boost::asio::io_context io;
  std::unique_ptr<ConditionSource> source = MakeProbeSource(world, io, 4);

  Setup() {
    for (const char* name : {"a", "b"}) {
      PoolConfig p;
      p.name = name;
      for (int i = 1; i <= 3; ++i) p.members.push_back(MemberConfig{std::string(name) + std::to_string(i), "h", 3306});
      pools.push_back(p);
    }
  }
  std::vector<RuleMember> Read(const RuleConfig& rule, const std::string& person = "") {
    std::vector<WatchedMember> members;
    for (const PoolConfig& p : pools) {
      for (const MemberConfig& m : p.members) members.push_back({&p, &m, m.server == person ? OutBy::kPerson : OutBy::kNone});
    }
    auto read = source->Read(rule, members);
    return RunOn(io, std::move(read));
  }
};

RuleConfig RuleOf(const char* when, const char* clear = nullptr) {
  RuleConfig r;
  r.name = "r";
  r.when = ParseCondition(when, RuleSource::kProbe).value();
  if (clear) r.clear = ParseCondition(clear, RuleSource::kProbe).value();
  return r;
}

TEST_CASE("probe source: one HAProxy read per pool, a MySQL probe per member a condition needs", "[rules]") {
  Setup s;
  s.world.lag["a2"] = 42s;
  s.world.dead["b1"] = "b1:3306: Connection refused";
  auto read = s.Read(RuleOf("lag > 30s", "lag < 5s"), "b3");
  CHECK(s.world.observes == 2);
  CHECK(s.world.probes == 5);  // not b3: a person's
  REQUIRE(read.size() == 6);
  CHECK(read[1].server == "a2");
  CHECK(read[1].when.is == Is::kHolds);
  CHECK(read[1].when.text == "lag 42s");
  CHECK(read[1].clear.is == Is::kNot);
  CHECK(read[0].when.is == Is::kNot);
  CHECK(read[3].when.is == Is::kUnknown);  // b1: unreachable, its lag unknown
  CHECK(read[5].out == OutBy::kPerson);
  CHECK(read[5].when.is == Is::kUnknown);

  Setup check;
  check.world.up["a1"] = false;
  auto down = check.Read(RuleOf("check is down"));
  CHECK(check.world.probes == 0);  // the check alone needs no MySQL
  CHECK(down[0].when.is == Is::kHolds);
  CHECK(down[0].when.text == "check lb1 DOWN READY");
  CHECK(down[1].when.is == Is::kNot);
  CHECK(down[1].clear.is == Is::kHolds);  // no clear condition: `when` negated
}

TEST_CASE("probe source: HAProxy unreadable makes every verdict unknown, whatever MySQL says", "[rules]") {
  Setup s;
  s.world.haproxy_error = "lb2 (tcp:10.0.0.2:9999): timed out after 5s";
  s.world.lag["a1"] = 1h;
  for (const RuleMember& m : s.Read(RuleOf("lag > 30s"))) {
    INFO(m.server);
    CHECK(m.when.is == Is::kUnknown);
    CHECK(m.clear.is == Is::kUnknown);
    CHECK(m.when.text == "HAProxy cannot be read: lb2 (tcp:10.0.0.2:9999): timed out after 5s");
  }
}

TEST_CASE("probe source: a check that went down and up again within flap_window is flapping", "[rules]") {
  Setup s;
  RuleConfig rule = RuleOf("check is flapping", "check is steady");
  rule.flap_window = 1h;  // the test's reads are milliseconds apart
  CHECK(s.Read(rule)[0].when.is == Is::kNot);
  s.world.up["a1"] = false;
  CHECK(s.Read(rule)[0].when.is == Is::kNot);  // one change
  s.world.up["a1"] = true;
  auto flapping = s.Read(rule);
  CHECK(flapping[0].when.is == Is::kHolds);
  CHECK(flapping[0].clear.is == Is::kNot);
  CHECK(flapping[1].when.is == Is::kNot);
}

}  // namespace
}  // namespace caretaker
