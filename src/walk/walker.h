// The rolling walk of one pool through a task, as a pure state machine: no
// I/O, no clock, no logger (time is an input). The driver (src/run/driver.h)
// asks Next() what to do, performs each action, and reports its result with
// the matching On...() call.
//
// Each member of the walk goes
//   pending -> draining -> maint -> step 1..n -> gates -> enabling -> done
// and on any failure stays OUT of traffic with its record (a drain that did
// not finish is put back READY instead: nothing was done to the host yet).
//
// Contract:
// - A member is taken out only right after a fresh read of the pool's live
//   state (HAProxy and MySQL) says the capacity policy allows it: several may
//   start from one read, each checked against that read with the previous
//   ones counted as out; any later start needs a newer read. Members of the
//   walk count as out until HAProxy reported them UP again.
// - Candidates: members already out of service first (down, lagging,
//   unreachable, drained), then the walk's order. A member held by someone
//   else's maintenance record is skipped, and said so. A member counted out
//   only because its MySQL could not be read starts alone from its read:
//   never beside another start, so the next read judges the pool again
//   before anything else goes out. A member whose lock another caretaker
//   command holds right now (a `maint start` being refused, say) is not
//   skipped: it waits, within pause_deadline, and is walked once free.
// - When nothing of the walk is out and the policy lets nothing out (a member
//   outside the walk went down), the walk is paused: it reads the pool again
//   every gates.probe_interval, and fails after pause_deadline.
// - Failures: after max_failures failed members the walk stops: no member
//   starts; members draining are put back; members in maint or running a step
//   finish that action and stop there (out of traffic, record kept); members
//   in the gates or enabling finish. Interrupt() (Ctrl-C) is the same but
//   members past the drain finish their whole task. Abort() (a second Ctrl-C)
//   starts nothing more at all.
// - Every action that changes a server carries `journal`: the driver writes
//   the member's maintenance record with that phase BEFORE performing it.
//   Each step's run carries "steps" (that step may have run), and a step
//   that succeeded is followed by a kRecord "maint" naming the next step (a
//   stopped walk's retry goes on from there; if that write fails the record
//   still names the step: the cautious reading). The first probe of the
//   gates carries "gates". kRelease removes the record once the member is
//   back in traffic. So the walker alone decides every record.
// - A member held in MAINT (its steps, its gates) is read every
//   gates.probe_interval on every instance: one that shows it READY again
//   (a reload that forgot the runtime state, a person, an agent check) gets
//   MAINT set again at once (kReassert, said loudly), and the member's next
//   action waits until MAINT is confirmed on every instance (by the
//   kReassert, which re-reads, or by a later read). A member picked up in
//   its steps or gates waits for a read that confirms it. Unconfirmed for
//   unconfirmed_deadline (the instance still says READY, or cannot be read):
//   the member fails, saying it MAY BE IN TRAFFIC. Found READY a third
//   time while held (something keeps setting it READY): MAINT again, and
//   the member fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policies/capacity.h"
#include "src/config/config.h"
#include "src/walk/gates.h"

