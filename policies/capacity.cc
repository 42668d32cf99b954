#include "policies/capacity.h"

#include <algorithm>

namespace caretaker::policies {
bool IsUnhealthy(Member::State s) {
  return s == Member::State::kDown || s == Member::State::kLagging || s == Member::State::kUnreachable;
}

namespace {

// The pool as the budget sees it.
struct Counts {
  size_t size = 0;
  size_t out = 0;
  size_t unhealthy_counted_in = 0;  // down/lagging members counted as in service
  size_t floor = 0;
  std::optional<size_t> max_out;

  size_t in() const { return size - out; }
};

Counts Count(const CapacityPolicy& policy, const PoolSnapshot& pool) {
  Counts c;
  c.size = pool.members.size();
  for (const Member& m : pool.members) {
    if (CountsAsOut(policy, m.state)) {
      ++c.out;
    } else if (IsUnhealthy(m.state)) {
      ++c.unhealthy_counted_in;
    }
  }
  c.floor = FloorCount(policy.min_in_service, c.size);
  if (policy.max_out) c.max_out = MaxOutCount(*policy.max_out, c.size);
  return c;
}

size_t HeadroomOf(const Counts& c) {
  size_t by_floor = c.in() > c.floor ? c.in() - c.floor : 0;
  if (!c.max_out) return by_floor;
  return std::min(by_floor, *c.max_out > c.out ? *c.max_out - c.out : 0);
}

// " (75%)" after a resolved percent limit, nothing after a count.
std::string PercentNote(const Limit& limit) {
  return limit.kind == Limit::Kind::kPercent ? " (" + limit.ToString() + ")" : "";
}

std::string FloorClause(const CapacityPolicy& policy, const Counts& c) {
  return std::to_string(c.in()) + " of " + std::to_string(c.size) + " in service, floor is " + std::to_string(c.floor) +
         PercentNote(policy.min_in_service);
}

std::string MaxOutClause(const CapacityPolicy& policy, const Counts& c) {
  return "max_out is " + std::to_string(*c.max_out) + PercentNote(*policy.max_out);
}

// Said whenever down, lagging or unreachable members are counted as in service.
std::string UnhealthyNote(const Counts& c) {
  if (c.unhealthy_counted_in == 0) return "";
  return "; " + std::to_string(c.unhealthy_counted_in) +
         " down, lagging or unreachable counted as in service (count_unhealthy_as_out = false)";
}

// Names the members out on their own, for a refusal: the person reading it
// needs to know which replica holds the budget, not only how many.
std::string CountedOutNote(const CapacityPolicy& policy, const PoolSnapshot& pool) {
  std::string names;
  for (const Member& m : pool.members) {
    if (!IsUnhealthy(m.state) || !CountsAsOut(policy, m.state)) continue;
    names += (names.empty() ? "" : ", ") + m.name + " (" + StateName(m.state) + ")";
  }
  return names.empty() ? "" : "; counted out: " + names;
}

std::string UnknownMemberReason(const PoolSnapshot& pool, std::string_view member) {
  std::string names;
  for (const Member& m : pool.members) names += (names.empty() ? "" : ", ") + m.name;
  return "pool " + pool.name + ": no member named " + std::string(member) +
         (names.empty() ? " (the pool has no members)" : " (members: " + names + ")");
}

Decision Refuse(Decision::Kind kind, std::string reason) { return Decision{kind, std::move(reason)}; }

}  // namespace

const char* StateName(Member::State state) {
  switch (state) {
    case Member::State::kInService: return "in service";
    case Member::State::kDown: return "down";
    case Member::State::kLagging: return "lagging";
    case Member::State::kUnreachable: return "MySQL unreachable";
    case Member::State::kDrained: return "drained";
    case Member::State::kInMaintenance: return "in maintenance";
  }
  return "unknown";
}

bool CountsAsOut(const CapacityPolicy& policy, Member::State state) {
  if (state == Member::State::kInService) return false;
  return policy.count_unhealthy_as_out || !IsUnhealthy(state);
}

Decision MayTakeOut(const CapacityPolicy& policy, const PoolSnapshot& pool, std::string_view member) {
  auto it = std::find_if(pool.members.begin(), pool.members.end(), [&](const Member& m) { return m.name == member; });
  if (it == pool.members.end()) return Refuse(Decision::Kind::kUnknownMember, UnknownMemberReason(pool, member));
  const std::string prefix = "pool " + pool.name + ": ";
  if (CountsAsOut(policy, it->state)) {
    return Decision{Decision::Kind::kAlreadyOut, prefix + it->name + " is already out (" + StateName(it->state) +
                                                     "), taking it out costs no capacity"};
  }
  const Counts c = Count(policy, pool);
  if (c.in() < c.floor + 1) {
    return Refuse(Decision::Kind::kFloor,
                  prefix + FloorClause(policy, c) + CountedOutNote(policy, pool) + UnhealthyNote(c));
  }
  if (c.max_out && c.out + 1 > *c.max_out) {
    return Refuse(Decision::Kind::kMaxOut, prefix + std::to_string(c.out) + " of " + std::to_string(c.size) +
                                               " already out, " + MaxOutClause(policy, c) +
                                               CountedOutNote(policy, pool) + UnhealthyNote(c));
  }
  std::string limits = FloorClause(policy, c) + (c.max_out ? ", " + MaxOutClause(policy, c) : "");
  return Decision{Decision::Kind::kAllowed,
                  prefix + limits + ": " + std::to_string(HeadroomOf(c)) + " may go out now" + UnhealthyNote(c)};
}

size_t Headroom(const CapacityPolicy& policy, const PoolSnapshot& pool) { return HeadroomOf(Count(policy, pool)); }

}  // namespace caretaker::policies
