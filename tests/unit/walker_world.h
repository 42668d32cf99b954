// A small simulated world that drives a Walker the way the real driver
// (src/run/driver.h) will: a fake clock, a model of the pool, a fake load
// balancer that records every command as an exact string, scripted step
// results and probes read from the model. Shared by walker_test.cc and
// walker_random_test.cc.
//
// The driver loop: Next(now, slots); perform every action (a server command
// changes the model at once, its result comes back after lb_time; a step
// takes its duration); deliver one result at a time, calling Next() after
// each (or, with `batch`, every result due at once); when nothing is due,
// move the clock to the next result, world event or WakeAt(). Nothing here
// uses Catch2: Run() says how it ended.
//
// The model: READY -> UP one check_interval later unless the member is down
// or stay_down; a member whose mysqld died unnoticed (mysql_dead) is UP for
// HAProxy but its probes fail; DRAIN ends its sessions after sessions_linger; a member's
// task (its last step succeeding) repairs it: mysqld answers again and
// replication restarts lag_after_steps behind.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "mysql/warmup.h"
#include "src/walk/walker.h"

namespace caretaker::walker_testing {

using namespace std::chrono_literals;

inline const SteadyTime t0{};

enum class Admin { kReady, kDrain, kMaint };

// One member of the pool as the world knows it.
struct MemberModel {
  std::string server;
  Admin admin = Admin::kReady;
  int64_t sessions = 0;                              // open while READY
  std::optional<Millis> sessions_linger = Millis(0); // after DRAIN they end after this; nullopt: never
  SteadyTime sessions_end{};
  bool down = false;            // its checks fail and mysqld does not answer
  bool stay_down = false;       // HAProxy never reports it UP after READY
  bool mysql_dead = false;      // mysqld does not answer, but HAProxy's checks have not noticed yet
  SteadyTime up_from{};         // UP from here on (a check interval after READY or coming back)
  mysql::ThreadState io = mysql::ThreadState::kYes;
  mysql::ThreadState sql = mysql::ThreadState::kYes;
  std::string sql_error;
  SteadyTime caught_up_at{};    // lag is the time left until then
  Millis lag_after_steps{0};    // lag when its last step ends
  std::string break_replication;  // after its last step, the SQL thread stops with this error
  int weight = 100;
  std::string held_by;          // someone else's maintenance record
  std::string locked_by;        // a caretaker command holds its lock right now
  bool lock_taken = false;      // the driver finds its lock held when it first changes it
};

struct StepOutcome {
  bool ok = true;
  std::string text = "ok";
  Millis took{10s};
};

class World {
 public:
  enum class End { kFinished, kIdle, kTimeLimit, kSpin, kIterations, kBadDriver };

  explicit World(std::vector<std::string> servers, std::string backend = "replicas") : backend_(std::move(backend)) {
    for (std::string& s : servers) {
      MemberModel m;
      m.server = std::move(s);
      members.push_back(std::move(m));
    }
  }

  // --- the model ---------------------------------------------------------
  std::vector<MemberModel> members;
  SteadyTime now = t0;
  Millis check_interval{2s};  // HAProxy's: READY -> UP after one check
  Millis max_lag{5s};         // more is "lagging" for the capacity policy
  Millis lb_time{0};          // a command's round trip
  Millis observe_time{0};
  Millis probe_time{0};
  bool batch = false;         // deliver every result due before the next Next(), not one at a time
  bool views_at_send = false;     // a read shows the pool as it was when sent (else: as it answers)
  bool applied_at_reply = false;  // a command takes effect as it answers (else: as it is sent)

