// See serve_job.h.
#include "src/serve/job_runner.h"

#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>

#include "src/base/log.h"
#include "src/run/driver.h"
#include "src/run/job_follower.h"
#include "src/run/notifier.h"
#include "src/run/preflight.h"
#include "src/run/roll_setup.h"
#include "src/run/step_runner.h"
#include "src/run/walk_io.h"
#include "src/store/state_open.h"

namespace caretaker {

struct ServeJob::Impl {
  boost::asio::io_context& io;
  std::shared_ptr<const Config> config;
  StateStore& store;
  std::string password;
  HostBudget& budget;
  Notifier& notifier;
  std::optional<JobFollower> follower;
  std::unique_ptr<WalkIo> world;
  std::unique_ptr<StepRunner> steps;
  std::unique_ptr<RollDriver> driver;
  std::string pause;  // why it pauses ("" not)
  bool stop = false;
  bool abort = false;
  bool finished = false;
  bool crashed = false;
  std::function<void(const RollDriver&)> watch = {};

  boost::asio::awaitable<void> Run(Job job);
  // Ends the job without a walk: `state`, and why; loudly.
  void End(const Job& job, const std::string& state, const std::string& why);
  // `asked`: the job as read before its claim: an operator asked for a retry
  // (the API's), decided as `job retry` decides.
  std::optional<std::vector<roll_detail::PoolWalk>> Walks(const Job& job, const Job& asked,
                                                          std::map<std::string, ResumePoint>& resume);
  boost::asio::awaitable<void> Walk(const Job& job, std::vector<roll_detail::PoolWalk>& walks);
  void Report();
  // job.<state> (and job.started) to the webhooks.
  void Tell(const Job& job, const std::string& state, const std::string& why);
};

void ServeJob::Impl::Tell(const Job& job, const std::string& state, const std::string& why) {
  NotifyEvent e;
  e.kind = "job." + state;
  e.pool = job.pool;
  e.job = job.id;
  e.who = job.who;
  e.reason = job.reason;
  const std::string head = "caretaker: job " + std::to_string(job.id) + " on " + job.pool;
  if (state == "started") {
    e.text = head + " started (task " + job.task + ", by " + job.who + (job.reason.empty() ? "" : ": " + job.reason) + ")";
  } else {
    e.text = head + (state == "failed" ? " FAILED" : " " + state) + (why.empty() ? "" : ": " + why.substr(0, why.find('\n')));
  }
  notifier.Emit(std::move(e));
}

void ServeJob::Impl::End(const Job& job, const std::string& state, const std::string& why) {
  const std::string id = std::to_string(job.id);
  // What to do is in the sentence already when it names a command.
  const std::string said = state != "failed" || why.find("`caretaker ") != std::string::npos
                               ? why
                               : why + "; once fixed, `caretaker job retry " + id + "` (or `caretaker job restore " +
                                     id + "`, `caretaker job cancel " + id + "`)";
  LogEvent(state == "failed" ? LogLevel::kError : LogLevel::kWarn, "serve.job.end",
           {{"job", job.id}, {"pool", job.pool}, {"state", state}, {"why", said}});
  follower->Abandon(state, said);
  Tell(job, state, said);
}

// The walk of what is left of `job`, or nullopt (the job ended, said why).
std::optional<std::vector<roll_detail::PoolWalk>> ServeJob::Impl::Walks(const Job& job, const Job& asked,
                                                                        std::map<std::string, ResumePoint>& resume) {
  const TaskConfig* task = config->FindTask(job.task);
  if (!task || !config->FindPool(job.pool)) {
    End(job, "failed",
        "the configuration serve runs with (" + config->path + ", as last loaded) has no " +
            (task ? "pool " + job.pool : "task " + job.task) + "; put it back and reload serve (SIGHUP), or " +
            "`caretaker job restore " + std::to_string(job.id) + "`");
    return std::nullopt;
  }
  auto records = store.List();
  if (!records) {
    End(job, "failed", records.error().message);
    return std::nullopt;
  }
  // An operator's retry (asked before the claim dropped it) decides as
  // `caretaker job retry` does: a failed step runs again, or from_step.
  const bool by_operator = !asked.retry_by.empty();
  const std::optional<size_t> from_step =
      asked.retry_from_step ? std::optional<size_t>(asked.retry_from_step) : std::nullopt;
  RetryPlan plan = PlanRetry(job, *task, records.value(), from_step, by_operator);
  if (!plan.refused.empty()) {
    End(job, "failed", plan.refused);
    return std::nullopt;
  }
  if (plan.members.empty()) {
    End(job, "done", "every member was done");
    return std::nullopt;
  }
  auto walks = roll_detail::ResolveWalks(*config, roll_detail::JobOptions(job, plan.members));
  if (!walks) {
    End(job, "failed", walks.error().message);
    return std::nullopt;
  }
  resume = std::move(plan.resume);
  walks.value().front().spec.resume = resume;
  return std::move(walks).value();
}

boost::asio::awaitable<void> ServeJob::Impl::Run(Job job) {
  follower.emplace(*config, store);
  const Job asked = job;  // as read before the claim (which drops a retry request)
  if (auto taken = follower->Take(job, !asked.retry_by.empty()); !taken) {
    LogEvent(LogLevel::kWarn, "serve.job.not_taken", {{"job", job.id}, {"why", taken.error().message}});
    co_return;
  }
  job = follower->jobs().front();
  LogEvent(LogLevel::kInfo, "serve.job.start",
           {{"job", job.id}, {"pool", job.pool}, {"task", job.task}, {"reason", job.reason}});
  Tell(job, "started", "");
  std::map<std::string, ResumePoint> resume;
  auto walks = Walks(job, asked, resume);
  if (!walks) co_return;
  WalkRecordInfo info;
  info.who = job.who;
  info.reason = job.reason;
  info.jobs[job.pool] = job.id;
  world = MakeRealWalkIo(*config, password, store, std::move(info));
  roll_detail::Preflight preflight(*config, *world, *walks);
  auto checked = preflight.Run();
  if (std::optional<Error> refused = co_await std::move(checked)) {
    End(job, "failed", refused->message);
    co_return;
  }
  if (auto conflict = ReconcileResume(job, resume, preflight.live().front())) {
    End(job, "failed", *conflict);
    co_return;
  }
  walks->front().spec.resume = resume;
  auto walk = Walk(job, *walks);
  co_await std::move(walk);
}

boost::asio::awaitable<void> ServeJob::Impl::Walk(const Job& job, std::vector<roll_detail::PoolWalk>& walks) {
  RollHooks hooks;
  hooks.on_event = [id = job.id](const std::string& pool, const WalkEvent& e) {
    LogEvent(e.warning ? LogLevel::kWarn : LogLevel::kInfo, "serve.walk",
             {{"job", id}, {"pool", pool}, {"server", e.server}, {"text", e.text}});
  };
  hooks.on_output = [id = job.id](const std::string& pool, const std::string& server, std::string_view line) {
    LogEvent(LogLevel::kInfo, "serve.step.output",
             {{"job", id}, {"pool", pool}, {"server", server}, {"line", std::string(line)}});
  };
  steps = MakeProcessStepRunner(io.get_executor());
  driver = std::make_unique<RollDriver>(io, *config, *world, *steps, hooks);
  driver->hooks().on_tick = [this] {
    follower->Tick(*driver);
    if (watch) watch(*driver);
  };
  driver->ShareBudget(budget);
  driver->ReadAlertsFrom(store);
  driver->SetHaltCheck([this] { return CheckHalt(&store, config->halt_file); });
  driver->Add(*walks.front().pool, *walks.front().task, walks.front().spec);
  if (!pause.empty()) driver->Interrupt(pause);
  if (stop) driver->Stop("caretaker serve is stopping");
  if (abort) driver->Abort();
  auto run = driver->Run();
  co_await std::move(run);
  if (watch) watch(*driver);
  follower->Finish(*driver, pause.empty() && !stop ? JobEnd::kWalked : JobEnd::kPaused);
  Report();
}

void ServeJob::Impl::Report() {
  const Job& job = follower->jobs().front();
  LogEvent(job.state == "failed" ? LogLevel::kError : LogLevel::kInfo, "serve.job.end",
           {{"job", job.id}, {"pool", job.pool}, {"state", job.state}, {"why", job.detail}});
  Tell(job, job.state, job.detail);
  for (const HostStatus& h : driver->walks().front().walker.hosts()) {
    if (!h.out_of_traffic) continue;
    const std::string why = h.detail.substr(0, h.detail.find('\n'));
    LogEvent(LogLevel::kError, "serve.job.out_of_traffic",
             {{"job", job.id}, {"pool", job.pool}, {"server", h.server}, {"phase", HostPhaseName(h.phase)}, {"why", why}});
    NotifyEvent e;
    e.kind = "host.left_out";
    e.pool = job.pool;
    e.server = h.server;
    e.job = job.id;
    e.who = job.who;
    e.reason = job.reason;
    e.text = "caretaker: " + job.pool + "/" + h.server + " is OUT OF TRAFFIC (" + HostPhaseName(h.phase) +
             "), left out by job " + std::to_string(job.id) + ": " + why;
    notifier.Emit(std::move(e));
  }
}

ServeJob::ServeJob(boost::asio::io_context& io, std::shared_ptr<const Config> config, StateStore& store,
                   std::string password, HostBudget& budget, Notifier& notifier)
    : impl_(new Impl{io, std::move(config), store, std::move(password), budget, notifier, {}, {}, {}, {}, "", false,
                     false, false, false}) {}

ServeJob::~ServeJob() = default;

boost::asio::awaitable<void> ServeJob::Run(Job job) {
  try {
    auto run = impl_->Run(std::move(job));
    co_await std::move(run);
  } catch (const std::exception& e) {
    // Failed, so that it holds its pool (and is not started again next
    // round); its members stay where they are, with their records.
    LogEvent(LogLevel::kError, "serve.job.internal_error", {{"what", e.what()}});
    impl_->crashed = true;
    if (impl_->follower && !impl_->follower->jobs().empty()) {
      impl_->End(impl_->follower->jobs().front(), "failed", std::string("internal error: ") + e.what());
    }
  }
  impl_->finished = true;
}

void ServeJob::Pause(const std::string& why) {
  if (!impl_->pause.empty()) return;
  impl_->pause = why;
  if (impl_->driver) impl_->driver->Interrupt(why);
}

void ServeJob::Stop(const std::string& why) {
  impl_->stop = true;
  if (impl_->driver) impl_->driver->Stop(why);
}

void ServeJob::Abort() {
  impl_->abort = true;
  if (impl_->driver) impl_->driver->Abort();
}

bool ServeJob::pausing() const { return !impl_->pause.empty(); }
bool ServeJob::finished() const { return impl_->finished; }
bool ServeJob::crashed() const { return impl_->crashed; }

void ServeJob::Watch(std::function<void(const RollDriver&)> on_round) { impl_->watch = std::move(on_round); }

}  // namespace caretaker
