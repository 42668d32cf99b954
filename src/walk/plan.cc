#include "src/walk/plan.h"

#include <map>

namespace caretaker {
namespace {

using Kind = WalkAction::Kind;

mysql::ReplicaStatus Healthy() {
  mysql::ReplicaStatus s;
  s.version.flavor = mysql::Flavor::kMariaDB;
  s.io_thread = mysql::ThreadState::kYes;
  s.sql_thread = mysql::ThreadState::kYes;
  s.lag = Millis(0);
  mysql::BufferPoolLoad load;
  load.state = mysql::BufferPoolLoad::State::kCompleted;
  s.warmup = load;
  return s;
}

// The simulated pool: the live view, changed by what the walk does.
class World {
 public:
  explicit World(const PoolView& live) : view_(live) {
    // A lock a command holds right now is let go in moments: the walk waits
    // for it, so the plan does not stop there.
    for (MemberView& m : view_.members) m.locked_by.clear();
  }

  const PoolView& view() const { return view_; }

  void Apply(const WalkAction& a) {
    for (MemberView& m : view_.members) {
      if (m.server != a.server) continue;
      if ((a.kind == Kind::kSetState || a.kind == Kind::kReassert) && a.state != LbState::kReady) {
        m.state = policies::Member::State::kDrained;
        m.ready_on.clear();
        m.out_everywhere = true;
        m.ready_everywhere = false;
        m.checked_up = false;
        m.sessions = 0;
      } else if (a.kind == Kind::kSetState) {
        m.state = policies::Member::State::kInService;  // walked: healthy again
        m.out_everywhere = false;
        m.ready_everywhere = true;
        m.checked_up = true;
      }
    }
  }

 private:
  PoolView view_;
};

}  // namespace

std::string Describe(const WalkPlan::CountedOut& out) {
  return out.server + ": " + policies::StateName(out.state) + ", counted out" +
         (out.detail.empty() ? "" : " (" + out.detail + ")");
}

WalkPlan SimulateWalk(const WalkSpec& spec, const PoolView& live, size_t max_concurrent) {
  WalkPlan plan;
  using State = policies::Member::State;
  for (const MemberView& m : live.members) {
    if (!policies::IsUnhealthy(m.state) || !policies::CountsAsOut(spec.capacity, m.state)) continue;
    plan.counted_out.push_back({m.server, m.state, m.state == State::kUnreachable ? m.mysql_error : m.health});
  }
  World world(live);
  SteadyTime now{};
  Walker walker(spec, now);
  for (int round = 0; round < 100000 && !walker.finished(); ++round) {
    size_t out = walker.active();
    std::vector<WalkAction> actions = walker.Next(now, out >= max_concurrent ? 0 : max_concurrent - out);
    std::vector<std::string> wave;
    for (const WalkAction& a : actions) {
      if (a.kind == Kind::kSetState && a.state == LbState::kDrain && a.journal == "draining") wave.push_back(a.server);
      world.Apply(a);
      switch (a.kind) {
        case Kind::kObserve: walker.OnObserved(a.seq, world.view(), now); break;
        case Kind::kRunStep: walker.OnStepDone(a, true, "ok", now); break;
        case Kind::kProbe: walker.OnProbe(a, Healthy(), now); break;
        case Kind::kGtidWait: walker.OnGtidWait(a, true, now); break;
        case Kind::kWarmupQueries: walker.OnWarmupQueries(a, mysql::Ok(), now); break;
        case Kind::kReassert: walker.OnReasserted(a, true, "", now); break;
        default: walker.OnApplied(a, true, "", now); break;
      }
    }
    if (!wave.empty()) plan.waves.push_back(std::move(wave));
    if (!actions.empty()) continue;
    // Waiting for capacity with nothing of the walk out: it would pause.
    if (!walker.waiting_for().empty() && walker.active() == 0) {
      plan.blocked = walker.waiting_for();
      break;
    }
    std::optional<SteadyTime> at = walker.WakeAt();
    if (!at) break;
    now = std::max(now, *at);
  }
  for (const HostStatus& h : walker.hosts()) {
    if (h.phase == HostPhase::kSkipped) plan.skipped.push_back(h.server + ": " + h.detail);
    if (h.phase == HostPhase::kPending) plan.not_started.push_back(h.server);
  }
  return plan;
}

}  // namespace caretaker
