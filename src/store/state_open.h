// Opening the state store of a configuration, and the halt switch as every
// automated action reads it.
#pragma once

#include <memory>
#include <string>

#include "src/base/result.h"
#include "src/config/config.h"
#include "src/store/state_store.h"

namespace caretaker {

// <state_dir>/caretaker.db
std::string StateStorePath(const Config& config);

// Opens (creating) the store of `config`, with `actor` for its audit trail.
// The maintenance.toml an earlier caretaker kept in the state dir is imported
// once (then renamed maintenance.toml.imported); one that cannot be read is
// an error naming it, never dropped.
Result<std::unique_ptr<StateStore>> OpenStateStore(const Config& config, const std::string& actor);

// "alice@db-admin-1": who runs this command, for records and the audit
// trail (SUDO_USER when run through sudo, else the login name).
std::string OperatorName();

// "<state_dir>/locks/<name>.lock": the advisory locks caretaker processes
// on one machine keep out of each other's way with (src/base/file_lock.h).
std::string LockPath(const Config& config, const std::string& name);

// Whether automated actions may start now. Fails closed: a store that cannot
// be read, or a halt file that cannot be checked, halts.
struct HaltCheck {
  bool halted = false;
  bool abort = false;   // `halt --abort`: running steps are stopped too
  std::string why;      // one line: "halted by bob@ops2 since 08:00 UTC: incident 4412"
};
HaltCheck CheckHalt(const StateStore* store, const std::string& halt_file);

}  // namespace caretaker
