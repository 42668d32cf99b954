// What a rule remembers across restarts (walk/rule.h decides with it; the
// state store keeps it): the actions it took, the firings its breaker counts,
// whether the breaker is open.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "src/base/time.h"

namespace caretaker {

struct RuleMemory {
  struct Action {
    std::string pool, server;
    std::string kind;  // "depool", "repool", "task", "notify"
    WallTime at{};
    std::optional<WallTime> ended;  // its walk ended (the hold runs from here)
  };
  struct Firing {
    std::string pool, server;
    WallTime at{};
  };
  std::vector<Action> actions;
  std::vector<Firing> firings;
  std::optional<std::string> tripped;  // why the breaker opened
};

}  // namespace caretaker
