#include "src/run/driver.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <exception>

#include "src/base/failpoint.h"
#include "src/base/log.h"
#include "src/run/bake.h"
#include "src/store/state_open.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;
using Kind = WalkAction::Kind;

// "exit code 1" plus the last lines the step printed, indented.
std::string StepFailure(const StepResult& result, Millis timeout) {
  std::string out = result.Describe(timeout);
  if (result.outcome == StepResult::Outcome::kCannotStart && !result.error.empty()) out += ": " + result.error;
  size_t from = result.tail.size() > 5 ? result.tail.size() - 5 : 0;
  for (size_t i = from; i < result.tail.size(); ++i) out += "\n    | " + result.tail[i];
  return out;
}

}  // namespace

RollDriver::RollDriver(asio::io_context& io, const Config& config, WalkIo& world, StepRunner& steps, RollHooks hooks,
                       Clock& clock)
    : io_(io),
      config_(config),
      world_(world),
      steps_(steps),
      hooks_(std::move(hooks)),
      clock_(clock),
      wake_(clock.MakeTimer(io)) {}

void RollDriver::Add(const PoolConfig& pool, const TaskConfig& task, WalkSpec spec,
                     std::map<std::string, FileLock> locks) {
  walks_.push_back(Walk{&pool, &task, Walker(std::move(spec), clock_.Now()), std::nullopt, false, std::move(locks), {}});
}

const MemberConfig& RollDriver::MemberOf(const Walk& walk, const std::string& server) const {
  if (const MemberConfig* m = walk.pool->FindMember(server)) return *m;
  throw std::logic_error("a walk names only members of its pool");
}

void RollDriver::Kick() {
  kicked_ = true;
  wake_->Cancel();
}

void RollDriver::Interrupt(const std::string& reason) {
  for (Walk& w : walks_) w.walker.Interrupt(clock_.Now(), reason);
  Kick();
}

void RollDriver::Stop(const std::string& reason) {
  for (Walk& w : walks_) w.walker.Stop(reason, clock_.Now());
  Kick();
}

void RollDriver::Abort() {
  for (Walk& w : walks_) w.walker.Abort(clock_.Now());
  steps_.CancelAll();
  world_.Cancel();
  Kick();
}

size_t HostBudget::Out() const {
  size_t out = 0;
  for (const RollDriver* d : drivers_) out += d->OwnOut();
  return out;
}

RollDriver::~RollDriver() {
  if (budget_) std::erase(budget_->drivers_, this);
}

void RollDriver::ReadAlertsFrom(const AlertBook& alerts) { alerts_ = &alerts; }

void RollDriver::ShareBudget(HostBudget& budget) {
  budget_ = &budget;
  budget.drivers_.push_back(this);
}

size_t RollDriver::OutNow() const { return budget_ ? budget_->Out() : OwnOut(); }

// Members out of traffic because of these walks: in flight, or left out by
// a failure. The cap counts both.
size_t RollDriver::OwnOut() const {
  size_t out = 0;
  for (const Walk& w : walks_) {
    out += w.walker.active();
    for (const HostStatus& h : w.walker.hosts()) out += h.ended && h.out_of_traffic ? 1 : 0;
  }
  return out;
}

// One round: every walk decides, with the hosts the global cap still allows.
void RollDriver::Round(SteadyTime now) {
  const size_t cap = static_cast<size_t>(config_.roll.max_concurrent_hosts);
  HaltCheck halt = halt_check_ ? halt_check_() : HaltCheck{};
  if (halt.abort && !halt_aborted_) {
    LogEvent(LogLevel::kWarn, "roll.halt_abort", {{"why", halt.why}});
    steps_.CancelAll();
  }
  halt_aborted_ = halt.abort;
  for (Walk& walk : walks_) {
    walk.walker.SetHalt(halt.halted ? std::optional<std::string>(halt.why) : std::nullopt, now);
    size_t out = OutNow();
    std::vector<WalkAction> actions = walk.walker.Next(now, out >= cap ? 0 : cap - out);
    StartAll(walk, std::move(actions));
    if (walk.decided) walk.decide_lock.reset();  // the records of what it started are written
    walk.decided = false;
    for (const HostStatus& h : walk.walker.hosts()) {
      // Done with it (and nothing of it in flight, as a late MAINT again):
      // `maint stop` may act.
      if (h.ended && walk.performing[h.server] == 0) walk.member_locks.erase(h.server);
    }
    for (const WalkEvent& e : walk.walker.TakeEvents()) {
      if (hooks_.on_event) hooks_.on_event(walk.pool->name, e);
      if (e.text.starts_with("gate ") && e.text.find(" passed in ") != std::string::npos) {
        FailPoint("gate-" + e.text.substr(5, e.text.find(' ', 5) - 5), e.server);
      }
    }
  }
}

