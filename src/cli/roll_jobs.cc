// See roll_jobs.h.
#include "src/cli/roll_jobs.h"

#include "src/run/roll_setup.h"

namespace caretaker::roll_detail {

std::optional<Error> CheckPoolsFree(const Config& config, const StateStore& store,
                                    const std::vector<std::string>& pools) {
  for (const std::string& pool : pools) {
    auto head = PoolHead(store, pool);
    if (!head) return Error{head.error().message + "; nothing was changed"};
    if (!head.value()) continue;
    return Error{BlockedMessage(config, store, *head.value()) + "; nothing was changed", ErrorKind::kRefused};
  }
  return std::nullopt;
}

std::optional<Error> PrepareRetry(const Config& config, const StateStore& store, const RollOptions& options,
                                  Retry& retry, const MaintIo& io) {
  const std::string id = std::to_string(options.retry_job);
  auto found = store.FindJob(options.retry_job);
  if (!found) return found.error();
  if (!found.value()) return Error{"there is no job " + id + " (`caretaker jobs` lists them)", ErrorKind::kUsage};
  retry.job = std::move(*found.value());
  const Job& job = retry.job;
  if (job.state == "running" && !JobOwnerGone(config, store, job)) {
    return Error{"job " + id + " is running (" + job.owner + "); nothing was changed", ErrorKind::kRefused};
  }
  if (job.Ended() || job.state == "queued") {
    return Error{"job " + id + " is " + job.state + ": there is nothing to retry", ErrorKind::kUsage};
  }
  // Only the job that holds its pool's queue goes on (not an older one
  // behind a newer failure).
  if (auto head = PoolHead(store, job.pool); head && head.value() && head.value()->id != job.id) {
    return Error{BlockedMessage(config, store, *head.value()) + "; job " + id +
                     " cannot go on before it; nothing was changed",
                 ErrorKind::kRefused};
  }
  const TaskConfig* task = config.FindTask(job.task);
  if (!task || !config.FindPool(job.pool)) {
    return Error{"job " + id + " walks pool " + job.pool + " through task " + job.task + ", and " + config.path +
                     " no longer has " + (task ? "that pool" : "that task") + "; put it back, or `caretaker job " +
                     "restore " + id + "`",
                 ErrorKind::kUsage};
  }
  auto records = store.List();
  if (!records) return records.error();
  RetryPlan plan = PlanRetry(job, *task, records.value(), options.from_step, true);
  if (!plan.refused.empty()) return Error{plan.refused + "; nothing was changed", ErrorKind::kRefused};
  if (!plan.skipped.empty()) {
    io.err << "caretaker: not walked again (back in traffic without its record: put back meanwhile): "
           << JoinNames(plan.skipped) << "\n";
  }
  if (plan.members.empty()) {
    return Error{"job " + id + " has no member left to walk; `caretaker job cancel " + id + "` ends it",
                 ErrorKind::kUsage};
  }
  retry.options = JobOptions(job, plan.members, options);
  retry.resume = std::move(plan.resume);
  return std::nullopt;
}

std::optional<Error> PrepareJobs(const Config& config, const StateStore& store, const RollOptions& options,
                                 Retry& retry, const MaintIo& io) {
  if (options.retry_job) return PrepareRetry(config, store, options, retry, io);
  retry.options = options;
  if (options.queue) return std::nullopt;
  return CheckPoolsFree(config, store, options.pools);
}

}  // namespace caretaker::roll_detail
