// A driver run in the foreground of a terminal command (roll, maint, job
// restore): the first SIGINT/SIGTERM/SIGHUP interrupts the walks (no member
// starts; draining ones go back; the others finish what they are in), the
// second aborts them (running steps killed, members stay where they are).
// Each is said on `progress` with the caller's words. Heavy (Asio): for .cc
// files only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <string>

#include "src/cli/progress.h"
#include "src/run/driver.h"

namespace caretaker {

struct SignalWords {
  std::string interrupted;  // said on the first signal
  std::string aborting;     // said on the second
};

// Runs `driver` on `loop` to its end; returns how many signals came.
int RunInForeground(boost::asio::io_context& loop, RollDriver& driver, Progress& progress, const SignalWords& words);

}  // namespace caretaker
