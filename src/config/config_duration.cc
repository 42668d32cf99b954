// Durations as written in the config: one integer and one unit.
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <utility>

#include "src/config/config.h"

namespace caretaker {
namespace {

// Largest first, so FormatDuration picks the shortest exact spelling.
constexpr std::array<std::pair<std::string_view, int64_t>, 5> kUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

}  // namespace

std::optional<Millis> ParseDuration(std::string_view text) {
  // from_chars takes an optional '-' and no '+' or spaces: "-5s" parses (the
  // caller decides whether a negative duration makes sense), " 5s" does not.
  int64_t count = 0;
  const char* end = text.data() + text.size();
  auto [unit_begin, ec] = std::from_chars(text.data(), end, count);
  if (ec != std::errc() || unit_begin == text.data()) return std::nullopt;
  std::string_view unit(unit_begin, static_cast<size_t>(end - unit_begin));
  for (const auto& [name, ms] : kUnits) {
    if (unit != name) continue;
    if (count > std::numeric_limits<int64_t>::max() / ms ||
        count < std::numeric_limits<int64_t>::min() / ms) {
      return std::nullopt;
    }
    return Millis{count * ms};
  }
  return std::nullopt;
}

std::string FormatDuration(Millis d) {
  if (d.count() == 0) return "0s";
  for (const auto& [name, ms] : kUnits) {
    if (d.count() % ms == 0) return std::to_string(d.count() / ms) + std::string(name);
  }
  return std::to_string(d.count()) + "ms";  // unreachable: every count divides by 1
}

}  // namespace caretaker
