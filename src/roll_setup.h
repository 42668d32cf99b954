// Internal to plan and roll (roll_*.cc): from the command line to walk
// specs, pure.
#pragma once

#include <string>
#include <vector>

#include "src/config.h"
#include "src/roll_cmd.h"
#include "src/walker.h"

namespace caretaker::roll_detail {

struct PoolWalk {
  const PoolConfig* pool = nullptr;
  const TaskConfig* task = nullptr;
  WalkSpec spec;
};

// Resolves --pool, --task, --limit and --order: each pool and the task must
// exist, each pool's policy must be workable (CheckPoolPolicy), each --limit
// pattern must match some member of the pools named. The error is one
// sentence for a usage error (exit 2).
Result<std::vector<PoolWalk>> ResolveWalks(const Config& config, const RollOptions& options);

// "a, b, c"; `empty` when there is nothing to join.
std::string JoinNames(const std::vector<std::string>& names, const std::string& empty = "");

// Whether `pattern` (fnmatch glob) names the member: its server name,
// "pool/server", its host or "host:port".
bool LimitMatches(const std::string& pattern, const PoolConfig& pool, const MemberConfig& member);

}  // namespace caretaker::roll_detail

#include <ostream>

#include "src/plan.h"

namespace caretaker::roll_detail {

// The plan of each pool for people: waves, then per member the HAProxy and
// step commands in order. `instances`: the names of the instances per pool.
void RenderPlan(std::ostream& out, const PoolWalk& walk, const WalkPlan& plan,
                const std::vector<std::string>& instances);
// The same as one JSON object per pool, in an array (`plan --json`).
std::string PlanJson(const std::vector<PoolWalk>& walks, const std::vector<WalkPlan>& plans);

// The summary table after a walk, one row per member, then one line per pool
// and the members left out of traffic.
void RenderSummary(std::ostream& out, const PoolWalk& walk, const Walker& walker, SteadyTime started);

}  // namespace caretaker::roll_detail
