#include "src/config/schedule.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace caretaker {

struct TimeZone::Impl {
  std::string name;
  cctz::time_zone zone;
};

namespace {

// --- Parsing -----------------------------------------------------------------

constexpr std::array<std::string_view, 12> kMonthNames = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// One of the five fields: its name in messages, its values and their names.
struct FieldSpec {
  std::string_view name;
  int low;
  int high;                              // day-of-week: 7, Sunday again
  std::span<const std::string_view> names{};  // names[i] is value names_base + i
  int names_base = 0;
  std::string_view hint{};               // "use SUN-SAT or 0-7"
};

constexpr FieldSpec kMinute{"minute", 0, 59};
constexpr FieldSpec kHour{"hour", 0, 23};
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31};
constexpr FieldSpec kMonth{"month", 1, 12, kMonthNames, 1, "use JAN-DEC or 1-12"};
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, kWeekdayNames, 0, "use SUN-SAT or 0-7"};

constexpr std::string_view kFieldList = "minute hour day-of-month month day-of-week";

struct Shortcut {
  std::string_view name;
  std::string_view fields;
};
constexpr std::array<Shortcut, 7> kShortcuts = {{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

// A parsed field: bit i set when value i matches (day-of-week 7 folded to 0).
struct Field {
  uint64_t bits = 0;
  bool star = false;  // the field starts with '*'
};

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
  });
}

std::string Range(const FieldSpec& spec) { return std::to_string(spec.low) + "-" + std::to_string(spec.high); }

// A non-negative decimal number (INT_MAX when larger), or nullopt.
std::optional<int> Digits(std::string_view token) {
  if (token.empty() || !std::isdigit(static_cast<unsigned char>(token[0]))) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (end != token.data() + token.size()) return std::nullopt;
  return ec == std::errc::result_out_of_range ? std::numeric_limits<int>::max() : value;
}

// A value of the field: a number in range or a name. As the end of a range,
// SUN is 7 so "FRI-SUN" works.
Result<int> ParseValue(std::string_view token, std::string_view item, const FieldSpec& spec, bool range_end) {
  if (token.empty()) return Error{"missing value in " + Quote(item)};
  if (std::isdigit(static_cast<unsigned char>(token[0]))) {
    std::optional<int> value = Digits(token);
    if (!value) return Error{Quote(token) + " is not a number " + Range(spec)};
    if (*value < spec.low || *value > spec.high) return Error{Quote(token) + " is out of range " + Range(spec)};
    return *value;
  }
  if (spec.names.empty()) return Error{Quote(token) + " is not a number " + Range(spec)};
  for (size_t i = 0; i < spec.names.size(); ++i) {
    if (!EqualsIgnoreCase(token, spec.names[i])) continue;
    int value = spec.names_base + static_cast<int>(i);
    return (range_end && value == 0 && spec.high == 7) ? 7 : value;
  }
  return Error{"unknown name " + Quote(token) + " (" + std::string(spec.hint) + ")"};
}

Result<int> ParseStep(std::string_view step, std::string_view item, const FieldSpec& spec) {
  std::optional<int> value = Digits(step);
  if (!value || *value < 1 || *value > spec.high) {
    return Error{"step " + Quote(step) + " in " + Quote(item) + " must be a number 1-" + std::to_string(spec.high)};
  }
  return *value;
}

// One list item: "*", "5", "1-5", "*/15", "10-50/10", names for values.
Result<void> ParseItem(std::string_view item, const FieldSpec& spec, uint64_t& bits) {
  if (item.empty()) return Error{"empty list item"};
  size_t slash = item.find('/');
  std::string_view range = item.substr(0, slash);
  int step = 1;
  if (slash != std::string_view::npos) {
    std::string_view step_text = item.substr(slash + 1);
    if (step_text.find('/') != std::string_view::npos) return Error{"bad step in " + Quote(item)};
    Result<int> parsed = ParseStep(step_text, item, spec);
    if (!parsed) return parsed.error();
    step = parsed.value();
  }
  int first = spec.low;
  int last = spec.high;
  if (range != "*") {
    size_t dash = range.find('-');
    std::string_view end_text = dash == std::string_view::npos ? range : range.substr(dash + 1);
    if (end_text.find('-') != std::string_view::npos) return Error{"bad range " + Quote(item)};
    Result<int> from = ParseValue(range.substr(0, dash), item, spec, false);
    if (!from) return from.error();
    Result<int> to = ParseValue(end_text, item, spec, dash != std::string_view::npos);
    if (!to) return to.error();
    first = from.value();
    last = to.value();
    if (first > last) return Error{"range " + Quote(item) + " is backwards (write the smaller value first)"};
    if (dash == std::string_view::npos && slash != std::string_view::npos) {
      return Error{Quote(item) + ": a step needs a range, e.g. \"" + std::string(range) + "-" +
                   std::to_string(spec.high) + "/" + std::to_string(step) + "\""};
    }
  }
  for (int v = first; v <= last; v += step) bits |= uint64_t{1} << (v == 7 && spec.high == 7 ? 0 : v);
  return boost::outcome_v2::success();
}

