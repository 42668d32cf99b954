// The walker's bake (walker.h WalkSpec::bake): a member back in traffic
// read against its checks until they stayed clear long enough, or taken out
// again — against a fresh read of the pool and its policy — when one held.
#include <algorithm>

#include "src/walk/walker.h"

namespace caretaker {
namespace {

Millis Since(SteadyTime from, SteadyTime now) { return std::chrono::duration_cast<Millis>(now - from); }

WalkAction BakeRead() {
  WalkAction a;
  a.kind = WalkAction::Kind::kBakeRead;
  return a;
}

}  // namespace

void Walker::StartBake(Host& h, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  const bool canary = !baked_one_ && spec_.canary_bake > Millis(0);
  baked_one_ = true;
  h.bake = canary ? spec_.canary_bake : spec_.bake;
  if (h.bake <= Millis(0)) return End(h, HostPhase::kDone, now);
  h.bake_started = now;
  h.clear_since.reset();
  h.unknown_since.reset();
  s.phase = HostPhase::kBaking;
  s.record = false;
  s.out_of_traffic = false;
  s.detail = std::string(canary ? "canary: " : "") + "baking " + HumanDuration(h.bake) + ": its checks must stay clear";
  Event(s.server, std::string(canary ? "canary bake: " : "bake: ") + "its checks must stay clear for " +
                      HumanDuration(h.bake) + " before the next member starts");
  h.sub = Sub::kBake;
  Do(h, BakeRead(), now);
}

void Walker::EndBake(Host& h, const std::string& why, SteadyTime now) {
  // In traffic, its bake unjudged: it stays "baking" (ended), so the job
  // picked up again bakes it again before any other member starts.
  HostStatus& s = StatusOf(h);
  s.detail = "in traffic, its bake cut short: " + why;
  Event(s.server, s.detail, true);
  s.ended = now;
  h.todo.reset();
  h.want_view = false;
  h.sub = Sub::kNone;
  next_decide_ = std::min(next_decide_, now);
}

void Walker::FailInTraffic(Host& h, const std::string& why, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  s.detail = why + " — `caretaker maint start " + spec_.pool + "/" + s.server + " --reason ...` takes it out by hand";
  s.out_of_traffic = false;
  Event(s.server, "FAILED: " + s.detail + "; it is IN TRAFFIC", true);
  End(h, HostPhase::kFailed, now);
  CountFailure(h, now);
}

void Walker::BakeFailed(Host& h, std::string why, SteadyTime now) {
  h.why = std::move(why);
  if (halted_) return FailInTraffic(h, h.why + "; NOT taken out: caretaker is halted (" + *halted_ + ")", now);
  if (stopping_ == Stopping::kAbort) return FailInTraffic(h, h.why + "; NOT taken out: the walk was aborted", now);
  StatusOf(h).detail = h.why + "; reading the pool before taking it out again";
  Event(StatusOf(h).server, "FAILED its " + h.why + "; taking it out of traffic again if the pool's policy allows", true);
  // Taking it out is a drain like any other: against a fresh read of the pool.
  WaitForView(h, Sub::kBakeDecide, now);
}

void Walker::BakeOut(Host& h, const Result<PoolView>& view, SteadyTime now) {
  HostStatus& s = StatusOf(h);
  h.want_view = false;
  if (halted_) return FailInTraffic(h, h.why + "; NOT taken out: caretaker is halted (" + *halted_ + ")", now);
  if (!view) return FailInTraffic(h, h.why + "; NOT taken out: the pool cannot be read: " + view.error().message, now);
  policies::PoolSnapshot snapshot{spec_.pool, {}};
  for (const MemberView& m : view.value().members) snapshot.members.push_back({m.server, m.state});
  policies::Decision d = policies::MayTakeOut(spec_.capacity, snapshot, s.server);
  if (!d.allowed()) return FailInTraffic(h, h.why + "; NOT taken out: " + d.reason, now);
  s.detail = h.why + "; setting MAINT";
  // Its steps and gates are done: a retry goes to the gates.
  SetState(h, Sub::kBakeOut, LbState::kMaint, "maint", now, spec_.steps.size());
}

void Walker::OnBakeRead(const WalkAction& action, const BakeReading& reading, SteadyTime now) {
  Host& h = HostOf(action.server);
  h.busy = false;
  HostStatus& s = StatusOf(h);
  if (s.phase != HostPhase::kBaking || s.ended) return;
  // A check that holds is acted on whatever else happens meanwhile.
  if (reading.is == BakeReading::Is::kFired) return BakeFailed(h, "bake: " + reading.text, now);
  if (stopping_ == Stopping::kFailures || stopping_ == Stopping::kAbort) {
    return EndBake(h, "the walk stopped (" + stop_brief_ + ")", now);
  }
  const std::string baking = HumanDuration(h.bake);
  // Readings that keep changing (clear, unknown, clear ...) never finish a
  // bake; three bakes' time without one is a failure, not a wait forever.
  const Millis limit = 3 * h.bake + 2 * spec_.bake_interval;
  if (now - h.bake_started > limit) {
    return BakeFailed(h, "bake: its checks did not stay clear for " + baking + " in a row within " +
                             HumanDuration(limit) + " (last: " + reading.text + ")", now);
  }
  switch (reading.is) {
    case BakeReading::Is::kFired:
      break;
    case BakeReading::Is::kUnknown:
      h.clear_since.reset();
      if (!h.unknown_since) h.unknown_since = now;
      if (now - *h.unknown_since > h.bake) {
        return BakeFailed(h, "bake: its checks could not be read for " + HumanDuration(Since(*h.unknown_since, now)) +
                                 " (" + reading.text + "); unknown is never clear", now);
      }
      s.detail = "baking " + baking + ": its checks cannot be read (" + reading.text + "), the bake starts over";
      break;
    case BakeReading::Is::kClear:
      h.unknown_since.reset();
      if (!h.clear_since) h.clear_since = now;
      if (now - *h.clear_since >= h.bake) {
        s.detail = "back in service; baked " + baking + ": every check clear";
        Event(s.server, "baked " + baking + ": every check stayed clear (" + reading.text + ")");
        return End(h, HostPhase::kDone, now);
      }
      s.detail = "baking: clear for " + HumanDuration(Since(*h.clear_since, now)) + " of " + baking + " (" +
                 reading.text + ")";
      break;
  }
  Do(h, BakeRead(), now + spec_.bake_interval);
}

}  // namespace caretaker
