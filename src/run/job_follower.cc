// See job_follower.h.
#include "src/run/job_follower.h"

#include "src/base/log.h"
#include "src/run/driver.h"

namespace caretaker {
namespace {

void Warn(const Result<void>& written, const Job& job) {
  if (written) return;
  LogEvent(LogLevel::kWarn, "job.store_failed", {{"job", job.id}, {"error", written.error().message}});
}

}  // namespace

Job MakeJob(const NewJob& spec) {
  Job job;
  job.pool = spec.pool;
  job.task = spec.task;
  job.task_steps = spec.task_steps;
  job.who = spec.who;
  job.reason = spec.reason;
  job.created = NowSeconds();
  job.max_failures = spec.max_failures;
  job.force_sessions = spec.force_sessions;
  job.window = spec.window;
  for (const std::string& server : spec.members) {
    JobHost host;
    host.server = server;
    job.hosts.push_back(std::move(host));
  }
  return job;
}

JobFollower::~JobFollower() {
  // A walk that threw: its jobs stay "running" with their owner gone, which
  // every reader reports as orphaned; only the leases are given back.
  if (finished_) return;
  for (Job& job : jobs_) Release(job);
}

void JobFollower::Release(Job& job) {
  if (auto released = store_.ReleaseLease(job.pool, job.owner); !released) Warn(released, job);
}

Result<void> JobFollower::AddClaimed(const std::vector<NewJob>& specs) {
  if (auto held = HoldOwnerLock(config_); !held) return held.error();
  for (const NewJob& spec : specs) {
    Job job = MakeJob(spec);
    job.state = "running";
    job.owner = JobOwnerName();
    job.started = job.created;
    BreakDeadLease(config_, store_, job.pool);
    auto added = store_.AddJob(job, Lease{job.pool, 0, job.owner, job.created + kLeaseTtl});
    if (!added || added.value() == 0) {
      Error why = added ? Error{WalkedBy(store_, job.pool)} : added.error();
      Abandon("cancelled", "not started: " + why.message);
      return why;
    }
    job.id = added.value();
    last_.push_back(job.hosts);
    jobs_.push_back(std::move(job));
  }
  renewed_ = std::chrono::steady_clock::now();
  return boost::outcome_v2::success();
}

Result<void> JobFollower::Take(const Job& job, bool clear_cancel) {
  if (auto claimed = ClaimJobHere(config_, store_, job, clear_cancel); !claimed) return claimed.error();
  auto read = store_.FindJob(job.id);
  if (!read || !read.value()) {
    Job back = job;
    back.owner = JobOwnerName();
    Release(back);
    return read ? Error{"job " + std::to_string(job.id) + " is gone from the store"} : read.error();
  }
  last_.push_back(read.value()->hosts);
  jobs_.push_back(std::move(*read.value()));
  renewed_ = std::chrono::steady_clock::now();
  return boost::outcome_v2::success();
}

void JobFollower::Tick(RollDriver& driver) {
  for (size_t i = 0; i < jobs_.size() && i < driver.walks().size(); ++i) {
    std::vector<JobHost> hosts = JobHostsOf(driver.walks()[i].walker);
    if (hosts != last_[i]) {
      Warn(store_.UpdateJobHosts(jobs_[i].id, hosts), jobs_[i]);
      last_[i] = std::move(hosts);
    }
  }
  const SteadyTime now = std::chrono::steady_clock::now();
  if (now >= next_renew_) {
    next_renew_ = now + kLeaseRenew;
    bool all = true;
    for (Job& job : jobs_) {
      auto renewed = store_.RenewLease(job.pool, job.owner, NowSeconds() + kLeaseTtl);
      all = all && renewed && renewed.value();
      if (!renewed) {
        Warn(renewed.error(), job);  // the store may be back next time
      } else if (!renewed.value() && !lease_lost_) {
        // Someone took the pool: two walks must never run on it at once.
        LogEvent(LogLevel::kError, "job.lease_lost", {{"job", job.id}, {"pool", job.pool}});
        lease_lost_ = true;
        driver.Stop("the lease of pool " + job.pool + " was lost (another process took it)");
      }
    }
    if (all) renewed_ = now;
    // Not renewed for half its life (the store failing): stop before it
    // expires and another process may take the pool.
    if (!lease_lost_ && now - renewed_ > kLeaseTtl / 2) {
      LogEvent(LogLevel::kError, "job.lease_unrenewed", {{"seconds", static_cast<int64_t>(kLeaseTtl.count() / 2)}});
      lease_lost_ = true;
      driver.Stop("the pool's lease could not be renewed for " + std::to_string(kLeaseTtl.count() / 2) +
                  "s (the state store fails)");
    }
  }
  if (cancelled_ || now < next_poll_) return;  // rounds come fast: a cancel is read twice a second
  next_poll_ = now + std::chrono::milliseconds(500);
  for (const Job& job : jobs_) {
    auto read = store_.FindJob(job.id);
    if (!read || !read.value() || !read.value()->cancel_requested) continue;
    LogEvent(LogLevel::kWarn, "job.cancel", {{"job", job.id}});
    cancelled_ = true;
    driver.Interrupt();
    return;
  }
}

void JobFollower::Finish(const RollDriver& driver, JobEnd end) {
  // A cancel asked for since the last poll counts too.
  for (const Job& job : jobs_) {
    auto read = store_.FindJob(job.id);
    cancelled_ = cancelled_ || (read && read.value() && read.value()->cancel_requested);
  }
  if (cancelled_) end = JobEnd::kCancelled;
  for (size_t i = 0; i < jobs_.size() && i < driver.walks().size(); ++i) {
    const Walker& walker = driver.walks()[i].walker;
    Job& job = jobs_[i];
    job.hosts = JobHostsOf(walker);
    Warn(store_.UpdateJobHosts(job.id, job.hosts), job);
    job.state = JobEndState(walker, end);
    // The few words: the walk's own lines said the rest (a capacity stop has
    // no other place that says what held the budget).
    job.detail = job.state == "cancelled"      ? "cancelled (`caretaker job cancel`)"
                 : walker.stopped_on_capacity() ? walker.stop_reason()
                                                : walker.stop_brief();
    job.detail = job.detail.substr(0, job.detail.find('\n'));
    job.ended = job.state == "paused" ? std::nullopt : std::optional<SysSeconds>(NowSeconds());
    Warn(store_.UpdateJob(job), job);
    Release(job);
  }
  finished_ = true;
}

void JobFollower::Abandon(const std::string& state, const std::string& why) {
  for (Job& job : jobs_) {
    job.state = state;
    job.detail = why.substr(0, why.find('\n'));
    job.ended = state == "paused" ? std::nullopt : std::optional<SysSeconds>(NowSeconds());
    Warn(store_.UpdateJob(job), job);
    Release(job);
  }
  finished_ = true;
}

}  // namespace caretaker
