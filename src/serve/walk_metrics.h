// What serve's walks do, watched as they go (every round of a job's driver),
// for /metrics: each running walk's members by state and what keeps it from
// starting the next one (budget, lag), and since serve started, how long
// steps ran and how long each health gate was waited for, per pool.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "src/base/time.h"
#include "src/serve/metrics_text.h"
#include "src/walk/walker.h"

namespace caretaker {

class WalkMetrics {
 public:
  // The members of job `job`'s walk of `pool` as its driver has them now;
  // `waiting_for`: the walker's reason no member can start ("" when none
  // waits for capacity).
  void Observe(int64_t job, const std::string& pool, const std::vector<HostStatus>& hosts,
               const std::string& waiting_for, SteadyTime now);
  // The job's walk ended: no longer a running walk (its counts stay).
  void Forget(int64_t job) { walks_.erase(job); }

  struct Progress {
    std::map<std::string, int> members;  // "pending", "active", "done", "failed", "skipped"
    bool budget = false;  // waits for capacity to start the next member
    bool lag = false;     // a member waits for replication to catch up
  };
  // By pool, the walks running now.
  std::map<std::string, Progress> Running() const;

  // Writes the histograms (step and gate durations) into `m`.
  void Render(MetricsText& m) const;

 private:
  struct Host {
    HostPhase phase = HostPhase::kPending;
    size_t step = 0;
    SteadyTime since{};
    size_t gates_seen = 0;
  };
  struct Walk {
    std::string pool;
    std::map<std::string, Host> hosts;
    Progress progress;
  };
  std::map<int64_t, Walk> walks_;
  std::map<std::string, HistogramCounts> steps_;                         // by pool
  std::map<std::pair<std::string, std::string>, HistogramCounts> gates_;  // by pool, gate
};

}  // namespace caretaker
