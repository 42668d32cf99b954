// The member's health gates in the walk: entered after its last step (the
// first ramp weight first), probes and waits as src/walk/gates.h asks, then READY
// (walker_host.cc).
#include "src/walk/walker.h"

namespace caretaker {

// A weight ramp needs a dynamic balance algorithm: its first step is asked
// for now, while still in MAINT (HAProxy refuses it on a static one), so the
// gates are not waited for in vain. It goes with the "gates" record.
void Walker::EnterGates(Host& h, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.phase = HostPhase::kGates;
  h.phase_started = now;
  h.gates_journaled = false;
  const std::vector<int>& ramp = spec_.gates.weight_ramp;
  if (ramp.empty()) return StartGates(h, now);
  s.detail = "setting weight " + std::to_string(ramp.front()) + "% while in MAINT";
  h.gates_journaled = true;
  WalkAction a;
  a.kind = WalkAction::Kind::kSetWeight;
  a.percent = ramp.front();
  a.journal = "gates";
  h.sub = Sub::kGateWeight;
  Do(h, std::move(a), now);
}

void Walker::StartGates(Host& h, SteadyTime now) {
  h.sub = Sub::kNone;
  h.gates.emplace(spec_.gates, now);
  h.gates_noted = 0;
  GateAction(h, now);
}

void Walker::NoteGates(Host& h) {
  const auto& passed = h.gates->passed();
  for (; h.gates_noted < passed.size(); ++h.gates_noted) {
    const auto& [gate, took] = passed[h.gates_noted];
    Event(StatusOf(h).server, "gate " + std::string(GateName(gate)) + " passed in " + HumanDuration(took));
  }
}

void Walker::GateAction(Host& h, SteadyTime now) {
  NoteGates(h);
  const GateStep& step = h.gates->step();
  HostStatus& s = StatusOf(h);
  s.detail = step.text.empty() ? "gate mysqld: probing" : "gate " + step.text;
  WalkAction a;
  switch (step.action) {
    case GateStep::Action::kProbe:
      a.kind = WalkAction::Kind::kProbe;
      // Every step done: the record says so with the first probe.
      if (!h.gates_journaled) a.journal = "gates";
      h.gates_journaled = true;
      return Do(h, std::move(a), step.at);
    case GateStep::Action::kGtidWait:
      a.kind = WalkAction::Kind::kGtidWait;
      a.deadline = step.at;
      return Do(h, std::move(a), now);
    case GateStep::Action::kWarmupQueries:
      a.kind = WalkAction::Kind::kWarmupQueries;
      return Do(h, std::move(a), now);
    case GateStep::Action::kPassed:
      return FinishGates(h, now);
    case GateStep::Action::kFailed:
      if (spec_.gates.weight_ramp.empty()) return Fail(h, "gate " + step.text, now);
      // The first ramp weight was set for a return that does not happen: a
      // later READY (by hand) must not come back at it.
      h.why = "gate " + step.text;
      return SetWeight(h, Sub::kUndoWeight, 100, now);
  }
}

void Walker::OnProbe(const WalkAction& action, const mysql::Result<mysql::ReplicaStatus>& reading, SteadyTime now) {
  Host& h = HostOf(action.server);
  h.busy = false;
  if (stopping_ == Stopping::kAbort) return StopHost(h, "during the gates", now);
  h.gates->OnProbe(reading, now);
  GateAction(h, now);
}

void Walker::OnGtidWait(const WalkAction& action, const mysql::Result<bool>& reached, SteadyTime now) {
  Host& h = HostOf(action.server);
  h.busy = false;
  if (stopping_ == Stopping::kAbort) return StopHost(h, "during the gates", now);
  h.gates->OnGtidWait(reached, now);
  GateAction(h, now);
}

void Walker::OnWarmupQueries(const WalkAction& action, const mysql::Status& ran, SteadyTime now) {
  Host& h = HostOf(action.server);
  h.busy = false;
  if (stopping_ == Stopping::kAbort) return StopHost(h, "during the gates", now);
  h.gates->OnWarmupQueries(ran, now);
  GateAction(h, now);
}

void Walker::FinishGates(Host& h, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.gates_passed = h.gates->passed();
  s.phase = HostPhase::kEnabling;
  h.phase_started = now;
  h.ramp = 0;  // its first weight was set before the gates
  s.detail = "setting READY";
  SetState(h, Sub::kReady, LbState::kReady, "enabling", now);
}

}  // namespace caretaker
