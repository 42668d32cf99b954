// What the walk does when something outside it touches a member it works
// on: an instance that shows a member held in MAINT as READY again, a
// member whose MAINT is not confirmed, a member whose lock a caretaker
// command holds.
#include <algorithm>

#include "src/walk/walker.h"

namespace caretaker {
namespace {

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string Times(int n) { return n == 1 ? "once" : std::to_string(n) + " times"; }

std::string Nth(int n) { return n == 2 ? "2nd" : n == 3 ? "3rd" : std::to_string(n) + "th"; }

}  // namespace

// Every member held in MAINT (or not confirmed there) against a read; one
// unconfirmed for too long fails.
void Walker::GuardAll(uint64_t seq, const Result<PoolView>& view, SteadyTime now) {
  for (Host& h : state_) {
    if (!Guarded(h, StatusOf(h)) || h.reasserting) continue;
    const MemberView* m = nullptr;
    if (view && seq >= h.guard_min_seq) {
      const std::vector<MemberView>& members = view.value().members;
      auto it = std::find_if(members.begin(), members.end(),
                             [&](const MemberView& v) { return v.server == StatusOf(h).server; });
      if (it != members.end()) m = &*it;
    }
    const bool confirmed = m && m->ready_on.empty();
    if (!confirmed && h.lost_maint && !h.busy && now - h.lost_since >= spec_.unconfirmed_deadline) {
      // What it waits for cannot be had: HAProxy still says READY, or
      // cannot be read. Holding its next action any longer helps nobody.
      Fail(h,
           "MAINT not confirmed on every instance for " +
               HumanDuration(std::chrono::duration_cast<Millis>(now - h.lost_since)) +
               (view ? "" : " (cannot read HAProxy: " + view.error().message + ")"),
           now);
      continue;
    }
    if (m) Guard(h, *m, now);
  }
}

// An instance shows a member held in MAINT as READY: set MAINT again before
// its next action. Said once; later tries while it fails are counted.
void Walker::Guard(Host& h, const MemberView& m, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  if (m.ready_on.empty()) {
    // MAINT everywhere (again: a failed kReassert that applied after all).
    if (h.lost_maint && h.reassert_failures > 0) {
      Event(s.server, "MAINT on every instance again (setting it again failed " + Times(h.reassert_failures) + ")");
    }
    return Confirmed(h);
  }
  // A new loss: not one already being set right (a reassert that fails,
  // or a member picked up whose first read this is).
  const bool again = !h.lost_maint || h.lost_on.empty();
  if (!h.lost_maint) h.lost_since = now;
  h.lost_maint = true;
  h.lost_on = Joined(m.ready_on);
  if (again) {
    ++h.losses;
    const std::string what = (m.ready_why.empty() ? h.lost_on + " had " + s.server + " READY" : m.ready_why) +
                             (h.losses > 1 ? " (the " + Nth(h.losses) + " time)" : "");
    Event(s.server, what + "; setting MAINT again", true);
    s.notes.push_back(what + "; set MAINT again");
  }
  h.reasserting = true;
  WalkAction a;
  a.kind = WalkAction::Kind::kReassert;
  a.server = s.server;
  a.state = LbState::kMaint;
  reasserts_.push_back(std::move(a));
}

void Walker::OnReasserted(const WalkAction& action, bool ok, const std::string& error, SteadyTime now) {
  Host& h = HostOf(action.server);
  h.reasserting = false;
  h.guard_min_seq = next_seq_;  // a read sent before now may still show it READY
  HostStatus& s = StatusOf(h);
  if (s.ended) {
    // It ended meanwhile (its step failed, say): only what is true now.
    if (ok && !s.may_be_in_traffic.empty()) {
      s.may_be_in_traffic.clear();
      Event(s.server, "MAINT again on every instance: out of traffic after all");
    }
    return;
  }
  AfterReassert(h, ok, error, now);
  // Stopped or aborted while this was in flight: it stops here.
  if (h.busy || s.ended) return;
  if (stopping_ == Stopping::kAbort) return StopHost(h, "while " + FirstLine(s.detail), now);
  if (stopping_ == Stopping::kFailures && s.phase == HostPhase::kStep) StopBeforeStep(h, now);
}

void Walker::Confirmed(Host& h) {
  h.lost_maint = false;
  h.lost_on.clear();
  h.reassert_failures = 0;
}

void Walker::AfterReassert(Host& h, bool ok, const std::string& error, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  if (ok) {
    Event(s.server, "MAINT again on every instance" +
                        (h.reassert_failures > 0 ? " (after " + std::to_string(h.reassert_failures) + " failed tries)"
                                                 : std::string()));
    return Confirmed(h);
  }
  // Tried again at the next read (gates.probe_interval), which still shows
  // it READY; its next action waits meanwhile, up to unconfirmed_deadline.
  if (++h.reassert_failures > 1) return;
  s.notes.push_back("setting MAINT again failed: " + FirstLine(error));
  Event(s.server,
        "SETTING MAINT AGAIN FAILED, IT MAY BE IN TRAFFIC: " + error + "; trying again every " +
            HumanDuration(spec_.gates.probe_interval) + " for up to " +
            HumanDuration(spec_.unconfirmed_deadline - std::chrono::duration_cast<Millis>(now - h.lost_since)),
        true);
}

std::string Walker::MayBeIn(const Host& h) {
  return h.lost_on.empty() ? "MAINT is not confirmed on every instance"
                           : h.lost_on + " had it READY, and MAINT is not confirmed there";
}

std::string Walker::OutOfTraffic(const Host& h, bool unconfirmed) {
  if (MayBeInTraffic(h, unconfirmed)) return "; IT MAY BE IN TRAFFIC: " + MayBeIn(h) + " (record kept)";
  if (h.lost_maint) return "; it stays out of traffic, as its record says (MAINT not read since it was picked up)";
  return "; it stays out of traffic (record kept)";
}

// Found READY kMaxLosses times while held: MAINT is set again each time, but
// something keeps undoing it, and each time clients reach a host under
// maintenance. Not worth going on with.
void Walker::CheckLosses(Host& h, SteadyTime now) {
  if (h.losses < kMaxLosses || h.busy || h.reasserting || h.lost_maint || StatusOf(h).ended) return;
  Fail(h,
       "an instance set it READY " + Times(h.losses) +
           " while it was held in MAINT (an agent check answering \"ready\", a person or another tool); MAINT is "
           "set again",
       now);
}

bool Walker::LockSeen(Host& h, SteadyTime now) {
  // A sighting long after the last one is a new episode, not the same wait.
  const Millis gap = std::max<Millis>(std::chrono::minutes(1), 2 * spec_.gates.probe_interval);
  if (h.locked_since && now - h.lock_seen > gap) h.locked_since.reset();
  h.lock_seen = now;
  if (h.locked_since) return false;
  h.locked_since = now;
  return true;
}

bool Walker::WaitForLock(Host& h, const std::string& said, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  if (LockSeen(h, now)) {
    if (!said.empty()) Event(s.server, said + " (for up to " + HumanDuration(spec_.pause_deadline) + ")", true);
    return true;
  }
  if (now - *h.locked_since < spec_.pause_deadline) return true;
  const std::string held = s.server + "'s lock held by a caretaker command for " + HumanDuration(spec_.pause_deadline);
  StopWalk(Stopping::kFailures, held, now, held);
  return false;
}

void Walker::OnLocked(const WalkAction& action, const std::string& by, SteadyTime now) {
  Host& h = HostOf(action.server);
  h.busy = false;
  HostStatus& s = StatusOf(h);
  if (h.sub != Sub::kDrainSent) {
    // Picked up from its record, out of traffic already: the same action
    // again in a moment, once the command is done with it; or, the walk
    // stopping, it stays as it is.
    if (stopping_ == Stopping::kFailures || stopping_ == Stopping::kAbort) {
      return StopHost(h, "waiting for its lock (" + by + " holds it)", now);
    }
    const bool first = LockSeen(h, now);
    if (now - *h.locked_since >= spec_.pause_deadline) {
      return OnJournalFailed(action, by + " held its lock for " + HumanDuration(spec_.pause_deadline), now);
    }
    if (first) {
      Event(s.server,
            "waiting: " + by + " holds its lock; it stays out of traffic meanwhile (for up to " +
                HumanDuration(spec_.pause_deadline) + ")",
            true);
    }
    return Do(h, action, now + spec_.gates.probe_interval);
  }
  // Nothing was written or sent: as if it had not started.
  s.phase = HostPhase::kPending;
  s.started.reset();
  s.detail = "waiting: " + by + " holds its lock";
  h.todo.reset();
  h.sub = Sub::kNone;
  h.was_out = false;
  const bool retried = stopping_ == Stopping::kNo;
  if (!WaitForLock(h, retried ? "not drained: " + by + " holds its lock; trying again at each read" : "", now)) return;
  next_decide_ = std::max(next_decide_, now + spec_.gates.probe_interval);
}

}  // namespace caretaker
