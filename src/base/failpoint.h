// Crash points for the recovery tests: with CARETAKER_FAILPOINT=NAME@SERVER
// (or NAME, any server) in its environment, caretaker kills itself with
// SIGKILL when the walk of SERVER reaches the point NAME — exactly what a
// crash or `kill -9` there does, but at a known place. Names:
//   journaled-PHASE   the record says PHASE ("draining", ...), its change not yet made
//                     (nor any change of its round: a wave's records are
//                     written together, before any of its changes)
//   drain-sent        DRAIN applied on every instance
//   sessions-waiting  counting the sessions of the drained member
//   maint-set         MAINT applied
//   step-N            step N (1-based) printed its first line: it is running
//   gate-G            gate G passed (mysqld, replication, catch-up, warm-up)
//   ready-sent        READY applied
// Never set in production; unset, a check is one comparison.
#pragma once

#include <string_view>

namespace caretaker {

void FailPoint(std::string_view name, std::string_view server);

}  // namespace caretaker
