// `caretaker plan` and `caretaker roll`.
#include "src/cli/roll_cmd.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <exception>
#include <set>

#include "src/base/event_loop.h"
#include "src/base/file_lock.h"
#include "src/base/log.h"
#include "src/cli/exit_code.h"
#include "src/cli/foreground.h"
#include "src/cli/progress.h"
#include "src/cli/roll_jobs.h"
#include "src/cli/roll_render.h"
#include "src/run/driver.h"
#include "src/run/fleet.h"
#include "src/run/job_follower.h"
#include "src/run/plan_view.h"
#include "src/run/preflight.h"
#include "src/run/roll_setup.h"
#include "src/run/views.h"
#include "src/run/walk_io.h"
#include "src/store/state_open.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;
using roll_detail::PoolWalk;
using roll_detail::Preflight;

std::vector<std::string> InstanceNames(const Fleet& fleet, const PoolConfig& pool) {
  std::vector<std::string> names;
  for (const haproxy::Client* c : fleet.For(pool)) names.push_back(c->name());
  return names;
}

// Everything plan and roll share up to the plans: exit code when they stop.
struct Setup {
  std::vector<PoolWalk> walks;
  std::vector<PoolView> live;  // each pool as the preflight read it
  std::vector<WalkPlan> plans;
  std::vector<std::vector<std::string>> instances;
  bool blocked = false;
};

std::optional<int> Prepare(const Config& config, const RollOptions& options, const MaintIo& io, asio::io_context& loop,
                           WalkIo& world, Setup& setup, const std::map<std::string, ResumePoint>& resume = {}) {
  auto walks = roll_detail::ResolveWalks(config, options);
  if (!walks) {
    io.err << "caretaker: " << walks.error().message << "\n";
    return kExitUsage;
  }
  setup.walks = std::move(walks.value());
  for (PoolWalk& w : setup.walks) w.spec.resume = resume;
  Preflight preflight(config, world, setup.walks);
  std::optional<Error> stop = RunOn(loop, preflight.Run());
  if (stop) {
    io.err << "caretaker: " << stop->message << "\n";
    return ExitCode(stop->code);
  }
  for (size_t i = 0; i < setup.walks.size(); ++i) {
    WalkPlan plan = SimulateWalk(setup.walks[i].spec, preflight.live()[i],
                                 static_cast<size_t>(config.roll.max_concurrent_hosts));
    setup.blocked = setup.blocked || !plan.blocked.empty();
    setup.plans.push_back(std::move(plan));
    setup.instances.push_back(InstanceNames(preflight.fleet(), *setup.walks[i].pool));
  }
  setup.live = preflight.live();
  return std::nullopt;
}

void PrintPlans(const Setup& setup, std::ostream& out) {
  for (size_t i = 0; i < setup.walks.size(); ++i) {
    roll_detail::RenderPlan(out, setup.walks[i], setup.plans[i], setup.instances[i]);
  }
}

std::optional<std::string> NeedPassword(const Config& config, const MaintIo& io) {
  auto password = ReadMysqlPassword(config.mysql);
  if (!password) {
    io.err << "caretaker: " << password.error().message << "\n";
    return std::nullopt;
  }
  return password.value();
}

