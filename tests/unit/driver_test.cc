// The driver of walks (src/run/driver.h) against a fake world, in virtual
// time (tests/unit/virtual_clock.h): what it does when an action throws, when
// a record cannot be written, how the global cap holds across pools, how
// long a walk takes, the halt, and the pool lock held by someone else. The
// walker's own decisions are tested in walker_*.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "src/run/driver.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/virtual_clock.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using testing::VirtualClock;

// HAProxy, MySQL and records of members that are all healthy and answer at
// once; a member is READY until told otherwise. Records every change.
class FakeWalkIo : public WalkIo {
 public:
  std::vector<std::string> calls;
  std::map<std::string, LbState> admin;  // "pool/server"
  std::string throw_on;                  // a call that throws, e.g. "p1/db1 drain"
  std::string journal_fails;             // e.g. "p1/db1 draining"
  size_t most_out = 0;
  std::function<void(const std::string&)> on_call;  // every SetState, as it is made

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
    if (on_call) on_call(calls.back());
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

// Every step succeeds after `took` of virtual time; CancelAll() ends the
// running ones at once, cancelled.
class FakeSteps : public StepRunner {
 public:
  FakeSteps(VirtualClock& clock, boost::asio::io_context& io) : clock_(clock), io_(io) {}

  Awaitable<StepResult> Run(const StepCommand&, Millis, std::function<void(std::string_view)>) override {
    std::unique_ptr<Timer> timer = clock_.MakeTimer(io_);
    running_.insert(timer.get());
    const SteadyTime started = clock_.Now();
    auto wait = timer->WaitUntil(started + took);
    co_await std::move(wait);
    running_.erase(timer.get());
    StepResult result;
    result.took = std::chrono::duration_cast<Millis>(clock_.Now() - started);
    if (result.took < took) result.outcome = StepResult::Outcome::kCancelled;
    co_return result;
  }
  void CancelAll() override {
    ++cancels;
    for (Timer* t : running_) t->Cancel();
  }

  Millis took = 30s;
  int cancels = 0;

 private:
  VirtualClock& clock_;
  boost::asio::io_context& io_;
  std::set<Timer*> running_;
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
      pool.drain.poll_interval = 2s;
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
    spec.gates.probe_interval = 2s;
    spec.steps = task.steps;
    spec.pause_deadline = pause_deadline;
    return spec;
  }

  // Runs every pool's walk to its end (or 10 virtual hours, a hang).
  bool Run(FakeWalkIo& world, std::function<HaltCheck()> halt = nullptr) {
    RollDriver driver(io, config, world, steps, RollHooks{}, clock);
    if (halt) driver.SetHaltCheck(halt);
    for (const PoolConfig& p : config.pools) driver.Add(p, task, Spec(p));
    bool done = false;
    auto body = [&]() -> Awaitable<void> {
      auto run = driver.Run();
      co_await std::move(run);
      done = true;
    };
    const SteadyTime started = clock.Now();
    boost::asio::co_spawn(io, body(), boost::asio::detached);
    clock.Run(io, [&] { return done; }, 10h);
    took = std::chrono::duration_cast<Millis>(clock.Now() - started);
    last_hosts.clear();
    for (const auto& w : driver.walks()) {
      stop_reasons[w.pool->name] = w.walker.stop_reason();
      for (const HostStatus& h : w.walker.hosts()) last_hosts[w.pool->name + "/" + h.server] = h;
    }
    return done;
  }

