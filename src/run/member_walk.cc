// See member_walk.h.
#include "src/run/member_walk.h"

namespace caretaker {
namespace {

WalkSpec OneMember(const Config& config, const PoolConfig& pool, const MemberConfig& member) {
  WalkSpec spec;
  spec.pool = pool.name;
  spec.members = {member.server};
  spec.capacity = pool.capacity;
  spec.drain = pool.drain;
  spec.gates = pool.gates;
  spec.pause_deadline = config.roll.pause_deadline;
  spec.unconfirmed_deadline = config.haproxy_unresponsive_deadline;
  spec.max_failures = 1;
  return spec;
}

}  // namespace

const TaskConfig& NoSteps() {
  static const TaskConfig none{};
  return none;
}

WalkSpec TakeOutSpec(const Config& config, const PoolConfig& pool, const MemberConfig& member, bool force_sessions) {
  WalkSpec spec = OneMember(config, pool, member);
  spec.force_sessions = force_sessions;
  spec.hold = true;
  spec.pause_deadline = Millis(0);
  return spec;
}

WalkSpec PutBackSpec(const Config& config, const PoolConfig& pool, const MemberConfig& member) {
  WalkSpec spec = OneMember(config, pool, member);
  spec.resume[member.server] = ResumePoint{HostPhase::kGates, 0, "putting it back"};
  return spec;
}

WalkSpec TaskSpec(const Config& config, const PoolConfig& pool, const MemberConfig& member, const TaskConfig& task) {
  WalkSpec spec = OneMember(config, pool, member);
  spec.steps = task.steps;
  spec.pause_deadline = Millis(0);
  return spec;
}

Result<bool> RecordIfOut(WalkIo& world, const PoolConfig& pool, const MemberConfig& member, const MemberView& view) {
  if (view.ready_everywhere) return false;
  if (auto put = world.Journal(pool, member, "maint", 0); !put) return put.error();
  return true;
}

}  // namespace caretaker
