// Jobs as they run: who owns one (its pool's lease, and a lock file that
// dies with its process), which job holds each pool's queue, where a job
// that is picked up again (retried, resumed after a crash, after its window
// reopened) starts each member, and its end state. Decides; the store is
// read and written by the callers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/store/job.h"
#include "src/store/state_store.h"
#include "src/walk/walker.h"

namespace caretaker {

// A running job's lease is renewed every kLeaseRenew and lasts kLeaseTtl: an
// owner that hangs or dies on another machine loses it after that.
inline constexpr std::chrono::seconds kLeaseTtl{30};
inline constexpr std::chrono::seconds kLeaseRenew{5};

// "host:pid:nonce", the owner of the jobs this process runs (the nonce: a
// pid used again after a reboot is another owner).
std::string JobOwnerName();
// Takes this process's owner lock (state dir/locks/owner-PID-NONCE.lock),
// held for the rest of its life, so others can tell at once when it is gone.
// Taken before it adds or claims a job; later calls cost nothing.
Result<void> HoldOwnerLock(const Config& config);
// Whether `owner` is a process of this machine that is gone (its owner lock
// is not held). An owner elsewhere is never known gone here: its lease's
// expiry says so.
bool OwnerGoneHere(const Config& config, const std::string& owner);
// Whether the process that ran `job` is gone: OwnerGoneHere, or, for an
// owner on another machine, its lease of the pool expired or moved on.
bool JobOwnerGone(const Config& config, const StateStore& store, const Job& job);
// Breaks the lease of `pool` when its owner is a process of this machine
// that is gone (a caretaker killed mid-walk), so the pool need not wait for
// the lease to expire.
void BreakDeadLease(const Config& config, StateStore& store, const std::string& pool);
// "pool P is being walked by job N (owner)": who holds the pool's lease.
std::string WalkedBy(const StateStore& store, const std::string& pool);
// Takes `job`, as read from the store (queued, paused, failed, stopped, or
// running with its owner gone), for this process: the owner lock, then the
// pool's lease and the job (StateStore::ClaimJob). An error when the lease
// is held or the job changed meanwhile.
Result<void> ClaimJobHere(const Config& config, StateStore& store, const Job& job, bool clear_cancel);

// The job at the head of `pool`'s queue: the oldest one not finished, unless
// it is a stopped job that left nothing out of traffic (an operator stopped
// it; the pool is free). nullopt: the pool is free.
Result<std::optional<Job>> PoolHead(const StateStore& store, const std::string& pool);
// The head of `pool` in `open` (StateStore::OpenJobs, oldest first).
const Job* PoolHeadIn(const std::vector<Job>& open, const std::string& pool);
// One sentence: why `job` holds its pool, and what the operator can do.
std::string BlockedMessage(const Config& config, const StateStore& store, const Job& job);
// The same for a failed or stopped job, without the pool: "job 7 failed
// (db2: step 1/2 ... failed: ...); first `caretaker job retry 7` (...), ...".
// `said`: the walk's own lines just told why, in full (the roll that ran
// it): only the few words then.
std::string HeldBy(const Job& job, bool said = false);

// Where a job picked up again starts each member.
struct RetryPlan {
  std::vector<std::string> members;           // to walk, in the job's order (done ones left out)
  std::map<std::string, ResumePoint> resume;  // members out of traffic because of the job
  std::vector<std::string> skipped;           // past their drain with no record: put back meanwhile
  std::string refused;                        // non-empty: an operator must decide first (why, and how)
};
// "stop | upgrade | start": what a job records of its task, to notice a
// task changed between a job's runs.
std::string TaskSteps(const TaskConfig& task);
// From the job's hosts and its members' records (`records`: every record).
// A record in "draining" says the drain was the job's; in "maint", the next
// step; in "steps", a step that started and may have run: it is run again
// when it is safe_to_repeat, or when it failed and `by_operator` (`job
// retry`; serve never repeats a failed step on its own); otherwise the plan
// is refused — `from_step` (1-based; steps + 1: all done) decides for one
// such member, never for several. A member past its drain with no record
// was put back meanwhile: skipped, never walked again unasked. Refused too:
// a task whose steps changed while members were mid-walk.
RetryPlan PlanRetry(const Job& job, const TaskConfig& task, const std::vector<MaintRecord>& records,
                    std::optional<size_t> from_step, bool by_operator);

// The resume points checked against HAProxy (`live`), before the walk: a
// member whose record says draining but that is in traffic never had its
// drain sent, so it starts as any member does, with a capacity check (its
// point is dropped); any other member the records say is out must be out —
// one back in traffic was put back by someone, and repeating its steps
// would hit live traffic. The sentence saying so (what to do), or nullopt.
std::optional<std::string> ReconcileResume(const Job& job, std::map<std::string, ResumePoint>& resume,
                                           const PoolView& live);

// The job's hosts as the walker sees them now.
std::vector<JobHost> JobHostsOf(const Walker& walker);

// Why a walk ended early, as the process running it knows.
enum class JobEnd {
  kWalked,       // the walk ran to its end (or stopped on its own: failures, capacity)
  kInterrupted,  // Ctrl-C of the roll running it
  kCancelled,    // `caretaker job cancel`
  kPaused,       // its window closed, or serve stopped: picked up again later
};
// done, failed, stopped, cancelled or paused.
std::string JobEndState(const Walker& walker, JobEnd end);

}  // namespace caretaker
