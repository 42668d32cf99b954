// The member level of the walk: drain, maint, steps, enable; and how a
// member ends (done, failed, stopped, restored). Its gates are in
// walker_gates.cc.
#include <algorithm>

#include "src/walk/walker.h"

namespace caretaker {
namespace {

Millis Since(SteadyTime from, SteadyTime now) { return std::chrono::duration_cast<Millis>(now - from); }

std::string Sessions(int64_t n) { return std::to_string(n) + (n == 1 ? " session" : " sessions"); }


std::string CommandName(const WalkAction& a) {
  switch (a.kind) {
    case WalkAction::Kind::kSetState: return std::string("set ") + LbStateName(a.state);
    case WalkAction::Kind::kSetWeight: return "set weight " + std::to_string(a.percent) + "%";
    case WalkAction::Kind::kShutdownSessions: return "shutdown sessions";
    case WalkAction::Kind::kRecord: return "record " + a.journal;
    default: return "release";
  }
}

// `text` + `suffix`, the suffix on the first line: later lines are what a
// step printed, and must not seem to say more than it did.
std::string WithSuffix(const std::string& text, const std::string& suffix) {
  size_t end = text.find('\n');
  if (end == std::string::npos) return text + suffix;
  return text.substr(0, end) + suffix + text.substr(end);
}

// `error`, or "the same error" when `earlier` already says it (one instance
// down fails READY and then MAINT the same way): each fact once. What the
// instances hold now, the error's closing "(now: ...)", is kept.
std::string SameAs(const std::string& earlier, const std::string& error) {
  const size_t now = error.rfind(" (now: ");
  const std::string cause = error.substr(0, now);
  if (cause.empty() || earlier.find(cause) == std::string::npos) return error;
  return "the same error" + (now == std::string::npos ? "" : error.substr(now));
}

WalkAction Act(WalkAction::Kind kind) {
  WalkAction a;
  a.kind = kind;
  return a;
}

}  // namespace

std::string Walker::FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string Walker::StepLabel(size_t step) const {
  return "step " + std::to_string(step + 1) + "/" + std::to_string(spec_.steps.size()) + " \"" +
         spec_.steps[step].name + "\"";
}

void Walker::Do(Host& h, WalkAction action, SteadyTime at) {
  action.server = StatusOf(h).server;
  h.todo = std::move(action);
  h.wake = at;
  h.want_view = false;
}

void Walker::SetState(Host& h, Sub sub, LbState state, std::string journal, SteadyTime now, size_t next_step) {
  WalkAction a;
  a.kind = WalkAction::Kind::kSetState;
  a.state = state;
  a.journal = std::move(journal);
  a.step = next_step;
  h.sub = sub;
  Do(h, std::move(a), now);
}

void Walker::SetWeight(Host& h, Sub sub, int percent, SteadyTime at) {
  WalkAction a;
  a.kind = WalkAction::Kind::kSetWeight;
  a.percent = percent;
  h.sub = sub;
  Do(h, std::move(a), at);
}

void Walker::WaitForView(Host& h, Sub sub, SteadyTime now) {
  h.sub = sub;
  h.want_view = true;
  h.wake = now;
  h.min_seq = next_seq_;  // a read already in flight predates the change just made
}

void Walker::StartHost(Host& h, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.phase = HostPhase::kDraining;
  s.started = now;
  h.phase_started = now;
  s.detail = "setting DRAIN";
  // Found locked before: "draining" is said once the drain is set.
  if (!h.locked_since) Event(s.server, std::string("draining") + (h.was_out ? " (it was already out of traffic)" : ""));
  SetState(h, Sub::kDrainSent, LbState::kDrain, "draining", now);
}

void Walker::Resume(Host& h, const ResumePoint& at, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.started = now;
  s.record = true;
  h.was_out = true;
  h.phase_started = now;
  switch (at.phase) {
    case HostPhase::kBaking:
      // In traffic, no record: its bake was cut short; it bakes again
      // before any other member starts.
      s.record = false;
      h.was_out = false;
      Event(s.server, at.why + ": baking again");
      return StartBake(h, now);
    case HostPhase::kDraining:
      // Its drain was this job's: drained again, or (the walk stopping) put
      // back READY, not left drained as a member that was out before.
      h.was_out = false;
      Event(s.server, at.why + ": draining");
      return StartHost(h, now);
    case HostPhase::kStep:
    case HostPhase::kGates:
      // Held in MAINT, as its record says; but an instance may have been
      // reloaded meanwhile: the first read confirms MAINT (or sets it again)
      // before anything runs.
      h.lost_maint = true;
      h.lost_since = now;
      if (at.phase == HostPhase::kGates) {
        Event(s.server, at.why + ": the gates, once MAINT is confirmed");
        return EnterGates(h, now);
      }
      if (spec_.steps.empty()) return EnterGates(h, now);
      Event(s.server, at.why + ": " + StepLabel(at.step) + ", once MAINT is confirmed");
      return StartStep(h, std::min(at.step, spec_.steps.size() - 1), 1, now);
    default:
      Event(s.server, at.why + ": MAINT, then every step");
      s.phase = HostPhase::kMaint;
      s.detail = "setting MAINT";
      return SetState(h, Sub::kMaint, LbState::kMaint, "maint", now);
  }
}

void Walker::OnApplied(const WalkAction& action, const Result<void>& done, SteadyTime now) {
  const bool ok = bool(done);
  const std::string error = ok ? std::string() : done.error().message;
  Host& h = HostOf(action.server);
  h.busy = false;
  HostStatus& s = StatusOf(h);
  // Written before the drain (or a failed bake's MAINT) was sent.
  if (h.sub == Sub::kDrainSent || h.sub == Sub::kBakeOut) s.record = true;
  if (stopping_ == Stopping::kAbort && h.sub != Sub::kRelease && h.sub != Sub::kRestoreRelease &&
      h.sub != Sub::kStepRecorded) {
    const bool ready = ok && action.kind == WalkAction::Kind::kSetState && action.state == LbState::kReady;
    return StopHost(h, std::string("after ") + (ok ? "" : "a failed ") + "\"" + CommandName(action) + "\"", now,
                    ready || ReadySet(h));
  }
  switch (h.sub) {
    case Sub::kStepRecorded:
      return AfterStep(h, action.step - 1, now);
    case Sub::kDrainSent:
      if (!ok) return Restore(h, "the drain failed: " + error, now);
      if (h.locked_since) {
        Event(s.server, std::string("draining") + (h.was_out ? " (it was already out of traffic)" : "") +
                            ": its lock is free now");
        h.locked_since.reset();
      }
      if (stopping_ != Stopping::kNo) return Restore(h, "stopped while draining (" + stop_brief_ + ")", now);
      h.deadline = now + spec_.drain.deadline;
      s.detail = "DRAIN set; counting sessions";
      return WaitForView(h, Sub::kSessions, now);
    case Sub::kShutdown:
      if (!ok) return Restore(h, "shutting its sessions down failed: " + error, now);
      Event(s.server, "sessions shut down");
      s.sessions_shut_down = h.shutting_down;
      // Still draining: a walk that stopped meanwhile puts it back.
      if (stopping_ != Stopping::kNo) return Restore(h, "stopped while draining (" + stop_brief_ + ")", now);
      return SetMaint(h, now);
    case Sub::kRestore:
      if (!ok) {
        s.detail = h.why + "; RESTORING FAILED, IT MAY BE OUT OF TRAFFIC: " + SameAs(h.why, error);
        s.out_of_traffic = true;
        Event(s.server, s.detail, true);
        return End(h, h.why_is_failure ? HostPhase::kFailed : HostPhase::kStopped, now);
      }
      s.restored = true;
      h.sub = Sub::kRestoreRelease;
      return Do(h, Act(WalkAction::Kind::kRelease), now);
    case Sub::kRestoreRelease:
      s.record = !ok;
      s.detail = h.why + "; back READY" + (ok ? "" : " (removing its record failed: " + error + ")");
      return End(h, h.why_is_failure ? HostPhase::kFailed : HostPhase::kStopped, now);
    case Sub::kMaint:
      if (!ok) return Fail(h, "drained, but MAINT failed: " + error, now);
      if (spec_.hold) return Hold(h, now);
      if (stopping_ == Stopping::kFailures) return StopHost(h, "in MAINT before its first step", now);
      if (spec_.steps.empty()) return EnterGates(h, now);
      return StartStep(h, 0, 1, now);
    case Sub::kGateWeight:
      if (ok) return StartGates(h, now);
      // A usage error says what to change in its own words.
      s.code = done.error().code;
      h.why = s.code == ErrorKind::kUsage ? error : "setting the first ramp weight failed: " + error;
      return SetWeight(h, Sub::kUndoWeight, 100, now);
    case Sub::kReady:
      if (!ok) return BackToMaint(h, "setting READY failed: " + error, now);
      h.deadline = now + spec_.gates.enable_timeout;
      s.detail = "READY set; waiting for UP";
      return WaitForView(h, Sub::kUp, now);
    case Sub::kHold:
      if (!ok) {
        Fail(h, "in traffic, but setting weight " + std::to_string(action.percent) + "% failed: " + error +
                    "; set the weight by hand",
             now);
        s.out_of_traffic = false;
        return;
      }
      Event(s.server, "weight " + std::to_string(action.percent) + "%");
      if (action.percent == 100) return Release(h, now);
      ++h.ramp;
      s.detail = "weight " + std::to_string(action.percent) + "% for " + HumanDuration(spec_.gates.ramp_hold);
      return SetWeight(h, Sub::kHold, spec_.gates.weight_ramp[h.ramp + 1], now + spec_.gates.ramp_hold);
    case Sub::kBackToMaint:
      h.why += ok ? "; set back to MAINT" : "; SETTING IT BACK TO MAINT FAILED, IT MAY BE IN TRAFFIC UNHEALTHY: " +
                                                 SameAs(h.why, error);
      if (!spec_.gates.weight_ramp.empty()) return SetWeight(h, Sub::kUndoWeight, 100, now);
      return Fail(h, h.why, now);
    case Sub::kUndoWeight:
      return Fail(h, h.why + (ok ? "" : "; its weight stays at the first ramp step"), now);
    case Sub::kRelease:
      s.record = !ok;
      s.detail = "back in service" + (ok ? "" : " (removing its record failed: " + error + ")");
      Event(s.server, "back in service in " + HumanDuration(Since(*s.started, now)), !ok);
      if (ok && stopping_ == Stopping::kNo && !spec_.bake_checks.empty() &&
          (spec_.bake > Millis(0) || spec_.canary_bake > Millis(0))) {
        return StartBake(h, now);
      }
      return End(h, HostPhase::kDone, now);
    case Sub::kBakeOut:
      s.record = true;  // written before MAINT was sent
      if (!ok) {
        return Fail(h, h.why + "; taking it out again FAILED, IT MAY BE IN TRAFFIC: " + error, now);
      }
      return Fail(h, h.why + "; taken out of traffic again (MAINT)", now);
    default:
      return;
  }
}

void Walker::CheckDrain(Host& h, const MemberView& m, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  if (stopping_ != Stopping::kNo) return Restore(h, "stopped while draining (" + stop_brief_ + ")", now);
  if (!m.out_everywhere) {
    return Restore(h, "the drain was undone on some instance (an agent check answering \"ready\"?): " + m.health, now);
  }
  if (m.sessions == 0) return SetMaint(h, now);
  if (now >= h.deadline) {
    std::string left = (m.sessions < 0 ? "sessions unknown (" + s.detail + ")" : Sessions(m.sessions) + " still open" +
                                           (m.sessions_on.empty() ? "" : " (" + m.sessions_on + ")")) +
                       " after the drain deadline of " + HumanDuration(spec_.drain.deadline);
    if (spec_.force_sessions || spec_.drain.on_timeout == DrainTimeoutAction::kShutdownSessions) {
      Event(s.server, left + "; shutting them down");
      h.shutting_down = std::max<int64_t>(m.sessions, 0);
      h.sub = Sub::kShutdown;
      return Do(h, Act(WalkAction::Kind::kShutdownSessions), now);
    }
    return Restore(h, left + "; use --force-sessions to end them, or a longer [drain] deadline", now);
  }
  if (m.sessions > 0) {
    s.detail = "draining: " + Sessions(m.sessions) + " open, " + HumanDuration(Since(now, h.deadline)) + " left";
  }
  h.wake = now + spec_.drain.poll_interval;
}

void Walker::SetMaint(Host& h, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.drained_in = Since(h.phase_started, now);
  Event(s.server, "drained in " + HumanDuration(s.drained_in));
  s.phase = HostPhase::kMaint;
  s.detail = "setting MAINT";
  h.phase_started = now;
  SetState(h, Sub::kMaint, LbState::kMaint, "maint", now);
}

void Walker::StartStep(Host& h, size_t step, int attempt, SteadyTime at) {
  HostStatus& s = StatusOf(h);
  s.phase = HostPhase::kStep;
  s.step = step;
  s.attempt = attempt;
  s.detail = StepLabel(step) + (attempt > 1 ? " (attempt " + std::to_string(attempt) + " of " +
                                                  std::to_string(spec_.steps[step].retries + 1) + ")"
                                            : "");
  WalkAction a;
  a.kind = WalkAction::Kind::kRunStep;
  a.step = step;
  a.attempt = attempt;
  a.journal = "steps";  // this step may have run, from here on
  h.sub = Sub::kNone;
  Do(h, std::move(a), at);
}

void Walker::AfterStep(Host& h, size_t step, SteadyTime now) {
  h.sub = Sub::kNone;
  if (stopping_ == Stopping::kAbort || stopping_ == Stopping::kFailures) {
    return StopHost(h, "after " + StepLabel(step), now);
  }
  if (step + 1 < spec_.steps.size()) return StartStep(h, step + 1, 1, now);
  EnterGates(h, now);
}

void Walker::OnStepDone(const WalkAction& action, bool ok, const std::string& what, SteadyTime now) {
  Host& h = HostOf(action.server);
  h.busy = false;
  const std::string label = StepLabel(action.step);
  // Aborted: a step that ended well still gets its record (no server is
  // touched), so a retry does not ask whether it ran.
  if (stopping_ == Stopping::kAbort && !ok) return StopHost(h, "during " + label + " (" + FirstLine(what) + ")", now);
  if (!ok) {
    const StepConfig& step = spec_.steps[action.step];
    if (action.attempt <= step.retries && stopping_ != Stopping::kFailures) {
      Event(StatusOf(h).server, label + " failed (" + what + "); retrying in " + HumanDuration(step.retry_delay), true);
      return StartStep(h, action.step, action.attempt + 1, now + step.retry_delay);
    }
    return Fail(h, label + " failed: " + what, now);
  }
  Event(StatusOf(h).server, label + ": " + what);
  // The record says it ended well: a job picked up after a crash goes on
  // with the next step instead of asking whether this one ran.
  WalkAction record;
  record.kind = WalkAction::Kind::kRecord;
  record.journal = "maint";
  record.step = action.step + 1;
  h.sub = Sub::kStepRecorded;
  Do(h, std::move(record), now);
}

void Walker::CheckUp(Host& h, const MemberView& m, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  if (m.checked_up) {
    Event(s.server, "READY and UP on every instance");
    const std::vector<int>& ramp = spec_.gates.weight_ramp;
    if (ramp.size() < 2) return Release(h, now);
    // Interrupted: straight to full weight, as a ramp in progress does.
    if (stopping_ == Stopping::kInterrupt) return SetWeight(h, Sub::kHold, 100, now);
    s.detail = "weight " + std::to_string(ramp.front()) + "% for " + HumanDuration(spec_.gates.ramp_hold);
    return SetWeight(h, Sub::kHold, ramp[1], now + spec_.gates.ramp_hold);
  }
  if (now >= h.deadline) {
    return BackToMaint(h, "HAProxy did not report it UP within " + HumanDuration(spec_.gates.enable_timeout) + " (" +
                              m.health + ")",
                       now);
  }
  s.detail = "waiting for UP: " + m.health;
  h.wake = now + spec_.drain.poll_interval;
}

void Walker::Hold(Host& h, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.detail = "in maintenance: MAINT on every instance";
  s.out_of_traffic = true;
  Event(s.server, "MAINT on every instance");
  End(h, HostPhase::kHeld, now);
}

void Walker::BackToMaint(Host& h, std::string why, SteadyTime now) {
  h.why = std::move(why);
  // Its steps are done: the record says so, and a retry goes to the gates.
  SetState(h, Sub::kBackToMaint, LbState::kMaint, "maint", now, spec_.steps.size());
}

void Walker::Release(Host& h, SteadyTime now) {
  h.sub = Sub::kRelease;
  Do(h, Act(WalkAction::Kind::kRelease), now);
}

void Walker::CountFailure(const Host& h, SteadyTime now) {
  ++failures_;
  if (failures_ >= spec_.max_failures) {
    // Its FAILED line said why, in full: the lines after it refer to it.
    const std::string failed = hosts_[h.index].server + " failed";
    StopWalk(Stopping::kFailures,
             spec_.max_failures > 1 ? failed + " (" + std::to_string(failures_) + " failed, max_failures " +
                                          std::to_string(spec_.max_failures) + ")"
                                    : failed,
             now, failed);
  }
}

void Walker::Restore(Host& h, std::string why, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  h.why = std::move(why);
  h.why_is_failure = stopping_ == Stopping::kNo;
  Event(s.server, h.why, true);
  if (h.why_is_failure) CountFailure(h, now);
  s.phase = HostPhase::kRestoring;
  if (h.was_out) {
    s.detail = h.why + "; it was out of traffic before the walk, so it is left as it is (record kept)";
    s.out_of_traffic = true;
    return End(h, h.why_is_failure ? HostPhase::kFailed : HostPhase::kStopped, now);
  }
  s.detail = h.why + "; setting READY";
  SetState(h, Sub::kRestore, LbState::kReady, "", now);
}

void Walker::Fail(Host& h, std::string why, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.detail = why;
  s.out_of_traffic = true;
  Event(s.server, WithSuffix("FAILED: " + why, OutOfTraffic(h)), true);
  if (h.lost_maint) {
    s.may_be_in_traffic = MayBeIn(h);
    s.detail += "\nIT MAY BE IN TRAFFIC: " + s.may_be_in_traffic;  // kept with the job, shown under its row
  }
  End(h, HostPhase::kFailed, now);
  CountFailure(h, now);
}

void Walker::OnJournalFailed(const WalkAction& action, const std::string& error, SteadyTime now) {
  Host& h = HostOf(action.server);
  h.busy = false;
  HostStatus& s = StatusOf(h);
  const std::string why = "cannot write its maintenance record before \"" + action.journal + "\": " + error +
                          "; that change was not made";
  if (h.sub == Sub::kStepRecorded) {
    // The record still names the step that ran: the cautious reading (a
    // retry asks whether it ran). Nothing else depends on it.
    Event(s.server, "its record still names " + StepLabel(action.step - 1) + ": " + error, true);
    return AfterStep(h, action.step - 1, now);
  }
  if (h.sub == Sub::kBackToMaint || h.sub == Sub::kBakeOut) {
    // Taking an unhealthy member out of traffic matters more than the record
    // (which still says "enabling"): MAINT without it.
    h.why += "; " + why.substr(0, why.find(";"));
    WalkAction again = action;
    again.journal.clear();
    return Do(h, std::move(again), now);
  }
  if (h.sub != Sub::kDrainSent) return Fail(h, why, now);  // out already, with its earlier record
  // Not drained: as it was before the walk.
  s.detail = why;
  s.out_of_traffic = h.was_out;
  Event(s.server, "FAILED: " + why, true);
  End(h, HostPhase::kFailed, now);
  CountFailure(h, now);
}

void Walker::StopHost(Host& h, std::string why, SteadyTime now, bool in_traffic) {
  HostStatus& s = StatusOf(h);
  s.detail = WithSuffix("stopped " + why, " (" + stop_brief_ + ")");
  s.out_of_traffic = !in_traffic;
  // Stopped before any read showed it READY (picked up, then stopped): as
  // its record says, not "may be in traffic".
  Event(s.server,
        WithSuffix(s.detail, in_traffic ? "; it is READY, in traffic (record kept)" : OutOfTraffic(h, false)), true);
  if (MayBeInTraffic(h, false) && !in_traffic) s.may_be_in_traffic = MayBeIn(h);
  End(h, HostPhase::kStopped, now);
}

bool Walker::UpConfirmed(const Host& h) { return h.sub == Sub::kHold || h.sub == Sub::kRelease; }

bool Walker::ReadySet(const Host& h) {
  return h.sub == Sub::kUp || h.sub == Sub::kHold || h.sub == Sub::kRelease || h.sub == Sub::kRestoreRelease;
}

void Walker::End(Host& h, HostPhase phase, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.phase = phase;
  s.ended = now;
  h.todo.reset();
  h.want_view = false;
  h.sub = Sub::kNone;
  h.lost_maint = false;  // said, if it was: nothing guards it any more
  h.locked_since.reset();
  // A MAINT again not sent yet is not sent (one in flight comes back to
  // OnReasserted, which knows it ended).
  const size_t queued = reasserts_.size();
  std::erase_if(reasserts_, [&](const WalkAction& a) { return a.server == s.server; });
  if (reasserts_.size() != queued) h.reasserting = false;
  next_decide_ = std::min(next_decide_, now);  // capacity may be back
}

}  // namespace caretaker
