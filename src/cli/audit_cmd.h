// `caretaker audit`: the audit trail, newest first — every change to a
// record, the halt, a job or a rule, and every change asked for through the
// HTTP API (with its token's name and role, the client's address, the
// request id and how it ended). The same entries and JSON shape as
// `GET /api/v1/audit`. Read-only.
#pragma once

#include <cstdint>
#include <string>

#include "src/cli/maint_cmd.h"
#include "src/config/config.h"

namespace caretaker {

struct AuditOptions {
  std::string who;     // only this actor
  std::string action;  // only actions starting so ("maint." for every maint.*)
  std::string target;  // only targets starting so ("pool-a/" for a pool's members)
  int64_t before = 0;  // only entries older than this id (the last page's "next")
  size_t limit = 50;
  bool json = false;
};

// Exit codes: 0 shown (none matching is not an error), 1 the store cannot be read.
int RunAudit(const Config& config, const AuditOptions& options, const MaintIo& io);

}  // namespace caretaker
