// The driver of walks (src/run/driver.h) against a fake world: what it does
// when an action throws, when a record cannot be written, and how the global
// cap holds across pools. The walker's own decisions are tested in walker_*.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <stdexcept>

#include "src/run/driver.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

// HAProxy, MySQL and records of members that are all healthy and answer at
// once; a member is READY until told otherwise. Records every change.
class FakeWalkIo : public WalkIo {
 public:
  std::vector<std::string> calls;
  std::map<std::string, LbState> admin;  // "pool/server"
  std::string throw_on;                  // a call that throws, e.g. "p1/db1 drain"
  std::string journal_fails;             // e.g. "p1/db1 draining"
  size_t most_out = 0;

  Awaitable<Result<PoolView>> Observe(const PoolConfig& pool, bool) override {
    PoolView view;
    for (const MemberConfig& m : pool.members) {
      MemberView v;
      v.server = m.server;
      LbState state = StateOf(pool.name + "/" + m.server);
      v.out_everywhere = state != LbState::kReady;
      v.ready_everywhere = v.checked_up = state == LbState::kReady;
      v.state = v.out_everywhere ? policies::Member::State::kDrained : policies::Member::State::kInService;
      view.members.push_back(v);
    }
    co_return view;
  }
  Awaitable<Result<void>> SetState(const PoolConfig& pool, const std::string& server, LbState state) override {
    const std::string key = pool.name + "/" + server;
    calls.push_back(key + " " + LbStateName(state));
    if (calls.back() == throw_on) throw std::runtime_error("boom");
    admin[key] = state;
    size_t out = 0;
    for (const auto& [k, s] : admin) out += s != LbState::kReady;
    most_out = std::max(most_out, out);
    co_return boost::outcome_v2::success();
  }
  Awaitable<Result<void>> SetWeight(const PoolConfig&, const std::string&, int) override {
    co_return boost::outcome_v2::success();
  }
  Awaitable<Result<void>> ShutdownSessions(const PoolConfig&, const std::string&) override {
    co_return boost::outcome_v2::success();
  }
  Awaitable<mysql::Result<mysql::ReplicaStatus>> Probe(const PoolConfig&, const MemberConfig&) override {
    co_return mysql::Error{mysql::ErrorCode::kConnect, 0, "not used: gates are off"};
  }
  Awaitable<mysql::Result<bool>> WaitForPrimary(const PoolConfig&, const MemberConfig&, SteadyTime) override {
    co_return true;
  }
  Awaitable<mysql::Status> RunWarmupQueries(const PoolConfig&, const MemberConfig&) override { co_return mysql::Ok(); }
  Result<void> Journal(const PoolConfig& pool, const MemberConfig& member, const std::string& phase,
                       size_t) override {
    const std::string what = pool.name + "/" + member.server + " " + phase;
    if (what == journal_fails) return Error{"No space left on device"};
    calls.push_back("journal " + what);
    return boost::outcome_v2::success();
  }
  Result<void> Release(const PoolConfig& pool, const MemberConfig& member) override {
    calls.push_back("release " + pool.name + "/" + member.server);
    return boost::outcome_v2::success();
  }
  void Cancel() override {}

 private:
  LbState StateOf(const std::string& key) const {
    auto it = admin.find(key);
    return it == admin.end() ? LbState::kReady : it->second;
  }
};

// Every step succeeds at once.
class FakeSteps : public StepRunner {
 public:
  Awaitable<StepResult> Run(const StepCommand&, Millis, std::function<void(std::string_view)>) override {
    co_return StepResult{};
  }
  void CancelAll() override { ++cancels; }
  int cancels = 0;
};

struct Setup {
  TempDir dir;
  Config config;
  TaskConfig task;

  explicit Setup(int cap, int pools = 1) {
    config.state_dir = dir.path();
    config.roll.max_concurrent_hosts = cap;
    for (int p = 1; p <= pools; ++p) {
      PoolConfig pool;
      pool.name = "p" + std::to_string(p);
      pool.backend = pool.name;
      for (int i = 1; i <= 4; ++i) pool.members.push_back(MemberConfig{"db" + std::to_string(i), "h", 3306});
      pool.capacity.min_in_service = policies::Limit::Count(2);
      pool.capacity.max_out = policies::Limit::Count(2);
      pool.drain.poll_interval = 1ms;
      config.pools.push_back(pool);
    }
    StepConfig step;
    step.name = "work";
    step.shell = "true";
    task.name = "t";
    task.steps = {step};
  }

