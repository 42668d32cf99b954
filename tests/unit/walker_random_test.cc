// The walker against a simple model of a pool under random operations
// (STYLE rule 13): random pools, policies, sessions, step failures, command
// failures, members going down and up (or only their mysqld, unnoticed by
// HAProxy), an instance reloaded that forgets the MAINT of the members held,
// members' locks held by a command for a while, Interrupt(), Abort() and
// halts. After every
// event: never a member taken out when the capacity policy on the live state
// would refuse it, never READY before the gates passed, never a step on a
// member not in MAINT, never a member left out of traffic (or maybe in
// traffic) without its status saying so; at the end, every member
// accounted for. Prints nothing on success, the seed on failure
// (WALKER_SEED=n runs that one seed, WALKER_TRACE=1 prints its events,
// WALKER_RUNS=n runs seeds 1..n).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "src/walk/walker.h"
#include "tests/unit/walker_world.h"

namespace caretaker {
namespace {

using namespace walker_testing;

class Dice {
 public:
  explicit Dice(uint32_t seed) : rng_(seed) {}
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  Millis Ms(int lo_ms, int hi_ms) { return Millis(Int(lo_ms, hi_ms)); }
  Millis Seconds(int lo, int hi) { return Millis(1000 * Int(lo, hi)); }
  template <class T>
  T Pick(std::initializer_list<T> items) {
    return *(items.begin() + Int(0, static_cast<int>(items.size()) - 1));
  }
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

policies::CapacityPolicy RandomCapacity(Dice& dice, size_t n) {
  policies::CapacityPolicy c;
  const int size = static_cast<int>(n);
  c.min_in_service = dice.Chance(0.5) ? policies::Limit::Count(static_cast<size_t>(dice.Int(0, size - 1)))
                                      : policies::Limit::Percent(dice.Pick<size_t>({0, 25, 50, 60, 75}));
  if (!dice.Chance(0.1)) {
    c.max_out = dice.Chance(0.7) ? policies::Limit::Count(static_cast<size_t>(dice.Int(1, 3)))
                                 : policies::Limit::Percent(dice.Pick<size_t>({25, 50}));
  }
  c.count_unhealthy_as_out = dice.Chance(0.6);
  return c;
}

GatesConfig RandomGates(Dice& dice) {
  GatesConfig g;
  g.probe_interval = dice.Pick<Millis>({1s, 2s});
  g.mysql_timeout = dice.Seconds(20, 120);
  g.max_lag = 5s;
  g.catch_up_reads = dice.Int(1, 3);
  g.catch_up_timeout = 60s;
  g.warmup_timeout = 60s;
  g.enable_timeout = dice.Seconds(5, 30);
  if (dice.Chance(0.25)) g.weight_ramp = dice.Pick<std::vector<int>>({{10, 50, 100}, {50, 100}, {100}});
  g.ramp_hold = dice.Seconds(1, 10);
  if (dice.Chance(0.1)) g.off = GatesOff{true, true, true, true};
  return g;
}

WalkSpec RandomSpec(Dice& dice, const std::vector<std::string>& pool) {
  WalkSpec spec;
  spec.pool = "replicas";
  spec.members = pool;
  if (dice.Chance(0.25)) {
    std::shuffle(spec.members.begin(), spec.members.end(), dice.rng());
    spec.members.resize(static_cast<size_t>(dice.Int(1, static_cast<int>(pool.size()))));
  }
  spec.capacity = RandomCapacity(dice, pool.size());
  spec.drain.deadline = dice.Seconds(5, 60);
  spec.drain.poll_interval = dice.Pick<Millis>({500ms, 1s});
  spec.drain.on_timeout = dice.Chance(0.3) ? DrainTimeoutAction::kShutdownSessions : DrainTimeoutAction::kRestore;
  spec.force_sessions = dice.Chance(0.15);
  spec.gates = RandomGates(dice);
  for (int i = dice.Int(1, 3); i > 0; --i) {
    StepConfig step;
    step.name = "s" + std::to_string(spec.steps.size() + 1);
    step.retries = dice.Int(0, 2);
    step.retry_delay = dice.Seconds(1, 5);
    spec.steps.push_back(step);
  }
  spec.pause_deadline = dice.Seconds(30, 300);
  spec.max_failures = dice.Int(1, 3);
  return spec;
}

// What the invariants need to know of a member besides the model.
struct Track {
  Admin initial = Admin::kReady;
  bool maint = false;                      // MAINT sent since its last drain
  std::optional<SteadyTime> steps_done;    // its last step succeeds then (since that MAINT)
  bool probe_healthy = false;              // its last probe said caught up and warm
  bool state_unknown = false;              // its last state command failed: where it stands is unknown
  int drains = 0;
  std::optional<SteadyTime> reloaded;      // an instance forgot its MAINT then
};

class RandomWalk {
 public:
  RandomWalk(uint32_t seed, size_t n) : dice_(seed), world_(Names(n)) {
    spec_ = RandomSpec(dice_, Names(n));
    walker_.emplace(spec_, t0);
    SetUpWorld();
    SetUpMembers();
    ScheduleChaos();
    Hook();
  }

