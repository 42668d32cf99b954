// `caretaker halt` / `caretaker resume`: the central switch. While halted, no
// automated action (a roll, a job, a schedule) starts a new drain or step on
// any caretaker sharing the state store; steps already running finish, or
// with --abort are killed (their hosts stay out of traffic, with records).
// Walks see a halt within a second. `halt --status` tells whether and why.
#pragma once

#include <string>

#include "src/cli/maint_cmd.h"
#include "src/config/config.h"

namespace caretaker {

struct HaltOptions {
  std::string reason;  // required to set it
  bool abort = false;
  bool status = false;  // only show it
  bool json = false;    // with status
  std::string who;      // "user@hostname"; empty: from the environment
};

// Exit codes: 0 done (status: shown, halted or not), 1 the store cannot be
// read or written, 2 bad usage.
int RunHalt(const Config& config, const HaltOptions& options, const MaintIo& io);
int RunResume(const Config& config, const std::string& who, const MaintIo& io);

}  // namespace caretaker
