// ValidatePolicy (declared in capacity.h): catches, at `caretaker check`, the
// policies that can never let a member out or would let the whole pool out.
#include "policies/capacity.h"

namespace caretaker::policies {
namespace {

Error BadPolicy(std::string_view pool_name, const std::string& what) {
  return Error{ErrorCode::kBadPolicy, "pool " + std::string(pool_name) + ": " + what};
}

// " (rounded up)" when a percent of the pool is not a whole number of members.
std::string RoundingNote(const Limit& limit, size_t pool_size, const char* direction) {
  if (limit.kind != Limit::Kind::kPercent || limit.value * pool_size % 100 == 0) return "";
  return std::string(" (rounded ") + direction + ")";
}

// min_in_service at or above the pool size: nobody may ever go out.
std::string FloorTooHigh(const Limit& floor, size_t n) {
  std::string fix =
      floor.kind == Limit::Kind::kPercent ? std::to_string(100 * (n - 1) / n) + "%" : std::to_string(n - 1);
  return "min_in_service " + floor.ToString() + " requires " + std::to_string(FloorCount(floor, n)) +
         " members in service" + RoundingNote(floor, n, "up") + " and the pool has " + std::to_string(n) +
         ", so none can ever go out; set it to at most " + fix;
}

// max_out resolving to 0: nobody may ever go out.
std::string MaxOutZero(const Limit& max_out, size_t n) {
  std::string fix = max_out.kind == Limit::Kind::kPercent ? std::to_string((100 + n - 1) / n) + "%" : "1";
  return "max_out " + max_out.ToString() + " lets 0 of " + std::to_string(n) + " members out" +
         RoundingNote(max_out, n, "down") + ", so none can ever go out; set it to at least " + fix;
}

std::string WholePoolOut(const CapacityPolicy& policy, size_t n) {
  std::string max_out = policy.max_out ? "max_out " + policy.max_out->ToString() : "no max_out";
  return "min_in_service " + policy.min_in_service.ToString() + " with " + max_out + " lets all " + std::to_string(n) +
         " members out at once; set min_in_service to at least 1, or max_out to at most " + std::to_string(n - 1);
}

}  // namespace

Status ValidatePolicy(const CapacityPolicy& policy, size_t pool_size, std::string_view pool_name) {
  const size_t n = pool_size;
  if (n == 0) return BadPolicy(pool_name, "the pool has no members");
  if (n == 1) {
    return BadPolicy(pool_name,
                     "a pool of one member can only go out whole, which no capacity policy allows; "
                     "add a member to the pool");
  }
  const size_t floor = FloorCount(policy.min_in_service, n);
  if (floor >= n) return BadPolicy(pool_name, FloorTooHigh(policy.min_in_service, n));
  if (policy.max_out && MaxOutCount(*policy.max_out, n) == 0) {
    return BadPolicy(pool_name, MaxOutZero(*policy.max_out, n));
  }
  if (floor == 0 && (!policy.max_out || MaxOutCount(*policy.max_out, n) >= n)) {
    return BadPolicy(pool_name, WholePoolOut(policy, n));
  }
  return Ok();
}

}  // namespace caretaker::policies
