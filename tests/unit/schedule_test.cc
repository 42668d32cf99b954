// Maintenance-window schedules: cron syntax and its errors, firings in local
// time across month ends, leap years and DST changes, and the windows they
// open. Instants are written as literal UTC times ("2024-03-31 01:00").
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "src/config/schedule.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

// "2024-03-31 01:00" or "2024-03-31 01:00:30", UTC.
SysSeconds Utc(const char* text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  int n = std::sscanf(text, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s);
  REQUIRE(n >= 5);
  auto day = std::chrono::sys_days(std::chrono::year(y) / mo / d);
  return day + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s);
}

// The inverse: "2024-03-31 01:00" (":ss" only when not zero).
std::string Utc(SysSeconds t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(day);
  std::chrono::hh_mm_ss hms(t - day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
  std::string out = buf;
  if (hms.seconds().count() != 0) out += ":" + std::to_string(hms.seconds().count());
  return out;
}

std::string Utc(const std::optional<SysSeconds>& t) { return t ? Utc(*t) : "never"; }

CronExpr Cron(const std::string& text) {
  Result<CronExpr> cron = ParseCron(text);
  INFO(text);
  REQUIRE(cron);
  return cron.value();
}

TimeZone Zone(const std::string& name) {
  Result<TimeZone> tz = LoadTimeZone(name);
  INFO(name);
  REQUIRE(tz);
  return tz.value();
}

// The values of a field as ranges: "0,15,30,45", "1-5", "0,5-6".
template <size_t N>
std::string Values(const std::bitset<N>& bits) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (!bits[i]) continue;
    size_t j = i;
    while (j + 1 < N && bits[j + 1]) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(i) + (j > i ? "-" + std::to_string(j) : "");
    i = j;
  }
  return out;
}

// "minutes | hours | days | months | weekdays", and a '*' for the day fields
// that count as unrestricted in the day-of-month/day-of-week rule.
std::string Fields(const CronExpr& c) {
  return Values(c.minutes()) + " | " + Values(c.hours()) + " | " + Values(c.days_of_month()) +
         (c.any_day_of_month() ? "*" : "") + " | " + Values(c.months()) + " | " + Values(c.days_of_week()) +
         (c.any_day_of_week() ? "*" : "");
}

TEST_CASE("every cron syntax form parses to the values it names", "[schedule]") {
  struct Row {
    const char* text;
    const char* fields;
  };
  const Row rows[] = {
      {"* * * * *", "0-59 | 0-23 | 1-31* | 1-12 | 0-6*"},
      {"1,5 * * * *", "1,5 | 0-23 | 1-31* | 1-12 | 0-6*"},
      {"1-5 * * * *", "1-5 | 0-23 | 1-31* | 1-12 | 0-6*"},
      {"*/15 * * * *", "0,15,30,45 | 0-23 | 1-31* | 1-12 | 0-6*"},
      {"10-50/10 * * * *", "10,20,30,40,50 | 0-23 | 1-31* | 1-12 | 0-6*"},
      {"0-59/30 */6 * * *", "0,30 | 0,6,12,18 | 1-31* | 1-12 | 0-6*"},
      {"1,10-12,*/20 3 * * *", "0-1,10-12,20,40 | 3 | 1-31* | 1-12 | 0-6*"},
      {"0 0 */10 * *", "0 | 0 | 1,11,21,31* | 1-12 | 0-6*"},
      {"0 0 1,15 * *", "0 | 0 | 1,15 | 1-12 | 0-6*"},
      {"0 0 1 JAN,jul *", "0 | 0 | 1 | 1,7 | 0-6*"},
      {"0 0 1 Mar-May *", "0 | 0 | 1 | 3-5 | 0-6*"},
      {"0 0 1 1-12/3 *", "0 | 0 | 1 | 1,4,7,10 | 0-6*"},
      {"0 0 * * MON-FRI", "0 | 0 | 1-31* | 1-12 | 1-5"},
      {"0 0 * * sun", "0 | 0 | 1-31* | 1-12 | 0"},
      {"0 0 * * 7", "0 | 0 | 1-31* | 1-12 | 0"},
      {"0 0 * * 0,7", "0 | 0 | 1-31* | 1-12 | 0"},
      {"0 0 * * 5-7", "0 | 0 | 1-31* | 1-12 | 0,5-6"},
      {"0 0 * * FRI-SUN", "0 | 0 | 1-31* | 1-12 | 0,5-6"},
      {"0 0 * * 0-7", "0 | 0 | 1-31* | 1-12 | 0-6"},
      {"0 0 * * */2", "0 | 0 | 1-31* | 1-12 | 0,2,4,6*"},
      {"0 0 * * SUN-SAT/2", "0 | 0 | 1-31* | 1-12 | 0,2,4,6"},
      {"0 0 1 * MON", "0 | 0 | 1 | 1-12 | 1"},
      {"0 0 */2 * MON", "0 | 0 | 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31* | 1-12 | 1"},
      {"  0\t3  * *   *  ", "0 | 3 | 1-31* | 1-12 | 0-6*"},
      {"@hourly", "0 | 0-23 | 1-31* | 1-12 | 0-6*"},
      {"@daily", "0 | 0 | 1-31* | 1-12 | 0-6*"},
      {"@midnight", "0 | 0 | 1-31* | 1-12 | 0-6*"},
      {"@weekly", "0 | 0 | 1-31* | 1-12 | 0"},
      {"@monthly", "0 | 0 | 1 | 1-12 | 0-6*"},
      {"@yearly", "0 | 0 | 1 | 1 | 0-6*"},
      {"@annually", "0 | 0 | 1 | 1 | 0-6*"},
      {"@DAILY", "0 | 0 | 1-31* | 1-12 | 0-6*"},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    Result<CronExpr> cron = ParseCron(row.text);
    REQUIRE(cron);
    CHECK(Fields(cron.value()) == row.fields);
    CHECK(cron.value().text() == row.text);  // as written, shortcuts too
  }
}

