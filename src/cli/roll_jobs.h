// Internal to roll (roll_cmd.cc) and `job retry`: the jobs a roll or a retry runs —
// refusing a pool whose queue another job holds, and picking up a job where
// it stopped.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/cli/maint_cmd.h"
#include "src/cli/roll_cmd.h"
#include "src/config/config.h"
#include "src/run/roll_setup.h"
#include "src/store/state_store.h"
#include "src/walk/job_run.h"
#include "src/walk/walker.h"

namespace caretaker::roll_detail {

// Why not, when a pool of `pools` is blocked by a job (refused).
std::optional<Error> CheckPoolsFree(const Config& config, const StateStore& store,
                                    const std::vector<std::string>& pools);

// `job retry ID`: the options and resume points that go on with the job, or
// why it cannot be retried now. Members not walked again are said on io.err.
struct Retry {
  Job job;
  RollOptions options;
  std::map<std::string, ResumePoint> resume;
};
std::optional<Error> PrepareRetry(const Config& config, const StateStore& store, const RollOptions& options,
                                  Retry& retry, const MaintIo& io);
// Either: a retry goes on with its job (PrepareRetry); a roll now needs its
// pools free (CheckPoolsFree); a queued one waits its turn. `retry.options`
// are the options the walk runs with.
std::optional<Error> PrepareJobs(const Config& config, const StateStore& store, const RollOptions& options,
                                 Retry& retry, const MaintIo& io);

}  // namespace caretaker::roll_detail