bool RollDriver::LockMember(Walk& walk, const WalkAction& action) {
  auto lock = FileLock::Acquire(
      LockPath(config_, "member-" + walk.pool->name + "-" + action.server), Millis(0));
  if (lock) {
    walk.member_locks.erase(action.server);
    walk.member_locks.emplace(action.server, std::move(lock.value()));
    return true;
  }
  // Held right now by a command (a `maint start` being refused holds it for
  // a moment): nothing was done, so the walker tries again later (a member
  // picked up from its record, out of traffic already, waits for it too).
  walk.walker.OnLocked(action, "another caretaker command", clock_.Now());
  return false;
}

void RollDriver::StartAll(Walk& walk, std::vector<WalkAction> actions) {
  std::vector<bool> go(actions.size(), true);
  std::vector<size_t> journaled;
  std::vector<WalkIo::JournalEntry> entries;
  for (size_t i = 0; i < actions.size(); ++i) {
    WalkAction& action = actions[i];
    const std::string& journal = action.journal;  // the walker decides every record
    if (journal.empty()) continue;
    // The member's lock from its first change — its drain, or wherever a job
    // picked up again starts it — until the walk is done with it.
    if (!walk.member_locks.count(action.server) && !LockMember(walk, action)) {
      go[i] = false;
      Kick();
      continue;
    }
    entries.push_back({&MemberOf(walk, action.server), journal, action.step});
    journaled.push_back(i);
  }
  if (!entries.empty()) {
    // Write-ahead: the records first, synchronously, in one transaction (one
    // fsync for a wave); no record, no change.
    auto put = world_.JournalAll(*walk.pool, entries);
    for (size_t i : journaled) {
      if (!put) {
        walk.walker.OnJournalFailed(actions[i], put.error().message, clock_.Now());
        go[i] = false;
        Kick();
        continue;
      }
      FailPoint("journaled-" + actions[i].journal, actions[i].server);  // the record written, its change not yet made
    }
  }
  for (size_t i = 0; i < actions.size(); ++i) {
    if (go[i]) Launch(walk, std::move(actions[i]));
  }
}

void RollDriver::Launch(Walk& walk, WalkAction action) {
  ++in_flight_;
  const std::string server = action.server;
  ++walk.performing[server];
  asio::co_spawn(io_, Perform(walk, std::move(action)), [this, &walk, server](std::exception_ptr e) {
    --in_flight_;
    --walk.performing[server];
    if (e) {
      // Perform turns every exception into a failed action; this is a bug.
      LogEvent(LogLevel::kError, "roll.internal_error", {{"what", "an action ended with an exception"}});
      for (Walk& w : walks_) w.walker.Abort(clock_.Now());
    }
    Kick();
  });
}