  // "" when every invariant held.
  std::string Run() {
    World::End end = world_.Run(*walker_, 12h, 200'000);
    if (end != World::End::kFinished) Violation("the walk did not finish: " + world_.trouble);
    if (violation_.empty()) CheckMembers();
    if (violation_.empty()) CheckEnd();
    return violation_.empty() ? "" : violation_ + "\n" + Describe();
  }

 private:
  static std::vector<std::string> Names(size_t n) {
    std::vector<std::string> names;
    for (size_t i = 1; i <= n; ++i) names.push_back("db" + std::to_string(i));
    return names;
  }
  bool Walked(const std::string& server) const {
    return std::find(spec_.members.begin(), spec_.members.end(), server) != spec_.members.end();
  }
  void Violation(const std::string& what) {
    if (violation_.empty()) violation_ = "at t+" + std::to_string((world_.now - t0) / 1ms) + "ms: " + what;
  }

  void SetUpWorld() {
    world_.lb_time = dice_.Pick<Millis>({0ms, 20ms});
    world_.observe_time = dice_.Pick<Millis>({0ms, 30ms});
    world_.probe_time = dice_.Pick<Millis>({0ms, 10ms});
    world_.check_interval = dice_.Pick<Millis>({1s, 2s});
    world_.batch = dice_.Chance(0.5);
    world_.max_lag = spec_.gates.max_lag;
    cap_ = dice_.Chance(0.2) ? static_cast<size_t>(dice_.Int(1, 3)) : 100;
    world_.slots = [this](const Walker& w) { return w.active() < cap_ ? cap_ - w.active() : size_t{0}; };
    const double fail_rate = dice_.Pick<double>({0.0, 0.02, 0.05});
    world_.fault = [this, fail_rate](const WalkAction& a, const std::string&) -> std::optional<std::string> {
      bool failed = dice_.Chance(fail_rate);
      // A failed drain is no excuse: the walk must put the member back.
      if (a.kind == WalkAction::Kind::kSetState) {
        tracks_[a.server].state_unknown = failed && a.state != LbState::kDrain;
      }
      if (failed) return "lb2: Connection refused";
      return std::nullopt;
    };
    world_.observe_fault = [this]() -> std::optional<std::string> {
      if (dice_.Chance(0.02)) return "lb1 (/run/haproxy/admin.sock): Connection refused";
      return std::nullopt;
    };
    world_.step_outcome = [this](const WalkAction& a) -> std::optional<StepOutcome> { return Outcome(a); };
  }

  std::optional<StepOutcome> Outcome(const WalkAction& a) {
    StepOutcome outcome{!dice_.Chance(0.08), "exit status 1", dice_.Seconds(1, 20)};
    if (outcome.ok) outcome.text = "ok";
    Track& t = tracks_[a.server];
    t.steps_done.reset();
    if (outcome.ok && a.step + 1 == spec_.steps.size()) t.steps_done = world_.now + outcome.took;
    return outcome;
  }

  void SetUpMembers() {
    for (MemberModel& m : world_.members) {
      m.sessions = dice_.Int(0, 20);
      m.sessions_linger = dice_.Chance(0.05) ? std::nullopt : std::optional<Millis>(dice_.Seconds(0, 40));
      m.down = dice_.Chance(0.1);
      m.mysql_dead = !m.down && dice_.Chance(0.05);
      m.stay_down = dice_.Chance(0.03);
      m.lag_after_steps = dice_.Seconds(0, 30);
      if (dice_.Chance(0.1)) m.caught_up_at = t0 + dice_.Seconds(0, 60);
      if (dice_.Chance(0.03)) m.break_replication = "Error 'Duplicate entry' on query";
      if (dice_.Chance(0.05)) {
        m.admin = Admin::kMaint;
        m.held_by = "alice: disk swap";
      } else if (dice_.Chance(0.03)) {
        m.admin = dice_.Chance(0.5) ? Admin::kMaint : Admin::kDrain;  // by hand, without a record
      }
      tracks_[m.server].initial = m.admin;
    }
  }

  void ScheduleChaos() {
    for (int i = dice_.Int(0, 3); i > 0; --i) {
      const int last = static_cast<int>(world_.members.size()) - 1;
      std::string server = world_.members[static_cast<size_t>(dice_.Int(0, last))].server;
      SteadyTime down = t0 + dice_.Seconds(0, 600);
      world_.At(down, [this, server] { world_[server].down = true; });
      if (dice_.Chance(0.15)) continue;  // down for good
      world_.At(down + dice_.Seconds(5, 300), [this, server] {
        world_[server].down = false;
        world_[server].up_from = world_.now + world_.check_interval;
      });
    }
    // mysqld dies while HAProxy still says UP: only the probes know, until
    // HAProxy's checks notice (or it comes back first).
    for (int i = dice_.Int(0, 2); i > 0; --i) {
      const int last = static_cast<int>(world_.members.size()) - 1;
      std::string server = world_.members[static_cast<size_t>(dice_.Int(0, last))].server;
      SteadyTime dies = t0 + dice_.Seconds(0, 600);
      world_.At(dies, [this, server] { world_[server].mysql_dead = true; });
      if (dice_.Chance(0.5)) {
        world_.At(dies + dice_.Ms(200, 3000), [this, server] {
          if (world_[server].mysql_dead) world_[server].down = true;
        });
      }
      if (dice_.Chance(0.2)) continue;  // dead for good
      world_.At(dies + dice_.Seconds(4, 300), [this, server] {
        world_[server].mysql_dead = false;
        world_[server].down = false;
        world_[server].up_from = world_.now + world_.check_interval;
      });
    }
    // A reload that forgets the runtime state: every member the walk holds
    // in MAINT (its steps, its gates) is READY again.
    for (int i = dice_.Int(0, 2); i > 0; --i) {
      world_.At(t0 + dice_.Seconds(0, 600), [this] {
        for (const HostStatus& s : walker_->hosts()) {
          if (s.phase != HostPhase::kStep && s.phase != HostPhase::kGates) continue;
          world_[s.server].admin = Admin::kReady;
          tracks_[s.server].reloaded = world_.now;
        }
      });
    }
    // A command holds a member's lock for a while: reads may show it
    // (locked_by), or only the driver finds it as it starts the member.
    for (int i = dice_.Int(0, 2); i > 0; --i) {
      const int last = static_cast<int>(world_.members.size()) - 1;
      std::string server = world_.members[static_cast<size_t>(dice_.Int(0, last))].server;
      SteadyTime from = t0 + dice_.Seconds(0, 600);
      const bool seen = dice_.Chance(0.5);
      world_.At(from, [this, server, seen] {
        if (seen) world_[server].locked_by = "a caretaker maint command";
        world_[server].lock_taken = true;
      });
      world_.At(from + dice_.Seconds(1, 400), [this, server] {
        world_[server].locked_by.clear();
        world_[server].lock_taken = false;
      });
    }
    if (dice_.Chance(0.1)) world_.At(t0 + dice_.Seconds(0, 600), [this] { walker_->Interrupt(world_.now); });
    if (dice_.Chance(0.04)) {
      world_.At(t0 + dice_.Seconds(0, 600), [this] {
        aborted_ = true;
        walker_->Abort(world_.now);
      });
    }
    if (dice_.Chance(0.25)) {  // halted for a while: nothing starts meanwhile
      SteadyTime at = t0 + dice_.Seconds(0, 600);
      world_.At(at, [this] {
        halted_ = true;
        walker_->SetHalt(std::string("random halt"), world_.now);
      });
      world_.At(at + dice_.Seconds(1, 900), [this] {
        halted_ = false;
        walker_->SetHalt(std::nullopt, world_.now);
      });
    }
    if (dice_.Chance(0.2)) {
      const size_t usual = cap_;
      SteadyTime at = t0 + dice_.Seconds(0, 300);
      world_.At(at, [this] { cap_ = static_cast<size_t>(dice_.Int(0, 2)); });
      world_.At(at + dice_.Seconds(1, 120), [this, usual] { cap_ = usual; });
    }
  }

  void Hook() {
    world_.before_command = [this](const WalkAction& a, const std::string& command) { BeforeCommand(a, command); };
    world_.on_probe = [this](const std::string& server, const mysql::Result<mysql::ReplicaStatus>& r) {
      tracks_[server].probe_healthy = r && r.value().ThreadsRunning() && r.value().lag &&
                                      *r.value().lag <= spec_.gates.max_lag && r.value().warmup &&
                                      r.value().warmup->Done();
    };
    const bool trace = std::getenv("WALKER_TRACE") != nullptr;
    world_.after_event = [this, trace] {
      CheckMembers();
      if (trace) Trace();
    };
  }

  void Trace() {
    for (; traced_ < world_.events.size(); ++traced_) {
      const WalkEvent& e = world_.events[traced_];
      std::fprintf(stderr, "t+%lldms %s: %s\n", static_cast<long long>((world_.now - t0) / 1ms), e.server.c_str(),
                   e.text.c_str());
    }
  }

  void BeforeCommand(const WalkAction& a, const std::string& command) {
    if (aborted_) Violation("\"" + command + "\" after Abort()");
    if (halted_ && (a.kind == WalkAction::Kind::kRunStep || a.journal == "draining")) {
      Violation("\"" + command + "\" while halted");
    }
    if (!Walked(a.server)) Violation("\"" + command + "\" on a member outside the walk");
    Track& t = tracks_[a.server];
    if (a.kind == WalkAction::Kind::kRunStep && world_[a.server].admin != Admin::kMaint && !JustReloaded(t)) {
      Violation("\"" + command + "\" while it is not in MAINT");
    }
    if (a.kind == WalkAction::Kind::kRunStep) t.probe_healthy = false;
    if (a.kind == WalkAction::Kind::kRelease) return CheckRelease(a.server);
    if (a.kind != WalkAction::Kind::kSetState) return;
    if (a.state == LbState::kDrain) return CheckDrain(a, t);
    if (a.state == LbState::kMaint) {
      if (a.journal != "maint") Violation("\"" + command + "\" without its record written first");
      if (draining_at_stop_.count(a.server)) {
        Violation("\"" + command + "\" after the walk stopped while it was draining: it goes back");
      }
      t.maint = true;
      t.steps_done.reset();
      t.probe_healthy = false;
      return;
    }
    if (!t.maint) return;  // putting back a member whose drain did not finish
    bool gates_passed = t.steps_done && world_.now >= *t.steps_done && (spec_.gates.off.mysqld || t.probe_healthy);
    if (!gates_passed) Violation("READY for " + a.server + " before its task and gates passed");
    if (a.journal != "enabling") Violation("\"" + command + "\" without its record written first");
  }

  // An instance forgot its MAINT less than two reads before `at`: the walk
  // had no read to see it by (the next `caretaker status` does).
  bool JustReloaded(const Track& t, std::optional<SteadyTime> at = std::nullopt) const {
    const Millis reads = 2 * (spec_.gates.probe_interval + world_.observe_time);
    return t.reloaded && at.value_or(world_.now) - *t.reloaded <= reads;
  }

  // The record goes only once the member is back READY.
  void CheckRelease(const std::string& server) {
    if (world_[server].admin != Admin::kReady) Violation("record of " + server + " removed while it is out of traffic");
  }

  void CheckDrain(const WalkAction& a, Track& t) {
    const std::string& server = a.server;
    if (a.journal != "draining") Violation("drain of " + server + " without its record written first");
    if (!walker_->stop_reason().empty()) Violation("drained " + server + " after the walk stopped");
    if (++t.drains > 1) Violation("drained " + server + " a second time");
    t.maint = false;
    t.steps_done.reset();
    policies::Decision d = policies::MayTakeOut(spec_.capacity, world_.Snapshot(spec_.pool), server);
    if (d.allowed()) return;
    std::string states;
    for (const policies::Member& m : world_.Snapshot(spec_.pool).members) {
      states += " " + m.name + "=" + policies::StateName(m.state);
    }
    Violation("drained " + server + " although the policy refuses on the live state: " + d.reason + " (" + states +
              ")");
  }

  // Nothing out of traffic that its status does not say so.
  void CheckMembers() {
    if (!walker_->stop_reason().empty() && !stop_seen_) {
      stop_seen_ = true;
      for (const HostStatus& s : walker_->hosts()) {
        if (s.phase == HostPhase::kDraining) draining_at_stop_.insert(s.server);
      }
    }
    for (const MemberModel& m : world_.members) {
      const Track& t = tracks_[m.server];
      const HostStatus* s = Status(m.server);
      bool untouched = !s || s->phase == HostPhase::kPending || s->phase == HostPhase::kSkipped;
      if (untouched) {
        if (m.admin != t.initial) Violation(m.server + " changed although the walk never started it");
        continue;
      }
      if (!Ended(s->phase) || t.state_unknown) continue;
      bool out = m.admin != Admin::kReady;
      // Its MAINT lost and not confirmed again: it says so, and counts as out.
      if (!s->may_be_in_traffic.empty() && s->out_of_traffic) continue;
      // Forgotten less than two reads before it ended: the walk had no read
      // to see it by (the next `caretaker status` does).
      if (s->ended && JustReloaded(t, *s->ended)) continue;
      if (out != s->out_of_traffic) {
        Violation(m.server + " is " + (out ? "out of" : "in") + " traffic but its status says out_of_traffic=" +
                  (s->out_of_traffic ? "true" : "false") + " (" + s->detail + ")");
      }
    }
  }

  static bool Ended(HostPhase p) {
    return p == HostPhase::kDone || p == HostPhase::kFailed || p == HostPhase::kStopped;
  }
  const HostStatus* Status(const std::string& server) const {
    for (const HostStatus& s : walker_->hosts()) {
      if (s.server == server) return &s;
    }
    return nullptr;
  }

  void CheckEnd() {
    const bool stopped = !walker_->stop_reason().empty();
    int failed = 0;
    for (const HostStatus& s : walker_->hosts()) {
      if (s.phase == HostPhase::kFailed) ++failed;
      bool fine = s.phase == HostPhase::kDone || s.phase == HostPhase::kSkipped || s.phase == HostPhase::kFailed ||
                  (stopped && (s.phase == HostPhase::kPending || s.phase == HostPhase::kStopped));
      if (!fine) Violation(s.server + " ended " + HostPhaseName(s.phase) + ": " + s.detail);
      if (s.phase == HostPhase::kSkipped && world_[s.server].held_by.empty()) Violation(s.server + " skipped");
    }
    if (!stopped && failed >= spec_.max_failures) Violation("max_failures reached but the walk did not stop");
    if (walker_->stopped_on_capacity() && walker_->stop_reason().rfind("paused for ", 0) != 0) {
      Violation("stopped on capacity: " + walker_->stop_reason());
    }
  }

  std::string Describe() const {
    std::ostringstream out;
    out << "pool of " << world_.members.size() << ", walk of " << spec_.members.size() << ", min_in_service "
        << spec_.capacity.min_in_service.ToString() << ", max_out "
        << (spec_.capacity.max_out ? spec_.capacity.max_out->ToString() : "none")
        << ", stop: " << walker_->stop_reason() << "\nlast commands:";
    size_t from = world_.commands.size() > 30 ? world_.commands.size() - 30 : 0;
    for (size_t i = from; i < world_.commands.size(); ++i) {
      out << "\n  t+" << (world_.command_times[i] - t0) / 1ms << "ms " << world_.commands[i];
    }
    for (const HostStatus& s : walker_->hosts()) {
      out << "\n  " << s.server << " " << HostPhaseName(s.phase) << ": " << s.detail;
    }
    return out.str();
  }

  Dice dice_;
  World world_;
  WalkSpec spec_;
  std::optional<Walker> walker_;
  std::map<std::string, Track> tracks_;
  size_t cap_ = 100;
  bool aborted_ = false;
  bool halted_ = false;
  std::string violation_;
  size_t traced_ = 0;
  bool stop_seen_ = false;
  std::set<std::string> draining_at_stop_;  // members draining when the walk stopped
};

std::string RunSeed(uint32_t seed) {
  Dice sizes(seed ^ 0x9e3779b9u);
  RandomWalk walk(seed, static_cast<size_t>(sizes.Int(2, 8)));
  return walk.Run();
}

}  // namespace

TEST_CASE("random walks keep the capacity policy, never enable early, never leave a member out silently",
          "[walker]") {
  // given: 4000 random pools, policies and mishaps; expect: every invariant
  // after every event, and at the end every member accounted for.
  uint32_t first = 1, last = 4000;
  if (const char* runs = std::getenv("WALKER_RUNS")) last = static_cast<uint32_t>(std::strtoul(runs, nullptr, 10));
  if (const char* one = std::getenv("WALKER_SEED")) {
    first = last = static_cast<uint32_t>(std::strtoul(one, nullptr, 10));
  }
  for (uint32_t seed = first; seed <= last; ++seed) {
    std::string problem = RunSeed(seed);
    if (!problem.empty()) FAIL("seed " << seed << ": " << problem);
  }
}

}  // namespace caretaker
