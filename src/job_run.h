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

#include "src/config.h"
#include "src/file_lock.h"
#include "src/job.h"
#include "src/state_store.h"
#include "src/walker.h"

namespace caretaker {

// A running job's lease is renewed every kLeaseRenew and lasts kLeaseTtl: an
// owner that hangs or dies on another machine loses it after that.
inline constexpr std::chrono::seconds kLeaseTtl{30};
inline constexpr std::chrono::seconds kLeaseRenew{5};

// "hostname:pid", the owner of the jobs this process runs.
std::string JobOwnerName();
// The lock a process holds while it runs job `id` (state dir/locks/job-ID.lock).
Result<FileLock> LockJob(const Config& config, int64_t id);
// Whether the process that ran `job` is gone. Known at once for an owner on
// this machine (its lock can be taken); elsewhere, when its lease expired.
bool JobOwnerGone(const Config& config, const StateStore& store, const Job& job);
// Breaks the lease of `pool` when its owner is a process of this machine
// that is gone (a caretaker killed mid-walk), so the pool need not wait for
// the lease to expire.
void BreakDeadLease(const Config& config, StateStore& store, const std::string& pool);
// Takes `job` (queued, paused, or running with its owner gone) for this
// process: the pool's lease (store.ClaimJob) and the job's lock. An error
// when another owner holds the lease or the lock.
Result<FileLock> ClaimJobHere(const Config& config, StateStore& store, const Job& job);

// The job at the head of `pool`'s queue: the oldest one not finished, unless
// it is a stopped job that left nothing out of traffic (an operator stopped
// it; the pool is free). nullopt: the pool is free.
Result<std::optional<Job>> PoolHead(const StateStore& store, const std::string& pool);
// The head of `pool` in `open` (StateStore::OpenJobs, oldest first).
const Job* PoolHeadIn(const std::vector<Job>& open, const std::string& pool);
// One sentence: why `job` holds its pool, and what the operator can do.
std::string BlockedMessage(const Config& config, const StateStore& store, const Job& job);

// Where a job picked up again starts each member.
struct RetryPlan {
  std::vector<std::string> members;           // to walk, in the job's order (done ones left out)
  std::map<std::string, ResumePoint> resume;  // members out of traffic because of the job
  std::string refused;                        // non-empty: an operator must decide first (why, and how)
};
// From the job's hosts and its members' records (`records`: every record).
// A record in "maint" says the next step; one in "steps" says a step had
// started and may have run: it is run again when it failed (retrying it is
// the operator's decision) or is safe_to_repeat, else the plan is refused
// unless `from_step` (1-based; steps + 1: all done) says where to go on.
RetryPlan PlanRetry(const Job& job, const TaskConfig& task, const std::vector<MaintRecord>& records,
                    std::optional<size_t> from_step);

// A member the job's records say is out of traffic must be out in `live`:
// one back in traffic was put back by someone, and repeating its steps would
// hit live traffic. The sentence saying so (what to do), or nullopt.
std::optional<std::string> ResumeConflict(const Job& job, const std::map<std::string, ResumePoint>& resume,
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
