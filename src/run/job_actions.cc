// See job_actions.h.
#include "src/run/job_actions.h"

#include "src/run/roll_setup.h"
#include "src/walk/job_run.h"

namespace caretaker {

std::vector<MaintRecord> JobLeftOut(const StateStore& store, const Job& job) {
  std::vector<MaintRecord> out;
  auto records = store.List();
  if (!records) return out;
  for (const MaintRecord& r : records.value()) {
    if (r.job == job.id) out.push_back(r);
  }
  return out;
}

std::optional<Error> EndJobAsRead(StateStore& store, const Job& job, const std::string& state,
                                  const std::string& detail) {
  auto ended = store.EndJobIf(job.id, job.state, job.owner, state, detail);
  if (!ended) return ended.error();
  if (ended.value()) return std::nullopt;
  auto now = store.FindJob(job.id);
  std::string is = now && now.value() ? now.value()->state + " (" + now.value()->owner + ")" : "changed";
  return Error{"job " + std::to_string(job.id) + " changed meanwhile: it is now " + is +
               "; look again (`caretaker job show " + std::to_string(job.id) + "`)"};
}

Result<CancelOutcome> CancelJob(const Config& config, StateStore& store, int64_t id, const std::string& who) {
  auto found = store.FindJob(id);
  if (!found) return found.error();
  if (!found.value()) {
    return Error{"there is no job " + std::to_string(id) + " (`caretaker jobs` lists them)", ErrorKind::kNotFound};
  }
  const Job& job = *found.value();
  CancelOutcome outcome;
  if (job.state == "running" && !JobOwnerGone(config, store, job)) {
    if (auto asked = store.RequestCancel(id, who); !asked) return asked.error();
    outcome.text = "job " + std::to_string(id) + ": cancel requested; its walk (" + job.owner +
                   ") stops within a second: no member starts, draining ones go back, the others finish their task";
    return outcome;
  }
  if (job.Ended()) {
    return Error{"job " + std::to_string(id) + " is " + job.state + ": there is nothing to cancel", ErrorKind::kUsage};
  }
  if (auto no = EndJobAsRead(store, job, "cancelled", "cancelled by " + who)) return *no;
  BreakDeadLease(config, store, job.pool);
  outcome.text = "job " + std::to_string(id) + " cancelled; pool " + job.pool + " may be walked again";
  outcome.left_out = JobLeftOut(store, job);
  return outcome;
}

Result<RetryPlan> PlanJobRetry(const Config& config, const StateStore& store, const Job& job,
                               std::optional<size_t> from_step) {
  const std::string id = std::to_string(job.id);
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
  const size_t steps = task->steps.size();
  if (from_step && (*from_step < 1 || *from_step > steps + 1)) {
    return Error{"task " + job.task + " has " + std::to_string(steps) + " step(s): the step to go on at is 1 to " +
                     std::to_string(steps) + ", or " + std::to_string(steps + 1) + " when its steps are done; " +
                     "nothing was changed",
                 ErrorKind::kUsage};
  }
  auto records = store.List();
  if (!records) return records.error();
  RetryPlan plan = PlanRetry(job, *task, records.value(), from_step, true);
  if (!plan.refused.empty()) return Error{plan.refused + "; nothing was changed", ErrorKind::kRefused};
  if (plan.members.empty()) {
    const std::string skipped = roll_detail::JoinNames(plan.skipped);
    return Error{"job " + id + " has no member left to walk" +
                     (skipped.empty() ? "" : " (back in traffic without its record: " + skipped + ")") +
                     "; `caretaker job cancel " + id + "` ends it",
                 ErrorKind::kUsage};
  }
  return plan;
}

std::string LeftOutSentence(const MaintRecord& r) {
  return r.pool + "/" + r.server + " is still OUT OF TRAFFIC (" + r.phase + "), with its record: `caretaker maint stop " +
         r.pool + "/" + r.server + "` puts it back";
}

std::optional<Error> RestoreRefused(const Config& config, const StateStore& store, const Job& job) {
  const std::string id = std::to_string(job.id);
  if (job.state == "running" && !JobOwnerGone(config, store, job)) {
    return Error{"job " + id + " is running (" + job.owner + "): `caretaker job cancel " + id +
                     "` first; nothing was changed",
                 ErrorKind::kRefused};
  }
  if (!job.retry_by.empty()) {
    return Error{"job " + id + " is to go on on serve (a retry asked by " + job.retry_by + "): `caretaker job cancel " +
                     id + "` drops it, then its hosts can be put back; nothing was changed",
                 ErrorKind::kRefused};
  }
  if (job.Ended() || job.state == "queued") {
    return Error{"job " + id + " is " + job.state + ": there is nothing to restore" +
                     (job.state == "queued" ? " (it never ran: `caretaker job cancel " + id + "` drops it)"
                                            : std::string()),
                 ErrorKind::kUsage};
  }
  return std::nullopt;
}

}  // namespace caretaker
