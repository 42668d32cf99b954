// `caretaker status`: every pool, every member, its state on each HAProxy
// instance, sessions and checks, and (unless --no-mysql) its replication
// threads, lag and buffer-pool warm-up as its MySQL reports them. Read-only.
#pragma once

#include <iosfwd>
#include <string>

#include "src/config/config.h"
#include "src/run/status_report.h"

namespace caretaker {

// Pure renderings. The table colours states when `color`; the JSON is one
// object with a stable shape (documented in README.md).
std::string RenderStatusTable(const StatusReport& report, bool color);
std::string RenderStatusJson(const StatusReport& report);
// The same, written to `out` a pool at a time (no whole copy in memory).
void WriteStatusJson(const StatusReport& report, std::ostream& out);

struct StatusOptions {
  bool json = false;
  bool color = false;
  bool no_mysql = false;  // HAProxy only: do not connect to the members' MySQL
};

// Reads every instance once and probes every member's MySQL once, all
// concurrently (the probes on a small thread pool, never on the event loop),
// prints the report to `out`.
// Returns the exit code: 0 when IsComplete, 1 otherwise (the report still
// shows what could be read, and names what could not).
int RunStatus(const Config& config, const StatusOptions& options, std::ostream& out);

}  // namespace caretaker
