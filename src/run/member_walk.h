// One member walked on its own: what every caller that takes a single host
// out or puts one back gives the driver (driver.h) — `maint start`,
// `maint stop`, `job restore`, serve's restore of an expired record, and the
// actions of rules. There is no other host flow: these are walks of one member
// with no steps, decided by the walker like any other.
#pragma once

#include <optional>
#include <string>

#include "src/base/result.h"
#include "src/config/config.h"
#include "src/run/walk_io.h"
#include "src/walk/walker.h"

namespace caretaker {

// The task of a walk without steps.
const TaskConfig& NoSteps();

// Taken out: the capacity check against live state under the pool's lock,
// its record, DRAIN, its sessions until the drain deadline (then shut down
// with `force_sessions` or the pool's on_timeout, else put back READY), MAINT;
// then it ends held in MAINT with its record (HostPhase::kHeld). Refused at
// once when the policy says no (no pause).
WalkSpec TakeOutSpec(const Config& config, const PoolConfig& pool, const MemberConfig& member, bool force_sessions);

// Put back: picked up at the gates (MAINT confirmed first), the first ramp
// weight while in MAINT, the gates, READY, UP, the ramp; its record removed
// last. A failure leaves it out with its record.
WalkSpec PutBackSpec(const Config& config, const PoolConfig& pool, const MemberConfig& member);

// Walked through a task (the driver is given it): taken out as above, its
// steps, the gates, back in traffic. Refused at once when the policy says
// no; a failure leaves it out with its record.
WalkSpec TaskSpec(const Config& config, const PoolConfig& pool, const MemberConfig& member, const TaskConfig& task);

// Before a put-back of a member with no maintenance record: one that is out
// of traffic (taken out by hand) gets a record first ("maint", by `world`'s
// who and reason), so a failure later leaves it out WITH a record. `view` is
// the member as the pool's last read shows it. Returns whether it wrote one.
Result<bool> RecordIfOut(WalkIo& world, const PoolConfig& pool, const MemberConfig& member, const MemberView& view);

}  // namespace caretaker
