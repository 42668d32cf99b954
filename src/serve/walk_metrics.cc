// See walk_metrics.h.
#include "src/serve/walk_metrics.h"

#include "src/walk/gates.h"

namespace caretaker {
namespace {

const std::vector<double> kStepBounds{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600};
const std::vector<double> kGateBounds{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900};

const char* ProgressKey(HostPhase phase) {
  switch (phase) {
    case HostPhase::kPending: return "pending";
    case HostPhase::kDone:
    case HostPhase::kHeld: return "done";
    case HostPhase::kFailed:
    case HostPhase::kStopped: return "failed";
    case HostPhase::kSkipped: return "skipped";
    default: return "active";
  }
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void WalkMetrics::Observe(int64_t job, const std::string& pool, const std::vector<HostStatus>& hosts,
                          const std::string& waiting_for, SteadyTime now) {
  Walk& w = walks_[job];
  w.pool = pool;
  w.progress = {};
  for (const char* key : {"pending", "active", "done", "failed", "skipped"}) w.progress.members[key] = 0;
  w.progress.budget = !waiting_for.empty();
  for (const HostStatus& h : hosts) {
    ++w.progress.members[ProgressKey(h.phase)];
    if (h.phase == HostPhase::kGates &&
        (h.detail.find("catch-up") != std::string::npos || h.detail.find("replication") != std::string::npos)) {
      w.progress.lag = true;
    }
    auto [it, added] = w.hosts.try_emplace(h.server);
    Host& seen = it->second;
    if (added) {
      seen.phase = h.phase;
      seen.step = h.step;
      seen.since = now;
      seen.gates_seen = h.gates_passed.size();  // passed before this serve watched: not timed here
      continue;
    }
    if (seen.phase != h.phase || seen.step != h.step) {
      if (seen.phase == HostPhase::kStep) {
        steps_.try_emplace(pool, kStepBounds).first->second.Observe(Seconds(now - seen.since));
      }
      seen.phase = h.phase;
      seen.step = h.step;
      seen.since = now;
    }
    for (; seen.gates_seen < h.gates_passed.size(); ++seen.gates_seen) {
      const auto& [gate, waited] = h.gates_passed[seen.gates_seen];
      gates_.try_emplace({pool, GateName(gate)}, kGateBounds).first->second.Observe(Seconds(waited));
    }
  }
}

std::map<std::string, WalkMetrics::Progress> WalkMetrics::Running() const {
  std::map<std::string, Progress> out;
  for (const auto& [job, w] : walks_) out[w.pool] = w.progress;
  return out;
}

void WalkMetrics::Render(MetricsText& m) const {
  m.Family("caretaker_step_duration_seconds", "histogram", "How long the task steps of this serve's walks ran, by pool.");
  for (const auto& [pool, h] : steps_) m.Histogram({{"pool", pool}}, h.bounds(), h.counts(), h.sum());
  m.Family("caretaker_gate_wait_seconds", "histogram",
           "How long this serve's walks waited for each health gate of a member, by pool and gate.");
  for (const auto& [key, h] : gates_) m.Histogram({{"pool", key.first}, {"gate", key.second}}, h.bounds(), h.counts(), h.sum());
}

}  // namespace caretaker
