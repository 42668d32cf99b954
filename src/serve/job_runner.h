// One job as `caretaker serve` runs it, on serve's event loop beside the
// others (one per pool): claimed (its pool's lease), picked up where it
// stopped (its hosts' records: after a crash, a pause, a retry), checked
// against the live state — and a host its records say is out must still be
// out in HAProxy — then walked, its progress and end written to the store.
// Anything that keeps it from starting once claimed ends it "failed", with
// why and what to do: it holds its pool until an operator acts. A job it
// cannot claim (taken meanwhile) is left as it is. Never throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "src/config/config.h"
#include "src/store/job.h"
#include "src/store/state_store.h"

namespace caretaker {

class HostBudget;
class RollDriver;
class Notifier;

class ServeJob {
 public:
  // `config`, `store`, `budget` and `notifier` outlive it; `config` is the
  // one the job started with (a reload does not change a running job).
  ServeJob(boost::asio::io_context& io, std::shared_ptr<const Config> config, StateStore& store,
           std::string password, HostBudget& budget, Notifier& notifier);
  ~ServeJob();
  ServeJob(const ServeJob&) = delete;
  ServeJob& operator=(const ServeJob&) = delete;

  // Runs `job` (queued, paused, or orphaned) to its end.
  boost::asio::awaitable<void> Run(Job job);
  // Its window closed: no member starts, members out finish their task,
  // the job ends "paused".
  void Pause(const std::string& why);
  // serve stops: no member starts, running steps finish, members stay where
  // they are (in MAINT, with records), the job ends "paused".
  void Stop(const std::string& why);
  // Serve stops at once: running steps are killed (members stay out).
  void Abort();
  bool pausing() const;
  bool finished() const;
  // Its run threw: the job was ended "failed" (it holds its pool); the
  // object must outlive serve's event loop.
  bool crashed() const;
  // Called after every round of its walk's driver and once at its end (for
  // /metrics); set before Run.
  void Watch(std::function<void(const RollDriver&)> on_round);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caretaker
