// See roll_jobs.h.
#include "src/cli/roll_jobs.h"

#include "src/run/job_actions.h"
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
  auto planned = PlanJobRetry(config, store, job, options.from_step);
  if (!planned) return planned.error();
  RetryPlan& plan = planned.value();
  if (!plan.skipped.empty()) {
    io.err << "caretaker: not walked again (back in traffic without its record: put back meanwhile): "
           << JoinNames(plan.skipped) << "\n";
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
