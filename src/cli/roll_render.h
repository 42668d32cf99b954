// The plan and the summary of walks for people (plan, roll, roll --dry-run).
#pragma once

#include <ostream>

#include "src/run/roll_setup.h"
#include "src/walk/plan.h"

namespace caretaker::roll_detail {

// The plan of each pool for people: waves, then per member the HAProxy and
// step commands in order. `instances`: the names of the instances per pool.
void RenderPlan(std::ostream& out, const PoolWalk& walk, const WalkPlan& plan,
                const std::vector<std::string>& instances);

// The summary table after a walk, one row per member, then one line per pool
// and the members left out of traffic.
void RenderSummary(std::ostream& out, const PoolWalk& walk, const Walker& walker, SteadyTime started);

}  // namespace caretaker::roll_detail