bool Confirm(const Setup& setup, const RollOptions& options, const MaintIo& io, std::istream& in) {
  size_t members = 0;
  std::string pools;
  for (const PoolWalk& w : setup.walks) {
    members += w.spec.members.size();
    pools += (pools.empty() ? "" : ", ") + w.pool->name;
  }
  io.err << "Roll task \"" << options.task << "\" through " << members << " member" << (members == 1 ? "" : "s")
         << " of " << pools << "? [y/N] " << std::flush;
  std::string answer;
  std::getline(in, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

// "replicas 1/4 done: db2 step 1/2 3s, db3 draining 1s": the status line.
std::string StatusLine(const RollDriver& driver, SteadyTime now) {
  std::string out;
  for (const RollDriver::Walk& w : driver.walks()) {
    size_t done = 0, running = 0;
    std::string active, detail;
    for (const HostStatus& h : w.walker.hosts()) {
      if (h.phase == HostPhase::kDone) ++done;
      if (!h.started || h.ended) continue;
      std::string what = h.phase == HostPhase::kStep ? "step " + std::to_string(h.step + 1) : HostPhaseName(h.phase);
      active += (active.empty() ? "" : ", ") + h.server + " " + what + " " +
                HumanDuration(std::chrono::duration_cast<Millis>(now - *h.started));
      detail = h.detail;
      ++running;
    }
    // One member out: what it waits for ("gate catch-up: lag 3s, max_lag 2s (1 of 3 reads in a row)").
    if (running == 1 && !detail.empty()) active += " (" + detail.substr(0, detail.find('\n')) + ")";
    out += (out.empty() ? "" : " | ") + (w.walker.halted() ? std::string("HALTED ") : std::string()) + w.pool->name + " " +
           std::to_string(done) + "/" +
           std::to_string(w.walker.hosts().size()) + " done";
    if (!active.empty()) out += ": " + active;
    if (active.empty() && !w.walker.waiting_for().empty()) out += ": waiting: " + w.walker.waiting_for();
  }
  return out;
}

// The walk itself, once everything is checked and confirmed.
int Walk(const Config& config, const MaintIo& io, asio::io_context& loop, WalkIo& world, StateStore& store,
         Setup& setup, JobFollower& jobs) {
  Progress progress(io.err, io.tty, std::chrono::seconds(5), io.tty ? TerminalColumns(STDERR_FILENO) : 0);
  const bool many = setup.walks.size() > 1;
  RollHooks hooks;
  hooks.on_event = [&](const std::string& pool, const WalkEvent& e) {
    std::string who = e.server.empty() ? (many ? pool + ": " : "") : (many ? pool + "/" : "") + e.server + ": ";
    progress.Note((e.warning ? "! " : "  ") + who + e.text);
    LogEvent(LogLevel::kDebug, "roll.event",
             {{"pool", pool}, {"server", e.server}, {"text", e.text}});
  };
  hooks.on_output = [&](const std::string& pool, const std::string& server, std::string_view line) {
    progress.Note("    " + (many ? pool + "/" : std::string()) + server + " | " + std::string(line));
  };
  auto steps = MakeProcessStepRunner(loop.get_executor());
  RollDriver driver(loop, config, world, *steps, hooks);
  driver.ReadAlertsFrom(store);
  driver.hooks().on_tick = [&] {
    jobs.Tick(driver);
    progress.Update("roll", StatusLine(driver, std::chrono::steady_clock::now()));
  };
  driver.SetHaltCheck([&] { return CheckHalt(&store, config.halt_file); });
  for (PoolWalk& w : setup.walks) driver.Add(*w.pool, *w.task, w.spec);
  const SteadyTime started = std::chrono::steady_clock::now();
  const int signals_seen = RunInForeground(
      loop, driver, progress,
      {"interrupted: no member starts now; draining ones go back, the others finish their task",
       "aborting: running steps are killed; members stay where they are"});
  progress.Clear();
  jobs.Finish(driver, signals_seen > 0 ? JobEnd::kInterrupted : JobEnd::kWalked);
  if (jobs.cancelled()) io.err << "caretaker: the job was cancelled (`caretaker job cancel`)\n";
  if (jobs.lease_lost()) io.err << "caretaker: STOPPED: another process took the pool's lease\n";
  for (const Job& job : jobs.jobs()) {
    if (job.state == "failed" || (job.state == "stopped" && job.AnyOut())) {
      io.err << "caretaker: pool " << job.pool << " is held by " << HeldBy(job, /*said=*/true) << "\n";
    }
  }
  bool all_done = true, capacity_only = true;
  for (size_t i = 0; i < setup.walks.size(); ++i) {
    const Walker& walker = driver.walks()[i].walker;
    roll_detail::RenderSummary(io.out, setup.walks[i], walker, started);
    for (const HostStatus& h : walker.hosts()) {
      all_done = all_done && (h.phase == HostPhase::kDone);
      capacity_only = capacity_only && (h.phase == HostPhase::kDone || h.phase == HostPhase::kPending ||
                                        h.phase == HostPhase::kSkipped);
    }
    capacity_only = capacity_only && (walker.stop_reason().empty() || walker.stopped_on_capacity());
  }
  if (all_done) return 0;
  return capacity_only && signals_seen == 0 && !jobs.cancelled() ? kExitRefused : kExitFailed;
}

// roll --queue: one queued job per pool, for `caretaker serve`.
int Enqueue(const Config& config, StateStore& store, const Setup& setup, const RollOptions& options,
            const std::string& who, const MaintIo& io) {
  for (const PoolWalk& w : setup.walks) {
    Job job = MakeJob(NewJob{w.pool->name, options.task, TaskSteps(*w.task), w.spec.members, who,
                             "caretaker roll --queue --task " + options.task, options.max_failures,
                             options.force_sessions, std::nullopt});
    auto added = store.AddJob(job);
    if (!added) {
      io.err << "caretaker: cannot queue the job of pool " << w.pool->name << ": " << added.error().message << "\n";
      return kExitFailed;
    }
    io.out << "job " << added.value() << " queued: pool " << w.pool->name << ", task " << options.task << ", "
           << w.spec.members.size() << " member" << (w.spec.members.size() == 1 ? "" : "s");
    auto head = PoolHead(store, w.pool->name);
    if (head && head.value() && head.value()->id != added.value()) {
      io.out << ", behind job " << head.value()->id << " (" << head.value()->state << ")";
    }
    if (w.pool->schedule) {
      const Schedule& sched = w.pool->schedule->schedule;
      auto open = WindowAt(sched, NowSeconds());
      auto next = NextWindow(sched, NowSeconds());
      io.out << ", in the pool's window (" << sched.cron.text() << " " << sched.tz.name() << ": "
             << (open ? "open until " + FormatUtc(open->close) : next ? "next " + FormatUtc(next->open) : "never")
             << ")";
    }
    io.out << "; `caretaker serve` runs it (`caretaker job show " << added.value() << "`)\n";
  }
  if (HaltCheck halt = CheckHalt(&store, config.halt_file); halt.halted) {
    io.err << "caretaker: " << halt.why << "; the jobs wait until the halt is lifted\n";
  }
  return 0;
}

// After the preflight, before anything changes: a retried job's records
// against HAProxy, and the halt (a queued job may wait for it).
std::optional<int> CheckLiveState(const Config& config, const RollOptions& options, StateStore& store,
                                  roll_detail::Retry& retry, Setup& setup, const MaintIo& io) {
  if (options.retry_job) {
    if (auto conflict = ReconcileResume(retry.job, retry.resume, setup.live.front())) {
      io.err << "caretaker: " << *conflict << "; nothing was changed\n";
      return kExitRefused;
    }
    setup.walks.front().spec.resume = retry.resume;
  }
  if (HaltCheck halt = CheckHalt(&store, config.halt_file); halt.halted && !options.dry_run && !options.queue) {
    io.err << "caretaker: " << halt.why << "; no walk starts while halted (`caretaker resume` lifts it); nothing was "
              "changed\n";
    return kExitRefused;
  }
  return std::nullopt;
}

// A walk that cannot finish without someone else acting first is refused
// now, as `maint start` is, rather than paused with members half done.
// (The pause is for a member that goes down mid-walk.)
std::optional<int> RefuseBlocked(const Setup& setup, const MaintIo& io) {
  for (size_t i = 0; i < setup.walks.size(); ++i) {
    const WalkPlan& plan = setup.plans[i];
    if (plan.blocked.empty()) continue;
    PrintPlans(setup, io.err);
    io.err << "caretaker: refusing to walk pool " << setup.walks[i].pool->name << ": " << plan.blocked
           << " (members it could not reach: " << roll_detail::JoinNames(plan.not_started) << "); nothing was changed\n";
    return kExitRefused;
  }
  return std::nullopt;
}

// The jobs, claimed: one walk per pool at a time, across processes (the
// pool's lease), for the whole walk. A retry takes its job over.
std::optional<int> ClaimJobs(JobFollower& jobs, const RollOptions& options, const roll_detail::Retry& retry,
                             const Setup& setup, const std::string& who, const std::string& reason,
                             const MaintIo& io) {
  if (options.retry_job) {
    if (auto taken = jobs.Take(retry.job, true); !taken) {
      io.err << "caretaker: cannot go on with job " << retry.job.id << ": " << taken.error().message
             << "; nothing was changed\n";
      return kExitRefused;
    }
    return std::nullopt;
  }
  const RollOptions& effective = retry.options;
  std::vector<NewJob> specs;
  for (const PoolWalk& w : setup.walks) {
    specs.push_back(NewJob{w.pool->name, effective.task, TaskSteps(*w.task), w.spec.members, who, reason,
                           effective.max_failures, effective.force_sessions, std::nullopt});
  }
  if (auto added = jobs.AddClaimed(specs); !added) {
    io.err << "caretaker: " << added.error().message << "; nothing was changed\n";
    return kExitRefused;
  }
  return std::nullopt;
}

}  // namespace

int RunRoll(const Config& config, const RollOptions& options, const MaintIo& io, std::istream& in, bool in_tty) {
  auto password = NeedPassword(config, io);
  if (!password) return kExitUsage;
  std::string who = options.who.empty() ? OperatorName() : options.who;
  auto store = OpenStateStore(config, who + " (caretaker roll)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "; nothing was changed\n";
    return kExitFailed;
  }
  auto& records = store.value();
  roll_detail::Retry retry;
  if (auto no = roll_detail::PrepareJobs(config, *records, options, retry, io)) return Report(io.err, *no);
  const RollOptions& effective = retry.options;
  WalkRecordInfo info;
  info.who = who;
  info.reason = options.retry_job ? retry.job.reason : "caretaker roll --task " + options.task;
  if (options.retry_job) info.jobs[retry.job.pool] = retry.job.id;
  asio::io_context loop;
  auto world = MakeRealWalkIo(config, *password, *records, info);
  Setup setup;
  if (!options.dry_run && !options.yes && !in_tty) {
    // cron, CI, ssh without a tty: nobody to ask, so say it explicitly.
    io.err << "caretaker: roll asks for confirmation, and stdin is not a terminal: pass --yes (or --dry-run to see "
              "the plan); nothing was changed\n";
    return kExitUsage;
  }
  if (auto code = Prepare(config, effective, io, loop, *world, setup, retry.resume)) return *code;
  if (auto code = CheckLiveState(config, options, *records, retry, setup, io)) return *code;
  if (options.dry_run) {
    PrintPlans(setup, io.out);
    io.out << "nothing was changed (--dry-run)\n";
    return setup.blocked ? kExitRefused : 0;
  }
  if (!options.queue) {
    if (auto code = RefuseBlocked(setup, io)) return *code;
  }
  if (in_tty && !options.yes) {
    PrintPlans(setup, io.err);
    if (!Confirm(setup, effective, io, in)) {
      io.err << "caretaker: not confirmed; nothing was changed\n";
      return kExitFailed;
    }
  }
  if (options.queue) return Enqueue(config, *records, setup, effective, who, io);
  JobFollower jobs(config, *records);
  if (auto code = ClaimJobs(jobs, options, retry, setup, who, info.reason, io)) return *code;
  for (const Job& job : jobs.jobs()) {
    world->SetJob(job.pool, job.id);
    io.err << "caretaker: job " << job.id << (options.retry_job ? " goes on" : "") << ": pool " << job.pool
           << ", task " << job.task << " (`caretaker job show " << job.id << "`)\n";
  }
  try {
    return Walk(config, io, loop, *world, *records, setup, jobs);
  } catch (const std::exception& e) {
    io.err << "caretaker: internal error: " << e.what() << "\n"
           << "caretaker: MEMBERS MAY BE OUT OF TRAFFIC: check `caretaker status` and `caretaker maint list`\n";
    return kExitFailed;
  }
}

int RunPlan(const Config& config, const RollOptions& options, const MaintIo& io) {
  auto password = NeedPassword(config, io);
  if (!password) return kExitUsage;
  auto store = OpenStateStore(config, OperatorName() + " (caretaker plan)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return kExitFailed;
  }
  auto& records = store.value();
  asio::io_context loop;
  auto world = MakeRealWalkIo(config, *password, *records, WalkRecordInfo());
  Setup setup;
  if (auto code = Prepare(config, options, io, loop, *world, setup)) return *code;
  if (options.json) {
    io.out << JsonText(roll_detail::PlanView(setup.walks, setup.plans)) << "\n";
  } else {
    PrintPlans(setup, io.out);
    io.out << "nothing was changed (plan)\n";
  }
  if (HaltCheck halt = CheckHalt(records.get(), config.halt_file); halt.halted) {
    io.err << "caretaker: note: " << halt.why << "; a roll is refused until the halt is lifted\n";
  }
  return setup.blocked ? kExitRefused : 0;
}

}  // namespace caretaker