Awaitable<void> RollDriver::Observe(Walk& walk, const WalkAction& action) {
  std::optional<FileLock> lock;
  if (action.with_mysql) {
    // The capacity decision: no other caretaker decides for this pool until
    // the records of the members this one starts are written (Round()). A
    // `maint start` holds it for milliseconds: wait up to 2 s, off the loop.
    // Still held from this walk's last decision (the coroutine may start
    // inside Round, before Round lets go of it): the records of what that
    // decision started are written already, so this decision goes on with it.
    if (walk.decide_lock) {
      lock.emplace(std::move(*walk.decide_lock));
      walk.decide_lock.reset();
    }
    const SteadyTime give_up = clock_.Now() + std::chrono::seconds(2);
    while (!lock) {
      auto got = FileLock::Acquire(LockPath(config_, "pool-" + walk.pool->name), Millis(0));
      if (got) {
        lock.emplace(std::move(got.value()));
        break;
      }
      if (clock_.Now() >= give_up) {
        walk.walker.OnObserved(action.seq, Error{got.error().message}, clock_.Now());
        co_return;
      }
      std::unique_ptr<Timer> pause = clock_.MakeTimer(io_);
      auto wait = pause->WaitUntil(clock_.Now() + std::chrono::milliseconds(50));
      co_await std::move(wait);
    }
  }
  const SteadyTime started = clock_.Now();
  auto op = world_.Observe(*walk.pool, action.with_mysql && !walk.walker.spec().gates.off.mysqld);
  Result<PoolView> view = co_await std::move(op);
  LogEvent(LogLevel::kDebug, "roll.observe",
           {{"pool", walk.pool->name}, {"decide", action.with_mysql}, {"ok", bool(view)},
            {"ms", static_cast<int64_t>(std::chrono::duration_cast<Millis>(clock_.Now() - started).count())}});
  walk.decide_lock.reset();
  if (lock) walk.decide_lock.emplace(std::move(*lock));
  walk.walker.OnObserved(action.seq, view, clock_.Now());
  walk.decided = true;
}

Awaitable<void> RollDriver::RunStep(Walk& walk, const WalkAction& action) {
  const StepConfig& step = walk.task->steps[action.step];
  const MemberConfig& member = MemberOf(walk, action.server);
  StepCommand command = ExpandStep(*walk.task, step, *walk.pool, member);
  LogEvent(LogLevel::kDebug, "roll.step.start",
           {{"pool", walk.pool->name}, {"server", action.server}, {"step", step.name},
            {"attempt", static_cast<int64_t>(action.attempt)}, {"command", command.display}});
  const std::string pool = walk.pool->name;
  auto on_line = [this, pool, server = action.server, step = action.step](std::string_view line) {
    FailPoint("step-" + std::to_string(step + 1), server);
    LogEvent(LogLevel::kDebug, "roll.step.output", {{"pool", pool}, {"server", server}, {"line", std::string(line)}});
    if (hooks_.on_output) hooks_.on_output(pool, server, line);
  };
  auto run = steps_.Run(command, step.timeout, on_line);
  StepResult result = co_await std::move(run);
  LogEvent(LogLevel::kDebug, "roll.step.end",
           {{"pool", pool}, {"server", action.server}, {"step", step.name}, {"ok", result.ok()},
            {"result", result.Describe(step.timeout)}, {"ms", static_cast<int64_t>(result.took.count())}});
  std::string what = result.ok() ? "ok in " + HumanDuration(result.took) : StepFailure(result, step.timeout);
  walk.walker.OnStepDone(action, result.ok(), what, clock_.Now());
}

Awaitable<void> RollDriver::Perform(Walk& walk, WalkAction action) {
  std::string what;
  try {
    auto act = Act(walk, action);
    co_await std::move(act);
    co_return;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an unknown exception";
  }
  LogEvent(LogLevel::kError, "roll.internal_error", {{"server", action.server}, {"what", what}});
  Failed(walk, action, "internal error: " + what);
}

void RollDriver::Failed(Walk& walk, const WalkAction& action, const std::string& what) {
  const SteadyTime now = clock_.Now();
  switch (action.kind) {
    case Kind::kObserve: return walk.walker.OnObserved(action.seq, Error{what}, now);
    case Kind::kRunStep: return walk.walker.OnStepDone(action, false, what, now);
    case Kind::kProbe: return walk.walker.OnProbe(action, mysql::Error{mysql::ErrorCode::kQuery, 0, what}, now);
    case Kind::kGtidWait: return walk.walker.OnGtidWait(action, mysql::Error{mysql::ErrorCode::kQuery, 0, what}, now);
    case Kind::kWarmupQueries:
      return walk.walker.OnWarmupQueries(action, mysql::Error{mysql::ErrorCode::kQuery, 0, what}, now);
    case Kind::kReassert: return walk.walker.OnReasserted(action, false, what, now);
    case Kind::kBakeRead: return walk.walker.OnBakeRead(action, {BakeReading::Is::kUnknown, what}, now);
    default: return walk.walker.OnApplied(action, false, what, now);
  }
}

