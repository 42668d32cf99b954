// `caretaker check` and GET /api/v1/check: whether a loaded config can be
// run — its MySQL password readable, every pool's capacity policy workable —
// and what each policy allows, in one sentence per pool.
#pragma once

#include <string>
#include <vector>

#include "src/config/config.h"

namespace caretaker {

struct ConfigCheck {
  std::vector<std::string> errors;    // one sentence each; empty: valid
  std::string summary;                // "PATH: OK (2 HAProxy instances, 1 pool, 4 members)"
  std::vector<std::string> policies;  // DescribePolicy of each pool
};

ConfigCheck CheckConfig(const Config& config);

// "pool replicas: 3 members, min_in_service 2 (50%), max_out 1 — 1 may go out
// at a time", for a pool whose policy CheckPoolPolicy accepted.
std::string DescribePolicy(const PoolConfig& pool);

}  // namespace caretaker
