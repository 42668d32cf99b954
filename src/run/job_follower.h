// Keeps the jobs a RollDriver walks in step with the store: one job per walk
// (parallel to RollDriver::walks()), each claimed by this process (its pool's
// lease, renewed as the walk goes), its hosts' progress written
// as they change, a `caretaker job cancel` noticed within half a second, and
// its end state written when the walk ends. Used by `roll`, `job retry` and
// `serve`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/store/state_store.h"
#include "src/walk/job_run.h"

namespace caretaker {

class RollDriver;

// What a new job is made of.
struct NewJob {
  std::string pool;
  std::string task;
  std::string task_steps;            // TaskSteps() of the task, as configured now
  std::vector<std::string> members;  // in walk order
  std::string who;
  std::string reason;
  int max_failures = 1;
  bool force_sessions = false;
  std::optional<SysSeconds> window;  // a schedule's job
};
// A job of `spec`, in state "queued".
Job MakeJob(const NewJob& spec);

class JobFollower {
 public:
  JobFollower(const Config& config, StateStore& store) : config_(config), store_(store) {}
  ~JobFollower();

  // Adds a job for each of `jobs`, each already claimed by this process.
  // All or none: an error (a lease held by another process, the store)
  // cancels those added before it.
  Result<void> AddClaimed(const std::vector<NewJob>& jobs);
  // Claims `job`, as read from the store (a retry, or one serve picks up);
  // `clear_cancel`: an operator's retry drops an old cancel request.
  Result<void> Take(const Job& job, bool clear_cancel);
  const std::vector<Job>& jobs() const { return jobs_; }

  // After every round: hosts that changed, the lease, a cancel request
  // (which interrupts the driver).
  void Tick(RollDriver& driver);
  // The end state of each job (from its walk and `end`), and the leases back.
  void Finish(const RollDriver& driver, JobEnd end);
  // Ends every job without a walk (it could not start: `why`), in `state`.
  void Abandon(const std::string& state, const std::string& why);
  bool cancelled() const { return cancelled_; }
  // The lease of a job was lost (another process took its pool).
  bool lease_lost() const { return lease_lost_; }

 private:
  void Release(Job& job);

  const Config& config_;
  StateStore& store_;
  std::vector<Job> jobs_;
  std::vector<std::vector<JobHost>> last_;
  bool cancelled_ = false;
  bool lease_lost_ = false;
  bool finished_ = false;
  SteadyTime next_poll_{};
  SteadyTime next_renew_{};
  SteadyTime renewed_{};  // the last renewal that reached the store
};

}  // namespace caretaker
