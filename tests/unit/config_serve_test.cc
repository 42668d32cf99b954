// What `caretaker serve` reads from the configuration: [serve], each pool's
// [pools.schedule] and on_maint_expiry (in [defaults] and in [[pools]]).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "tests/unit/config_fixture.h"

namespace caretaker {

using namespace config_testing;

namespace {

// Two tasks, restart and upgrade, each with one step (8 lines).
const std::string kTasks =
    "[[tasks]]\nname = \"restart\"\n[[tasks.steps]]\ncommand = \"true\"\n"
    "[[tasks]]\nname = \"upgrade\"\n[[tasks.steps]]\ncommand = \"true\"\n";
// The keys of a valid schedule, one per line; values at columns 8, 8, 12, 10.
const std::string kTask = "task = \"upgrade\"\n";
const std::string kCron = "cron = \"0 3 * * TUE\"\n";
const std::string kZone = "timezone = \"Europe/Berlin\"\n";
const std::string kWindow = "window = \"3h\"\n";

// kValid (lines 1-8), its pool's [pools.schedule] on line 9 with `lines` from
// line 10, then kTasks.
std::string WithSchedule(const std::string& lines) { return kValid + "[pools.schedule]\n" + lines + kTasks; }

// The pool "p" of a document that must load.
PoolConfig PoolOf(const std::string& toml) {
  auto loaded = ParseConfig(toml, "ok.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  REQUIRE(loaded.value().FindPool("p") != nullptr);
  return *loaded.value().FindPool("p");
}

SysSeconds Utc(int y, unsigned mo, unsigned d, int h, int mi) {
  return std::chrono::sys_days{std::chrono::year{y} / mo / d} + std::chrono::hours(h) + std::chrono::minutes(mi);
}

}  // namespace

TEST_CASE("without [serve], [pools.schedule] or on_maint_expiry, the defaults apply", "[config]") {
  auto loaded = ParseConfig(kValid, "min.toml");
  REQUIRE(loaded);
  CHECK(loaded.value().serve.max_concurrent_jobs == 4);
  const PoolConfig& p = loaded.value().pools[0];
  CHECK_FALSE(p.schedule.has_value());
  CHECK(p.on_maint_expiry == MaintExpiry::kReport);
  CHECK(MaintExpiryName(MaintExpiry::kReport) == std::string("report"));
  CHECK(MaintExpiryName(MaintExpiry::kRestore) == std::string("restore"));
}

TEST_CASE("a [pools.schedule] table sets its task, cron, time zone and window", "[config]") {
  const PoolConfig p = PoolOf(WithSchedule(kTask + kCron + kZone + kWindow));
  REQUIRE(p.schedule.has_value());
  const ScheduleConfig& s = *p.schedule;
  CHECK(s.task == "upgrade");
  CHECK(s.schedule.cron.text() == "0 3 * * TUE");
  CHECK(s.schedule.cron.minutes().count() == 1);
  CHECK(s.schedule.cron.minutes()[0]);
  CHECK(s.schedule.cron.hours().count() == 1);
  CHECK(s.schedule.cron.hours()[3]);
  CHECK(s.schedule.cron.days_of_week().count() == 1);
  CHECK(s.schedule.cron.days_of_week()[2]);  // Tuesday
  CHECK(s.schedule.tz.name() == "Europe/Berlin");
  CHECK(s.schedule.window == std::chrono::hours(3));
  CHECK(s.line == 9);  // its [pools.schedule] header
  CHECK(s.column == 1);
  // The windows it opens: Tuesdays 03:00-06:00 in Berlin (UTC+1 in January).
  auto window = NextWindow(s.schedule, Utc(2024, 1, 1, 0, 0));
  REQUIRE(window.has_value());
  CHECK(window->open == Utc(2024, 1, 2, 2, 0));
  CHECK(window->close == Utc(2024, 1, 2, 5, 0));
}

TEST_CASE("a schedule's time zone defaults to UTC, and it may be an inline table", "[config]") {
  const PoolConfig p = PoolOf(WithSchedule(kTask + kCron + kWindow));
  REQUIRE(p.schedule.has_value());
  CHECK(p.schedule->schedule.tz.name() == "UTC");
  // given: schedule = { ... } on line 6, the value at column 12; expect: its position.
  const PoolConfig inline_table = PoolOf(kLb + kPool + "schedule = { task = \"restart\", cron = \"@daily\", " +
                                         "window = \"168h\" }\n" + kMember + kTasks);
  REQUIRE(inline_table.schedule.has_value());
  CHECK(inline_table.schedule->task == "restart");
  CHECK(inline_table.schedule->schedule.window == std::chrono::days(7));
  CHECK(inline_table.schedule->line == 6);
  CHECK(inline_table.schedule->column == 12);
}

TEST_CASE("a schedule's window is whole seconds, greater than zero, at most 7 days", "[config]") {
  // given: window = `text`; expect: it loads as `window`.
  struct Case {
    std::string text;
    std::chrono::seconds window;
  };
  const std::vector<Case> cases = {
      {"1s", std::chrono::seconds(1)},        {"90m", std::chrono::minutes(90)},
      {"2000ms", std::chrono::seconds(2)},    {"7d", std::chrono::days(7)},
      {"604800s", std::chrono::days(7)},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const PoolConfig p = PoolOf(WithSchedule(kTask + kCron + "window = \"" + c.text + "\"\n"));
    REQUIRE(p.schedule.has_value());
    CHECK(p.schedule->schedule.window == c.window);
  }
}

TEST_CASE("on_maint_expiry comes from [defaults], a pool's own overrides it", "[config]") {
  const std::string defaults_restore = "[defaults]\non_maint_expiry = \"restore\"\n";
  CHECK(PoolOf(defaults_restore + kValid).on_maint_expiry == MaintExpiry::kRestore);
  CHECK(PoolOf(kLb + kPool + "on_maint_expiry = \"restore\"\n" + kMember).on_maint_expiry == MaintExpiry::kRestore);
  CHECK(PoolOf(defaults_restore + kLb + kPool + "on_maint_expiry = \"report\"\n" + kMember).on_maint_expiry ==
        MaintExpiry::kReport);
  // given: two pools, only q sets its own; expect: p keeps [defaults]'.
  auto loaded = ParseConfig(defaults_restore + kValid + "[[pools]]\nname = \"q\"\non_maint_expiry = \"report\"\n" +
                                "[[pools.members]]\nserver = \"db1\"\nhost = \"h2\"\n",
                            "two.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  CHECK(loaded.value().FindPool("p")->on_maint_expiry == MaintExpiry::kRestore);
  CHECK(loaded.value().FindPool("q")->on_maint_expiry == MaintExpiry::kReport);
}

TEST_CASE("[serve] sets max_concurrent_jobs, 1-1000", "[config]") {
  for (int jobs : {1, 4, 17, 1000}) {
    INFO(jobs);
    auto loaded = ParseConfig("[serve]\nmax_concurrent_jobs = " + std::to_string(jobs) + "\n" + kValid, "s.toml");
    REQUIRE(loaded);
    CHECK(loaded.value().serve.max_concurrent_jobs == jobs);
  }
}

TEST_CASE("[serve], [pools.schedule], on_maint_expiry: each bad document gets one exact message", "[config]") {
  // given: a document with one mistake; expect: file:line:column: key.path: what.
  const std::string duration = "expected a duration like \"500ms\", \"5s\" or \"2m\", got ";
  const std::string two_pools = kValid + "[pools.schedule]\n" + kTask + kCron + kWindow +  // lines 9-12
                                "[[pools]]\nname = \"q\"\n[[pools.members]]\nserver = \"db1\"\nhost = \"h2\"\n" +
                                "[pools.schedule]\ntask = \"rollout\"\n" + kCron + kWindow + kTasks;  // 18-19
  const std::vector<BadConfig> cases = {
      // [pools.schedule]: required keys, in the order they are read.
      {WithSchedule(kCron + kWindow), "bad.toml:9:1: pools[0].schedule.task: missing (required)"},
      {WithSchedule(kTask + kWindow), "bad.toml:9:1: pools[0].schedule.cron: missing (required)"},
      {WithSchedule(kTask + kCron + kZone),
       "bad.toml:9:1: pools[0].schedule.window: missing (required): a duration like \"3h\""},
      {WithSchedule(""), "bad.toml:9:1: pools[0].schedule.task: missing (required)"},
      // task: a [[tasks]] name, checked once the tasks are read.
      {WithSchedule("task = \"nope\"\n" + kCron + kWindow),
       "bad.toml:10:8: pools[0].schedule.task: no [[tasks]] named \"nope\" (known: restart, upgrade)"},
      {kValid + "[pools.schedule]\n" + kTask + kCron + kWindow,
       "bad.toml:10:8: pools[0].schedule.task: no [[tasks]] named \"upgrade\" (the file defines no [[tasks]])"},
      {two_pools, "bad.toml:19:8: pools[1].schedule.task: no [[tasks]] named \"rollout\" (known: restart, upgrade)"},
      {WithSchedule("task = \"\"\n" + kCron + kWindow), "bad.toml:10:8: pools[0].schedule.task: must not be empty"},
      {WithSchedule("task = [\"upgrade\"]\n" + kCron + kWindow),
       "bad.toml:10:8: pools[0].schedule.task: expected a string, got an array"},
      // cron: ParseCron's message.
      {WithSchedule(kTask + "cron = \"0 3 * * TUX\"\n" + kWindow),
       "bad.toml:11:8: pools[0].schedule.cron: cron \"0 3 * * TUX\": day-of-week: unknown name \"TUX\" (use "
       "SUN-SAT or 0-7)"},
      {WithSchedule(kTask + "cron = \"0 3 * *\"\n" + kWindow),
       "bad.toml:11:8: pools[0].schedule.cron: cron \"0 3 * *\": expected 5 fields (minute hour day-of-month "
       "month day-of-week), got 4"},
      {WithSchedule(kTask + "cron = \"\"\n" + kWindow), "bad.toml:11:8: pools[0].schedule.cron: must not be empty"},
      {WithSchedule(kTask + "cron = 3\n" + kWindow),
       "bad.toml:11:8: pools[0].schedule.cron: expected a string, got an integer"},
      // timezone: LoadTimeZone's message.
      {WithSchedule(kTask + kCron + "timezone = \"Mars/Olympus\"\n" + kWindow),
       "bad.toml:12:12: pools[0].schedule.timezone: time zone \"Mars/Olympus\" is not in the tz database "
       "(/usr/share/zoneinfo): use a name like \"Europe/Berlin\" or \"UTC\""},
      {WithSchedule(kTask + kCron + "timezone = \"localtime\"\n" + kWindow),
       "bad.toml:12:12: pools[0].schedule.timezone: time zone \"localtime\" is not in the tz database "
       "(/usr/share/zoneinfo): use a name like \"Europe/Berlin\" or \"UTC\""},
      // window: a duration, whole seconds, in (0, 7d].
      {WithSchedule(kTask + kCron + "window = \"0s\"\n"),
       "bad.toml:12:10: pools[0].schedule.window: a window must be greater than zero, got \"0s\""},
      {WithSchedule(kTask + kCron + "window = \"-1h\"\n"),
       "bad.toml:12:10: pools[0].schedule.window: a window must be greater than zero, got \"-1h\""},
      {WithSchedule(kTask + kCron + "window = \"8d\"\n"),
       "bad.toml:12:10: pools[0].schedule.window: a window must be at most 7 days (\"7d\"), got \"8d\""},
      {WithSchedule(kTask + kCron + "window = \"604801s\"\n"),
       "bad.toml:12:10: pools[0].schedule.window: a window must be at most 7 days (\"7d\"), got \"604801s\""},
      {WithSchedule(kTask + kCron + "window = \"1500ms\"\n"),
       "bad.toml:12:10: pools[0].schedule.window: a window is whole seconds, got \"1500ms\""},
      {WithSchedule(kTask + kCron + "window = \"3 hours\"\n"),
       "bad.toml:12:10: pools[0].schedule.window: " + duration + "\"3 hours\""},
      {WithSchedule(kTask + kCron + "window = 3\n"), "bad.toml:12:10: pools[0].schedule.window: " + duration + "3"},
      // Unknown keys and wrong types of tables.
      {WithSchedule(kTask + kCron + "windw = \"3h\"\n"),
       "bad.toml:12:1: pools[0].schedule.windw: unknown key (did you mean \"window\"?)"},
      {WithSchedule(kTask + kCron + kWindow + "enabled = true\n"),
       "bad.toml:13:1: pools[0].schedule.enabled: unknown key (allowed: task, cron, timezone, window)"},
      {kLb + kPool + "schedule = \"0 3 * * TUE\"\n" + kMember,
       "bad.toml:6:12: pools[0].schedule: expected a table ([schedule]), got a string"},
      {"[defaults.schedule]\n" + kTask + kCron + kWindow + kValid,
       "bad.toml:1:11: defaults.schedule: unknown key (allowed: haproxy_connect_timeout, haproxy_reply_timeout, "
       "haproxy_unresponsive_deadline, min_in_service, max_out, count_unhealthy_as_out, drain, gates, on_maint_expiry)"},
      // [serve].
      {"[serve]\nmax_concurrent_jobs = 0\n" + kValid,
       "bad.toml:2:23: serve.max_concurrent_jobs: expected an integer 1-1000, got 0"},
      {"[serve]\nmax_concurrent_jobs = 1001\n" + kValid,
       "bad.toml:2:23: serve.max_concurrent_jobs: expected an integer 1-1000, got 1001"},
      {"[serve]\nmax_concurrent_jobs = -4\n" + kValid,
       "bad.toml:2:23: serve.max_concurrent_jobs: expected an integer 1-1000, got -4"},
      {"[serve]\nmax_concurrent_jobs = \"4\"\n" + kValid,
       "bad.toml:2:23: serve.max_concurrent_jobs: expected an integer 1-1000, got \"4\""},
      {"[serve]\nmax_concurent_jobs = 4\n" + kValid,
       "bad.toml:2:1: serve.max_concurent_jobs: unknown key (did you mean \"max_concurrent_jobs\"?)"},
      {"[serve]\nlisten = \"127.0.0.1:8080\"\n" + kValid,
       "bad.toml:2:1: serve.listen: unknown key (allowed: max_concurrent_jobs)"},
      {"serve = 4\n" + kValid, "bad.toml:1:9: serve: expected a table ([serve]), got an integer"},
      {"[srve]\n" + kValid, "bad.toml:1:2: srve: unknown key (did you mean \"serve\"?)"},
      // on_maint_expiry: "report" or "restore", as on_timeout's wording.
      {"[defaults]\non_maint_expiry = \"ignore\"\n" + kValid,
       "bad.toml:2:19: defaults.on_maint_expiry: expected \"report\" or \"restore\", got \"ignore\""},
      {"[defaults]\non_maint_expiry = \"Restore\"\n" + kValid,
       "bad.toml:2:19: defaults.on_maint_expiry: expected \"report\" or \"restore\", got \"Restore\""},
      {kLb + kPool + "on_maint_expiry = \"stop\"\n" + kMember,
       "bad.toml:6:19: pools[0].on_maint_expiry: expected \"report\" or \"restore\", got \"stop\""},
      {kLb + kPool + "on_maint_expiry = true\n" + kMember,
       "bad.toml:6:19: pools[0].on_maint_expiry: expected a string, got a boolean"},
      {kLb + kPool + "on_maint_expiry = \"\"\n" + kMember, "bad.toml:6:19: pools[0].on_maint_expiry: must not be empty"},
      {kLb + kPool + "on_maint_expiri = \"report\"\n" + kMember,
       "bad.toml:6:1: pools[0].on_maint_expiri: unknown key (did you mean \"on_maint_expiry\"?)"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK(ErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("the shipped example configuration documents [serve], on_maint_expiry and a schedule", "[config]") {
  const std::string path = std::string(CARETAKER_SOURCE_DIR) + "/conf/caretaker.example.toml";
  auto loaded = LoadConfig(path);
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  CHECK(loaded.value().serve.max_concurrent_jobs == 4);
  for (const PoolConfig& p : loaded.value().pools) {
    CHECK(p.on_maint_expiry == MaintExpiry::kReport);
    CHECK_FALSE(p.schedule.has_value());  // commented out: serve walks nothing unless told
  }
  // given: the example's commented-out [pools.schedule] block, uncommented
  // (from its header to the next blank line); expect: it loads as shown.
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  std::string toml = text.str();
  const std::string header = "  # [pools.schedule]\n";
  size_t at = toml.find(header);
  REQUIRE(at != std::string::npos);
  for (size_t line = at; line < toml.size() && toml[line] != '\n'; line = toml.find('\n', line) + 1) {
    REQUIRE(toml.compare(line, 4, "  # ") == 0);
    toml.erase(line + 2, 2);
  }
  auto uncommented = ParseConfig(toml, path);
  INFO((uncommented ? std::string() : uncommented.error().message));
  REQUIRE(uncommented);
  const PoolConfig* eu = uncommented.value().FindPool("replicas-eu");
  REQUIRE(eu != nullptr);
  REQUIRE(eu->schedule.has_value());
  CHECK(eu->schedule->task == "upgrade");
  CHECK(eu->schedule->schedule.cron.text() == "0 3 * * TUE");
  CHECK(eu->schedule->schedule.tz.name() == "Europe/Berlin");
  CHECK(eu->schedule->schedule.window == std::chrono::hours(3));
}

}  // namespace caretaker