TEST_CASE("every cron error names the field and the bad token", "[schedule]") {
  struct Row {
    const char* text;
    const char* error;
  };
  const Row rows[] = {
      {"", R"(cron "": empty: expected 5 fields (minute hour day-of-month month day-of-week) or @daily etc.)"},
      {"0 3 * *", R"(cron "0 3 * *": expected 5 fields (minute hour day-of-month month day-of-week), got 4)"},
      {"0 3 * * * *", R"(cron "0 3 * * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 6)"},
      {"0 3 * * TUX", R"(cron "0 3 * * TUX": day-of-week: unknown name "TUX" (use SUN-SAT or 0-7))"},
      {"0 3 * FOO *", R"(cron "0 3 * FOO *": month: unknown name "FOO" (use JAN-DEC or 1-12))"},
      {"0 3 * MON *", R"(cron "0 3 * MON *": month: unknown name "MON" (use JAN-DEC or 1-12))"},
      {"0 3 * * MONDAY", R"(cron "0 3 * * MONDAY": day-of-week: unknown name "MONDAY" (use SUN-SAT or 0-7))"},
      {"60 * * * *", R"(cron "60 * * * *": minute: "60" is out of range 0-59)"},
      {"99999999999 * * * *", R"(cron "99999999999 * * * *": minute: "99999999999" is out of range 0-59)"},
      {"* 24 * * *", R"(cron "* 24 * * *": hour: "24" is out of range 0-23)"},
      {"* * 0 * *", R"(cron "* * 0 * *": day-of-month: "0" is out of range 1-31)"},
      {"* * 32 * *", R"(cron "* * 32 * *": day-of-month: "32" is out of range 1-31)"},
      {"* * * 13 *", R"(cron "* * * 13 *": month: "13" is out of range 1-12)"},
      {"* * * * 8", R"(cron "* * * * 8": day-of-week: "8" is out of range 0-7)"},
      {"x * * * *", R"(cron "x * * * *": minute: "x" is not a number 0-59)"},
      {"5x * * * *", R"(cron "5x * * * *": minute: "5x" is not a number 0-59)"},
      {"*5 * * * *", R"(cron "*5 * * * *": minute: "*5" is not a number 0-59)"},
      {"0 JAN * * *", R"(cron "0 JAN * * *": hour: "JAN" is not a number 0-23)"},
      {"5-1 * * * *", R"(cron "5-1 * * * *": minute: range "5-1" is backwards (write the smaller value first))"},
      {"0 0 * * SAT-MON", R"(cron "0 0 * * SAT-MON": day-of-week: range "SAT-MON" is backwards (write the smaller value first))"},
      {"1-2-3 * * * *", R"(cron "1-2-3 * * * *": minute: bad range "1-2-3")"},
      {"-5 * * * *", R"(cron "-5 * * * *": minute: missing value in "-5")"},
      {"5- * * * *", R"(cron "5- * * * *": minute: missing value in "5-")"},
      {"*/0 * * * *", R"(cron "*/0 * * * *": minute: step "0" in "*/0" must be a number 1-59)"},
      {"*/60 * * * *", R"(cron "*/60 * * * *": minute: step "60" in "*/60" must be a number 1-59)"},
      {"*/x * * * *", R"(cron "*/x * * * *": minute: step "x" in "*/x" must be a number 1-59)"},
      {"*/ * * * *", R"(cron "*/ * * * *": minute: step "" in "*/" must be a number 1-59)"},
      {"0 0 * * */8", R"(cron "0 0 * * */8": day-of-week: step "8" in "*/8" must be a number 1-7)"},
      {"*/5/2 * * * *", R"(cron "*/5/2 * * * *": minute: bad step in "*/5/2")"},
      {"5/15 * * * *", R"(cron "5/15 * * * *": minute: "5/15": a step needs a range, e.g. "5-59/15")"},
      {"1,,2 * * * *", R"(cron "1,,2 * * * *": minute: empty list item in "1,,2")"},
      {"1, * * * *", R"(cron "1, * * * *": minute: empty list item in "1,")"},
      {",1 * * * *", R"(cron ",1 * * * *": minute: empty list item in ",1")"},
      {"@reboot", R"(cron "@reboot": unknown shortcut "@reboot" (use @hourly, @daily, @weekly, @monthly, @yearly or @annually))"},
      {"@daily 5", R"(cron "@daily 5": @daily stands alone, got "5" after it)"},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    Result<CronExpr> cron = ParseCron(row.text);
    REQUIRE_FALSE(cron);
    CHECK(cron.error().message == row.error);
  }
}