namespace caretaker {

enum class LbState { kReady, kDrain, kMaint };
const char* LbStateName(LbState state);  // "ready", "drain", "maint"

// What the walk asks the driver to do.
struct WalkAction {
  enum class Kind {
    kObserve,           // read the pool's live state -> OnObserved(seq)
    kSetState,          // `state` on every instance, confirmed -> OnApplied
    kSetWeight,         // `percent`% on every instance, confirmed -> OnApplied
    kShutdownSessions,  // end the server's sessions everywhere -> OnApplied
    kRunStep,           // task step `step` (0-based), attempt `attempt` -> OnStepDone
    kProbe,             // probe the member's MySQL -> OnProbe
    kGtidWait,          // wait for the primary's GTID position until `deadline` -> OnGtidWait
    kWarmupQueries,     // run the pool's warm-up queries -> OnWarmupQueries
    kRelease,           // remove the member's record: it is back in traffic -> OnApplied
    kReassert,          // `state` again on every instance: one lost it -> OnReasserted
    kRecord,            // only write the member's record (`journal`, `step`) -> OnApplied
    kBakeRead,          // read the bake checks of the member, back in traffic -> OnBakeRead
  };
  Kind kind = Kind::kObserve;
  std::string server;             // empty for kObserve
  LbState state = LbState::kReady;
  int percent = 100;
  size_t step = 0;                // kRunStep: the step; a "maint" record: the next step to run
  int attempt = 1;
  uint64_t seq = 0;               // kObserve: pass it back to OnObserved
  bool with_mysql = false;        // kObserve: probe every member's MySQL too (before a start)
  SteadyTime deadline{};          // kGtidWait
  std::string journal;            // non-empty: record phase to write first
};

// One member as the live state shows it.
struct MemberView {
  std::string server;
  policies::Member::State state = policies::Member::State::kInService;  // for the policy
  int64_t sessions = 0;        // current sessions, all instances
  std::string sessions_on;     // per instance, "lb1 2, lb2 1"
  bool out_everywhere = false; // DRAIN or MAINT on every instance
  bool ready_everywhere = false;  // READY on every instance (before a drain: may be restored)
  bool checked_up = false;     // READY and UP after a passed check on every instance
  std::string health;          // "lb1 UP READY, lb2 DOWN READY (L4CON)", for messages
  std::string held_by;         // someone else's maintenance record: "alice: disk swap"
  std::string mysql_error;     // state kUnreachable: what its probe said
  std::string locked_by;       // a caretaker command holds its lock right now (transient:
                               // the walk waits for it), e.g. "a caretaker maint command"
  std::vector<std::string> ready_on;  // instances that hold it READY (no drain or maint bit)
  std::vector<std::pair<std::string, int>> initial_weights;  // per instance: its weight in HAProxy's config
  std::string ready_why;       // why they do, when known: "lb1 had db1 READY after a restart of
                               // that HAProxy (pid 4242 -> 4711)"
};

struct PoolView {
  std::vector<MemberView> members;  // every member of the pool
};

enum class HostPhase {
  kPending,    // not started
  kDraining,   // DRAIN set or being set; waiting for sessions to end
  kRestoring,  // putting a member back READY after a drain that did not finish
  kMaint,      // MAINT being set
  kStep,       // running a step (or waiting to retry it)
  kGates,      // the health gates
  kEnabling,   // first ramp weight, READY, waiting for UP, ramp
  kBaking,     // back in traffic, its record released; its bake checks must stay clear
  kDone,       // back in traffic
  kHeld,       // held in MAINT with its record, as its walk asked (maint start): it ends there
  kFailed,     // failed; out of traffic unless `restored`
  kStopped,    // the walk stopped; out of traffic after its last step
  kSkipped,    // never started: held by someone else's maintenance record
};
const char* HostPhaseName(HostPhase phase);  // "pending", "draining", ...

struct HostStatus {
  std::string server;
  HostPhase phase = HostPhase::kPending;
  size_t step = 0;                 // kStep: which (0-based)
  int attempt = 1;
  std::string detail;              // what it waits for now; for an end phase, why
  ErrorKind code = ErrorKind::kFailed;  // kFailed/kStopped: what kind of failure (kUsage: HAProxy's config
                                       // cannot do what the pool asks, as a weight ramp on a static algorithm)
  Millis drained_in{};             // from DRAIN to no sessions left
  int64_t sessions_shut_down = 0;  // at the drain deadline
  bool record = false;             // its maintenance record exists (written before the drain, until released)
  bool restored = false;           // kFailed/kStopped: put back READY, in traffic
  bool out_of_traffic = false;     // ended out of traffic (its record stays); a member
                                   // stopped by Abort() once READY keeps its record but is in traffic
  std::string may_be_in_traffic;   // ended while MAINT was lost: why it may be in traffic after all
                                   // ("lb1 had it READY, and MAINT is not confirmed there"); counted out
  std::optional<SteadyTime> started;
  std::optional<SteadyTime> ended;
  std::vector<std::pair<Gate, Millis>> gates_passed;
  std::vector<std::string> notes;  // what happened to it that the summary names ("lb1 had it READY ...")
};

// Something people should read, in order: "db2: drained in 1.2s".
struct WalkEvent {
  std::string server;  // empty: the pool
  std::string text;
  bool warning = false;
};

// Where a member is picked up when an earlier run of the same job left it
// out of traffic (caretaker died, or the job failed and is retried).
struct ResumePoint {
  HostPhase phase = HostPhase::kMaint;  // kDraining: drained again (its drain was the job's);
                                        // kBaking: in traffic, its bake again;
                                        // kMaint: MAINT again, then every step;
                                        // kStep: from `step`; kGates: gates, then READY
  size_t step = 0;
  std::string why = "picked up where the last run left it";  // its first event, before ": the gates ..."
};

// What the bake checks of a member said at one read (the driver reads every
// check; any holding is kFired, else any unknown is kUnknown).
struct BakeReading {
  enum class Is { kClear, kFired, kUnknown };
  Is is = Is::kUnknown;
  std::string text;  // "condition 'value > 30' holds: value 42 (prometheus main)", or why unknown
};

struct WalkSpec {
  std::string pool;
  std::vector<std::string> members;     // walked, in order (a subset of the pool)
  policies::CapacityPolicy capacity;
  DrainConfig drain;
  bool force_sessions = false;          // shut sessions down at the drain deadline
  GatesConfig gates;                    // with the task's gates_off
  std::vector<StepConfig> steps;        // names, retries, retry delays
  Millis pause_deadline{std::chrono::minutes(30)};  // 0: refused at once, no pause (maint start)
  int max_failures = 1;
  // Each member ends held in MAINT with its record once drained (kHeld), its
  // walk done with it: `maint start` (no steps, no gates).
  bool hold = false;
  // How long a member held in MAINT may stay unconfirmed before it fails
  // ([defaults] haproxy_unresponsive_deadline).
  Millis unconfirmed_deadline{std::chrono::seconds(30)};
  // Members already out of traffic because of an earlier run of this job:
  // they start at once, before any other, at their resume point, without a
  // capacity check (they are out already, and counted so).
  std::map<std::string, ResumePoint> resume;
  // The bake (canary analysis): after READY, the member's checks must read
  // clear for `bake` (the walk's first member: `canary_bake`) before any
  // other member starts — so a walk with a bake takes one member at a time,
  // whatever max_out allows; read every bake_interval. A check that holds
  // takes the member out again — against a fresh read of the pool and its
  // capacity policy, its record written first — and fails it; checks unknown
  // for longer than the bake, or not clear for a whole bake within three,
  // fail it the same way (unknown is never clear). Halted, aborted, the pool
  // unreadable or its policy refusing: the member fails IN traffic, said so.
  // Stopped while baking, it stays "baking" (in traffic): picked up again,
  // the job bakes it again first (ResumePoint kBaking).
  Millis bake{0};
  Millis canary_bake{0};
  Millis bake_interval{std::chrono::seconds(5)};
  std::vector<RuleConfig> bake_checks;  // read by the driver
};

class Walker {
 public:
  Walker(WalkSpec spec, SteadyTime now);

