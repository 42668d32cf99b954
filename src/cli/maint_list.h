// `caretaker maint list`: the maintenance records as a table for people and
// as JSON for scripts. Pure: the records and `now` are inputs, the output a
// string.
#pragma once

#include <string>
#include <vector>

#include "src/store/maint_record.h"

namespace caretaker {

// One row per record, in the given order, under a header:
//   POOL  SERVER  HOST  PHASE  WHO  SINCE  UNTIL  REASON
// SINCE and UNTIL are relative to `now` ("2h15m ago", "in 3h", "-" for no
// until, "EXPIRED 20m ago" for an until at or before now, in red when
// `color`). Control characters in text (a reason's newline) are shown escaped
// ("\n"), so a row stays one line and cannot drive the terminal. With no
// records: "no hosts in maintenance\n".
std::string RenderMaintList(const std::vector<MaintRecord>& records, SysSeconds now, bool color);

// One JSON object, no trailing newline; a stable shape, times as FormatUtc:
//   {"now": "2026-11-25T09:00:00Z",
//    "maintenance": [{"pool": "main", "server": "db2", "host": "10.0.0.2:3306",
//                     "phase": "maint", "who": "ann@ops1", "reason": "...",
//                     "since": "2026-11-25T07:00:00Z",
//                     "until": "2026-11-25T12:00:00Z" or null,
//                     "expired": false}]}
// "expired" is true when until is set and at or before now.
std::string RenderMaintListJson(const std::vector<MaintRecord>& records, SysSeconds now);

}  // namespace caretaker
