// What a roll would do, from a pool's live state: the walk's own decisions
// (walker.h) run against a simulated world where every action succeeds at
// once and every member comes back healthy. Pure; changes nothing. Used by
// `caretaker plan`, `roll --dry-run` and the confirmation before a roll.
#pragma once

#include <string>
#include <vector>

#include "src/walk/walker.h"

namespace caretaker {

struct WalkPlan {
  std::vector<std::vector<std::string>> waves;  // members started together, in order
  std::vector<std::string> skipped;             // "db3: held by a maintenance record (...)"
  std::vector<std::string> not_started;         // members the walk would not reach
  std::string blocked;                          // why, when some member would not start
  // Members the policy counts out on their own now (down, lagging, MySQL
  // unreachable): what holds the budget before the walk spends any.
  struct CountedOut {
    std::string server;
    policies::Member::State state;
    std::string detail;  // HAProxy's health, or the probe's sentence
  };
  std::vector<CountedOut> counted_out;
};

// "db3: MySQL unreachable, counted out (MySQL 127.0.0.1:3309: ...)".
std::string Describe(const WalkPlan::CountedOut& out);

// `live`: the pool as Observe(with_mysql) read it. `max_concurrent`: the
// global cap ([roll] max_concurrent_hosts).
WalkPlan SimulateWalk(const WalkSpec& spec, const PoolView& live, size_t max_concurrent);

}  // namespace caretaker
