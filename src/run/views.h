// The JSON shapes of what the state store holds — jobs, maintenance records,
// the halt, audit entries, rules and their state — one definition each, written by the CLI's --json
// and by the HTTP API alike (README.md documents them). Boost.JSON types are
// only declared here: include <boost/json.hpp> where the objects are used.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/store/state_open.h"
#include "src/store/state_store.h"

namespace boost::json {
class object;
}  // namespace boost::json

namespace caretaker {

// A job's state as people should read it: a running job whose process is
// gone is "orphaned".
std::string JobStateOf(const Config& config, const StateStore& store, const Job& job);
// Each host's out_of_traffic from the records (the truth), not as its walk
// last wrote it; left as it was when the records cannot be read.
void MarkOutFromRecords(const std::vector<MaintRecord>& records, Job& job);

boost::json::object JobView(const Config& config, const StateStore& store, const Job& job);
boost::json::object RecordView(const MaintRecord& record, SysSeconds now);
boost::json::object AuditView(const AuditEntry& entry);
// The halt as CheckHalt sees it, with the store's record when there is one.
boost::json::object HaltView(const HaltCheck& check, const std::optional<HaltRecord>& record);

// Actions (not repools) rule `r` took since `r.per` before `now`.
size_t RuleActionsInWindow(const RuleConfig& r, const RuleMemory& memory, WallTime now);
// A rule, its breaker, actions in its window, its last evaluation and each
// member's state as serve last wrote it (`status` null: never evaluated).
boost::json::object RuleView(const RuleConfig& rule, const RuleMemory& memory, const std::optional<RuleStatus>& status,
                             WallTime now);

// `value` as one line of JSON (no newline).
std::string JsonText(const boost::json::object& value);

}  // namespace caretaker