  const WalkSpec& spec() const { return spec_; }
  // The actions to start now. `slots`: how many more members the global cap
  // lets this walk take out now.
  std::vector<WalkAction> Next(SteadyTime now, size_t slots);
  // When Next() may have something new although no result came in.
  std::optional<SteadyTime> WakeAt() const;

  void OnObserved(uint64_t seq, const Result<PoolView>& view, SteadyTime now);
  // ok == false: `error` says what failed (one or more lines).
  void OnApplied(const WalkAction& action, const Result<void>& done, SteadyTime now);
  void OnApplied(const WalkAction& action, bool ok, const std::string& error, SteadyTime now) {
    OnApplied(action, ok ? Result<void>(boost::outcome_v2::success()) : Result<void>(Error{error}), now);
  }
  void OnStepDone(const WalkAction& action, bool ok, const std::string& what, SteadyTime now);
  void OnProbe(const WalkAction& action, const mysql::Result<mysql::ReplicaStatus>& reading, SteadyTime now);
  void OnGtidWait(const WalkAction& action, const mysql::Result<bool>& reached, SteadyTime now);
  void OnWarmupQueries(const WalkAction& action, const mysql::Status& ran, SteadyTime now);
  void OnReasserted(const WalkAction& action, bool ok, const std::string& error, SteadyTime now);
  void OnBakeRead(const WalkAction& action, const BakeReading& reading, SteadyTime now);
  // The record of `action.journal` could not be written (or the member could
  // not be locked), so the action was not performed: the member fails where
  // it stands, never retried; a member not yet drained is left as it was.
  void OnJournalFailed(const WalkAction& action, const std::string& error, SteadyTime now);
  // The member an action would change was locked by another caretaker
  // command at that moment, so nothing was done. A "draining" action: the
  // member goes back to pending and is tried again from a later read. Any
  // other (a member a job picks up again): the same action again after
  // gates.probe_interval. Either way for at most pause_deadline from the
  // first time its lock was found held; then the walk stops (a pending
  // member) or the member fails.
  void OnLocked(const WalkAction& action, const std::string& by, SteadyTime now);

