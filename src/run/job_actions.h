// Changes to a job an operator asks for — from the CLI (`caretaker job
// cancel`) or the HTTP API — decided once, with one sentence for each
// outcome, so both say the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/store/state_store.h"
#include "src/walk/job_run.h"

namespace caretaker {

// The members `job` left out of traffic: its records (the truth, not what
// the walk last wrote).
std::vector<MaintRecord> JobLeftOut(const StateStore& store, const Job& job);

// Ends `job` as `state` if it still is as read (serve may have taken it
// meanwhile); else why not.
std::optional<Error> EndJobAsRead(StateStore& store, const Job& job, const std::string& state,
                                  const std::string& detail);

struct CancelOutcome {
  std::string text;                 // "job 7 cancelled; pool a may be walked again"
  std::vector<MaintRecord> left_out;  // members still out of traffic, with their records
};

// Cancels job `id` for `who`: a running job is asked to stop (its walk
// stops within a second), a job not running is ended as "cancelled". An
// error of kind kNotFound: no such job; kUsage: it has ended.
Result<CancelOutcome> CancelJob(const Config& config, StateStore& store, int64_t id, const std::string& who);

// Why `job` cannot be restored (its members put back, the job ended
// "restored"), in the CLI's words; nullopt: it can. kRefused: it is running;
// kUsage: it has ended, or never ran.
std::optional<Error> RestoreRefused(const Config& config, const StateStore& store, const Job& job);

// Where `job` goes on when an operator retries it (`caretaker job retry`,
// the API's retry), or why it cannot now, in the CLI's words: kRefused, it
// is running or another job holds its pool, or where a member goes on needs
// deciding (the sentence says how); kUsage, it has ended, is queued, or its
// task or pool is gone from `config`, or no member is left to walk.
// `from_step` (1-based) says where its one interrupted member goes on.
Result<RetryPlan> PlanJobRetry(const Config& config, const StateStore& store, const Job& job,
                               std::optional<size_t> from_step);

// "pool/server is still OUT OF TRAFFIC (maint), with its record: ..."
std::string LeftOutSentence(const MaintRecord& record);

}  // namespace caretaker
