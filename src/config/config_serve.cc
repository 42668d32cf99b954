// What `caretaker serve` reads: the [serve] table, each pool's
// [pools.schedule] (when serve walks the pool on its own) and on_maint_expiry
// (what it does with a maintenance record past its end).
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "src/config/config_reader.h"
#include "src/config/schedule.h"

namespace caretaker {

const char* MaintExpiryName(MaintExpiry action) {
  return action == MaintExpiry::kRestore ? "restore" : "report";
}

namespace config_detail {
namespace {

constexpr int64_t kMaxConcurrentJobs = 1000;
// Longer windows are a mistake, not a schedule: a weekly firing with a
// window of a week already never closes.
constexpr Millis kMaxWindow{std::chrono::days(7)};
constexpr std::string_view kDefaultTimeZone = "UTC";

// `window`: required, a duration of whole seconds in (0, 7d].
std::chrono::seconds ReadWindow(TableReader& t) {
  const toml::node* node = t.table().get("window");
  if (!node) {
    t.Fail(nullptr, "window", "missing (required): a duration like \"3h\"");
    return std::chrono::seconds(0);
  }
  std::optional<Millis> d = t.Duration("window");
  if (!d) return std::chrono::seconds(0);
  std::string what;
  if (d->count() <= 0) {
    what = "a window must be greater than zero, got " + ShowValue(*node);
  } else if (*d > kMaxWindow) {
    what = "a window must be at most 7 days (\"7d\"), got " + ShowValue(*node);
  } else if (d->count() % 1000 != 0) {
    what = "a window is whole seconds, got " + ShowValue(*node);
  }
  if (!what.empty()) {
    t.Fail(node, "window", what);
    return std::chrono::seconds(0);
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

// `cron`: required; ParseCron's message when it does not parse.
CronExpr ReadCron(TableReader& t) {
  std::string text = t.String("cron", std::nullopt);
  if (text.empty()) return CronExpr();
  auto cron = ParseCron(text);
  if (!cron) {
    t.Fail(t.table().get("cron"), "cron", cron.error().message);
    return CronExpr();
  }
  return cron.value();
}

// `timezone`: an IANA name, UTC by default; LoadTimeZone's message when it
// is not in the tz database.
TimeZone ReadTimeZone(TableReader& t) {
  std::string name = t.String("timezone", std::string(kDefaultTimeZone));
  if (!t.sink().ok()) return TimeZone();
  auto tz = LoadTimeZone(name);
  if (!tz) {
    t.Fail(t.table().get("timezone"), "timezone", tz.error().message);
    return TimeZone();
  }
  return tz.value();
}

std::string TaskNames(const std::vector<TaskConfig>& tasks) {
  std::string out;
  for (const TaskConfig& task : tasks) out += (out.empty() ? "" : ", ") + task.name;
  return out;
}

}  // namespace

ServeConfig ReadServe(TableReader& root) {
  ServeConfig serve;
  const toml::table* table = root.SubTable("serve");
  if (!table) return serve;
  TableReader t(root.sink(), *table, "serve");
  t.CheckKeys({"max_concurrent_jobs"});
  serve.max_concurrent_jobs =
      static_cast<int>(t.Int("max_concurrent_jobs", serve.max_concurrent_jobs, 1, kMaxConcurrentJobs));
  return serve;
}

std::optional<ScheduleConfig> ReadSchedule(TableReader& pool) {
  const toml::table* table = pool.SubTable("schedule");
  if (!table) return std::nullopt;
  TableReader t(pool.sink(), *table, pool.PathOf("schedule"));
  t.CheckKeys({"task", "cron", "timezone", "window"});
  ScheduleConfig s;
  s.task = t.String("task", std::nullopt);
  s.schedule.cron = ReadCron(t);
  s.schedule.tz = ReadTimeZone(t);
  s.schedule.window = ReadWindow(t);
  s.line = table->source().begin.line;
  s.column = table->source().begin.column;
  return s;
}

void CheckScheduleTasks(TableReader& root, const std::vector<PoolConfig>& pools,
                        const std::vector<TaskConfig>& tasks) {
  for (size_t i = 0; i < pools.size(); ++i) {
    if (!pools[i].schedule) continue;
    const std::string& name = pools[i].schedule->task;
    bool known = false;
    for (const TaskConfig& task : tasks) known = known || task.name == name;
    if (known) continue;
    const toml::node* node = root.table()["pools"][i]["schedule"]["task"].node();
    std::string what = "no [[tasks]] named " + Quote(name) +
                       (tasks.empty() ? std::string(" (the file defines no [[tasks]])")
                                      : " (known: " + TaskNames(tasks) + ")");
    root.sink().Fail(node ? node->source() : root.table().source(),
                     Child(Index("pools", i), "schedule") + ".task", what);
    return;
  }
}

MaintExpiry ReadMaintExpiry(TableReader& t, MaintExpiry fallback) {
  std::string action = t.String("on_maint_expiry", MaintExpiryName(fallback));
  if (action == MaintExpiryName(MaintExpiry::kReport)) return MaintExpiry::kReport;
  if (action == MaintExpiryName(MaintExpiry::kRestore)) return MaintExpiry::kRestore;
  if (t.sink().ok()) {
    t.Fail(t.table().get("on_maint_expiry"), "on_maint_expiry",
           "expected \"report\" or \"restore\", got " + Quote(action));
  }
  return fallback;
}

}  // namespace config_detail
}  // namespace caretaker
