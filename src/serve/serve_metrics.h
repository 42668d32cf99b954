// serve's /metrics page: what the state store and the config say now (the
// halt, records, jobs, leases, rules), serve's last reading of the pools
// (members by state, in service against the floor, disruptions allowed),
// its running walks (progress, what blocks them), and what this serve
// counted since it started (jobs finished, step, gate and job durations,
// rule actions and refusals, probe errors, API requests). Names start with
// caretaker_, values are in base units, labels are bounded: pools, states,
// results, routes — never job ids, users or error texts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "src/config/config.h"
#include "src/serve/metrics_text.h"
#include "src/serve/pool_watch.h"
#include "src/serve/rules.h"
#include "src/serve/walk_metrics.h"
#include "src/store/state_store.h"

namespace caretaker {

struct ServeCounters {
  std::map<std::string, uint64_t> jobs_finished;  // by end state
  HistogramCounts job_seconds{{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400}};
  // Alertmanager's alerts taken by the intake: "firing" (new), "resolved",
  // "duplicate" (known already).
  std::map<std::string, uint64_t> alerts_received;
};

// What serve watches live (each may be null: its families are left out).
struct ServeLive {
  const PoolWatch* pools = nullptr;
  const WalkMetrics* walks = nullptr;
  const RuleCounters* rules = nullptr;
};

std::string RenderServeMetrics(const Config& config, const StateStore& store, const ServeCounters& counters,
                               const std::map<std::pair<std::string, int>, uint64_t>& http_requests,
                               SysSeconds now, const ServeLive& live = {});

}  // namespace caretaker