TEST_CASE("time zones load by tz database name and nothing else", "[schedule]") {
  CHECK(TimeZone().name() == "UTC");
  CHECK(Zone("UTC").name() == "UTC");
  CHECK(Zone("Europe/Berlin").name() == "Europe/Berlin");
  CHECK(Zone("America/New_York").name() == "America/New_York");
  for (const char* bad : {"Mars/Olympus", "", "Europe", "Europe/", "/usr/share/zoneinfo/UTC", "../zoneinfo/UTC",
                          "localtime", "Europe/Berlin "}) {
    INFO(bad);
    Result<TimeZone> tz = LoadTimeZone(bad);
    REQUIRE_FALSE(tz);
    CHECK(tz.error().message == "time zone \"" + std::string(bad) +
                                    "\" is not in the tz database (/usr/share/zoneinfo): use a name like "
                                    "\"Europe/Berlin\" or \"UTC\"");
  }
}

struct FiringRow {
  const char* cron;
  const char* zone;
  const char* at;
  const char* expect;  // UTC, or "never"
};

TEST_CASE("NextFiring is the first firing strictly after the instant", "[schedule]") {
  const FiringRow rows[] = {
      {"*/15 * * * *", "UTC", "2024-01-01 00:00", "2024-01-01 00:15"},
      {"*/15 * * * *", "UTC", "2024-01-01 00:07:30", "2024-01-01 00:15"},
      {"*/15 * * * *", "UTC", "2024-01-01 00:14:59", "2024-01-01 00:15"},
      {"0 0 * * *", "UTC", "2024-01-01 23:59:59", "2024-01-02 00:00"},
      // month and year ends
      {"0 3 * * *", "UTC", "2024-01-31 03:00", "2024-02-01 03:00"},
      {"0 0 1 * *", "UTC", "2024-01-31 12:00", "2024-02-01 00:00"},
      {"0 0 31 * *", "UTC", "2024-04-15 00:00", "2024-05-31 00:00"},
      {"59 23 31 12 *", "UTC", "2024-06-01 00:00", "2024-12-31 23:59"},
      {"@yearly", "UTC", "2024-12-31 23:59:59", "2025-01-01 00:00"},
      {"0 12 * JAN,JUL *", "UTC", "2024-02-01 00:00", "2024-07-01 12:00"},
      // Feb 29 only in leap years (2100 is not one)
      {"0 0 29 2 *", "UTC", "2023-01-01 00:00", "2024-02-29 00:00"},
      {"0 0 29 2 *", "UTC", "2024-03-01 00:00", "2028-02-29 00:00"},
      {"0 0 29 2 *", "UTC", "2096-03-01 00:00", "2104-02-29 00:00"},
      {"0 0 31 2 *", "UTC", "2024-01-01 00:00", "never"},
      {"0 0 30 2 *", "UTC", "2024-01-01 00:00", "never"},
      // both day fields restricted: either matches (2024-04-01 is a Monday)
      {"0 0 1 * MON", "UTC", "2024-04-01 00:00", "2024-04-08 00:00"},
      {"0 0 1 * MON", "UTC", "2024-04-29 00:00", "2024-05-01 00:00"},
      {"0 0 13 * FRI", "UTC", "2024-09-01 00:00", "2024-09-06 00:00"},
      {"0 0 13 * FRI", "UTC", "2024-09-06 00:00", "2024-09-13 00:00"},
      // one starts with '*': both must match (an odd day that is a Monday)
      {"0 0 */2 * MON", "UTC", "2024-04-01 00:00", "2024-04-15 00:00"},
      {"0 0 * * MON", "UTC", "2024-04-01 00:00", "2024-04-08 00:00"},
      {"@weekly", "UTC", "2024-04-01 00:00", "2024-04-07 00:00"},
      {"30 4 * * 7", "UTC", "2024-04-01 00:00", "2024-04-07 04:30"},
      // local time: Berlin is UTC+1 in winter, UTC+2 in summer
      {"0 3 * * TUE", "Europe/Berlin", "2024-03-20 00:00", "2024-03-26 02:00"},
      {"0 3 * * TUE", "Europe/Berlin", "2024-03-26 02:00", "2024-04-02 01:00"},
      {"0 3 * * TUE", "Europe/Berlin", "2024-10-22 00:00", "2024-10-22 01:00"},
      {"0 3 * * TUE", "Europe/Berlin", "2024-10-22 01:00", "2024-10-29 02:00"},
      // spring forward: 02:00-02:59 does not exist, fires at 03:00 local
      {"30 2 * * *", "Europe/Berlin", "2024-03-30 12:00", "2024-03-31 01:00"},
      {"30 2 * * *", "Europe/Berlin", "2024-03-31 01:00", "2024-04-01 00:30"},
      {"*/15 * * * *", "Europe/Berlin", "2024-03-31 00:59", "2024-03-31 01:00"},
      {"*/15 * * * *", "Europe/Berlin", "2024-03-31 01:00", "2024-03-31 01:15"},
      {"30 2 * * *", "America/New_York", "2024-03-09 12:00", "2024-03-10 07:00"},
      {"30 2 * * *", "America/New_York", "2024-03-10 07:00", "2024-03-11 06:30"},
      // fall back: 01:00-01:59 (New York), 02:00-02:59 (Berlin) happen twice, fire once
      {"30 1 * * *", "America/New_York", "2024-11-02 12:00", "2024-11-03 05:30"},
      {"30 1 * * *", "America/New_York", "2024-11-03 05:30", "2024-11-04 06:30"},
      {"30 1 * * *", "America/New_York", "2024-11-03 06:10", "2024-11-04 06:30"},
      {"0 * * * *", "America/New_York", "2024-11-03 05:00", "2024-11-03 07:00"},
      {"30 2 * * *", "Europe/Berlin", "2024-10-26 12:00", "2024-10-27 00:30"},
      {"30 2 * * *", "Europe/Berlin", "2024-10-27 00:30", "2024-10-28 01:30"},
  };
  for (const FiringRow& row : rows) {
    INFO(row.cron << " in " << row.zone << " after " << row.at);
    CHECK(Utc(NextFiring(Cron(row.cron), Zone(row.zone), Utc(row.at))) == row.expect);
  }
}