Awaitable<void> RollDriver::Act(Walk& walk, const WalkAction& action) {
  const PoolConfig& pool = *walk.pool;
  switch (action.kind) {
    case Kind::kObserve: {
      for (const HostStatus& h : walk.walker.hosts()) {
        if (h.phase == HostPhase::kDraining && h.record) FailPoint("sessions-waiting", h.server);
      }
      auto op = Observe(walk, action);
      co_await std::move(op);
      co_return;
    }
    case Kind::kRunStep: {
      auto op = RunStep(walk, action);
      co_await std::move(op);
      co_return;
    }
    case Kind::kProbe: {
      auto op = world_.Probe(pool, MemberOf(walk, action.server));
      mysql::Result<mysql::ReplicaStatus> reading = co_await std::move(op);
      walk.walker.OnProbe(action, reading, clock_.Now());
      co_return;
    }
    case Kind::kGtidWait: {
      auto op = world_.WaitForPrimary(pool, MemberOf(walk, action.server), action.deadline);
      mysql::Result<bool> reached = co_await std::move(op);
      walk.walker.OnGtidWait(action, reached, clock_.Now());
      co_return;
    }
    case Kind::kWarmupQueries: {
      auto op = world_.RunWarmupQueries(pool, MemberOf(walk, action.server));
      mysql::Status ran = co_await std::move(op);
      walk.walker.OnWarmupQueries(action, ran, clock_.Now());
      co_return;
    }
    case Kind::kBakeRead: {
      auto op = ReadBakeChecks(io_, config_, world_, steps_, pool, MemberOf(walk, action.server),
                               walk.walker.spec().bake_checks, alerts_);
      BakeReading reading = co_await std::move(op);
      walk.walker.OnBakeRead(action, reading, clock_.Now());
      co_return;
    }
    case Kind::kReassert: {
      // The record already says where it is: nothing to journal.
      auto op = world_.SetState(pool, action.server, action.state);
      Result<void> done = co_await std::move(op);
      LogEvent(done ? LogLevel::kWarn : LogLevel::kError, "roll.reassert",
               {{"pool", pool.name}, {"server", action.server}, {"state", LbStateName(action.state)}, {"ok", bool(done)}});
      walk.walker.OnReasserted(action, bool(done), done ? std::string() : done.error().message, clock_.Now());
      co_return;
    }
    default:
      break;
  }
  Result<void> done = boost::outcome_v2::success();
  if (action.kind == Kind::kSetState) {
    auto op = world_.SetState(pool, action.server, action.state);
    done = co_await std::move(op);
    // drain-sent, maint-set, ready-sent
    if (done) FailPoint(std::string(LbStateName(action.state)) + (action.state == LbState::kMaint ? "-set" : "-sent"),
                        action.server);
  } else if (action.kind == Kind::kSetWeight) {
    auto op = world_.SetWeight(pool, action.server, action.percent);
    done = co_await std::move(op);
  } else if (action.kind == Kind::kShutdownSessions) {
    auto op = world_.ShutdownSessions(pool, action.server);
    done = co_await std::move(op);
  } else if (action.kind == Kind::kRelease) {
    done = world_.Release(pool, MemberOf(walk, action.server));
  }
  walk.walker.OnApplied(action, done, clock_.Now());
}

Awaitable<void> RollDriver::Run() {
  while (true) {
    Round(clock_.Now());
    if (hooks_.on_tick) hooks_.on_tick();
    bool all_finished = in_flight_ == 0;
    std::optional<SteadyTime> at;
    for (const Walk& w : walks_) {
      all_finished = all_finished && w.walker.finished();
      if (auto t = w.walker.WakeAt()) at = at ? std::min(*at, *t) : *t;
    }
    if (all_finished) co_return;
    if (kicked_) {
      kicked_ = false;
      continue;
    }
    // At least once a second, for the progress display.
    SteadyTime until = std::min(at.value_or(SteadyTime::max()), clock_.Now() + std::chrono::seconds(1));
    auto wait = wake_->WaitUntil(until);  // cancelled by Kick(): just go round
    co_await std::move(wait);
    kicked_ = false;
  }
}

}  // namespace caretaker
