// See job_run.h.
#include "src/job_run.h"

#include <unistd.h>

#include <algorithm>

namespace caretaker {
namespace {

SysSeconds NowSeconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

bool OnThisMachine(const std::string& owner) { return owner.substr(0, owner.rfind(':')) == HostName(); }

const MaintRecord* RecordOf(const Job& job, const std::string& server, const std::vector<MaintRecord>& records) {
  for (const MaintRecord& r : records) {
    if (r.pool == job.pool && r.server == server && r.job == job.id) return &r;
  }
  return nullptr;
}

std::string StepName(const TaskConfig& task, size_t step) {
  return "step " + std::to_string(step + 1) + "/" + std::to_string(task.steps.size()) + " \"" +
         task.steps[step].name + "\"";
}

bool AnyOut(const Job& job) {
  return std::any_of(job.hosts.begin(), job.hosts.end(), [](const JobHost& h) { return h.out_of_traffic; });
}

// Whether `job` holds its pool's queue.
bool Holds(const Job& job) {
  if (job.state == "stopped") return AnyOut(job);
  return job.state == "queued" || job.state == "running" || job.state == "paused" || job.state == "failed";
}

}  // namespace

std::string JobOwnerName() { return HostName() + ":" + std::to_string(::getpid()); }

Result<FileLock> LockJob(const Config& config, int64_t id) {
  return FileLock::Acquire(config.state_dir + "/locks/job-" + std::to_string(id) + ".lock", Millis(0));
}

bool JobOwnerGone(const Config& config, const StateStore& store, const Job& job) {
  if (job.owner.empty()) return true;
  if (OnThisMachine(job.owner)) return bool(LockJob(config, job.id));
  auto lease = store.ReadLease(job.pool);
  if (!lease) return false;  // cannot tell: the careful answer
  return !lease.value() || lease.value()->job != job.id || lease.value()->expires <= NowSeconds();
}

void BreakDeadLease(const Config& config, StateStore& store, const std::string& pool) {
  auto lease = store.ReadLease(pool);
  if (!lease || !lease.value() || !OnThisMachine(lease.value()->owner)) return;
  Job holder;
  holder.id = lease.value()->job;
  holder.pool = pool;
  holder.owner = lease.value()->owner;
  if (JobOwnerGone(config, store, holder)) (void)store.ReleaseLease(pool, holder.owner);
}

Result<FileLock> ClaimJobHere(const Config& config, StateStore& store, const Job& job) {
  BreakDeadLease(config, store, job.pool);  // first: it tests the lock of the job that holds the lease
  auto lock = LockJob(config, job.id);
  if (!lock) return Error{"job " + std::to_string(job.id) + " is being run by another process (" + job.owner + ")"};
  const SysSeconds now = NowSeconds();
  auto claimed = store.ClaimJob(job.id, JobOwnerName(), now + kLeaseTtl, now);
  if (!claimed) return claimed.error();
  if (!claimed.value()) {
    auto lease = store.ReadLease(job.pool);
    std::string holder = lease && lease.value() ? "job " + std::to_string(lease.value()->job) + " (" +
                                                      lease.value()->owner + ")"
                                                : "another process";
    return Error{"pool " + job.pool + " is being walked by " + holder};
  }
  return std::move(lock).value();
}

const Job* PoolHeadIn(const std::vector<Job>& open, const std::string& pool) {
  for (const Job& job : open) {
    if (job.pool == pool && Holds(job)) return &job;
  }
  return nullptr;
}

Result<std::optional<Job>> PoolHead(const StateStore& store, const std::string& pool) {
  auto open = store.OpenJobs();
  if (!open) return open.error();
  const Job* head = PoolHeadIn(open.value(), pool);
  return head ? std::optional<Job>(*head) : std::nullopt;
}

std::string BlockedMessage(const Config& config, const StateStore& store, const Job& job) {
  const std::string id = std::to_string(job.id);
  const std::string out = "pool " + job.pool + ": job " + id + " ";
  const std::string act = "`caretaker job retry " + id + "` (go on from where it stopped), `caretaker job restore " +
                          id + "` (put its hosts back) or `caretaker job cancel " + id + "`";
  if (job.state == "queued") {
    return out + "is queued (`caretaker serve` runs it" + (job.window ? " in its window" : "") +
           "); wait for it, or `caretaker job cancel " + id + "`";
  }
  if (job.state == "paused") {
    return out + "is paused (" + job.detail + "); `caretaker serve` goes on with it, or " + act;
  }
  if (job.state == "running") {
    if (!JobOwnerGone(config, store, job)) {
      return out + "is running (" + job.owner + "); wait for it, or `caretaker job cancel " + id + "`";
    }
    return out + "was running when its process (" + job.owner + ") died; first " + act;
  }
  return out + job.state + (job.detail.empty() ? "" : " (" + job.detail + ")") + "; first " + act;
}

RetryPlan PlanRetry(const Job& job, const TaskConfig& task, const std::vector<MaintRecord>& records,
                    std::optional<size_t> from_step) {
  RetryPlan plan;
  const size_t steps = task.steps.size();
  for (const JobHost& h : job.hosts) {
    if (h.phase == "done") continue;
    plan.members.push_back(h.server);
    const MaintRecord* r = RecordOf(job, h.server, records);
    if (!r || r->phase == "draining") continue;  // in traffic, or at most drained: a normal start
    if (r->phase == "gates" || r->phase == "enabling") {
      plan.resume[h.server] = ResumePoint{HostPhase::kGates, 0};
      continue;
    }
    if (r->phase == "maint") {
      if (r->step == 0) {
        plan.resume[h.server] = ResumePoint{HostPhase::kMaint, 0};
      } else if (r->step >= steps) {
        plan.resume[h.server] = ResumePoint{HostPhase::kGates, 0};
      } else {
        plan.resume[h.server] = ResumePoint{HostPhase::kStep, r->step};
      }
      continue;
    }
    const size_t step = std::min(r->step, steps - 1);  // phase "steps": it may have run
    if (from_step) {
      plan.resume[h.server] = *from_step > steps ? ResumePoint{HostPhase::kGates, 0}
                                                 : ResumePoint{HostPhase::kStep, *from_step - 1};
      continue;
    }
    if (h.phase == "failed" || task.steps[step].safe_to_repeat) {
      plan.resume[h.server] = ResumePoint{HostPhase::kStep, step};
      continue;
    }
    const std::string id = std::to_string(job.id);
    plan.refused = h.server + " was in " + StepName(task, step) + " when job " + id +
                   " ended, and that step is not safe_to_repeat, so caretaker cannot tell whether it ran: check " +
                   h.server + ", then `caretaker job retry " + id + " --from-step " + std::to_string(step + 1) +
                   "` (run it again) or `--from-step " + std::to_string(step + 2) + "` (it finished)";
  }
  return plan;
}

std::optional<std::string> ResumeConflict(const Job& job, const std::map<std::string, ResumePoint>& resume,
                                          const PoolView& live) {
  for (const MemberView& m : live.members) {
    auto at = resume.find(m.server);
    if (at == resume.end() || at->second.phase == HostPhase::kGates || m.out_everywhere) continue;
    const std::string id = std::to_string(job.id);
    return "job " + id + "'s record says " + m.server + " is out of traffic (" + HostPhaseName(at->second.phase) +
           "), but HAProxy shows it in traffic (" + m.health + "): someone put it back; check it, then " +
           "`caretaker job cancel " + id + "`";
  }
  return std::nullopt;
}

std::vector<JobHost> JobHostsOf(const Walker& walker) {
  std::vector<JobHost> out;
  for (const HostStatus& s : walker.hosts()) {
    JobHost h;
    h.server = s.server;
    h.phase = HostPhaseName(s.phase);
    h.step = s.step;
    h.detail = s.detail.substr(0, s.detail.find('\n'));
    h.out_of_traffic = s.out_of_traffic;
    out.push_back(std::move(h));
  }
  return out;
}

std::string JobEndState(const Walker& walker, JobEnd end) {
  bool all_done = true, failed = false;
  for (const HostStatus& s : walker.hosts()) {
    all_done = all_done && s.phase == HostPhase::kDone;
    failed = failed || s.phase == HostPhase::kFailed || s.phase == HostPhase::kSkipped;
  }
  if (all_done) return "done";
  if (failed) return "failed";
  switch (end) {
    case JobEnd::kCancelled: return "cancelled";
    case JobEnd::kPaused: return "paused";
    case JobEnd::kInterrupted: return "stopped";
    case JobEnd::kWalked: break;
  }
  return walker.stop_reason().empty() ? "stopped" : "failed";  // e.g. paused on capacity too long
}

}  // namespace caretaker