  MemberModel& operator[](const std::string& server) {
    for (MemberModel& m : members) {
      if (m.server == server) return m;
    }
    return members.front();
  }
  static bool CheckedUp(const MemberModel& m, SteadyTime now) {
    return m.admin == Admin::kReady && !m.down && !m.stay_down && now >= m.up_from;
  }
  Millis Lag(const MemberModel& m) const {
    return m.caught_up_at > now ? std::chrono::duration_cast<Millis>(m.caught_up_at - now) : Millis(0);
  }
  policies::Member::State PolicyState(const MemberModel& m) const {
    using State = policies::Member::State;
    if (m.admin != Admin::kReady) return State::kDrained;
    if (!CheckedUp(m, now)) return State::kDown;
    if (m.mysql_dead) return State::kUnreachable;
    bool running = m.io == mysql::ThreadState::kYes && m.sql == mysql::ThreadState::kYes;
    if (!running || Lag(m) > max_lag) return State::kLagging;
    return State::kInService;
  }
  // The pool as the capacity policy sees it now.
  policies::PoolSnapshot Snapshot(const std::string& pool) const {
    policies::PoolSnapshot snapshot{pool, {}};
    for (const MemberModel& m : members) snapshot.members.push_back({m.server, PolicyState(m)});
    return snapshot;
  }
  PoolView View() const {
    PoolView view;
    for (const MemberModel& m : members) view.members.push_back(ViewOf(m));
    return view;
  }
  mysql::Result<mysql::ReplicaStatus> Probe(const MemberModel& m) const {
    if (m.down || m.mysql_dead) {
      return mysql::Error{mysql::ErrorCode::kConnect, 2003, m.server + ":3306: Connection refused"};
    }
    mysql::ReplicaStatus s;
    s.io_thread = m.io;
    s.sql_thread = m.sql;
    s.last_sql_error = m.sql_error;
    s.lag = Lag(m);
    s.warmup = mysql::ParseBufferPoolLoad("Buffer pool(s) load completed at 261125  7:07:13");
    return s;
  }
  size_t OutNow() const {
    return static_cast<size_t>(
        std::count_if(members.begin(), members.end(), [](const MemberModel& m) { return m.admin != Admin::kReady; }));
  }

  // --- the script --------------------------------------------------------
  // The next time exactly `command` is sent, it fails with `error`.
  void FailNext(const std::string& command, std::string error) { fail_next_[command].push_back(std::move(error)); }
  // The next run of step `step` (0-based) on `server`.
  void Step(const std::string& server, size_t step, StepOutcome outcome) {
    steps_[{server, step}].push_back(std::move(outcome));
  }
  void At(SteadyTime at, std::function<void()> fn) { Push(at, std::move(fn), false); }
  // Right after `command` was sent and applied.
  void On(const std::string& command, std::function<void()> fn) { on_[command].push_back(std::move(fn)); }
  Millis step_time{10s};  // a step without a scripted outcome succeeds after this
  // Optional hooks of the randomized test.
  std::function<std::optional<std::string>(const WalkAction&, const std::string&)> fault;  // a command's failure
  std::function<std::optional<StepOutcome>(const WalkAction&)> step_outcome;
  std::function<std::optional<std::string>()> observe_fault;
  std::function<void(const WalkAction&, const std::string&)> before_command;  // before the model changes
  std::function<void()> after_event;
  std::function<void(const WalkAction&)> on_action;  // every action, as it is performed
  std::function<void(const std::string&, const mysql::Result<mysql::ReplicaStatus>&)> on_probe;
  // What a member's bake checks read now (unset: clear); each read is
  // counted in bake_reads and said in commands as "bake db1".
  std::function<BakeReading(const std::string& server)> bake;
  std::map<std::string, int> bake_reads;
  // How many members the global cap lets the walk take out now.
  std::function<size_t(const Walker&)> slots = [](const Walker&) { return size_t{100}; };

  // --- what happened -----------------------------------------------------
  std::vector<std::string> commands;  // load balancer commands, records, steps
  std::vector<SteadyTime> command_times;
  std::vector<WalkEvent> events;
  std::map<std::string, int> probes;
  int observes = 0;
  size_t max_out_seen = 0;
  std::string trouble;  // why Run() ended badly

  std::optional<SteadyTime> TimeOf(const std::string& command) const {
    auto it = std::find(commands.begin(), commands.end(), command);
    if (it == commands.end()) return std::nullopt;
    return command_times[static_cast<size_t>(it - commands.begin())];
  }
  bool HasEvent(const std::string& server, const std::string& text) const {
    return std::any_of(events.begin(), events.end(), [&](const WalkEvent& e) {
      return e.server == server && e.text.find(text) != std::string::npos;
    });
  }