  // Ctrl-C (or a window that closed: `reason` says so): no member starts,
  // draining ones go back, the others finish their task.
  void Interrupt(SteadyTime now, const std::string& reason = "");
  void Abort(SteadyTime now);      // a second Ctrl-C
  // Stops as after max_failures, without counting a failure (serve stopping,
  // a lost lease): no member starts, draining ones go back, a member in a
  // step finishes that step and stays out in MAINT with its record (which
  // says where to go on), members in the gates or enabling finish.
  void Stop(std::string reason, SteadyTime now);
  // The halt switch as last read (nullopt: not halted; else why). While
  // halted no member starts and no step starts (a member due for one waits
  // in MAINT); drains, gates and enabling in progress go on. The time halted
  // does not count against pause_deadline.
  void SetHalt(const std::optional<std::string>& why, SteadyTime now);
  bool halted() const { return halted_.has_value(); }

  // Every member done, failed, stopped or skipped, or the walk stopped and
  // nothing is in flight.
  bool finished() const;
  // Members out of traffic because of this walk right now (draining .. enabling).
  size_t active() const;
  const std::vector<HostStatus>& hosts() const { return hosts_; }
  // Why the walk stopped early ("" when it did not), as its "stopping:"
  // event said it; and in a few words, for the lines that refer to it.
  const std::string& stop_reason() const { return stop_reason_; }
  const std::string& stop_brief() const { return stop_brief_; }
  bool stopped_on_capacity() const { return capacity_stop_; }
  // Stopped on capacity: what the policy said ("pool replicas: 3 of 4 in service, floor is 3").
  const std::string& capacity_refusal() const { return capacity_refusal_; }
  // Why no member can start now ("" when none is waiting for capacity).
  const std::string& waiting_for() const { return waiting_for_; }
  std::vector<WalkEvent> TakeEvents();

