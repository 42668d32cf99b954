// `caretaker maint`: take one member of a pool out of traffic for
// maintenance, and put it back once it is healthy and warm. Both are walks
// of that one member (src/run/member_walk.h) on the walker and its driver, as
// every walk is.
//
// start: capacity check against live state (refused: exit 3, nothing
//   changed), record written, drain on every instance, sessions waited for
//   until the pool's drain deadline (then shut down if allowed, else the
//   member is restored and the command fails), MAINT on every instance.
//   Ctrl-C while draining restores the member.
// stop: the first ramp weight while in MAINT (a static balance algorithm is
//   refused there: exit 2), the gates (gates.h), then READY (and the weight
//   ramp) on every instance, confirmed UP; the record is removed last. A gate
//   that fails or times out leaves the member out: exit 1. A member out of
//   traffic without a record gets one first. Ctrl-C: the gates finish (the
//   member goes back); again: it stays where it is, out with its record.
// list: the maintenance records, expired ones marked.
// Output: progress on stderr (a rewritten line on a terminal), the result on
// stdout, errors on stderr as "caretaker: ...". Exit codes as in main.cc.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "src/config/config.h"

namespace caretaker {

struct MaintStartOptions {
  std::string host;
  std::string reason;
  std::optional<Millis> for_duration;  // --for: the record's `until`
  bool force_sessions = false;         // shut down sessions left at the drain deadline
  std::string who;                     // "user@hostname"; empty: from the environment
};

struct MaintStopOptions {
  std::string host;
};

struct MaintIo {
  std::ostream& out;  // results
  std::ostream& err;  // progress and errors
  bool tty = false;   // err is a terminal
  bool color = false;
};

int RunMaintStart(const Config& config, const MaintStartOptions& options, const MaintIo& io);
int RunMaintStop(const Config& config, const MaintStopOptions& options, const MaintIo& io);
// `maint stop` of each of `hosts` at once (`job restore`): the worst exit code.
int RunPutBack(const Config& config, const std::vector<std::string>& hosts, const MaintIo& io);
int RunMaintList(const Config& config, bool json, const MaintIo& io);

}  // namespace caretaker