  // Drives `walker` until it is finished, or idle (nothing can happen any
  // more), or something is wrong (see End).
  End Run(Walker& walker, Millis limit = 24h, int max_iterations = 1'000'000) {
    walker_ = &walker;
    trouble.clear();
    const SteadyTime until = now + limit;
    for (int i = 0; i < max_iterations; ++i) {
      if (walker.finished()) return in_flight_ == 0 ? End::kFinished : Bad("finished with results outstanding");
      if (!trouble.empty()) return End::kBadDriver;
      if (Act(walker) || walker.finished()) continue;
      if (!queue_.empty() && queue_.top().at <= now) {
        Deliver();
        while (batch && !queue_.empty() && queue_.top().at <= now && queue_.top().result) Deliver();
        continue;
      }
      std::optional<SteadyTime> wake = walker.WakeAt();
      if (wake && *wake <= now) return Fail(End::kSpin, "WakeAt() is now, but Next() has nothing to do");
      std::optional<SteadyTime> next = wake;
      if (!queue_.empty()) next = next ? std::min(*next, queue_.top().at) : queue_.top().at;
      if (!next) return Fail(End::kIdle, "idle: nothing in flight and no WakeAt()");
      if (*next > until) return Fail(End::kTimeLimit, "still running after the time limit");
      now = *next;
    }
    return Fail(End::kIterations, "too many iterations");
  }

