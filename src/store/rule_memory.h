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

// What serve's last evaluation of a rule saw: when, how long it took, the
// error that made it fail (a source or the store), and each watched member's
// state (walk/rule.h's phases by name).
struct RuleStatus {
  WallTime at{};
  Millis took{0};
  std::string error;
  struct Member {
    std::string pool, server;
    std::string phase;              // "ok", "pending", ...
    std::optional<WallTime> since;  // pending, clearing: since when; held: until when
    std::string why;
  };
  std::vector<Member> members;
};

}  // namespace caretaker
