// See executor.h.
#include "src/executor.h"

#include <algorithm>
#include <optional>

#include "src/job_follower.h"
#include "src/job_run.h"
#include "src/log.h"

namespace caretaker {
namespace {

bool AnyOut(const Job& job) {
  return std::any_of(job.hosts.begin(), job.hosts.end(), [](const JobHost& h) { return h.out_of_traffic; });
}

std::string HoldsText(const Job& job) {
  const std::string id = std::to_string(job.id);
  return "job " + id + " " + job.state + (job.detail.empty() ? "" : " (" + job.detail + ")") +
         " holds the pool: `caretaker job retry " + id + "`, `caretaker job restore " + id +
         "` or `caretaker job cancel " + id + "`";
}

ExecAction Report(const std::string& pool, std::string text) {
  ExecAction a;
  a.pool = pool;
  a.text = std::move(text);
  return a;
}

ExecAction About(ExecAction::Kind kind, const std::string& pool, int64_t job) {
  ExecAction a;
  a.kind = kind;
  a.pool = pool;
  a.job = job;
  return a;
}

}  // namespace

std::vector<ExecAction> DecideJobs(const ExecInput& in) {
  std::vector<ExecAction> out;
  size_t running = in.running_here.size();
  const size_t cap = static_cast<size_t>(in.config->serve.max_concurrent_jobs);
  for (const PoolConfig& pool : in.config->pools) {
    std::optional<Window> window;
    if (pool.schedule) window = WindowAt(pool.schedule->schedule, in.now);
    const bool in_window = !pool.schedule || window.has_value();
    for (const Job& job : in.open) {
      if (job.pool == pool.name && !in_window && in.running_here.count(job.id) && !in.pausing_here.count(job.id)) {
        out.push_back(About(ExecAction::Kind::kPause, pool.name, job.id));
      }
    }
    const Job* head = PoolHeadIn(in.open, pool.name);
    if (window) {
      auto last = in.last_window.find(pool.name);
      if (last == in.last_window.end() || last->second < window->open) {
        if (!head) {
          ExecAction add = About(ExecAction::Kind::kAdd, pool.name, 0);
          add.window = *window;
          out.push_back(add);
          continue;  // it starts next round
        }
        if (head->state == "failed" || head->state == "stopped") {
          out.push_back(Report(pool.name, "its window opened at " + FormatUtc(window->open) + ", but " +
                                              HoldsText(*head)));
          continue;
        }
        // A job still running, queued or paused: it has this window.
      }
    }
    if (!head || in.running_here.count(head->id)) continue;
    if (head->state == "failed" || head->state == "stopped") {
      out.push_back(Report(pool.name, HoldsText(*head)));
      continue;
    }
    const bool orphaned = head->state == "running" && in.orphaned.count(head->id);
    if (head->state == "running" && !orphaned) continue;  // another process runs it
    const bool urgent = orphaned || (head->state == "paused" && AnyOut(*head));
    if (!in_window && !urgent) continue;  // it waits for its window
    if (in.halted) {
      out.push_back(Report(pool.name, "job " + std::to_string(head->id) + " waits: halted"));
      continue;
    }
    if (running >= cap) {
      out.push_back(Report(pool.name, "job " + std::to_string(head->id) + " waits: " + std::to_string(running) +
                                          " jobs run (max_concurrent_jobs)"));
      continue;
    }
    ExecAction start = About(ExecAction::Kind::kStart, pool.name, head->id);
    if (window) start.window = *window;
    out.push_back(start);
    ++running;
  }
  for (const Job& job : in.open) {
    if (!in.config->FindPool(job.pool) && PoolHeadIn(in.open, job.pool) == &job) {
      out.push_back(Report(job.pool, "job " + std::to_string(job.id) + " (" + job.state + ") is of pool " + job.pool +
                                         ", which " + in.config->path + " no longer has"));
    }
  }
  return out;
}

void Executor::Say(const std::string& pool, const std::string& text) {
  auto& said = said_[pool];
  if (said == text) return;
  said = text;
  LogEvent(LogLevel::kWarn, "serve.pool.held", {{"pool", pool}, {"why", text}});
}

void Executor::Apply(const Config& config, const ExecAction& a, SysSeconds now) {
  switch (a.kind) {
    case ExecAction::Kind::kAdd: {
      const PoolConfig* pool = config.FindPool(a.pool);
      const ScheduleConfig& s = *pool->schedule;
      NewJob spec;
      spec.pool = a.pool;
      spec.task = s.task;
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
      if (job.window && a.window.open > *job.window) {
        job.window = a.window.open;
        if (auto taken = store_.UpdateJob(job); !taken) return Say(a.pool, "cannot start: " + taken.error().message);
      }
      return launcher_.Start(job);
    }
    case ExecAction::Kind::kPause:
      LogEvent(LogLevel::kInfo, "serve.job.pausing", {{"job", a.job}, {"pool", a.pool}});
      return launcher_.Pause(a.job, "its window closed (" + FormatUtc(now) + ")");
    case ExecAction::Kind::kReport:
      return Say(a.pool, a.text);
  }
}

void Executor::Tick(const Config& config, SysSeconds now, bool halted) {
  auto open = store_.OpenJobs();
  if (!open) return Say("", "cannot read the jobs: " + open.error().message + "; nothing starts");
  ExecInput in;
  in.now = now;
  in.halted = halted;
  in.config = &config;
  in.open = std::move(open).value();
  in.running_here = launcher_.Running();
  in.pausing_here = launcher_.Pausing();
  for (const Job& job : in.open) {
    if (job.state == "running" && !in.running_here.count(job.id) && owner_gone_(job)) in.orphaned.insert(job.id);
  }
  for (const PoolConfig& pool : config.pools) {
    if (!pool.schedule) continue;
    auto last = store_.LastWindow(pool.name);
    if (!last) return Say(pool.name, "cannot read its schedule's last window: " + last.error().message);
    if (last.value()) in.last_window[pool.name] = *last.value();
  }
  std::set<std::string> reported;
  for (const ExecAction& a : DecideJobs(in)) {
    if (a.kind == ExecAction::Kind::kReport) reported.insert(a.pool);
    Apply(config, a, now);
  }
  std::erase_if(said_, [&](const auto& p) { return !reported.count(p.first); });  // said again if it comes back
}

}  // namespace caretaker