Result<Field> ParseField(std::string_view text, const FieldSpec& spec) {
  Field field;
  field.star = text.front() == '*';
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    Result<void> parsed = ParseItem(item, spec, field.bits);
    if (!parsed) {
      if (item.empty()) return Error{"empty list item in " + Quote(text)};
      return parsed.error();
    }
    if (comma == std::string_view::npos) return field;
    start = comma + 1;
  }
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    size_t end = text.find_first_of(" \t", i);
    if (end == std::string_view::npos) end = text.size();
    fields.push_back(text.substr(i, end - i));
    i = end;
  }
  return fields;
}

std::optional<std::string_view> ShortcutFields(std::string_view name) {
  for (const Shortcut& s : kShortcuts) {
    if (EqualsIgnoreCase(name, s.name)) return s.fields;
  }
  return std::nullopt;
}

// --- Searching local time ------------------------------------------------------

using cctz::civil_day;
using cctz::civil_hour;
using cctz::civil_minute;
using cctz::civil_month;
using cctz::civil_second;
using cctz::civil_year;

int Weekday(const civil_day& day) {  // 0 = Sunday; cctz counts from Monday
  return (static_cast<int>(cctz::get_weekday(day)) + 1) % 7;
}

// The first set bit at or after `from` (at or before, for PrevBit); -1 if none.
template <size_t N>
int NextBit(const std::bitset<N>& bits, int from) {
  for (int i = from; i < static_cast<int>(N); ++i) {
    if (bits[i]) return i;
  }
  return -1;
}

template <size_t N>
int PrevBit(const std::bitset<N>& bits, int from) {
  for (int i = from; i >= 0; --i) {
    if (bits[i]) return i;
  }
  return -1;
}

civil_minute At(const civil_day& day, int hour, int minute) {
  return civil_minute(day.year(), day.month(), day.day(), hour, minute);
}

// The first matching civil minute at or after `m`, skipping whole months,
// days and hours; nullopt after the year `limit`.
std::optional<civil_minute> NextMatch(const CronExpr& cron, civil_minute m, civil_year limit) {
  while (civil_year(m) <= limit) {
    if (!cron.months()[m.month()]) {
      m = civil_minute(civil_month(m) + 1);
      continue;
    }
    const civil_day day(m);
    int hour = cron.MatchesDay(m.day(), Weekday(day)) ? NextBit(cron.hours(), m.hour()) : -1;
    if (hour < 0) {
      m = civil_minute(day + 1);
      continue;
    }
    int minute = NextBit(cron.minutes(), hour == m.hour() ? m.minute() : 0);
    if (minute < 0) {
      m = civil_minute(civil_hour(At(day, hour, 0)) + 1);
      continue;
    }
    return At(day, hour, minute);
  }
  return std::nullopt;
}

// The last matching civil minute at or before `m`; nullopt before `limit`.
std::optional<civil_minute> PrevMatch(const CronExpr& cron, civil_minute m, civil_year limit) {
  while (civil_year(m) >= limit) {
    if (!cron.months()[m.month()]) {
      m = civil_minute(civil_month(m)) - 1;
      continue;
    }
    const civil_day day(m);
    int hour = cron.MatchesDay(m.day(), Weekday(day)) ? PrevBit(cron.hours(), m.hour()) : -1;
    if (hour < 0) {
      m = civil_minute(day) - 1;
      continue;
    }
    int minute = PrevBit(cron.minutes(), hour == m.hour() ? m.minute() : 59);
    if (minute < 0) {
      m = civil_minute(civil_hour(At(day, hour, 0))) - 1;
      continue;
    }
    return At(day, hour, minute);
  }
  return std::nullopt;
}

// When local time `m` fires: its instant; in a DST gap, the first instant
// after the gap; when it occurs twice, the first occurrence. (cctz::convert
// does exactly that, and is monotonic: later civil times never fire earlier.)
SysSeconds FiringOf(const civil_minute& m, const cctz::time_zone& zone) {
  return std::chrono::time_point_cast<std::chrono::seconds>(cctz::convert(civil_second(m), zone));
}

// The latest local time that has fired by `t`: t's own, except in the
// second pass of a repeated hour, where the whole repeated range fired in
// the first pass.
civil_second FiredBy(const cctz::time_zone& zone, SysSeconds t) {
  civil_second local = zone.lookup(t).cs;
  const cctz::time_zone::civil_lookup cl = zone.lookup(local);
  if (cl.kind == cctz::time_zone::civil_lookup::REPEATED && t >= cl.trans) {
    local = std::max(local, zone.lookup(cl.trans - std::chrono::seconds(1)).cs);
  }
  return local;
}

bool IsZoneName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/' || name == "localtime") return false;
  if (name.find("//") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '+' || c == '/';
  });
}

}  // namespace

