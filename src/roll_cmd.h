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

#include "src/config.h"
#include "src/maint_cmd.h"

namespace caretaker {

struct RollOptions {
  std::vector<std::string> pools;   // --pool a,b
  std::string task;                 // --task
  std::vector<std::string> limit;   // --limit: names or globs (server, pool/server, host, host:port)
  std::string order = "config";     // --order: config, reverse or name
  int max_failures = 1;             // --max-failures: failed members before the walk stops
  bool force_sessions = false;      // shut down sessions left at the drain deadline
  bool dry_run = false;             // roll --dry-run: plan only
  bool yes = false;                 // roll --yes: no confirmation
  bool queue = false;               // roll --queue: add the jobs for `caretaker serve`, walk nothing now
  bool json = false;                // plan --json
  std::string who;                  // for records; empty: from the environment
  int64_t retry_job = 0;            // `job retry ID`: go on with that job instead of a new one
  std::optional<size_t> from_step;  // `job retry --from-step N` (1-based)
};

int RunPlan(const Config& config, const RollOptions& options, const MaintIo& io);
// `in`/`in_tty`: where the confirmation is read from.
int RunRoll(const Config& config, const RollOptions& options, const MaintIo& io, std::istream& in, bool in_tty);

}  // namespace caretaker
