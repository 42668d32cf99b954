// What a roll would do, for people and programs alike: each member's HAProxy
// and step commands in order, and the plan of every pool as JSON — one
// shape for `caretaker plan --json` and GET /api/v1/plan. Boost.JSON is only
// declared here.
#pragma once

#include <string>
#include <vector>

#include "src/run/roll_setup.h"
#include "src/walk/plan.h"

namespace boost::json {
class object;
}  // namespace boost::json

namespace caretaker::roll_detail {

// Each command of the walk for `member`, in order: the drain, MAINT, every
// step where it runs with its placeholders substituted, the gates, READY.
std::vector<std::string> PlanCommands(const PoolWalk& walk, const MemberConfig& member);

// {"pools": [{pool, backend, task, waves, skipped, counted_out, not_started,
// blocked, members: [{server, commands}]}]}
boost::json::object PlanView(const std::vector<PoolWalk>& walks, const std::vector<WalkPlan>& plans);

}  // namespace caretaker::roll_detail
