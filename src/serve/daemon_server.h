// Inside serve's daemon (daemon.cc, daemon_walks.cc): the server — its event
// loop, jobs, one-member walks (expiry restores, the API's maintenance and
// restores), rules, pool watch and HTTP API. Not for use elsewhere.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "src/base/file_lock.h"
#include "src/base/log.h"
#include "src/run/driver.h"
#include "src/run/job_actions.h"
#include "src/run/maint_target.h"
#include "src/run/member_walk.h"
#include "src/run/notifier.h"
#include "src/run/preflight.h"
#include "src/run/step_runner.h"
#include "src/serve/api.h"
#include "src/serve/executor.h"
#include "src/serve/expiry.h"
#include "src/serve/job_runner.h"
#include "src/serve/pool_watch.h"
#include "src/serve/walk_metrics.h"
#include "src/serve/rules.h"
#include "src/serve/serve_metrics.h"
#include "src/store/state_open.h"
#include "src/walk/job_run.h"

namespace caretaker::daemon_detail {

namespace asio = boost::asio;

constexpr std::chrono::seconds kRound{1};
constexpr std::chrono::seconds kExpiryEvery{10};
constexpr Millis kNotifyGrace{5000};  // at stop, for the webhooks to take what is queued

class Server final : public JobLauncher, public ApiHost {
 public:
  Server(const Config& config, std::unique_ptr<StateStore> store, std::string password)
      : config_(std::make_shared<const Config>(config)),
        store_(std::move(store)),
        password_(std::move(password)),
        executor_(*store_, *this, [this](const Job& job) { return JobOwnerGone(*config_, *store_, job); }),
        timer_(io_),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        steps_(MakeProcessStepRunner(io_.get_executor())),
        notifier_(io_, config.notify),
        rules_(io_, *store_, budget_, *steps_, notifier_, [this] { Wake(); }) {}

  bool Run();  // false: its loop failed (said)

  void Start(const Job& job) override;
  void Pause(int64_t job, const std::string& why) override;
  std::map<int64_t, std::string> Running() const override;
  std::set<int64_t> Pausing() const override;

  // ApiHost
  const Config& config() const override { return *config_; }
  StateStore& store() override { return *store_; }
  void Wake() override { timer_.cancel(); }
  void AlertsTaken(const AlertIntake& intake) override {
    counters_.alerts_received["firing"] += intake.firing;
    counters_.alerts_received["resolved"] += intake.resolved;
    counters_.alerts_received["duplicate"] += intake.duplicates;
    if (intake.firing + intake.resolved == 0) return;
    rules_.EvaluateSoon(RuleSource::kAlertmanager);
    Wake();
  }
  void WalkMember(MemberWalkRequest request) override;
  void RestoreJob(Job job, std::string who, std::string reason) override;
  bool Restoring(int64_t job) const override { return restoring_jobs_.count(job) > 0; }
  // Only the API asks (so api_ is set).
  std::shared_ptr<const PoolReading> Pools() const override { return pools_ ? pools_->last() : nullptr; }
  std::string Metrics() override {
    return RenderServeMetrics(*config_, *store_, counters_, api_->requests(), NowSeconds(),
                              ServeLive{pools_ ? &*pools_ : nullptr, &walk_metrics_, &rules_.counters()});
  }

 private:
  // The API when [api] is set: its tokens read, listening. false: said why.
  bool StartApi();
  // After a reload: the tokens read again (kept when the file is broken); a
  // changed address or [api] added or removed needs a restart (said).
  void ReloadApi(const ApiConfig& old);
  // The API's certificate and key read (again) into the HTTP server.
  Result<void> UseTls();
  // A job this serve ran has finished: counted for /metrics.
  void Count(int64_t id);
  asio::awaitable<void> Loop();
  asio::awaitable<void> RunJob(int64_t id, Job job);
  // Puts the host of an expired record back: a walk of that one member
  // (member_walk.h) on a driver of serve's, inside its host budget and halt.
  asio::awaitable<void> Restore(std::shared_ptr<const Config> config, MaintRecord record);
  // A walk of one member (member_walk.h) on a driver of serve's, inside its
  // host budget and halt; its events logged as `log_as`.event.
  struct WalkEnd {
    bool ok = false;
    bool by_halt = false;  // a halt stopped it
    bool out = false;      // it ended out of traffic
    std::string why;       // not ok: one sentence
  };
  asio::awaitable<WalkEnd> WalkOne(std::shared_ptr<const Config> config, MemberWalkRequest request, std::string log_as);
  void AbortRestores(const std::string& why);
  void OnSignal(const boost::system::error_code& ec, int signal);
  void Reload();
  void Announce() const;
  void WatchExpiry(SysSeconds now, bool halted);

  asio::io_context io_;
  std::shared_ptr<const Config> config_;
  std::unique_ptr<StateStore> store_;
  std::string password_;
  HostBudget budget_;
  struct JobRun {
    std::string pool;
    std::unique_ptr<ServeJob> job;
  };
  std::map<int64_t, JobRun> jobs_;
  // Jobs whose run threw: kept (never destroyed while serve runs), as work
  // of theirs may still be in flight.
  std::vector<std::unique_ptr<ServeJob>> crashed_;
  Executor executor_;
  ExpiryWatch expiry_;
  SysSeconds next_expiry_{};
  asio::steady_timer timer_;
  asio::signal_set signals_;
  std::unique_ptr<StepRunner> steps_;     // of expiry restores (they have none)
  std::set<RollDriver*> restoring_;       // the drivers of expiry restores running
  std::set<RollDriver*> halted_;          // ... of those, the ones a halt aborted
  int restores_ = 0;                      // running
  std::set<int64_t> restoring_jobs_;      // the jobs RestoreJob puts back now
  int stops_ = 0;                         // SIGTERM/SIGINT seen
  std::optional<bool> was_halted_;        // as the last round saw it (halt/resume are told on a change)
  Notifier notifier_;                     // of the config serve started with
  RuleRunner rules_;                      // after steps_, budget_ and notifier_: it uses them
  ServeCounters counters_;
  WalkMetrics walk_metrics_;
  std::optional<PoolWatch> pools_;  // while the API is on
  std::optional<Api> api_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace caretaker::daemon_detail
