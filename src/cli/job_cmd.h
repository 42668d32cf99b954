// `caretaker jobs`, `caretaker job show|cancel|restore|retry ID`: the jobs
// that rolls run (one per pool walked), kept in the state store.
//
// jobs: the last jobs, newest first: id, pool, task, state, members done,
//   who, when; a running job whose process died says so.
// job show ID: the job and each member's phase.
// job cancel ID: a queued job never runs; a running one is interrupted
//   (members out of traffic finish their task, draining ones go back); a
//   failed or stopped one stops blocking its pool. Hosts it left out of
//   traffic keep their records (`job restore` puts them back).
// job restore ID: puts back, through the gates, every host the job left out
//   of traffic (as `maint stop` does); the job ends "restored" when all are.
// job retry ID: goes on with a failed, stopped or orphaned job from where it
//   stopped (roll_cmd.h, RollOptions::retry_job).
#pragma once

#include <cstdint>
#include <string>

#include "src/cli/maint_cmd.h"
#include "src/config/config.h"

namespace caretaker {

int RunJobs(const Config& config, bool json, const MaintIo& io);
int RunJobShow(const Config& config, int64_t id, bool json, const MaintIo& io);
int RunJobCancel(const Config& config, int64_t id, const MaintIo& io);
int RunJobRestore(const Config& config, int64_t id, const MaintIo& io);

}  // namespace caretaker