bool CronExpr::MatchesDay(int day_of_month, int weekday) const {
  bool by_day = days_of_month_[day_of_month];
  bool by_weekday = days_of_week_[weekday];
  if (any_day_of_month_ || any_day_of_week_) return by_day && by_weekday;
  return by_day || by_weekday;
}

Result<CronExpr> ParseCron(std::string_view text) {
  const std::string prefix = "cron " + Quote(text) + ": ";
  std::vector<std::string_view> fields = SplitFields(text);
  if (fields.empty()) return Error{prefix + "empty: expected 5 fields (" + std::string(kFieldList) + ") or @daily etc."};
  if (fields[0].front() == '@') {
    std::optional<std::string_view> expanded = ShortcutFields(fields[0]);
    if (!expanded) {
      return Error{prefix + "unknown shortcut " + Quote(fields[0]) +
                   " (use @hourly, @daily, @weekly, @monthly, @yearly or @annually)"};
    }
    if (fields.size() > 1) return Error{prefix + std::string(fields[0]) + " stands alone, got " + Quote(fields[1]) + " after it"};
    Result<CronExpr> cron = ParseCron(*expanded);
    cron.value().text_ = std::string(text);
    return cron;
  }
  if (fields.size() != 5) {
    return Error{prefix + "expected 5 fields (" + std::string(kFieldList) + "), got " + std::to_string(fields.size())};
  }
  constexpr std::array<const FieldSpec*, 5> kSpecs = {&kMinute, &kHour, &kDayOfMonth, &kMonth, &kDayOfWeek};
  std::array<Field, 5> parsed;
  for (size_t i = 0; i < kSpecs.size(); ++i) {
    Result<Field> field = ParseField(fields[i], *kSpecs[i]);
    if (!field) return Error{prefix + std::string(kSpecs[i]->name) + ": " + field.error().message};
    parsed[i] = field.value();
  }
  CronExpr cron;
  cron.text_ = std::string(text);
  cron.minutes_ = std::bitset<60>(parsed[0].bits);
  cron.hours_ = std::bitset<24>(parsed[1].bits);
  cron.days_of_month_ = std::bitset<32>(parsed[2].bits);
  cron.months_ = std::bitset<13>(parsed[3].bits);
  cron.days_of_week_ = std::bitset<7>(parsed[4].bits);
  cron.any_day_of_month_ = parsed[2].star;
  cron.any_day_of_week_ = parsed[4].star;
  return cron;
}

TimeZone::TimeZone() {
  static const auto utc = std::make_shared<const Impl>(Impl{"UTC", cctz::utc_time_zone()});
  impl_ = utc;
}

const std::string& TimeZone::name() const { return impl_->name; }

Result<TimeZone> LoadTimeZone(std::string_view name) {
  std::string text(name);
  cctz::time_zone zone;
  if (!IsZoneName(name) || !cctz::load_time_zone(text, &zone)) {
    return Error{"time zone " + Quote(name) +
                 " is not in the tz database (/usr/share/zoneinfo): use a name like \"Europe/Berlin\" or \"UTC\""};
  }
  TimeZone tz;
  tz.impl_ = std::make_shared<const TimeZone::Impl>(TimeZone::Impl{std::move(text), zone});
  return tz;
}

std::optional<SysSeconds> NextFiring(const CronExpr& cron, const TimeZone& tz, SysSeconds after) {
  const cctz::time_zone& zone = tz.impl_->zone;
  civil_minute from = civil_minute(FiredBy(zone, after)) + 1;
  const civil_year limit = civil_year(from) + kSearchYears;
  while (std::optional<civil_minute> match = NextMatch(cron, from, limit)) {
    SysSeconds firing = FiringOf(*match, zone);
    if (firing > after) return firing;  // the first match, as FiredBy is exact; looping is a safeguard
    from = *match + 1;
  }
  return std::nullopt;
}

std::optional<SysSeconds> LastFiring(const CronExpr& cron, const TimeZone& tz, SysSeconds at) {
  const cctz::time_zone& zone = tz.impl_->zone;
  civil_minute from = civil_minute(FiredBy(zone, at));
  const civil_year limit = civil_year(from) - kSearchYears;
  while (std::optional<civil_minute> match = PrevMatch(cron, from, limit)) {
    SysSeconds firing = FiringOf(*match, zone);
    if (firing <= at) return firing;
    from = *match - 1;
  }
  return std::nullopt;
}

std::optional<Window> WindowAt(const Schedule& schedule, SysSeconds now) {
  std::optional<SysSeconds> open = LastFiring(schedule.cron, schedule.tz, now);
  if (!open || now >= *open + schedule.window) return std::nullopt;
  return Window{*open, *open + schedule.window};
}

std::optional<Window> NextWindow(const Schedule& schedule, SysSeconds now) {
  std::optional<SysSeconds> open = NextFiring(schedule.cron, schedule.tz, now);
  if (!open) return std::nullopt;
  return Window{*open, *open + schedule.window};
}

}  // namespace caretaker
