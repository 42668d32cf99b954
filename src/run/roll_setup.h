// From what to walk — roll's and plan's options, or a job serve picks up —
// to the walk specs of its pools. Pure.
#pragma once

#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/store/job.h"
#include "src/walk/walker.h"

namespace caretaker {

// What to walk, as `roll` and `plan` take it on the command line (and serve
// rebuilds it from a job).
struct RollOptions {
  std::vector<std::string> pools;   // --pool a,b
  std::string task;                 // --task
  std::vector<std::string> limit;   // --limit: names or globs (server, pool/server, host, host:port)
  std::string order = "config";     // --order: config, reverse or name
  int max_failures = 1;             // --max-failures: failed members before the walk stops
  bool force_sessions = false;      // shut down sessions left at the drain deadline
  bool dry_run = false;             // roll --dry-run: plan only
  bool yes = false;                 // roll --yes: no confirmation
  bool queue = false;               // roll --queue: add the jobs for `caretaker serve`, walk nothing now
  bool json = false;                // plan --json
  std::string who;                  // for records; empty: from the environment
  int64_t retry_job = 0;            // `job retry ID`: go on with that job instead of a new one
  std::optional<size_t> from_step;  // `job retry --from-step N` (1-based)
};

}  // namespace caretaker

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

// `base` walking `members` of `job` (those left) as the job was started:
// its pool and task, the config's order, its max_failures and sessions rule.
RollOptions JobOptions(const Job& job, const std::vector<std::string>& members, RollOptions base = {});

}  // namespace caretaker::roll_detail
