// `caretaker serve`: the daemon that makes caretaker safe to leave alone
// (serve_daemon.h): this command checks what it needs, then runs it.
//
// - Jobs: every round (a second) it reads the queues of all pools from the
//   store and runs what the Executor decides (executor.h): queued jobs
//   (`roll --queue`, schedules), jobs paused by a closing window, and — on
//   start, which is crash recovery — jobs whose process died mid-walk, each
//   picked up at each host's record after the host's state in HAProxy was
//   checked against it (ServeJob). One job per pool (its lease), at most
//   [serve] max_concurrent_jobs at once, [roll] max_concurrent_hosts members
//   out across all of them. Nothing starts while halted.
// - Schedules ([pools.schedule]): a job per window, paused at its close,
//   going on in the next window.
// - Expired maintenance records (`maint start --for`): reported loudly (and
//   again every hour); with on_maint_expiry = "restore" the host is put back
//   through the gates (`caretaker maint stop`), unless halted.
// - SIGTERM/SIGINT: nothing new starts; running steps finish, and the
//   members stay where they are (their records say where; the job pauses and
//   the next start goes on with it); exits 0. A second one kills the steps.
// - SIGHUP: reloads the configuration; an invalid one is refused, said why
//   (file:line), and the old one kept. Running jobs keep the config they
//   started with.
// Log lines (one event per line) on stderr: journald or a terminal.
#pragma once

#include "src/cli/maint_cmd.h"
#include "src/config/config.h"

namespace caretaker {

// Exit code: 0 after SIGTERM, 1 when the store cannot be opened, 2 when the
// MySQL password cannot be read, 3 when another serve runs with the same
// state dir (one at a time).
int RunServe(const Config& config, const MaintIo& io);

}  // namespace caretaker
