// `caretaker plan` and `caretaker roll`: walk whole pools through a task.
//
// plan: reads the pools' live state and prints, for each pool, the waves the
//   walk would take, the HAProxy commands and step commands per member, and
//   why a pool cannot be walked now. Changes nothing. Exit 0, or 3 when some
//   member could not be walked now (capacity), 2 on bad input.
// roll: the same checks, a confirmation on a terminal (unless --yes), then
//   the walk with live progress (a rewritten status line on a terminal, one
//   line per event otherwise) and a summary table on stdout. Ctrl-C: no new
//   member starts; draining ones go back, the others finish their task; a
//   second Ctrl-C kills running steps and leaves members where they are.
//   Exit 0 when every member is done, 1 when one failed or the walk stopped,
//   3 when it stopped on capacity alone, 2 on bad input (nothing changed).
//   With --queue the same checks and confirmation, then one queued job per
//   pool for `caretaker serve` (behind any job its pool has; in the pool's
//   window when it has a schedule); exit 0.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "src/cli/maint_cmd.h"
#include "src/config/config.h"
#include "src/run/roll_setup.h"

namespace caretaker {


int RunPlan(const Config& config, const RollOptions& options, const MaintIo& io);
// `in`/`in_tty`: where the confirmation is read from.
int RunRoll(const Config& config, const RollOptions& options, const MaintIo& io, std::istream& in, bool in_tty);

}  // namespace caretaker