TEST_CASE("LastFiring is the last firing at or before the instant", "[schedule]") {
  const FiringRow rows[] = {
      {"0 3 * * *", "UTC", "2024-02-01 03:00", "2024-02-01 03:00"},
      {"0 3 * * *", "UTC", "2024-02-01 02:59:59", "2024-01-31 03:00"},
      {"0 0 1 * *", "UTC", "2024-03-01 00:00", "2024-03-01 00:00"},
      {"0 0 31 * *", "UTC", "2024-05-01 00:00", "2024-03-31 00:00"},
      {"0 0 29 2 *", "UTC", "2027-01-01 00:00", "2024-02-29 00:00"},
      {"0 0 31 2 *", "UTC", "2024-01-01 00:00", "never"},
      {"0 0 1 * MON", "UTC", "2024-05-06 00:00", "2024-05-06 00:00"},
      {"0 0 1 * MON", "UTC", "2024-05-05 00:00", "2024-05-01 00:00"},
      {"0 3 * * TUE", "Europe/Berlin", "2024-04-01 00:00", "2024-03-26 02:00"},
      {"30 2 * * *", "Europe/Berlin", "2024-03-31 01:00", "2024-03-31 01:00"},
      {"30 2 * * *", "Europe/Berlin", "2024-03-31 00:59", "2024-03-30 01:30"},
      {"0 * * * *", "America/New_York", "2024-11-03 06:30", "2024-11-03 05:00"},
      {"0 * * * *", "America/New_York", "2024-11-03 07:00", "2024-11-03 07:00"},
      {"30 1 * * *", "America/New_York", "2024-11-03 06:45", "2024-11-03 05:30"},
      {"30 1 * * *", "America/New_York", "2024-11-03 06:10", "2024-11-03 05:30"},  // 01:10 EST, after 01:30 EDT
  };
  for (const FiringRow& row : rows) {
    INFO(row.cron << " in " << row.zone << " at " << row.at);
    CHECK(Utc(LastFiring(Cron(row.cron), Zone(row.zone), Utc(row.at))) == row.expect);
  }
}

