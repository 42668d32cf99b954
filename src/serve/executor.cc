// See executor.h.
#include "src/serve/executor.h"

#include <algorithm>
#include <optional>

#include "src/base/log.h"
#include "src/run/job_follower.h"
#include "src/walk/job_run.h"

namespace caretaker {
namespace {

ExecAction Report(const std::string& pool, std::string text, bool warning = true) {
  ExecAction a;
  a.pool = pool;
  a.text = std::move(text);
  a.warning = warning;
  return a;
}

// A wait that is no one's fault (a window, the job cap) is said as such.
bool IsPlainWait(const std::string& why) {
  return why.find("waits for the pool's window") != std::string::npos || why.find("max_concurrent_jobs") != std::string::npos;
}

ExecAction About(ExecAction::Kind kind, const std::string& pool, int64_t job) {
  ExecAction a;
  a.kind = kind;
  a.pool = pool;
  a.job = job;
  return a;
}

// Why `head` may not start now ("" when it may). `in_window`: the pool has
// no schedule, or one of its windows is open.
std::string WhyWaits(const ExecInput& in, const PoolConfig& pool, const Job& head, bool in_window, size_t running) {
  const std::string id = std::to_string(head.id);
  if (!in.config->FindTask(head.task)) {
    return "job " + id + " needs task " + head.task + ", which the configuration serve runs with (" + in.config->path +
           ", as last loaded) does not have: add it and reload serve (SIGHUP), or `caretaker job cancel " + id + "`";
  }
  const bool orphaned = head.state == "running";
  // Members to bring back, or an operator who asked for it now.
  const bool urgent = orphaned || (head.state == "paused" && head.AnyOut()) || !head.retry_by.empty();
  if (!in_window && !urgent) {
    std::optional<Window> next = NextWindow(pool.schedule->schedule, in.now);
    return "job " + id + " (" + head.state + ") waits for the pool's window: next " +
           (next ? FormatUtc(next->open) : "never");
  }
  if (in.halted) return "job " + id + " waits: halted";
  if (running >= static_cast<size_t>(in.config->serve.max_concurrent_jobs)) {
    return "job " + id + " waits: " + std::to_string(running) + " jobs run (max_concurrent_jobs)";
  }
  return "";
}

// The decisions for one pool; `running`: jobs running here, counted up.
void DecidePool(const ExecInput& in, const PoolConfig& pool, size_t& running, std::vector<ExecAction>& out) {
  std::optional<Window> window;
  if (pool.schedule) window = WindowAt(pool.schedule->schedule, in.now);
  const bool in_window = !pool.schedule || window.has_value();
  bool runs_here = false;
  for (const auto& [id, job_pool] : in.running_here) {
    if (job_pool != pool.name) continue;
    runs_here = true;
    if (!in_window && !in.pausing_here.count(id)) out.push_back(About(ExecAction::Kind::kPause, pool.name, id));
  }
  const Job* head = PoolHeadIn(in.open, pool.name);
  auto last = in.last_window.find(pool.name);
  const bool new_window = window && (last == in.last_window.end() || last->second < window->open);
  if (new_window && !head) {
    ExecAction add = About(ExecAction::Kind::kAdd, pool.name, 0);
    add.window = *window;
    return out.push_back(add);  // it starts next round
  }
  if (!head || runs_here) return;
  if ((head->state == "failed" || head->state == "stopped") && head->retry_by.empty()) {
    const std::string opened = new_window ? "its window opened at " + FormatUtc(window->open) + ", but " : "";
    return out.push_back(Report(pool.name, opened + HeldBy(*head)));
  }
  if (head->state == "running" && !in.orphaned.count(head->id)) return;  // another process runs it
  if (std::string why = WhyWaits(in, pool, *head, in_window, running); !why.empty()) {
    return out.push_back(Report(pool.name, why, !IsPlainWait(why)));
  }
  ExecAction start = About(ExecAction::Kind::kStart, pool.name, head->id);
  // One walk per window: a job that starts in a window no job had yet takes
  // it (the schedule adds none for it).
  if (new_window) start.window = *window;
  out.push_back(start);
  ++running;
}

}  // namespace

std::vector<ExecAction> DecideJobs(const ExecInput& in) {
  std::vector<ExecAction> out;
  size_t running = in.running_here.size();
  for (const PoolConfig& pool : in.config->pools) DecidePool(in, pool, running, out);
  for (const Job& job : in.open) {
    if (!in.config->FindPool(job.pool) && PoolHeadIn(in.open, job.pool) == &job) {
      out.push_back(Report(job.pool, "job " + std::to_string(job.id) + " (" + job.state + ") is of pool " + job.pool +
                                         ", which " + in.config->path + " no longer has"));
    }
  }
  return out;
}

void Executor::Say(const std::string& pool, const std::string& text, bool warning) {
  auto& said = said_[pool];
  if (said == text) return;
  said = text;
  LogEvent(warning ? LogLevel::kWarn : LogLevel::kInfo, warning ? "serve.pool.held" : "serve.pool.waiting",
           {{"pool", pool}, {"why", text}});
}

void Executor::Apply(const Config& config, const ExecAction& a, SysSeconds now) {
  switch (a.kind) {
    case ExecAction::Kind::kAdd: {
      const PoolConfig* pool = config.FindPool(a.pool);
      const ScheduleConfig& s = *pool->schedule;
      NewJob spec;
      spec.pool = a.pool;
      spec.task = s.task;
      spec.task_steps = TaskSteps(*config.FindTask(s.task));
      for (const MemberConfig& m : pool->members) spec.members.push_back(m.server);
      spec.who = "caretaker serve";
      spec.reason = "schedule \"" + s.schedule.cron.text() + "\" (" + s.schedule.tz.name() + "), window " +
                    FormatUtc(a.window.open) + " to " + FormatUtc(a.window.close);
      spec.window = a.window.open;
      auto added = store_.AddJob(MakeJob(spec));
      if (!added) return Say(a.pool, "cannot add the job of its window: " + added.error().message);
      LogEvent(LogLevel::kInfo, "serve.job.added",
               {{"job", added.value()}, {"pool", a.pool}, {"task", s.task}, {"reason", spec.reason}});
      return;
    }
    case ExecAction::Kind::kStart: {
      auto found = store_.FindJob(a.job);
      if (!found || !found.value()) return;
      Job& job = *found.value();
      if (a.window.open > job.window.value_or(SysSeconds{})) {
        job.window = a.window.open;
        if (auto taken = store_.UpdateJob(job); !taken) return Say(a.pool, "cannot start: " + taken.error().message);
      }
      return launcher_.Start(job);
    }
    case ExecAction::Kind::kPause:
      LogEvent(LogLevel::kInfo, "serve.job.pausing", {{"job", a.job}, {"pool", a.pool}});
      return launcher_.Pause(a.job, "its window closed (" + FormatUtc(now) + ")");
    case ExecAction::Kind::kReport:
      return Say(a.pool, a.text, a.warning);
  }
}

void Executor::Tick(const Config& config, SysSeconds now, bool halted) {
  ExecInput in;
  in.now = now;
  in.halted = halted;
  in.config = &config;
  in.running_here = launcher_.Running();
  in.pausing_here = launcher_.Pausing();
  auto open = store_.OpenJobs();
  bool readable = bool(open);
  if (open) in.open = std::move(open).value();
  for (const Job& job : in.open) {
    if (job.state == "running" && !in.running_here.count(job.id) && owner_gone_(job)) in.orphaned.insert(job.id);
  }
  for (const PoolConfig& pool : config.pools) {
    if (!pool.schedule || !readable) continue;
    auto last = store_.LastWindow(pool.name);
    readable = readable && last;
    if (last && last.value()) in.last_window[pool.name] = *last.value();
  }
  if (!readable) {
    // Only the pauses: nothing is known of the queues.
    Say("", "cannot read the jobs in the state store; nothing starts");
    in.open.clear();
    in.halted = true;
    for (const PoolConfig& pool : config.pools) {
      if (pool.schedule) in.last_window[pool.name] = SysSeconds::max();
    }
  }
  std::set<std::string> reported;
  for (const ExecAction& a : DecideJobs(in)) {
    if (a.kind == ExecAction::Kind::kReport) reported.insert(a.pool);
    Apply(config, a, now);
  }
  if (!readable) reported.insert("");
  std::erase_if(said_, [&](const auto& p) { return !reported.count(p.first); });  // said again if it comes back
}

}  // namespace caretaker
