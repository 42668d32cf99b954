// The pool level of the walk: which members start, reads of the pool, pause,
// stop. The member level (drain .. enable) is in walker_host.cc.
#include "src/walk/walker.h"

#include <algorithm>

namespace caretaker {

const char* LbStateName(LbState state) {
  switch (state) {
    case LbState::kReady: return "ready";
    case LbState::kDrain: return "drain";
    case LbState::kMaint: return "maint";
  }
  return "?";
}

const char* HostPhaseName(HostPhase phase) {
  switch (phase) {
    case HostPhase::kPending: return "pending";
    case HostPhase::kDraining: return "draining";
    case HostPhase::kRestoring: return "restoring";
    case HostPhase::kMaint: return "maint";
    case HostPhase::kStep: return "step";
    case HostPhase::kGates: return "gates";
    case HostPhase::kEnabling: return "enabling";
    case HostPhase::kBaking: return "baking";
    case HostPhase::kDone: return "done";
    case HostPhase::kHeld: return "held";
    case HostPhase::kFailed: return "failed";
    case HostPhase::kStopped: return "stopped";
    case HostPhase::kSkipped: return "skipped";
  }
  return "?";
}

namespace {

bool Active(HostPhase phase) {
  return phase != HostPhase::kPending && phase != HostPhase::kDone && phase != HostPhase::kHeld &&
         phase != HostPhase::kBaking &&
         phase != HostPhase::kFailed && phase != HostPhase::kStopped && phase != HostPhase::kSkipped;
}

const MemberView* FindIn(const PoolView& view, const std::string& server) {
  for (const MemberView& m : view.members) {
    if (m.server == server) return &m;
  }
  return nullptr;
}

}  // namespace

Walker::Walker(WalkSpec spec, SteadyTime now) : spec_(std::move(spec)), next_decide_(now) {
  for (size_t i = 0; i < spec_.members.size(); ++i) {
    HostStatus s;
    s.server = spec_.members[i];
    hosts_.push_back(std::move(s));
    Host h;
    h.index = i;
    state_.push_back(std::move(h));
  }
  for (Host& h : state_) {
    auto at = spec_.resume.find(hosts_[h.index].server);
    if (at != spec_.resume.end()) Resume(h, at->second, now);
  }
}

Walker::Host& Walker::HostOf(const std::string& server) {
  for (Host& h : state_) {
    if (hosts_[h.index].server == server) return h;
  }
  return state_.front();  // the driver only reports actions it was given
}

size_t Walker::active() const {
  return static_cast<size_t>(
      std::count_if(hosts_.begin(), hosts_.end(), [](const HostStatus& s) { return Active(s.phase); }));
}

bool Walker::HasPending() const {
  return std::any_of(hosts_.begin(), hosts_.end(), [](const HostStatus& s) { return s.phase == HostPhase::kPending; });
}

bool Walker::Baking() const {
  return std::any_of(hosts_.begin(), hosts_.end(),
                     [](const HostStatus& s) { return s.phase == HostPhase::kBaking && !s.ended; });
}

bool Walker::CanStart() const {
  // With a bake, one member at a time: each is judged before the next goes.
  const bool bakes = !spec_.bake_checks.empty() && (spec_.bake > Millis(0) || spec_.canary_bake > Millis(0));
  if (bakes && (active() > 0 || Baking())) return false;
  return stopping_ == Stopping::kNo && !halted_ && HasPending();
}

bool Walker::finished() const {
  if (observing_ || active() > 0 || Baking()) return false;
  return stopping_ != Stopping::kNo || !HasPending();
}

bool Walker::HeldByHalt(const Host& h) const {
  return halted_ && !h.busy && h.todo && h.todo->kind == WalkAction::Kind::kRunStep;
}

void Walker::Emit(Host& h, SteadyTime now, std::vector<WalkAction>& out) {
  // A failed bake's MAINT not sent yet: a halt or an abort since lets it go
  // no further (a halt lets caretaker change no server).
  if (h.sub == Sub::kBakeOut && h.todo && !h.busy && (halted_ || stopping_ == Stopping::kAbort)) {
    return FailInTraffic(h, h.why + "; NOT taken out: " + (halted_ ? "caretaker is halted (" + *halted_ + ")"
                                                                    : std::string("the walk was aborted")), now);
  }
  CheckLosses(h, now);
  if (h.lost_maint) return;  // MAINT first, everywhere
  if (HeldByHalt(h)) {
    StatusOf(h).detail = "halted before " + StepLabel(h.todo->step);
    return;
  }
  if (h.busy || !h.todo || now < h.wake) return;
  out.push_back(std::move(*h.todo));
  h.todo.reset();
  h.busy = true;
}

bool Walker::WantsView(const Host& h, SteadyTime now) const { return h.want_view && !h.busy && now >= h.wake; }

bool Walker::HeldInMaint(const HostStatus& s) { return s.phase == HostPhase::kStep || s.phase == HostPhase::kGates; }

bool Walker::Guarding() const {
  return std::any_of(state_.begin(), state_.end(), [&](const Host& h) { return Guarded(h, hosts_[h.index]); });
}

std::vector<WalkAction> Walker::Next(SteadyTime now, size_t slots) {
  std::vector<WalkAction> out;
  for (WalkAction& a : reasserts_) out.push_back(std::move(a));
  reasserts_.clear();
  for (Host& h : state_) Emit(h, now, out);
  StartHosts(now, slots, out);
  starved_ = CanStart() && slots == 0;
  if (observing_) return out;
  bool hosts_want = std::any_of(state_.begin(), state_.end(), [&](const Host& h) { return WantsView(h, now); });
  bool decide = CanStart() && slots > 0 && now >= next_decide_ && !decide_view_;
  bool guard = Guarding() && now >= next_guard_;
  if (hosts_want || decide || guard) {
    next_guard_ = now + spec_.gates.probe_interval;
    WalkAction observe;
    observe.kind = WalkAction::Kind::kObserve;
    observe.seq = next_seq_++;
    observe.with_mysql = decide;
    observe_with_mysql_ = decide;
    observing_ = true;
    out.push_back(std::move(observe));
  }
  return out;
}

std::optional<SteadyTime> Walker::WakeAt() const {
  std::optional<SteadyTime> at;
  auto consider = [&](SteadyTime t) { at = at ? std::min(*at, t) : t; };
  for (const Host& h : state_) {
    if (h.busy || HeldByHalt(h) || h.lost_maint) continue;  // the lost MAINT's read or result wakes it
    // A read in flight answers a member waiting for one: its result, not a
    // time, wakes the driver.
    if (h.todo || (h.want_view && !observing_)) consider(h.wake);
  }
  if (CanStart() && !starved_ && !observing_) consider(next_decide_);
  if (Guarding() && !observing_) consider(next_guard_);
  return at;
}

void Walker::OnObserved(uint64_t seq, const Result<PoolView>& view, SteadyTime now) {
  observing_ = false;
  if (observe_with_mysql_) {
    if (view) {
      decide_view_ = view.value();
    } else {
      waiting_for_ = "cannot read the pool: " + view.error().message;
      next_decide_ = now + spec_.gates.probe_interval;
      UpdatePause(false, now);
    }
  }
  GuardAll(seq, view, now);
  for (Host& h : state_) {
    if (!h.want_view || h.busy || seq < h.min_seq) continue;
    HostStatus& s = StatusOf(h);
    const MemberView* m = view ? FindIn(view.value(), s.server) : nullptr;
    if (!m) {
      // Unreadable: wait, but deadlines still count.
      s.detail = view ? "not in the pool's backend any more" : "cannot read HAProxy: " + view.error().message;
      MemberView unknown;
      unknown.server = s.server;
      unknown.out_everywhere = true;  // unknown: never taken for undone
      unknown.sessions = -1;
      if (h.sub == Sub::kSessions) CheckDrain(h, unknown, now);
      if (h.sub == Sub::kUp) CheckUp(h, unknown, now);
      if (h.sub == Sub::kBakeDecide) BakeOut(h, view ? Result<PoolView>(Error{s.detail}) : view, now);
      continue;
    }
    if (h.sub == Sub::kBakeDecide) BakeOut(h, view, now);
    if (h.sub == Sub::kSessions) CheckDrain(h, *m, now);
    if (h.sub == Sub::kUp) CheckUp(h, *m, now);
  }
}

// Members that may start, best first: already out of service, then in order.
std::vector<Walker::Host*> Walker::Candidates(const PoolView& view, SteadyTime now) {
  std::vector<Host*> first, then;
  locked_.clear();
  for (Host& h : state_) {
    HostStatus& s = StatusOf(h);
    if (s.phase != HostPhase::kPending) continue;
    const MemberView* m = FindIn(view, s.server);
    if (m && !m->held_by.empty()) {
      s.detail = "held by a maintenance record (" + m->held_by + ")";
      End(h, HostPhase::kSkipped, now);
      Event(s.server, "skipped: " + s.detail, true);
      continue;
    }
    if (m && !m->locked_by.empty()) {
      s.detail = "waiting: " + m->locked_by + " holds its lock";
      if (!WaitForLock(h, "waiting: " + m->locked_by + " holds its lock; walked once it is free", now)) return {};
      locked_.push_back(s.server + " (" + m->locked_by + " holds it)");
      continue;  // transient: a later read
    }
    bool out = m && m->state != policies::Member::State::kInService;
    (out ? first : then).push_back(&h);
  }
  first.insert(first.end(), then.begin(), then.end());
  return first;
}

void Walker::StartHosts(SteadyTime now, size_t slots, std::vector<WalkAction>& out) {
  if (!decide_view_) return;
  // A read serves the decision right after it, even one that cannot start
  // anything: a start later (slots back) needs a newer read.
  PoolView view = std::move(*decide_view_);
  decide_view_.reset();
  // A read sent before a member's lock was found taken (OnLocked) decides
  // nothing: the next one, a probe_interval later.
  if (!CanStart() || slots == 0 || now < next_decide_) return;
  policies::PoolSnapshot snapshot{spec_.pool, {}};
  for (const MemberView& m : view.members) {
    policies::Member member{m.server, m.state};
    for (const Host& h : state_) {
      // Out because of this walk, whatever HAProxy said a moment ago, until
      // HAProxy reported it UP: before that it may still go back to MAINT.
      if (hosts_[h.index].server == m.server && Active(hosts_[h.index].phase) && !UpConfirmed(h)) {
        member.state = policies::Member::State::kDrained;
      }
    }
    snapshot.members.push_back(member);
  }
  size_t started = 0;
  std::string refused;  // by the capacity policy or the global cap
  // An unreachable member started, or the walk bakes (one member at a
  // time): nothing else from this read.
  bool alone = false;
  const bool bakes = !spec_.bake_checks.empty() && (spec_.bake > Millis(0) || spec_.canary_bake > Millis(0));
  for (Host* h : Candidates(view, now)) {
    const std::string& server = StatusOf(*h).server;
    if (started == slots || alone) {
      if (started == slots) refused = "[roll] max_concurrent_hosts is reached (hosts out at once across every pool)";
      break;
    }
    const MemberView* m = FindIn(view, server);
    const bool unreachable = m && m->state == policies::Member::State::kUnreachable;
    if (unreachable && started > 0) continue;  // the next read, on its own
    policies::Decision decision = policies::MayTakeOut(spec_.capacity, snapshot, server);
    if (!decision.allowed()) {
      refused = decision.reason;
      h->locked_since.reset();  // free now: it waits for capacity, and the pause counts
      break;
    }
    alone = unreachable || bakes;
    for (policies::Member& member : snapshot.members) {
      if (member.name == server) member.state = policies::Member::State::kDrained;
    }
    h->was_out = m && !m->ready_everywhere;
    if (paused_since_) {  // said before the member's own events
      Event("", "resumed: capacity is back");
      paused_since_.reset();
    }
    StartHost(*h, now);
    Emit(*h, now, out);
    ++started;
  }
  // A lock is not capacity: waiting for one does not pause the walk (its
  // own limit is in WaitForLock).
  std::string waiting = refused;
  if (refused.empty() && !locked_.empty()) {
    for (const std::string& l : locked_) waiting += (waiting.empty() ? "waiting for " : ", ") + l;
  }
  waiting_for_ = started == 0 && CanStart() ? waiting : "";
  next_decide_ = started > 0 ? now : now + spec_.gates.probe_interval;
  if (CanStart()) UpdatePause(started > 0 || refused.empty(), now);
}

// Nothing of the walk out and nothing may start: paused, until the deadline.
void Walker::UpdatePause(bool moving, SteadyTime now) {
  if (stopping_ != Stopping::kNo) return;
  if (moving || active() > 0 || waiting_for_.empty()) {
    if (paused_since_) Event("", "resumed: capacity is back");
    paused_since_.reset();
    return;
  }
  if (spec_.pause_deadline <= Millis(0)) {
    // No pause at all: refused, as the policy said.
    capacity_stop_ = true;
    capacity_refusal_ = waiting_for_;
    StopWalk(Stopping::kFailures, "refused on capacity: " + waiting_for_, now, "refused on capacity");
    return;
  }
  if (!paused_since_) {
    paused_since_ = now;
    Event("", "paused: " + waiting_for_ + "; no host starts until capacity is back (at most " +
                  HumanDuration(spec_.pause_deadline) + ")" + HeldByOwnFailures(),
          true);
    return;
  }
  if (now - *paused_since_ >= spec_.pause_deadline) {
    capacity_stop_ = true;
    capacity_refusal_ = waiting_for_;
    const std::string paused = "paused for " + HumanDuration(spec_.pause_deadline) + " on capacity";
    StopWalk(Stopping::kFailures, paused + ": " + waiting_for_, now, paused);
  }
}

// Members this walk left out of traffic spend the budget too; say which, and
// how the operator gives it back.
std::string Walker::HeldByOwnFailures() const {
  std::string out;
  for (const HostStatus& h : hosts_) {
    if (h.out_of_traffic) out += (out.empty() ? "" : ", ") + h.server;
  }
  if (out.empty()) return "";
  return "; out of traffic after failing in this walk: " + out +
         " (`caretaker maint stop` puts one back through the gates, and the walk goes on)";
}

void Walker::StopWalk(Stopping why, std::string reason, SteadyTime now, std::string brief) {
  if (static_cast<int>(why) <= static_cast<int>(stopping_)) return;
  stop_brief_ = brief.empty() ? reason : std::move(brief);
  stop_reason_ = std::move(reason);
  stopping_ = why;
  Event("", "stopping: " + stop_reason_, true);
  if (why != Stopping::kFailures) return;
  for (Host& h : state_) {
    // Baking, no read in flight: it is in traffic; its bake ends unfinished.
    if (hosts_[h.index].phase == HostPhase::kBaking && !hosts_[h.index].ended && !h.busy && h.sub == Sub::kBake) {
      EndBake(h, "the walk stopped (" + stop_brief_ + ")", now);
      continue;
    }
    // Between steps, or waiting to retry one: the step before it has ended.
    const HostStatus& s = hosts_[h.index];
    // In flight: OnReasserted stops it; its step's record being written: AfterStep does.
    if (h.busy || h.reasserting || h.sub == Sub::kStepRecorded || s.phase != HostPhase::kStep) continue;
    StopBeforeStep(h, now);
  }
}

void Walker::StopBeforeStep(Host& h, SteadyTime now) {
  const HostStatus& s = StatusOf(h);
  StopHost(h, std::string(s.attempt > 1 ? "before retrying " : "before ") + StepLabel(s.step), now);
}

void Walker::Interrupt(SteadyTime now, const std::string& reason) {
  const std::string brief = reason.empty() ? "interrupted" : reason;
  StopWalk(Stopping::kInterrupt, brief + "; members out of traffic finish their task, draining ones go back", now,
           brief);
  for (Host& h : state_) {
    // Halted before a step: its task cannot finish, so it stops there.
    if (HeldByHalt(h)) StopHost(h, "before " + StepLabel(h.todo->step) + " (halted)", now);
    // A ramp in progress goes to full weight now.
    if (h.sub == Sub::kHold && !h.busy) SetWeight(h, Sub::kHold, 100, now);
  }
}

void Walker::Stop(std::string reason, SteadyTime now) { StopWalk(Stopping::kFailures, std::move(reason), now); }

void Walker::Abort(SteadyTime now) {
  StopWalk(Stopping::kAbort, "aborted; members out of traffic stay where they are", now, "aborted");
  // Nothing more is sent: not even a MAINT again that was due.
  for (const WalkAction& a : reasserts_) HostOf(a.server).reasserting = false;
  reasserts_.clear();
  for (Host& h : state_) {
    if (StatusOf(h).phase == HostPhase::kBaking && !StatusOf(h).ended && !h.busy) {
      if (h.sub == Sub::kBakeDecide || (h.sub == Sub::kBakeOut && h.todo)) {
        FailInTraffic(h, h.why + "; NOT taken out: the walk was aborted", now);
      } else if (h.sub == Sub::kBake) {
        EndBake(h, "the walk was aborted", now);
      }
      continue;
    }
    // One whose MAINT again is in flight stops once it returns.
    if (h.busy || h.reasserting || !Active(StatusOf(h).phase)) continue;
    StopHost(h, "while " + FirstLine(StatusOf(h).detail), now, ReadySet(h));
  }
}

void Walker::SetHalt(const std::optional<std::string>& why, SteadyTime now) {
  const bool was = halted_.has_value();
  halted_ = why;
  if (was == why.has_value()) return;
  if (why) {
    Event("", "HALTED: " + *why + "; no member starts and no step starts until `caretaker resume`", true);
    return;
  }
  Event("", "resumed: the halt was lifted");
  for (Host& h : state_) {
    if (h.todo && h.todo->kind == WalkAction::Kind::kRunStep) StatusOf(h).detail = "starting " + StepLabel(h.todo->step);
  }
  if (paused_since_) paused_since_ = now;  // a halt is not a capacity pause
  next_decide_ = now;
}

void Walker::Event(const std::string& server, std::string text, bool warning) {
  events_.push_back(WalkEvent{server, std::move(text), warning});
}

std::vector<WalkEvent> Walker::TakeEvents() {
  std::vector<WalkEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace caretaker