TEST_CASE("a local time repeated by the fall-back change fires once that day", "[schedule]") {
  // given 01:30 daily in New York, from Nov 2 to Nov 5 2024 (01:30 EDT, then EST)
  const CronExpr cron = Cron("30 1 * * *");
  const TimeZone tz = Zone("America/New_York");
  std::vector<std::string> firings;
  for (auto t = NextFiring(cron, tz, Utc("2024-11-02 00:00")); t && *t < Utc("2024-11-05 00:00");
       t = NextFiring(cron, tz, *t)) {
    firings.push_back(Utc(*t));
  }
  // expect one firing a day, the fall-back day's at the first 01:30 (EDT)
  CHECK(firings == std::vector<std::string>{"2024-11-02 05:30", "2024-11-03 05:30", "2024-11-04 06:30"});
}

TEST_CASE("NextFiring and LastFiring agree around DST changes", "[schedule]") {
  // For every instant t (every 7 minutes over the change weeks): n = next
  // firing, l = last firing; l <= t < n, both are firings, none in between.
  const char* crons[] = {"*/15 * * * *", "0 * * * *", "30 2 * * *", "30 1 * * *", "0 3 * * TUE", "0 0 1 * MON"};
  const char* zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"};
  const char* starts[] = {"2024-03-07 00:00", "2024-03-28 00:00", "2024-10-24 00:00", "2024-10-31 00:00",
                          "2024-04-04 00:00", "2024-10-03 00:00"};
  for (const char* text : crons) {
    const CronExpr cron = Cron(text);
    for (const char* zone : zones) {
      const TimeZone tz = Zone(zone);
      for (const char* start : starts) {
        for (SysSeconds t = Utc(start); t < Utc(start) + std::chrono::days(5); t += 7min) {
          auto next = NextFiring(cron, tz, t);
          auto last = LastFiring(cron, tz, t);
          INFO(text << " in " << zone << " at " << Utc(t));
          REQUIRE(next);
          REQUIRE(last);
          CHECK(*last <= t);
          CHECK(*next > t);
          CHECK(LastFiring(cron, tz, *next) == next);
          CHECK(LastFiring(cron, tz, *next - 1s) == last);
          CHECK(NextFiring(cron, tz, *last) == next);
        }
      }
    }
  }
}

