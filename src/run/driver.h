// The driver of rolling walks: one Walker per pool (walker.h decides), all
// on one event loop, performing each decision through WalkIo (HAProxy, MySQL,
// records) and a StepRunner, and feeding the results back. Several pools walk
// at once; `max_concurrent_hosts` caps the members out across all of them.
//
// A journal action (a record with the member's phase) is written BEFORE the
// side effect it announces, synchronously, so a crash leaves the record. The
// capacity decision of a pool holds the pool's lock from the read of live
// state until the records of the members it starts are written, as
// `caretaker maint start` does, so the two never both see room.
#pragma once

#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/async.h"
#include "src/base/file_lock.h"
#include "src/config/config.h"
#include "src/run/step_runner.h"
#include "src/run/walk_io.h"
#include "src/store/state_open.h"
#include "src/walk/walker.h"

namespace caretaker {

// What the person watching sees; each may be empty.
struct RollHooks {
  std::function<void(const std::string& pool, const WalkEvent& event)> on_event;
  // One line a step printed.
  std::function<void(const std::string& pool, const std::string& server, std::string_view line)> on_output;
  std::function<void()> on_tick;  // after every round of decisions, and at least every second
};

class RollDriver;

// Members out of traffic across several drivers on one event loop (serve
// runs one per job), so that [roll] max_concurrent_hosts caps them all.
class HostBudget {
 public:
  size_t Out() const;

 private:
  friend class RollDriver;
  std::vector<const RollDriver*> drivers_;
};

class RollDriver {
 public:
  struct Walk {
    const PoolConfig* pool;
    const TaskConfig* task;
    Walker walker;
    std::optional<FileLock> decide_lock;  // held from a decision's read until its records are written
    bool decided = false;                 // the read came back: the next round decides and releases the lock
    // One per member from its drain until the walk is done with it, as a
    // `caretaker maint` command holds it: no maint stop puts it back meanwhile.
    std::map<std::string, FileLock> member_locks;
    std::map<std::string, int> performing;         // member -> its actions in flight
  };

  // Every time the driver reads, and every wait, is `clock`'s.
  RollDriver(boost::asio::io_context& io, const Config& config, WalkIo& world, StepRunner& steps, RollHooks hooks,
             Clock& clock = SteadyClock());
  ~RollDriver();
  RollDriver(const RollDriver&) = delete;
  RollDriver& operator=(const RollDriver&) = delete;

  // Counts the members out of the drivers sharing `budget` against the cap,
  // not only this one's (`budget` must outlive the driver).
  void ShareBudget(HostBudget& budget);
  // Bake checks of source "alertmanager" read the alerts `alerts` keeps
  // (it must outlive the driver); without it they are unknown.
  void ReadAlertsFrom(const AlertBook& alerts);

  // `locks`: member locks its caller took already (a maint command), held
  // by the walk from now on.
  void Add(const PoolConfig& pool, const TaskConfig& task, WalkSpec spec, std::map<std::string, FileLock> locks = {});
  // Walks every pool to its end.
  Awaitable<void> Run();
  void Interrupt(const std::string& reason = "");  // first Ctrl-C, or a window's close
  void Abort();      // second Ctrl-C: also kills running steps
  void Stop(const std::string& reason);  // Walker::Stop on every walk
  // Read before every round of decisions (so before every drain and step,
  // and at least once a second): while it says halted, no member and no step
  // starts; `halt --abort` also kills the steps running (their members fail
  // and stay out). Unset: never halted.
  void SetHaltCheck(std::function<HaltCheck()> check) { halt_check_ = std::move(check); }

  const std::deque<Walk>& walks() const { return walks_; }
  // Members out of traffic because of these walks (in flight, or left out).
  size_t OwnOut() const;
  RollHooks& hooks() { return hooks_; }

 private:
  void Round(SteadyTime now);
  // Journals what needs it (one transaction for all), then launches each.
  void StartAll(Walk& walk, std::vector<WalkAction> actions);
  void Launch(Walk& walk, WalkAction action);
  // Locks the member at its first journaled action (its drain, or where a
  // picked-up member starts); false (and the walker told) when it is held.
  bool LockMember(Walk& walk, const WalkAction& action);
  size_t OutNow() const;  // against the cap: this driver's, or the budget's
  Awaitable<void> Perform(Walk& walk, WalkAction action);
  Awaitable<void> Act(Walk& walk, const WalkAction& action);
  // An action that threw: the walker hears it failed, so nothing waits on it.
  void Failed(Walk& walk, const WalkAction& action, const std::string& what);
  Awaitable<void> RunStep(Walk& walk, const WalkAction& action);
  Awaitable<void> Observe(Walk& walk, const WalkAction& action);
  const MemberConfig& MemberOf(const Walk& walk, const std::string& server) const;
  void Kick();

  boost::asio::io_context& io_;
  const Config& config_;
  WalkIo& world_;
  StepRunner& steps_;
  RollHooks hooks_;
  std::deque<Walk> walks_;  // stable addresses: actions in flight refer to them
  Clock& clock_;
  std::unique_ptr<Timer> wake_;
  bool kicked_ = false;
  std::function<HaltCheck()> halt_check_;
  bool halt_aborted_ = false;  // the steps of a `halt --abort` were killed
  size_t in_flight_ = 0;  // actions performing
  HostBudget* budget_ = nullptr;
  const AlertBook* alerts_ = nullptr;
};

}  // namespace caretaker