  WalkSpec Spec(const PoolConfig& pool) const {
    WalkSpec spec;
    spec.pool = pool.name;
    for (const MemberConfig& m : pool.members) spec.members.push_back(m.server);
    spec.capacity = pool.capacity;
    spec.drain = pool.drain;
    spec.gates.off = GatesOff{true, true, true, true};
    spec.gates.probe_interval = 1ms;
    spec.steps = task.steps;
    return spec;
  }

  // Runs every pool's walk to its end (or 10 s, a hang).
  bool Run(FakeWalkIo& world, std::deque<const RollDriver::Walk*>* walks = nullptr,
           std::function<HaltCheck()> halt = nullptr) {
    boost::asio::io_context io;
    RollDriver driver(io, config, world, steps, RollHooks{});
    if (halt) driver.SetHaltCheck(halt);
    for (const PoolConfig& p : config.pools) driver.Add(p, task, Spec(p));
    bool done = false;
    auto body = [&]() -> Awaitable<void> {
      auto run = driver.Run();
      co_await std::move(run);
      done = true;
    };
    boost::asio::co_spawn(io, body(), boost::asio::detached);
    io.run_for(10s);
    if (walks) {
      for (const auto& w : driver.walks()) walks->push_back(&w);
    }
    last_hosts.clear();
    for (const auto& w : driver.walks()) {
      for (const HostStatus& h : w.walker.hosts()) last_hosts[w.pool->name + "/" + h.server] = h;
    }
    return done;
  }
  std::map<std::string, HostStatus> last_hosts;
  FakeSteps steps;
};

TEST_CASE("driver: an action that throws fails its member, the walk ends instead of hanging", "[roll]") {
  // given: SetState(drain) of p1/db1 throws; expect: Run returns, db1 failed
  // with the internal error, no other member drained after it.
  Setup s(20);
  FakeWalkIo world;
  world.throw_on = "p1/db1 drain";
  REQUIRE(s.Run(world));
  const HostStatus& db1 = s.last_hosts["p1/db1"];
  CHECK(db1.phase == HostPhase::kFailed);
  CHECK(db1.detail.find("internal error: boom") != std::string::npos);
}

TEST_CASE("driver: a record that cannot be written means no change at all for that member", "[roll]") {
  Setup s(20);
  FakeWalkIo world;
  world.journal_fails = "p1/db1 draining";
  REQUIRE(s.Run(world));
  for (const std::string& call : world.calls) CHECK(call.find("p1/db1") == std::string::npos);
  CHECK(s.last_hosts["p1/db1"].phase == HostPhase::kFailed);
  CHECK_FALSE(s.last_hosts["p1/db1"].out_of_traffic);
}

TEST_CASE("driver: max_concurrent_hosts caps members out across pools", "[roll]") {
  for (int cap : {1, 2, 3, 4}) {
    INFO("cap " << cap);
    Setup s(cap, 2);
    FakeWalkIo world;
    REQUIRE(s.Run(world));
    for (const auto& [name, h] : s.last_hosts) CHECK(h.phase == HostPhase::kDone);
    // Two pools with max_out 2 each: at most 4 out, whatever the cap above that.
    CHECK(world.most_out == static_cast<size_t>(std::min(cap, 4)));
  }
}

TEST_CASE("driver: while the halt check says halted nothing is changed, and the walk ends once it is lifted", "[roll]") {
  // given: halted (with --abort) for the first 300 ms; expect: no call at all
  // before then, the running steps cancelled once, every member done after.
  Setup s(20);
  FakeWalkIo world;
  const auto lifted_at = std::chrono::steady_clock::now() + 300ms;
  size_t calls_while_halted = 0;
  int checks = 0;
  auto halt = [&] {
    ++checks;
    if (std::chrono::steady_clock::now() >= lifted_at) return HaltCheck{};
    calls_while_halted = world.calls.size();
    return HaltCheck{true, true, "halted by bob@ops2 since 2026-11-25T08:00:00Z: incident"};
  };
  REQUIRE(s.Run(world, nullptr, halt));
  CHECK(calls_while_halted == 0);
  CHECK(s.steps.cancels == 1);
  CHECK(checks >= 2);
  for (const auto& [name, h] : s.last_hosts) CHECK(h.phase == HostPhase::kDone);
}

}  // namespace
}  // namespace caretaker
