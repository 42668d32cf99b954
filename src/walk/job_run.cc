// See job_run.h.
#include "src/walk/job_run.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "src/base/file_lock.h"

namespace caretaker {
namespace {

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

bool OnThisMachine(const std::string& owner) { return owner.substr(0, owner.find(':')) == HostName(); }

// "host:pid:nonce" -> <state dir>/locks/owner-pid-nonce.lock
std::string OwnerLockPath(const Config& config, const std::string& owner) {
  std::string rest = owner.substr(owner.find(':') + 1);
  std::replace(rest.begin(), rest.end(), ':', '-');
  return config.state_dir + "/locks/owner-" + rest + ".lock";
}

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

// Whether `job` holds its pool's queue.
bool Holds(const Job& job) {
  if (job.state == "stopped") return job.AnyOut();
  return job.state == "queued" || job.state == "running" || job.state == "paused" || job.state == "failed";
}

}  // namespace

std::string JobOwnerName() {
  static const std::string name = [] {
    std::random_device random;
    char nonce[9];
    std::snprintf(nonce, sizeof nonce, "%08x", static_cast<unsigned>(random()));
    return HostName() + ":" + std::to_string(::getpid()) + ":" + nonce;
  }();
  return name;
}

Result<void> HoldOwnerLock(const Config& config) {
  static std::map<std::string, FileLock> held;  // state dir -> this process's lock there
  if (held.count(config.state_dir)) return boost::outcome_v2::success();
  // A tester holds it for an instant at most: wait a little.
  auto lock = FileLock::Acquire(OwnerLockPath(config, JobOwnerName()), Millis(2000));
  if (!lock) return lock.error();
  held.emplace(config.state_dir, std::move(lock).value());
  return boost::outcome_v2::success();
}

bool OwnerGoneHere(const Config& config, const std::string& owner) {
  return OnThisMachine(owner) && !FileLock::Held(OwnerLockPath(config, owner));
}

bool JobOwnerGone(const Config& config, const StateStore& store, const Job& job) {
  if (job.owner.empty()) return true;
  if (OnThisMachine(job.owner)) return OwnerGoneHere(config, job.owner);
  auto lease = store.ReadLease(job.pool);
  if (!lease) return false;  // cannot tell: the careful answer
  return !lease.value() || lease.value()->job != job.id || lease.value()->expires <= NowSeconds();
}

void BreakDeadLease(const Config& config, StateStore& store, const std::string& pool) {
  auto lease = store.ReadLease(pool);
  if (!lease || !lease.value() || !OwnerGoneHere(config, lease.value()->owner)) return;
  (void)store.ReleaseLease(pool, lease.value()->owner);
}

std::string WalkedBy(const StateStore& store, const std::string& pool) {
  auto lease = store.ReadLease(pool);
  if (!lease || !lease.value()) return "pool " + pool + " is being walked by another process";
  return "pool " + pool + " is being walked by job " + std::to_string(lease.value()->job) + " (" +
         lease.value()->owner + ")";
}

Result<void> ClaimJobHere(const Config& config, StateStore& store, const Job& job, bool clear_cancel) {
  if (auto held = HoldOwnerLock(config); !held) return held.error();
  BreakDeadLease(config, store, job.pool);
  const SysSeconds now = NowSeconds();
  auto claimed = store.ClaimJob(job.id, JobOwnerName(), now + kLeaseTtl, now, job.owner, clear_cancel);
  if (!claimed) return claimed.error();
  if (claimed.value()) return boost::outcome_v2::success();
  auto again = store.FindJob(job.id);
  if (again && again.value() && (again.value()->owner != job.owner || again.value()->state != job.state)) {
    const Job& now_job = *again.value();
    return Error{"job " + std::to_string(job.id) + " changed meanwhile: it is " + now_job.state +
                 (now_job.owner.empty() ? "" : " (" + now_job.owner + ")")};
  }
  return Error{WalkedBy(store, job.pool)};
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

std::string HeldBy(const Job& job, bool said) {
  const std::string id = std::to_string(job.id);
  // Why, for someone who did not see the walk: each failed host's own line.
  std::string why = job.detail;
  if (!said) {
    std::string failed;
    for (const JobHost& h : job.hosts) {
      if (h.phase == "failed" && !h.detail.empty()) failed += (failed.empty() ? "" : "; ") + h.server + ": " + h.detail;
    }
    if (!failed.empty()) why = failed;
  }
  return "job " + id + " " + job.state + (why.empty() ? "" : " (" + why + ")") +
         "; first `caretaker job retry " + id + "` (go on from where it stopped), `caretaker job restore " + id +
         "` (put its hosts back) or `caretaker job cancel " + id + "`";
}

std::string BlockedMessage(const Config& config, const StateStore& store, const Job& job) {
  const std::string id = std::to_string(job.id);
  const std::string out = "pool " + job.pool + ": job " + id + " ";
  const std::string act = "`caretaker job retry " + id + "`, `caretaker job restore " + id +
                          "` (put its hosts back) or `caretaker job cancel " + id + "`";
  if (job.state == "queued") {
    return out + "is queued (`caretaker serve` runs it" + (job.window ? " in its window" : "") +
           "); wait for it, or `caretaker job cancel " + id + "`";
  }
  if (job.state == "paused") return out + "is paused (" + job.detail + "); `caretaker serve` goes on with it, or " + act;
  if (job.state == "running") {
    if (!JobOwnerGone(config, store, job)) {
      return out + "is running (" + job.owner + "); wait for it, or `caretaker job cancel " + id + "`";
    }
    return out + "was running when its process (" + job.owner + ") died; `caretaker serve` picks it up, or " + act;
  }
  return "pool " + job.pool + ": " + HeldBy(job);
}

std::string TaskSteps(const TaskConfig& task) {
  std::string out;
  for (const StepConfig& step : task.steps) out += (out.empty() ? "" : " | ") + step.name;
  return out;
}

namespace {

// Where a member whose record (of this job) is `r`, not in phase "steps",
// starts.
ResumePoint ResumeAt(const MaintRecord& r, size_t steps) {
  if (r.phase == "draining") return ResumePoint{HostPhase::kDraining, 0};
  if (r.phase == "gates" || r.phase == "enabling") return ResumePoint{HostPhase::kGates, 0};
  if (r.step == 0) return ResumePoint{HostPhase::kMaint, 0};  // "maint": the next step
  if (r.step >= steps) return ResumePoint{HostPhase::kGates, 0};
  return ResumePoint{HostPhase::kStep, r.step};
}

// A member whose record says a step had started (and may have run).
struct MidStep {
  std::string server;
  size_t step = 0;
  bool repeat = false;  // run it again without asking
};

std::string Names(const std::vector<MidStep>& mid, const TaskConfig& task) {
  std::string out;
  for (const MidStep& m : mid) out += (out.empty() ? "" : ", ") + m.server + " (" + StepName(task, m.step) + ")";
  return out;
}

// The sentence asking an operator about members mid-step ("" for none).
std::string AskAbout(const std::vector<MidStep>& undecided, const TaskConfig& task, const std::string& id) {
  if (undecided.empty()) return "";
  if (undecided.size() > 1) {
    return "several members were in a step that is not safe_to_repeat when job " + id + " ended: " +
           Names(undecided, task) + "; caretaker cannot tell whether those steps ran: check each, put it back with " +
           "`caretaker maint stop` (or all of them: `caretaker job restore " + id + "`), then `caretaker job retry " +
           id + "`";
  }
  const MidStep& m = undecided.front();
  return m.server + " was in " + StepName(task, m.step) + " when job " + id +
         " ended, and that step is not safe_to_repeat, so caretaker cannot tell whether it ran: check " + m.server +
         ", then `caretaker job retry " + id + " --from-step " + std::to_string(m.step + 1) +
         "` (run it again) or `--from-step " + std::to_string(m.step + 2) + "` (it finished)";
}

}  // namespace

RetryPlan PlanRetry(const Job& job, const TaskConfig& task, const std::vector<MaintRecord>& records,
                    std::optional<size_t> from_step, bool by_operator) {
  RetryPlan plan;
  const std::string id = std::to_string(job.id);
  const size_t steps = task.steps.size();
  std::vector<MidStep> mid;
  bool mid_walk = false;
  for (const JobHost& h : job.hosts) {
    if (h.phase == "done") continue;
    const MaintRecord* r = RecordOf(job, h.server, records);
    if (!r && h.phase == "baking") {
      // In traffic, its bake cut short (caretaker stopped or died): it bakes
      // again before any other member starts.
      plan.members.push_back(h.server);
      plan.resume[h.server] = ResumePoint{HostPhase::kBaking, 0, "its bake was cut short"};
      continue;
    }
    if (!r && h.phase != "pending" && h.phase != "draining" && h.phase != "skipped") {
      // Past its drain, and no record: it was put back (released, by the
      // walk or by hand). Never walked again unasked.
      plan.skipped.push_back(h.server);
      continue;
    }
    plan.members.push_back(h.server);
    if (!r) continue;  // in traffic: a normal start
    mid_walk = true;
    if (!by_operator && h.phase == "failed") {
      plan.refused = h.server + " failed (" + h.detail + ") when job " + id + " ended: `caretaker job retry " + id +
                     "` runs its step again, `caretaker job restore " + id + "` puts it back, `caretaker job cancel " +
                     id + "` drops the job";
      return plan;
    }
    if (r->phase != "steps") {
      plan.resume[h.server] = ResumeAt(*r, steps);
      continue;
    }
    const size_t step = std::min(r->step, steps - 1);
    // A step that failed is run again only when an operator asks for it.
    mid.push_back({h.server, step, task.steps[step].safe_to_repeat || (by_operator && h.phase == "failed")});
  }
  if (mid_walk && !job.task_steps.empty() && job.task_steps != TaskSteps(task)) {
    plan.refused = "task " + job.task + " changed since job " + id + " started (its steps were: " + job.task_steps +
                   "; now: " + TaskSteps(task) + "), so caretaker cannot tell where its members stand: put them "
                   "back with `caretaker job restore " + id + "`, or `caretaker job cancel " + id + "`";
    return plan;
  }
  if (from_step) {
    // The operator checked one member and says where it goes on.
    if (mid.size() != 1) {
      plan.refused = "--from-step says where one member goes on, and " +
                     (mid.empty() ? std::string("no member of job ") + id + " was in a step: retry without it"
                                  : "several were in a step: " + Names(mid, task) + "; put them back with `caretaker "
                                    "maint stop` (or `caretaker job restore " + id + "`) first");
      return plan;
    }
    plan.resume[mid.front().server] = *from_step > steps ? ResumePoint{HostPhase::kGates, 0}
                                                         : ResumePoint{HostPhase::kStep, *from_step - 1};
    return plan;
  }
  std::vector<MidStep> undecided;
  for (const MidStep& m : mid) {
    if (m.repeat) {
      plan.resume[m.server] = ResumePoint{HostPhase::kStep, m.step};
    } else {
      undecided.push_back(m);
    }
  }
  plan.refused = AskAbout(undecided, task, id);
  return plan;
}

std::optional<std::string> ReconcileResume(const Job& job, std::map<std::string, ResumePoint>& resume,
                                           const PoolView& live) {
  for (const MemberView& m : live.members) {
    auto at = resume.find(m.server);
    if (at == resume.end() || at->second.phase == HostPhase::kGates || at->second.phase == HostPhase::kBaking ||
        m.out_everywhere) {
      continue;
    }
    if (at->second.phase == HostPhase::kDraining) {
      resume.erase(at);
      continue;
    }
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
    // Out now (draining .. enabling), or ended out.
    h.out_of_traffic = s.out_of_traffic || (!s.ended && s.phase != HostPhase::kPending && s.phase != HostPhase::kBaking);
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
