// Capacity policies: may this member of a pool go out of service now?
//
// Pure functions over a snapshot of the pool taken from live state just before
// each drain (never from a plan made earlier), so a member that failed on its
// own meanwhile is counted and the answer gets stricter instead of worse.
//
// Contract:
// - Pool size is the number of members in the snapshot; names are unique.
// - A member counts as OUT when it is drained (or draining, or in HAProxy
//   maint) or in someone's maintenance record; and, when
//   count_unhealthy_as_out (the default), also when it is down, lagging or
//   unreachable (its MySQL could not be read: unknown is never in service).
//   Every other member counts as IN SERVICE. With count_unhealthy_as_out
//   false, a down, lagging or unreachable member counts as in service for the
//   budget and taking it out spends budget like taking out a healthy one.
// - Taking out a member that already counts as out costs nothing: allowed.
// - Otherwise it is allowed only if afterwards in service >= floor
//   (min_in_service, percent rounded up) and out <= max_out (percent rounded
//   down; no max_out means only the floor limits). The floor is checked first.
// - Reasons state the pool's current counts, one sentence each:
//     "pool replicas-eu: 3 of 4 in service, floor is 3 (75%)"
//     "pool replicas-eu: 2 of 4 already out, max_out is 2"
//     "pool replicas-eu: 4 of 4 in service, floor is 3 (75%): 1 may go out now"
//   plus, for a refusal, "; counted out: db3 (MySQL unreachable), db4 (down)"
//   naming the members out on their own (down, lagging, unreachable), and
//   "; N down, lagging or unreachable counted as in service (...)" when that
//   applies.
//   The caller adds what was refused ("refusing to take db2 out: ...").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/error.h"
#include "policies/limit.h"

namespace caretaker::policies {

struct CapacityPolicy {
  Limit min_in_service = Limit::Count(1);  // the config supplies the real default
  std::optional<Limit> max_out;  // absent: only the floor limits
  bool count_unhealthy_as_out = true;
};

struct Member {
  enum class State {
    kInService,      // UP and READY everywhere, not lagging
    kDown,           // failing its health checks somewhere
    kLagging,        // replication behind or stopped
    kUnreachable,    // its MySQL could not be read (refused, timed out, lost)
    kDrained,        // drain, maint or draining on an instance: out of traffic
    kInMaintenance,  // someone's maintenance record holds it
  };
  std::string name;
  State state = State::kInService;
};

// "in service", "down", "lagging", "MySQL unreachable", "drained", "in maintenance".
const char* StateName(Member::State state);

// Whether a member in `state` counts as out of service for `policy`.
bool CountsAsOut(const CapacityPolicy& policy, Member::State state);
// Down, lagging or MySQL unreachable: out of service on its own (not
// drained, not held by a record); counts as out unless
// count_unhealthy_as_out = false.
bool IsUnhealthy(Member::State state);

struct PoolSnapshot {
  std::string name;
  std::vector<Member> members;
};

struct Decision {
  enum class Kind {
    kAllowed,        // allowed, and it spends one member of the budget
    kAlreadyOut,     // allowed: the member already counts as out
    kFloor,          // refused: in service would drop below min_in_service
    kMaxOut,         // refused: out would exceed max_out
    kUnknownMember,  // refused: no member of that name in the pool
  };
  Kind kind;
  std::string reason;  // one sentence naming the pool, for every kind

  bool allowed() const { return kind == Kind::kAllowed || kind == Kind::kAlreadyOut; }
};

// May `member` of `pool` be taken out now? See the contract above.
Decision MayTakeOut(const CapacityPolicy& policy, const PoolSnapshot& pool, std::string_view member);

// How many more members that count as in service may go out now (0 when the
// pool is at or below its floor, or at max_out).
size_t Headroom(const CapacityPolicy& policy, const PoolSnapshot& pool);

// For `caretaker check`: an error (kBadPolicy) naming the pool when the policy
// can never let any member out (floor >= pool size, or max_out resolves to 0)
// or would let the whole pool out at once (floor 0 and max_out absent or >=
// pool size). Judged on the configured pool size, with every member healthy.
Status ValidatePolicy(const CapacityPolicy& policy, size_t pool_size, std::string_view pool_name);

}  // namespace caretaker::policies
