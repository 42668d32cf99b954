// See roll_jobs.h.
#include "src/cli/roll_jobs.h"

#include "src/cli/exit_code.h"
#include "src/run/roll_setup.h"

namespace caretaker::roll_detail {
namespace {


}  // namespace

std::optional<int> CheckPoolsFree(const Config& config, const StateStore& store, const std::vector<std::string>& pools,
                                  const MaintIo& io) {
  for (const std::string& pool : pools) {
    auto head = PoolHead(store, pool);
    if (!head) {
      io.err << "caretaker: " << head.error().message << "; nothing was changed\n";
      return kExitFailed;
    }
    if (!head.value()) continue;
    io.err << "caretaker: " << BlockedMessage(config, store, *head.value()) << "; nothing was changed\n";
    return kExitRefused;
  }
  return std::nullopt;
}

std::optional<int> PrepareRetry(const Config& config, const StateStore& store, const RollOptions& options,
                                Retry& retry, const MaintIo& io) {
  const std::string id = std::to_string(options.retry_job);
  auto found = store.FindJob(options.retry_job);
  if (!found) {
    io.err << "caretaker: " << found.error().message << "\n";
    return kExitFailed;
  }
  if (!found.value()) {
    io.err << "caretaker: there is no job " << id << " (`caretaker jobs` lists them)\n";
    return kExitUsage;
  }
  retry.job = std::move(*found.value());
  const Job& job = retry.job;
  if (job.state == "running" && !JobOwnerGone(config, store, job)) {
    io.err << "caretaker: job " << id << " is running (" << job.owner << "); nothing was changed\n";
    return kExitRefused;
  }
  if (job.Ended() || job.state == "queued") {
    io.err << "caretaker: job " << id << " is " << job.state << ": there is nothing to retry\n";
    return kExitUsage;
  }
  // Only the job that holds its pool's queue goes on (not an older one
  // behind a newer failure).
  if (auto head = PoolHead(store, job.pool); head && head.value() && head.value()->id != job.id) {
    io.err << "caretaker: " << BlockedMessage(config, store, *head.value()) << "; job " << id
           << " cannot go on before it; nothing was changed\n";
    return kExitRefused;
  }
  const TaskConfig* task = config.FindTask(job.task);
  if (!task || !config.FindPool(job.pool)) {
    io.err << "caretaker: job " << id << " walks pool " << job.pool << " through task " << job.task
           << ", and " << config.path << " no longer has " << (task ? "that pool" : "that task")
           << "; put it back, or `caretaker job restore " << id << "`\n";
    return kExitUsage;
  }
  auto records = store.List();
  if (!records) {
    io.err << "caretaker: " << records.error().message << "\n";
    return kExitFailed;
  }
  RetryPlan plan = PlanRetry(job, *task, records.value(), options.from_step, true);
  if (!plan.refused.empty()) {
    io.err << "caretaker: " << plan.refused << "; nothing was changed\n";
    return kExitRefused;
  }
  if (!plan.skipped.empty()) {
    io.err << "caretaker: not walked again (back in traffic without its record: put back meanwhile): "
           << JoinNames(plan.skipped) << "\n";
  }
  if (plan.members.empty()) {
    io.err << "caretaker: job " << id << " has no member left to walk; `caretaker job cancel " << id
           << "` ends it\n";
    return kExitUsage;
  }
  retry.options = JobOptions(job, plan.members, options);
  retry.resume = std::move(plan.resume);
  return std::nullopt;
}

std::optional<int> PrepareJobs(const Config& config, const StateStore& store, const RollOptions& options,
                               Retry& retry, const MaintIo& io) {
  if (options.retry_job) return PrepareRetry(config, store, options, retry, io);
  retry.options = options;
  if (options.queue) return std::nullopt;
  return CheckPoolsFree(config, store, options.pools, io);
}

}  // namespace caretaker::roll_detail
