// Jobs: a walk of one pool through a task, kept in the state store so that it
// can be followed, listed, cancelled, retried, restored — and resumed after
// caretaker itself died in the middle of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/store/maint_record.h"

namespace caretaker {

// queued -> running -> done | failed | stopped | cancelled | paused.
// - queued: waits for `caretaker serve` (a schedule's, or `roll --queue`).
// - running: a process runs it and holds its pool's lease; when that process
//   died it is "orphaned" to readers, and picked up again (serve, job retry).
// - paused: its window closed, or serve stopped; serve goes on with it in
//   the next window (at once when it left members out of traffic).
// - failed (a member failed), stopped (interrupted with members left out):
//   they hold their pool's queue until an operator retries, restores or
//   cancels the job. A stopped job that left nothing out does not.
// `job restore` ends a job as "restored" once every host it left out is back.
inline constexpr std::string_view kJobStates[] = {"queued",  "running",   "paused",  "done",
                                                  "failed",  "stopped",   "cancelled", "restored"};

// One member of a job, where its walk is (the walker's HostPhaseName values).
struct JobHost {
  std::string server;
  std::string phase = "pending";
  size_t step = 0;      // 0-based, meaningful in phase "step"
  std::string detail;   // first line of what it waits for, or why it ended
  bool out_of_traffic = false;  // as its walk last wrote (the member's record is the truth)
  friend bool operator==(const JobHost&, const JobHost&) = default;
};

struct Job {
  int64_t id = 0;
  std::string pool;
  std::string task;
  std::string task_steps;  // the task's step names when the job was made (TaskSteps)
  std::string state = "queued";
  std::string who;      // who asked for it
  std::string reason;
  std::string owner;    // "hostname:pid" of the process running it
  std::string detail;   // why it ended as it did
  SysSeconds created{};
  std::optional<SysSeconds> started;
  std::optional<SysSeconds> ended;
  int max_failures = 1;
  bool force_sessions = false;
  bool cancel_requested = false;
  // An operator asked serve to go on with this failed or stopped job (the
  // API's retry): who, and where its one interrupted member goes on
  // (`from_step`, 1-based; 0: where the plan says). Dropped when a process
  // claims the job.
  std::string retry_by;
  size_t retry_from_step = 0;
  // A schedule's job: the opening of the window it was added for.
  std::optional<SysSeconds> window;
  std::vector<JobHost> hosts;  // in walk order

  // Over for good: done, cancelled or restored (never claimed again).
  bool Ended() const { return state == "done" || state == "cancelled" || state == "restored"; }

  // Some member was left out of traffic by it (as last written).
  bool AnyOut() const {
    for (const JobHost& h : hosts) {
      if (h.out_of_traffic) return true;
    }
    return false;
  }
};

}  // namespace caretaker
