// The sandbox of the `caretaker maint` tests (maint_test.cc, maint_gates_test.cc):
// four replicas of their own, so that maintenance there never disturbs the
// other tests, and what those tests read and set on it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "mysql/connection.h"
#include "tests/integration/cli_run.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker::maint_fixture {

sandbox::Sandbox& MaintSandbox();  // started at the first call, once per test binary
Run Caretaker(const std::string& args, const std::string& config = "");

// A variant of the sandbox's config: `extra` TOML inserted right after the
// pool's `backend = ...` line (pool keys and its sub-tables come after it).
std::string PoolVariant(const std::string& name, const std::string& extra);

// srv_admin_state of `server` on every instance, e.g. {"1", "1"} for MAINT.
std::vector<std::string> AdminStates(const std::string& server, const std::string& backend = "replicas");
// Every server's admin state on every instance, to compare before and after.
std::string AllStates();
inline const std::vector<std::string> kMaint{"1", "1"};
inline const std::vector<std::string> kReady{"0", "0"};

// Puts everything back for the next case: records, HAProxy state, MySQL.
void Reset();

// A client session through lb1's frontend, and the replica it landed on.
struct AppSession {
  mysql::Connection connection;
  std::string server;  // "db2"
};
AppSession OpenAppSession();

// pt-heartbeat's table on the primary, replicated everywhere.
void WriteHeartbeat(const std::string& ts);
// Holds db4 back: its last applied heartbeat 30 s old, the next one applied
// an hour late (MASTER_DELAY) while both threads run. A config whose catch-up
// gate waits at most `catch_up_timeout` for a lag of 1 s.
std::string HoldBackDb4(const std::string& name, const std::string& catch_up_timeout);
// db4 applies at once again (it catches up within a second or two).
void LetDb4CatchUp();

bool Running(pid_t pid);  // the child has not exited
std::string ReadAll(const std::string& path);

}  // namespace caretaker::maint_fixture
