// What `caretaker serve` does next with jobs, decided without I/O (time is
// an input): the jobs its schedules add when a window opens, which job of
// each pool's queue starts, and which running job pauses because its window
// closed. The Executor applies the decisions to the store and a JobLauncher
// (the real one runs ServeJobs; tests use a fake with a fake clock).
//
// Rules:
// - A pool's queue is its open jobs, oldest first; its head (PoolHeadIn)
//   is the only one that may run. A failed head holds the queue (reported).
// - A schedule adds a job of its task over every member when a window opens
//   (once per window), unless a job already holds the pool: a failed one is
//   reported; one queued, paused or still running has the window instead.
// - A queued or paused head starts when its pool has no schedule or is in a
//   window; a paused job that left members out of traffic, or a running job
//   whose process died (orphaned), starts at once, window or not (outside
//   its window it only brings its members back, then pauses again).
// - Nothing starts while halted; at most max_jobs run at once (here), and
//   never a second one in a pool where one runs here.
// - A job running here in a pool with a schedule, outside any window, pauses.
//   A schedule's job that goes on in a later window takes that window (so
//   the schedule adds no second job for it).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/store/job.h"
#include "src/store/state_store.h"

namespace caretaker {

struct ExecAction {
  enum class Kind {
    kAdd,     // add a job of the pool's schedule for `window`
    kStart,   // start job `job` (a schedule's job in `window`, when open: it is that window's now)
    kPause,   // pause job `job` (running here): its window closed
    kReport,  // `text` holds the pool (said once per change)
  };
  Kind kind = Kind::kReport;
  std::string pool;
  int64_t job = 0;
  Window window{};
  std::string text;
  bool warning = false;  // kReport: something an operator must act on (not a wait)
};

struct ExecInput {
  SysSeconds now{};
  bool halted = false;
  const Config* config = nullptr;
  std::vector<Job> open;                           // StateStore::OpenJobs(), oldest first
  std::map<int64_t, std::string> running_here;     // jobs this process runs -> their pool
  std::set<int64_t> pausing_here;                  // ... of those, the ones told to pause
  std::set<int64_t> orphaned;                      // running jobs whose process is gone
  std::map<std::string, SysSeconds> last_window;   // pool -> the window its schedule last added a job for
};

std::vector<ExecAction> DecideJobs(const ExecInput& in);

// Runs jobs for the Executor.
class JobLauncher {
 public:
  virtual ~JobLauncher() = default;
  virtual void Start(const Job& job) = 0;
  virtual void Pause(int64_t job, const std::string& why) = 0;
  virtual std::map<int64_t, std::string> Running() const = 0;  // started and not finished -> pool
  virtual std::set<int64_t> Pausing() const = 0;  // of those, told to pause
};

class Executor {
 public:
  Executor(StateStore& store, JobLauncher& launcher, std::function<bool(const Job&)> owner_gone)
      : store_(store), launcher_(launcher), owner_gone_(std::move(owner_gone)) {}
  // One round at `now` with `config` (the current one: serve reloads it).
  // A store that cannot be read starts and adds nothing (said once); jobs
  // outside their window still pause.
  void Tick(const Config& config, SysSeconds now, bool halted);

 private:
  void Say(const std::string& pool, const std::string& text, bool warning = true);
  void Apply(const Config& config, const ExecAction& a, SysSeconds now);

  StateStore& store_;
  JobLauncher& launcher_;
  std::function<bool(const Job&)> owner_gone_;
  std::map<std::string, std::string> said_;  // pool -> the last report
};

}  // namespace caretaker
