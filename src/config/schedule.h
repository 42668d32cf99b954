// Maintenance-window schedules: a 5-field cron expression evaluated in local
// time of an IANA time zone, and the windows of a fixed length its firings
// open. Pure: no clock (time is an argument), no I/O but LoadTimeZone reading
// the tz database. cctz is included nowhere but schedule.cc.
//
// Contract:
// - ParseCron accepts what Vixie cron/cronie accept in a crontab's time
//   fields: minute hour day-of-month month day-of-week, each `*`, a value, a
//   range `1-5`, a step `*/15` or `10-50/10`, or a comma list of those; names
//   JAN-DEC and SUN-SAT (any case); day-of-week 7 is Sunday; and the shortcuts
//   @hourly @daily (@midnight) @weekly @monthly @yearly @annually. A value
//   with a step but no range ("5/15") is refused: cron does not agree on it.
// - Day-of-month and day-of-week (Vixie's rule): when either field starts
//   with `*` (so `*/2` too) a day must match both; otherwise (both are
//   values, ranges or lists) a day matches if EITHER matches:
//   "0 3 1 * MON" fires on the 1st and on every Monday.
// - Firings are instants. A local time skipped by a DST change fires at the
//   first instant after the gap (a 02:30 job on the spring-forward day runs
//   at 03:00 local); several skipped times are one firing. A local time that
//   occurs twice fires once, at its first occurrence (so "*/15 * * * *" does
//   not fire during the repeated hour's second pass).
// - Searches give up after kSearchYears of local time: an expression that
//   never fires ("0 0 31 2 *") costs a few thousand steps, then nullopt.
#pragma once

#include <bitset>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "src/base/result.h"
#include "src/base/time.h"

namespace caretaker {

// How far NextFiring/LastFiring look. 8, not 5: Feb 29 can be 8 years away
// (2096 -> 2104, 2100 is not a leap year).
inline constexpr int kSearchYears = 8;

// A parsed cron expression. Bit i of a field is set when value i matches.
class CronExpr {
 public:
  CronExpr() = default;  // matches nothing: never fires

  const std::string& text() const { return text_; }  // as written, for messages
  const std::bitset<60>& minutes() const { return minutes_; }            // 0-59
  const std::bitset<24>& hours() const { return hours_; }                // 0-23
  const std::bitset<32>& days_of_month() const { return days_of_month_; }  // 1-31
  const std::bitset<13>& months() const { return months_; }              // 1-12
  const std::bitset<7>& days_of_week() const { return days_of_week_; }   // 0-6, 0 = Sunday
  // Whether the day-of-month / day-of-week field started with `*`.
  bool any_day_of_month() const { return any_day_of_month_; }
  bool any_day_of_week() const { return any_day_of_week_; }

  // Whether a date matches, with the rule above. `weekday` 0-6, 0 = Sunday.
  bool MatchesDay(int day_of_month, int weekday) const;

 private:
  friend Result<CronExpr> ParseCron(std::string_view text);

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;
  std::bitset<13> months_;
  std::bitset<7> days_of_week_;
  bool any_day_of_month_ = false;
  bool any_day_of_week_ = false;
};

// The error names the expression, the field and the bad token:
//   cron "0 3 * * TUX": day-of-week: unknown name "TUX" (use SUN-SAT or 0-7)
Result<CronExpr> ParseCron(std::string_view text);

// An IANA time zone ("UTC", "Europe/Berlin"), loaded once. Cheap to copy
// (shared, immutable). The default is UTC.
class TimeZone {
 public:
  TimeZone();
  const std::string& name() const;

 private:
  struct Impl;  // the cctz zone, defined in schedule.cc
  friend Result<TimeZone> LoadTimeZone(std::string_view name);
  friend std::optional<SysSeconds> NextFiring(const CronExpr&, const TimeZone&, SysSeconds);
  friend std::optional<SysSeconds> LastFiring(const CronExpr&, const TimeZone&, SysSeconds);
  std::shared_ptr<const Impl> impl_;
};

// The error names the zone and says it is not in the tz database
// (/usr/share/zoneinfo). Only database names are taken: not a path, not
// "localtime" (that would depend on the machine).
Result<TimeZone> LoadTimeZone(std::string_view name);

// The first firing strictly after `after`; nullopt when none within
// kSearchYears.
std::optional<SysSeconds> NextFiring(const CronExpr& cron, const TimeZone& tz, SysSeconds after);
// The last firing at or before `at`; nullopt when none within kSearchYears.
std::optional<SysSeconds> LastFiring(const CronExpr& cron, const TimeZone& tz, SysSeconds at);

// Every firing of `cron` in `tz` opens a window of `window` (a window of zero
// or less contains no instant).
struct Schedule {
  CronExpr cron;
  TimeZone tz;
  std::chrono::seconds window{0};
};

// [open, close): open is a firing, close = open + schedule.window.
struct Window {
  SysSeconds open;
  SysSeconds close;
  friend bool operator==(const Window&, const Window&) = default;
};

// The window containing `now` (open <= now < close), if any. When windows
// overlap (the window is longer than the gap between firings) this is the
// one of the last firing at or before `now`: the latest open and the latest
// close of those containing `now`. Windows are not merged: a firing before
// `close` opens the next window, which extends the run past `close`.
std::optional<Window> WindowAt(const Schedule& schedule, SysSeconds now);
// The first window opening strictly after `now` (it may overlap WindowAt's).
std::optional<Window> NextWindow(const Schedule& schedule, SysSeconds now);

}  // namespace caretaker
