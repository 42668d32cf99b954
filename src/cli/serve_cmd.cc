// See serve_cmd.h: the command; the daemon itself is serve_daemon.h.
#include "src/cli/serve_cmd.h"

#include "src/base/file_lock.h"
#include "src/cli/exit_code.h"
#include "src/serve/daemon.h"
#include "src/store/state_open.h"

namespace caretaker {

int RunServe(const Config& config, const MaintIo& io) {
  auto password = ReadMysqlPassword(config.mysql);
  if (!password) {
    io.err << "caretaker: " << password.error().message << "\n";
    return kExitUsage;
  }
  for (const PoolConfig& p : config.pools) {
    if (auto valid = CheckPoolPolicy(config, p); !valid) {
      io.err << "caretaker: " << valid.error().message << "\n";
      return kExitUsage;
    }
  }
  // One serve per state store: two would each run the other's jobs.
  auto alone = FileLock::Acquire(LockPath(config, "serve"), Millis(0));
  if (!alone) {
    io.err << "caretaker: another `caretaker serve` runs with the state dir " << config.state_dir << " ("
           << alone.error().message << ")\n";
    return kExitRefused;
  }
  auto store = OpenStateStore(config, OperatorName() + " (caretaker serve)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return kExitFailed;
  }
  return RunDaemon(config, std::move(store).value(), password.value()) ? 0 : kExitFailed;
}

}  // namespace caretaker
