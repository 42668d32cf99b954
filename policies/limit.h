// A capacity limit as written in the config: a count of members ("3") or a
// whole percent of the pool ("75%"), and how it resolves against a pool size.
//
// Rounding is always the conservative way: a percent floor (min_in_service)
// rounds UP and a percent max_out rounds DOWN, so a policy never lets more
// members out than its text says. A max_out percent may therefore resolve to 0
// on a small pool (10% of 4 is 0); there is no "at least one" rule —
// ValidatePolicy (capacity.h) reports such a policy at `caretaker check`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "policies/error.h"

namespace caretaker::policies {

struct Limit {
  enum class Kind { kCount, kPercent };

  Kind kind = Kind::kCount;
  size_t value = 0;  // members for kCount; 0-100 for kPercent (see ParseLimit)

  static Limit Count(size_t members) { return {Kind::kCount, members}; }
  static Limit Percent(size_t percent) { return {Kind::kPercent, percent}; }

  // "3" or "75%": the config text, which ParseLimit reads back.
  std::string ToString() const;
  bool operator==(const Limit&) const = default;
};

// "3" -> Count(3), "75%" -> Percent(75). Whole numbers only, no sign, no
// spaces; a percent must be 0-100. The error (kBadLimit) quotes the text and
// says how to write it; the caller adds the file, line and key.
Result<Limit> ParseLimit(std::string_view text);

// The number of members that must stay in service: counts as written,
// percents of pool_size rounded UP (75% of 5 is 4). May exceed pool_size.
size_t FloorCount(const Limit& min_in_service, size_t pool_size);

// The number of members that may be out at once: counts as written, percents
// of pool_size rounded DOWN (50% of 5 is 2; 10% of 4 is 0).
size_t MaxOutCount(const Limit& max_out, size_t pool_size);

}  // namespace caretaker::policies