TEST_CASE("a schedule's window contains its open and not its close", "[schedule]") {
  // given "0 3 * * TUE" in Berlin with a 3h window: Tue 2024-04-02 03:00 CEST
  const Schedule schedule{Cron("0 3 * * TUE"), Zone("Europe/Berlin"), 3h};
  struct Row {
    const char* now;
    const char* inside;  // WindowAt: "open - close", or "none"
    const char* next;    // NextWindow
  };
  const Row rows[] = {
      {"2024-04-02 00:59:59", "none", "2024-04-02 01:00 - 2024-04-02 04:00"},
      {"2024-04-02 01:00", "2024-04-02 01:00 - 2024-04-02 04:00", "2024-04-09 01:00 - 2024-04-09 04:00"},
      {"2024-04-02 02:30", "2024-04-02 01:00 - 2024-04-02 04:00", "2024-04-09 01:00 - 2024-04-09 04:00"},
      {"2024-04-02 03:59:59", "2024-04-02 01:00 - 2024-04-02 04:00", "2024-04-09 01:00 - 2024-04-09 04:00"},
      {"2024-04-02 04:00", "none", "2024-04-09 01:00 - 2024-04-09 04:00"},
      {"2024-04-03 10:00", "none", "2024-04-09 01:00 - 2024-04-09 04:00"},  // a Wednesday
      // the window is 3 real hours, also on the fall-back day
      {"2024-10-29 00:00", "none", "2024-10-29 02:00 - 2024-10-29 05:00"},
  };
  auto text = [](const std::optional<Window>& w) { return w ? Utc(w->open) + " - " + Utc(w->close) : "none"; };
  for (const Row& row : rows) {
    INFO("now " << row.now);
    CHECK(text(WindowAt(schedule, Utc(row.now))) == row.inside);
    CHECK(text(NextWindow(schedule, Utc(row.now))) == row.next);
  }
}

TEST_CASE("overlapping windows: WindowAt is the one of the latest firing", "[schedule]") {
  // given hourly firings with a 90-minute window: at 10:15 the 09:00 and the
  // 10:00 windows both contain now
  const Schedule schedule{Cron("0 * * * *"), TimeZone(), 90min};
  const SysSeconds now = Utc("2024-05-01 10:15");
  // expect the 10:00 one (latest open, latest close), not merged
  CHECK(WindowAt(schedule, now) == Window{Utc("2024-05-01 10:00"), Utc("2024-05-01 11:30")});
  CHECK(NextWindow(schedule, now) == Window{Utc("2024-05-01 11:00"), Utc("2024-05-01 12:30")});
}

TEST_CASE("a window of zero contains no instant", "[schedule]") {
  const Schedule schedule{Cron("0 3 * * *"), TimeZone(), 0s};
  CHECK_FALSE(WindowAt(schedule, Utc("2024-05-01 03:00")));
  CHECK(NextWindow(schedule, Utc("2024-05-01 03:00")) == Window{Utc("2024-05-02 03:00"), Utc("2024-05-02 03:00")});
}

TEST_CASE("a cron that never fires and a default CronExpr give nullopt", "[schedule]") {
  const Schedule never{Cron("0 0 31 2 *"), TimeZone(), 1h};
  CHECK_FALSE(WindowAt(never, Utc("2024-05-01 03:00")));
  CHECK_FALSE(NextWindow(never, Utc("2024-05-01 03:00")));
  CHECK_FALSE(NextFiring(CronExpr(), TimeZone(), Utc("2024-05-01 03:00")));
  CHECK_FALSE(LastFiring(CronExpr(), TimeZone(), Utc("2024-05-01 03:00")));
}

}  // namespace
}  // namespace caretaker