  boost::asio::io_context io;
  VirtualClock clock;
  FakeSteps steps{clock, io};
  Millis pause_deadline = 30min;
  std::map<std::string, HostStatus> last_hosts;
  std::map<std::string, std::string> stop_reasons;  // pool -> Walker::stop_reason()
  Millis took{0};  // virtual time the last Run() took
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

// The time one member alone takes (drain confirmed, a 30 s step, READY).
Millis OneMember() {
  Setup s(20);
  s.config.pools[0].members.resize(1);
  s.config.pools[0].capacity.min_in_service = policies::Limit::Count(0);
  FakeWalkIo world;
  REQUIRE(s.Run(world));
  return s.took;
}

TEST_CASE("driver: max_concurrent_hosts caps members out across pools, and no time is lost between waves", "[roll]") {
  // given: two pools of 4, max_out 2 each, steps of 30 s; expect: at most
  // min(cap, 4) out at once, and the walk takes exactly as many member-times
  // as waves: ceil(8 / min(cap, 4)).
  const Millis one = OneMember();
  CHECK(one >= 30s);
  CHECK(one < 40s);
  for (int cap : {1, 2, 3, 4, 6}) {
    INFO("cap " << cap);
    Setup s(cap, 2);
    FakeWalkIo world;
    REQUIRE(s.Run(world));
    for (const auto& [name, h] : s.last_hosts) CHECK(h.phase == HostPhase::kDone);
    const int width = std::min(cap, 4);
    CHECK(world.most_out == static_cast<size_t>(width));
    CHECK(s.took == one * ((8 + width - 1) / width));
  }
}

TEST_CASE("driver: while the halt check says halted nothing is changed, and the walk ends once it is lifted", "[roll]") {
  // given: halted (with --abort) for the first 5 minutes; expect: the check
  // read at least once a second meanwhile, no call at all before it is
  // lifted, the running steps cancelled once, every member done after, and
  // the walk as long as 5 minutes plus the walk itself.
  Setup free(20);
  FakeWalkIo free_world;
  REQUIRE(free.Run(free_world));

  Setup s(20);
  FakeWalkIo world;
  const SteadyTime lifted_at = s.clock.Now() + 5min;
  size_t calls_while_halted = 0;
  int checks = 0;
  auto halt = [&] {
    if (s.clock.Now() >= lifted_at) return HaltCheck{};
    ++checks;
    calls_while_halted = world.calls.size();
    return HaltCheck{true, true, "halted by bob@ops2 since 2026-11-25T08:00:00Z: incident"};
  };
  REQUIRE(s.Run(world, halt));
  CHECK(calls_while_halted == 0);
  CHECK(s.steps.cancels == 1);
  CHECK(checks >= 300);
  for (const auto& [name, h] : s.last_hosts) CHECK(h.phase == HostPhase::kDone);
  CHECK(s.took >= 5min + free.took);
  CHECK(s.took <= 5min + free.took + 1s);
}

TEST_CASE("driver: a pool lock another command holds for a moment delays the decision, not the walk's result", "[roll]") {
  // given: `maint start` holds the pool's lock for the first 1.5 s; expect:
  // no drain before it lets go, then the walk as usual.
  Setup s(20);
  FakeWalkIo world;
  std::optional<FileLock> held = FileLock::Acquire(LockPath(s.config, "pool-p1"), 0ms).value();
  SteadyTime first_drain{};
  world.on_call = [&](const std::string& call) {
    if (call.ends_with(" drain") && first_drain == SteadyTime{}) first_drain = s.clock.Now();
  };
  auto release = [&]() -> Awaitable<void> {
    std::unique_ptr<Timer> t = s.clock.MakeTimer(s.io);
    auto wait = t->WaitUntil(s.clock.Now() + 1500ms);
    co_await std::move(wait);
    held.reset();
  };
  const SteadyTime started = s.clock.Now();
  boost::asio::co_spawn(s.io, release(), boost::asio::detached);
  REQUIRE(s.Run(world));
  CHECK(first_drain - started >= 1500ms);
  CHECK(first_drain - started < 1600ms);
  for (const auto& [name, h] : s.last_hosts) CHECK(h.phase == HostPhase::kDone);
}

TEST_CASE("driver: a pool lock held past 2 s is a pool it cannot read: the walk waits, then stops at its pause deadline", "[roll]") {
  // given: the lock held throughout, pause_deadline 10 min; expect: nothing
  // drained, decisions tried again meanwhile, the walk stopped after 10 min
  // saying it could not read the pool and why.
  Setup s(20);
  s.pause_deadline = 10min;
  FakeWalkIo world;
  FileLock held = FileLock::Acquire(LockPath(s.config, "pool-p1"), 0ms).value();
  REQUIRE(s.Run(world));
  CHECK(world.calls.empty());
  CHECK(s.took >= 10min);
  CHECK(s.took <= 10min + 3s);
  for (const auto& [name, h] : s.last_hosts) CHECK_FALSE(h.out_of_traffic);
  INFO(s.stop_reasons["p1"]);
  CHECK(s.stop_reasons["p1"].find("cannot read the pool") != std::string::npos);
  CHECK(s.stop_reasons["p1"].find("pool-p1") != std::string::npos);
}

}  // namespace
}  // namespace caretaker