 private:
  struct Due {
    SteadyTime at;
    uint64_t order;
    std::function<void()> fn;
    bool result;  // a result for the walker (not a world event)
    bool operator>(const Due& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  End Fail(End end, std::string why) {
    trouble = std::move(why);
    return end;
  }
  End Bad(std::string why) { return Fail(End::kBadDriver, std::move(why)); }

  void Push(SteadyTime at, std::function<void()> fn, bool result) {
    queue_.push(Due{at, order_++, std::move(fn), result});
    if (result) ++in_flight_;
  }
  void Later(Millis after, std::function<void()> fn) { Push(now + after, std::move(fn), true); }

  void Deliver() {
    Due due = queue_.top();
    queue_.pop();
    if (due.result) --in_flight_;
    due.fn();
    TakeEvents();
    if (after_event) after_event();
  }
  void TakeEvents() {
    for (WalkEvent& e : walker_->TakeEvents()) events.push_back(std::move(e));
  }

  // One Next(): true when it asked for something.
  bool Act(Walker& walker) {
    const size_t slots_now = slots(walker);
    std::vector<WalkAction> actions = walker.Next(now, slots_now);
    TakeEvents();
    size_t drains = static_cast<size_t>(std::count_if(actions.begin(), actions.end(), [](const WalkAction& a) {
      return a.kind == WalkAction::Kind::kSetState && a.state == LbState::kDrain && a.journal == "draining";
    }));
    if (drains > slots_now) trouble = "Next() started more members than the slots it was given";
    for (const WalkAction& a : actions) Perform(a);
    if (!actions.empty() && after_event) after_event();
    return !actions.empty();
  }

  void Perform(const WalkAction& a) {
    using Kind = WalkAction::Kind;
    if (on_action) on_action(a);
    switch (a.kind) {
      case Kind::kObserve: return Observe(a);
      case Kind::kSetState:
      case Kind::kSetWeight:
      case Kind::kShutdownSessions:
      case Kind::kRelease:
      case Kind::kReassert: return Command(a);
      case Kind::kRunStep: return RunStep(a);
      case Kind::kRecord:
        if (JournalFails(a)) return;
        Record(JournalText(a));
        return Later(Millis(0), [this, a] { walker_->OnApplied(a, true, "", now); });
      case Kind::kProbe:
        if (JournalFails(a)) return;
        if (!a.journal.empty()) Record(JournalText(a));
        ++probes[a.server];
        return Later(probe_time, [this, a] {
          auto reading = Probe((*this)[a.server]);
          if (on_probe) on_probe(a.server, reading);
          walker_->OnProbe(a, reading, now);
        });
      case Kind::kGtidWait: return Later(probe_time, [this, a] { walker_->OnGtidWait(a, true, now); });
      case Kind::kWarmupQueries: return Later(probe_time, [this, a] { walker_->OnWarmupQueries(a, mysql::Ok(), now); });
      case Kind::kBakeRead:
        ++bake_reads[a.server];
        Record("bake " + a.server);
        Fire("bake " + a.server);
        return Later(probe_time, [this, a] {
          walker_->OnBakeRead(a, bake ? bake(a.server) : BakeReading{BakeReading::Is::kClear, "value 0"}, now);
        });
    }
  }

  void Observe(const WalkAction& a) {
    ++observes;
    std::optional<PoolView> sent;
    if (views_at_send) sent = View();
    Later(observe_time, [this, a, sent] {
      std::optional<std::string> error = observe_fault ? observe_fault() : std::nullopt;
      if (error) return walker_->OnObserved(a.seq, Error{*error}, now);
      walker_->OnObserved(a.seq, sent ? *sent : View(), now);
    });
  }

  std::string CommandText(const WalkAction& a) const {
    const std::string where = backend_ + "/" + a.server;
    switch (a.kind) {
      case WalkAction::Kind::kSetState: return "set server " + where + " state " + LbStateName(a.state);
      case WalkAction::Kind::kSetWeight: return "set server " + where + " weight " + std::to_string(a.percent) + "%";
      case WalkAction::Kind::kShutdownSessions: return "shutdown sessions server " + where;
      case WalkAction::Kind::kReassert: return "set server " + where + " state " + LbStateName(a.state) + " (again)";
      default: return "release " + a.server;
    }
  }

  void Record(std::string command) {
    commands.push_back(std::move(command));
    command_times.push_back(now);
  }

  std::optional<std::string> Failure(const WalkAction& a, const std::string& command) {
    auto it = fail_next_.find(command);
    if (it != fail_next_.end() && !it->second.empty()) {
      std::string error = std::move(it->second.front());
      it->second.pop_front();
      return error;
    }
    return fault ? fault(a, command) : std::nullopt;
  }

  // "journal db1 maint"; a "maint" record naming the next step to run (not
  // the first) says it: "journal db1 maint, next step 3"; a "steps" record
  // names the step that may have run, past the first: "journal db1 steps, step 2".
  static std::string JournalText(const WalkAction& a) {
    std::string text = "journal " + a.server + " " + a.journal;
    if (a.journal == "maint" && a.step > 0) text += ", next step " + std::to_string(a.step + 1);
    if (a.journal == "steps" && a.step > 0) text += ", step " + std::to_string(a.step + 1);
    return text;
  }

  // A record that cannot be written, or a member whose lock a command holds
  // as the driver takes it (with its first record): the walker hears it,
  // nothing is done.
  bool JournalFails(const WalkAction& a) {
    if (a.journal.empty()) return false;
    if (!locked_.count(a.server)) {
      if ((*this)[a.server].lock_taken) {
        walker_->OnLocked(a, "another caretaker command", now);
        return true;
      }
      locked_.insert(a.server);  // held from here on: the walk touches a member once
    }
    const std::string command = JournalText(a);
    auto it = fail_next_.find(command);
    if (it == fail_next_.end() || it->second.empty()) return false;
    std::string error = std::move(it->second.front());
    it->second.pop_front();
    walker_->OnJournalFailed(a, error, now);
    return true;
  }

  void Command(const WalkAction& a) {
    if (JournalFails(a)) return;
    if (!a.journal.empty()) Record(JournalText(a));
    const std::string command = CommandText(a);
    if (before_command) before_command(a, command);
    Record(command);
    std::optional<std::string> error = Failure(a, command);
    if (!error && !applied_at_reply) Apply(a);
    Fire(command);
    Later(lb_time, [this, a, error] {
      if (!error && applied_at_reply) Apply(a);
      if (a.kind == WalkAction::Kind::kReassert) return walker_->OnReasserted(a, !error, error.value_or(""), now);
      walker_->OnApplied(a, !error, error.value_or(""), now);
    });
  }

  void Fire(const std::string& command) {
    auto it = on_.find(command);
    if (it == on_.end()) return;
    std::vector<std::function<void()>> fns = std::move(it->second);
    on_.erase(it);
    for (auto& fn : fns) fn();
  }

  void Apply(const WalkAction& a) {
    MemberModel& m = (*this)[a.server];
    if (a.kind == WalkAction::Kind::kSetWeight) m.weight = a.percent;
    if (a.kind == WalkAction::Kind::kShutdownSessions) m.sessions = 0;
    if (a.kind != WalkAction::Kind::kSetState && a.kind != WalkAction::Kind::kReassert) return;
    if (a.state == LbState::kDrain && m.admin == Admin::kReady) {
      m.admin = Admin::kDrain;
      if (m.sessions_linger) m.sessions_end = now + *m.sessions_linger;
    } else if (a.state == LbState::kMaint) {
      m.admin = Admin::kMaint;
    } else if (a.state == LbState::kReady && m.admin != Admin::kReady) {
      m.admin = Admin::kReady;
      m.up_from = now + check_interval;
    }
    max_out_seen = std::max(max_out_seen, OutNow());
  }

  void RunStep(const WalkAction& a) {
    if (JournalFails(a)) return;
    if (!a.journal.empty()) Record(JournalText(a));
    std::string command = "step " + a.server + " " + walker_->spec().steps[a.step].name;
    if (a.attempt > 1) command += " (attempt " + std::to_string(a.attempt) + ")";
    if (before_command) before_command(a, command);
    Record(command);
    StepOutcome outcome = NextOutcome(a);
    Fire(command);
    const bool last = a.step + 1 == walker_->spec().steps.size();
    Later(outcome.took, [this, a, outcome, last] {
      if (outcome.ok && last) Repaired((*this)[a.server]);
      walker_->OnStepDone(a, outcome.ok, outcome.text, now);
    });
  }

  StepOutcome NextOutcome(const WalkAction& a) {
    auto& scripted = steps_[{a.server, a.step}];
    if (!scripted.empty()) {
      StepOutcome outcome = std::move(scripted.front());
      scripted.pop_front();
      return outcome;
    }
    if (step_outcome) {
      if (std::optional<StepOutcome> outcome = step_outcome(a)) return *outcome;
    }
    return StepOutcome{true, "ok", step_time};
  }

  // The task's last step ran: mysqld is back, replication restarts behind.
  void Repaired(MemberModel& m) {
    m.down = false;
    m.mysql_dead = false;
    m.caught_up_at = now + m.lag_after_steps;
    if (!m.break_replication.empty()) {
      m.sql = mysql::ThreadState::kNo;
      m.sql_error = m.break_replication;
    }
  }

  MemberView ViewOf(const MemberModel& m) const {
    MemberView v;
    v.server = m.server;
    v.state = PolicyState(m);
    bool ended = m.admin != Admin::kReady && m.sessions_linger && now >= m.sessions_end;
    v.sessions = ended ? 0 : m.sessions;
    v.out_everywhere = m.admin != Admin::kReady;
    v.ready_everywhere = m.admin == Admin::kReady;
    v.checked_up = CheckedUp(m, now);
    const char* admin = m.admin == Admin::kReady ? "READY" : m.admin == Admin::kDrain ? "DRAIN" : "MAINT";
    v.health = std::string("lb1 ") + (CheckedUp(m, now) ? "UP " : "DOWN ") + admin;
    v.held_by = m.held_by;
    v.locked_by = m.locked_by;
    if (m.admin == Admin::kReady) v.ready_on = {"lb1"};
    if (v.state == policies::Member::State::kUnreachable) v.mysql_error = Probe(m).error().message;
    return v;
  }

  std::string backend_;
  Walker* walker_ = nullptr;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> queue_;
  uint64_t order_ = 0;
  int in_flight_ = 0;
  std::map<std::string, std::deque<std::string>> fail_next_;
  std::set<std::string> locked_;  // members whose lock the driver holds
  std::map<std::pair<std::string, size_t>, std::deque<StepOutcome>> steps_;
  std::map<std::string, std::vector<std::function<void()>>> on_;
};

}  // namespace caretaker::walker_testing
