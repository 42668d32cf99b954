// The daemon of `caretaker serve` (serve_cmd.h says what it does): one event
// loop running the executor's jobs, the schedules, the expiry of maintenance
// records, signals and reloads, until SIGTERM/SIGINT.
#pragma once

#include <memory>
#include <string>

#include "src/config/config.h"
#include "src/store/state_store.h"

namespace caretaker {

// Runs until stopped; false when its loop failed (logged). `config` is the
// one loaded at start (SIGHUP reloads it from its path).
bool RunDaemon(const Config& config, std::unique_ptr<StateStore> store, std::string password);

}  // namespace caretaker
