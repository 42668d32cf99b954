// `caretaker status`: every pool, every member, its state on each HAProxy
// instance, sessions and checks. Read-only.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "haproxy/backend_view.h"
#include "src/config.h"

namespace caretaker {

struct PoolStatus {
  const PoolConfig* pool = nullptr;
  haproxy::BackendView view;
  std::vector<std::string> backend_missing_on;  // instances read that have no such backend
};

struct StatusReport {
  std::vector<PoolStatus> pools;
  std::vector<haproxy::InstanceOutcome> instance_errors;  // instances that could not be read
};

// True when the report is complete and consistent: every instance answered,
// every pool's backend exists on each of its instances, and every configured
// member is a server of that backend there. `status` exits 1 otherwise.
bool IsComplete(const StatusReport& report);

// Pure: builds the report from the dumps of every instance.
StatusReport BuildStatusReport(const Config& config, const std::vector<haproxy::InstanceDump>& dumps);

// Pure renderings. The table colours states when `color`; the JSON is one
// object with a stable shape (documented in README.md).
std::string RenderStatusTable(const StatusReport& report, bool color);
std::string RenderStatusJson(const StatusReport& report);

struct StatusOptions {
  bool json = false;
  bool color = false;
};

// Reads every instance once (concurrently), prints the report to `out`.
// Returns the exit code: 0 when IsComplete, 1 otherwise (the report still
// shows what could be read, and names what could not).
int RunStatus(const Config& config, const StatusOptions& options, std::ostream& out);

}  // namespace caretaker