 private:
  // In increasing strength: a stronger stop replaces a weaker one (SIGTERM
  // after a window's close: the running steps finish, the next ones do not
  // start); a weaker one after a stronger changes nothing.
  enum class Stopping { kNo, kInterrupt, kFailures, kAbort };
  // Where a member is inside its phase.
  enum class Sub {
    kNone,
    kDrainSent, kSessions, kShutdown,           // draining
    kRestore, kRestoreRelease,                  // restoring
    kMaint,                                     // maint
    kStepRecorded,                              // step: "maint, next step N" being written
    kGateWeight,                                // gates: the first ramp weight, while in MAINT
    kReady, kUp, kHold,                         // enabling
    kBackToMaint, kUndoWeight, kRelease,
    kBake, kBakeDecide, kBakeOut,               // baking: reading its checks; a read of the pool, then
                                                // MAINT again, after one held
  };
  // What the walk keeps of one member besides its HostStatus.
  struct Host {
    size_t index = 0;                  // in hosts_
    Sub sub = Sub::kNone;
    std::optional<WalkAction> todo;    // the next action, due at `wake`
    SteadyTime wake{};
    bool busy = false;                 // an action is in flight
    bool want_view = false;            // waits for a read of the pool (sessions, UP)
    uint64_t min_seq = 0;              // reads older than this predate its last change
    bool was_out = false;              // out of traffic before the walk touched it
    SteadyTime phase_started{};
    SteadyTime deadline{};             // drain deadline, or UP deadline
    std::optional<HealthGates> gates;
    size_t gates_noted = 0;
    bool gates_journaled = false;      // the "gates" record went with the gates' first probe
    size_t ramp = 0;                   // index of the ramp weight set last
    std::string why;                   // a failure being reported after an undo
    int64_t shutting_down = 0;         // sessions open when their shutdown was sent
    bool why_is_failure = true;        // counts as a failure (not a stop)
    // MAINT not confirmed on every instance (one showed it READY, or it was
    // picked up from a record): its next action waits for a read that does.
    bool lost_maint = false;
    SteadyTime lost_since{};
    std::string lost_on;               // the instances that showed it READY, "lb1, lb2"
    bool reasserting = false;          // a kReassert is due or in flight
    int reassert_failures = 0;         // since MAINT was last confirmed
    int losses = 0;                    // times an instance showed it READY while held
    uint64_t guard_min_seq = 0;        // reads older than this predate its last kReassert
    SteadyTime bake_started{};                // baking: since
    std::optional<SteadyTime> clear_since;    // baking: its checks read clear since
    std::optional<SteadyTime> unknown_since;  // baking: its checks unknown since
    Millis bake{0};                           // baking: how long (the canary's, or the bake)
    std::optional<SteadyTime> locked_since;  // its lock was found held by a command (this episode)
    SteadyTime lock_seen{};                  // ... the last time
  };

