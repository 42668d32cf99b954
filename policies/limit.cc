#include "policies/limit.h"

#include <charconv>
#include <system_error>

namespace caretaker::policies {
namespace {

constexpr std::string_view kHowToWrite = "write a count of members like 3 or a percent of the pool like 75%";

Error BadLimit(std::string_view text, std::string_view what) {
  std::string quoted = text.empty() ? "an empty value" : "\"" + std::string(text) + "\"";
  return Error{ErrorCode::kBadLimit, quoted + " " + std::string(what) + ": " + std::string(kHowToWrite)};
}

// Why `digits` (the text without its '%') is not a whole number, for the error.
std::string_view WhyNotWhole(std::string_view digits) {
  if (!digits.empty() && digits.front() == '-') return "is negative";
  if (digits.find_first_of(".,") != std::string_view::npos) return "is not a whole number";
  return "is not a count or a percent";
}

Result<size_t> ParseWhole(std::string_view text, std::string_view digits) {
  size_t value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (ec == std::errc::result_out_of_range) return BadLimit(text, "is too large");
  if (ec != std::errc() || ptr != end || digits.empty()) return BadLimit(text, WhyNotWhole(digits));
  return value;
}

}  // namespace

std::string Limit::ToString() const { return std::to_string(value) + (kind == Kind::kPercent ? "%" : ""); }

Result<Limit> ParseLimit(std::string_view text) {
  const bool percent = !text.empty() && text.back() == '%';
  std::string_view digits = percent ? text.substr(0, text.size() - 1) : text;
  auto value = ParseWhole(text, digits);
  if (!value) return value.error();
  if (!percent) return Limit::Count(value.value());
  if (value.value() > 100) {
    return Error{ErrorCode::kBadLimit,
                 "\"" + std::string(text) + "\" is more than 100%: a percent of the pool must be 0% to 100%"};
  }
  return Limit::Percent(value.value());
}

size_t FloorCount(const Limit& min_in_service, size_t pool_size) {
  if (min_in_service.kind == Limit::Kind::kCount) return min_in_service.value;
  return (min_in_service.value * pool_size + 99) / 100;
}

size_t MaxOutCount(const Limit& max_out, size_t pool_size) {
  if (max_out.kind == Limit::Kind::kCount) return max_out.value;
  return max_out.value * pool_size / 100;
}

}  // namespace caretaker::policies