  Host& HostOf(const std::string& server);
  HostStatus& StatusOf(const Host& h) { return hosts_[h.index]; }
  void Do(Host& h, WalkAction action, SteadyTime at);
  // `next_step`: for a "maint" record, the step to run next (0: none ran).
  void SetState(Host& h, Sub sub, LbState state, std::string journal, SteadyTime now, size_t next_step = 0);
  void SetWeight(Host& h, Sub sub, int percent, SteadyTime at);
  void WaitForView(Host& h, Sub sub, SteadyTime now);
  std::string StepLabel(size_t step) const;
  static std::string FirstLine(const std::string& text);  // what precedes the first '\n'  // step 2/3 "stop mariadb"
  void CountFailure(const Host& h, SteadyTime now);
  void StartStep(Host& h, size_t step, int attempt, SteadyTime at);
  void AfterStep(Host& h, size_t step, SteadyTime now);  // step `step` succeeded and is recorded
  void Hold(Host& h, SteadyTime now);  // held in MAINT, as the walk asked: its end
  void BackToMaint(Host& h, std::string why, SteadyTime now);
  void Release(Host& h, SteadyTime now);
  bool HasPending() const;
  bool Baking() const;  // some member bakes: no other starts
  void StartBake(Host& h, SteadyTime now);
  void EndBake(Host& h, const std::string& why, SteadyTime now);  // stopped while baking: in traffic, unjudged
  void BakeFailed(Host& h, std::string why, SteadyTime now);       // a check held: out again, if allowed
  void BakeOut(Host& h, const Result<PoolView>& view, SteadyTime now);
  void FailInTraffic(Host& h, const std::string& why, SteadyTime now);
  bool CanStart() const;  // a member may start: pending ones, not stopping, not halted
  bool HeldByHalt(const Host& h) const;
  std::vector<Host*> Candidates(const PoolView& view, SteadyTime now);
  void StartHosts(SteadyTime now, size_t slots, std::vector<WalkAction>& out);
  void StartHost(Host& h, SteadyTime now);
  void Resume(Host& h, const ResumePoint& at, SteadyTime now);
  void Emit(Host& h, SteadyTime now, std::vector<WalkAction>& out);
  // `moving`: a member started, or what holds the walk is not capacity (a lock).
  void UpdatePause(bool moving, SteadyTime now);
  std::string HeldByOwnFailures() const;
  void GateAction(Host& h, SteadyTime now);
  void NoteGates(Host& h);
  void SetMaint(Host& h, SteadyTime now);
  void CheckDrain(Host& h, const MemberView& m, SteadyTime now);
  void CheckUp(Host& h, const MemberView& m, SteadyTime now);
  void EnterGates(Host& h, SteadyTime now);
  void StartGates(Host& h, SteadyTime now);  // the first ramp weight is set: the gates themselves
  void FinishGates(Host& h, SteadyTime now);
  void Fail(Host& h, std::string why, SteadyTime now);
  void Restore(Host& h, std::string why, SteadyTime now);
  // in_traffic: READY was set and stands, so only its record is left.
  void StopHost(Host& h, std::string why, SteadyTime now, bool in_traffic = false);
  static bool ReadySet(const Host& h);
  // Enabling, and HAProxy reported it UP: it counts as the pool sees it.
  static bool UpConfirmed(const Host& h);
  void End(Host& h, HostPhase phase, SteadyTime now);
  // `brief`: the few words that refer to it later ("" = `reason`).
  void StopWalk(Stopping why, std::string reason, SteadyTime now, std::string brief = "");
  void Event(const std::string& server, std::string text, bool warning = false);
  bool WantsView(const Host& h, SteadyTime now) const;
  // In MAINT with its steps or gates running: no instance may hold it READY.
  static bool HeldInMaint(const HostStatus& s);
  static bool Guarded(const Host& h, const HostStatus& s) { return HeldInMaint(s) || h.lost_maint; }
  bool Guarding() const;  // some member is held in MAINT
  void AfterReassert(Host& h, bool ok, const std::string& error, SteadyTime now);
  void Confirmed(Host& h);  // MAINT holds on every instance again
  // Stopped between steps, or waiting to retry one: the step before it has ended.
  void StopBeforeStep(Host& h, SteadyTime now);
  void CheckLosses(Host& h, SteadyTime now);
  void Guard(Host& h, const MemberView& m, SteadyTime now);
  void GuardAll(uint64_t seq, const Result<PoolView>& view, SteadyTime now);
  // "; it stays out of traffic (record kept)", or that it may be in traffic
  // (`unconfirmed`: also when no read showed it READY, only none confirmed MAINT).
  static std::string OutOfTraffic(const Host& h, bool unconfirmed = true);
  static bool MayBeInTraffic(const Host& h, bool unconfirmed) {
    return h.lost_maint && (unconfirmed || !h.lost_on.empty());
  }
  // A sighting of the member's lock held: true when it starts a new episode.
  bool LockSeen(Host& h, SteadyTime now);
  static constexpr int kMaxLosses = 3;
  static std::string MayBeIn(const Host& h);  // "lb1 had it READY, and MAINT is not confirmed there"
  // A pending member whose lock a command holds: false once it waited too long (the walk stops).
  bool WaitForLock(Host& h, const std::string& by, SteadyTime now);

  WalkSpec spec_;
  std::vector<HostStatus> hosts_;
  std::vector<Host> state_;  // parallel to hosts_
  std::vector<WalkEvent> events_;
  uint64_t next_seq_ = 1;
  bool observing_ = false;             // a kObserve is in flight
  bool observe_with_mysql_ = false;    // ... and it reads MySQL too
  bool starved_ = false;               // the last Next() had no slot to start a member
  std::optional<PoolView> decide_view_;  // a fresh read with MySQL, for starting members
  uint64_t decide_seq_ = 0;            // its seq
  SteadyTime next_decide_{};           // no start decision before this
  std::optional<SteadyTime> paused_since_;
  std::string waiting_for_;
  std::vector<std::string> locked_;  // the last decision's members held by a command's lock
  SteadyTime next_guard_{};          // the next read of members held in MAINT
  std::vector<WalkAction> reasserts_;  // due now
  Stopping stopping_ = Stopping::kNo;
  std::string stop_reason_;
  std::string stop_brief_;
  bool capacity_stop_ = false;
  std::string capacity_refusal_;
  int failures_ = 0;
  bool baked_one_ = false;  // a member's bake began: the next ones are not the canary
  std::optional<std::string> halted_;
};

}  // namespace caretaker
