// See serve_daemon.h.
#include "src/serve/daemon.h"

#include <unistd.h>

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

namespace caretaker {
namespace {

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

bool Server::StartApi() {
  const ApiConfig& c = config_->api;
  if (!c.enabled) return true;
  auto tokens = ReadApiTokens(c.tokens_file);
  if (!tokens) {
    LogEvent(LogLevel::kError, "serve.api.refused", {{"error", tokens.error().message}});
    return false;
  }
  api_.emplace(*this, std::move(tokens).value());
  pools_.emplace(io_);
  http_ = std::make_unique<HttpServer>(io_, [this](const HttpExchange& x) { return api_->Handle(x); });
  if (!c.tls_cert.empty()) {
    if (auto tls = UseTls(); !tls) {
      LogEvent(LogLevel::kError, "serve.api.refused", {{"error", tls.error().message}});
      return false;
    }
  }
  if (auto listening = http_->Listen(c.listen_host, c.listen_port); !listening) {
    LogEvent(LogLevel::kError, "serve.api.refused", {{"error", listening.error().message}});
    return false;
  }
  LogEvent(LogLevel::kInfo, "serve.api",
           {{"listen", c.listen_host + ":" + std::to_string(http_->port())}, {"tls", !c.tls_cert.empty()},
            {"tokens", c.tokens_file},
            {"metrics_public", c.metrics_public}});
  return true;
}

Result<void> Server::UseTls() {
  const ApiConfig& c = config_->api;
  auto key = ReadSecretFile(c.tls_key, "the API's tls_key");
  if (!key) return key.error();
  return http_->UseTls(c.tls_cert, key.value(), c.tls_key);
}

void Server::ReloadApi(const ApiConfig& old) {
  const ApiConfig& c = config_->api;
  if (c.enabled != old.enabled || c.listen_host != old.listen_host || c.listen_port != old.listen_port ||
      c.tls_cert.empty() != old.tls_cert.empty()) {
    LogEvent(LogLevel::kWarn, "serve.api.restart_needed",
             {{"what", "[api] was added, removed or moved: restart caretaker serve to apply it"}});
  }
  if (!api_ || !c.enabled) return;
  // A renewed certificate is taken at each reload (new connections get it).
  if (!c.tls_cert.empty() && !old.tls_cert.empty()) {
    if (auto tls = UseTls(); !tls) LogEvent(LogLevel::kError, "serve.api.tls_kept", {{"error", tls.error().message}});
  }
  auto tokens = ReadApiTokens(c.tokens_file);
  if (!tokens) {
    LogEvent(LogLevel::kError, "serve.api.tokens_kept", {{"error", tokens.error().message}});
    return;
  }
  api_->SetTokens(std::move(tokens).value());
}

void Server::Count(int64_t id) {
  auto job = store_->FindJob(id);
  if (!job || !job.value()) return;
  ++counters_.jobs_finished[job.value()->state];
  if (job.value()->started && job.value()->ended) {
    counters_.job_seconds.Observe(static_cast<double>((*job.value()->ended - *job.value()->started).count()));
  }
}

void Server::Start(const Job& job) {
  if (jobs_.count(job.id)) return;  // still winding down: started again next round, if it must
  auto run = std::make_unique<ServeJob>(io_, config_, *store_, password_, budget_, notifier_);
  ServeJob& serve_job = *run;
  serve_job.Watch([this, id = job.id](const RollDriver& driver) {
    const RollDriver::Walk& w = driver.walks().front();
    walk_metrics_.Observe(id, w.pool->name, w.walker.hosts(), w.walker.waiting_for(), std::chrono::steady_clock::now());
  });
  jobs_.emplace(job.id, JobRun{job.pool, std::move(run)});
  asio::co_spawn(io_, serve_job.Run(job), [this](std::exception_ptr) { Wake(); });
}

void Server::Pause(int64_t job, const std::string& why) {
  if (auto it = jobs_.find(job); it != jobs_.end()) it->second.job->Pause(why);
}

std::map<int64_t, std::string> Server::Running() const {
  std::map<int64_t, std::string> out;
  for (const auto& [id, run] : jobs_) {
    if (!run.job->finished()) out.emplace(id, run.pool);
  }
  return out;
}

std::set<int64_t> Server::Pausing() const {
  std::set<int64_t> out;
  for (const auto& [id, run] : jobs_) {
    if (!run.job->finished() && run.job->pausing()) out.insert(id);
  }
  return out;
}

void Server::Announce() const {
  const Config& c = *config_;
  LogEvent(LogLevel::kInfo, "serve.config",
           {{"path", c.path}, {"pools", static_cast<int64_t>(c.pools.size())},
            {"max_concurrent_jobs", c.serve.max_concurrent_jobs}});
  const SysSeconds now = NowSeconds();
  for (const PoolConfig& p : c.pools) {
    if (!p.schedule) continue;
    const Schedule& s = p.schedule->schedule;
    auto open = WindowAt(s, now);
    auto next = NextWindow(s, now);
    LogEvent(LogLevel::kInfo, "serve.schedule",
             {{"pool", p.name}, {"task", p.schedule->task}, {"cron", s.cron.text()}, {"timezone", s.tz.name()},
              {"window", FormatDuration(std::chrono::duration_cast<Millis>(s.window))},
              {"open_now", open ? "until " + FormatUtc(open->close) : std::string("no")},
              {"next", next ? FormatUtc(next->open) : std::string("never")}});
  }
}

void Server::Reload() {
  const std::string path = config_->path;
  auto loaded = LoadConfig(path);
  std::optional<std::string> refused;
  if (!loaded) refused = loaded.error().message;
  if (!refused && loaded.value().state_dir != config_->state_dir) {
    refused = "[state] dir changed (" + config_->state_dir + " -> " + loaded.value().state_dir +
              "): the state store cannot move under a running serve; restart it";
  }
  for (size_t i = 0; !refused && i < loaded.value().pools.size(); ++i) {
    auto valid = CheckPoolPolicy(loaded.value(), loaded.value().pools[i]);
    if (!valid) refused = valid.error().message;
  }
  std::optional<Result<std::string>> password;
  if (!refused) password.emplace(ReadMysqlPassword(loaded.value().mysql));
  if (password && !*password) refused = password->error().message;
  if (refused) {
    LogEvent(LogLevel::kError, "serve.reload.refused", {{"error", *refused}, {"kept", path}});
    return;
  }
  const ApiConfig old_api = config_->api;
  config_ = std::make_shared<const Config>(std::move(loaded).value());
  password_ = password->value();
  rules_.Configure(config_, password_);
  notifier_.Configure(config_->notify);
  ReloadApi(old_api);
  LogEvent(LogLevel::kInfo, "serve.reload", {{"path", path}, {"running_jobs", static_cast<int64_t>(Running().size())}});
  Announce();
  Wake();
}

void Server::OnSignal(const boost::system::error_code& ec, int signal) {
  if (ec) return;
  if (signal == SIGHUP) {
    Reload();
  } else if (++stops_ == 1) {
    LogEvent(LogLevel::kWarn, "serve.stopping",
             {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}, {"running_jobs", static_cast<int64_t>(Running().size())},
              {"what", "nothing new starts; running steps finish, their members stay out with their records; the "
                       "next start goes on with them (signal again to kill the steps)"}});
    for (auto& [id, run] : jobs_) run.job->Stop("caretaker serve is stopping");
    AbortRestores("caretaker serve is stopping");  // automated: they stop too (their hosts stay in MAINT)
    rules_.Abort("caretaker serve is stopping");
    Wake();
  } else {
    LogEvent(LogLevel::kWarn, "serve.aborting", {{"what", "running steps are killed; members stay where they are"}});
    for (auto& [id, run] : jobs_) run.job->Abort();
    AbortRestores("caretaker serve is aborting");
    rules_.Abort("caretaker serve is aborting");
  }
  signals_.async_wait([this](const boost::system::error_code& e, int s) { OnSignal(e, s); });
}

void Server::AbortRestores(const std::string& why) {
  if (!restoring_.empty()) LogEvent(LogLevel::kWarn, "serve.maint.restore.abort", {{"why", why}});
  for (RollDriver* d : restoring_) d->Abort();
}

asio::awaitable<Server::WalkEnd> Server::WalkOne(std::shared_ptr<const Config> config, MemberWalkRequest r,
                                                 std::string log_as) {
  WalkEnd end;
  auto ref = FindMember(*config, r.pool + "/" + r.server);
  if (!ref) {
    end.why = ref.error().message;
    co_return end;
  }
  const PoolConfig& pool = *ref.value().pool;
  WalkRecordInfo info;
  info.who = r.who;
  info.reason = r.reason;
  info.until = r.until;
  if (!r.take_out) info.adopt.insert(r.pool + "/" + r.server);
  std::unique_ptr<WalkIo> world = MakeRealWalkIo(*config, password_, *store_, std::move(info));
  std::vector<roll_detail::PoolWalk> walks{
      {&pool, &NoSteps(),
       r.take_out ? TakeOutSpec(*config, pool, *ref.value().member, r.force_sessions)
                  : PutBackSpec(*config, pool, *ref.value().member)}};
  roll_detail::Preflight preflight(*config, *world, walks);
  auto checked = preflight.Run();
  std::optional<Error> refused = co_await std::move(checked);
  if (refused) {
    end.why = refused->message;
    co_return end;
  }
  RollHooks hooks;
  hooks.on_event = [log_as](const std::string& pool, const WalkEvent& e) {
    LogEvent(e.warning ? LogLevel::kWarn : LogLevel::kInfo, log_as + ".event",
             {{"pool", pool}, {"server", e.server}, {"text", e.text}});
  };
  RollDriver driver(io_, *config, *world, *steps_, hooks);
  driver.ShareBudget(budget_);
  driver.SetHaltCheck([this, config] { return CheckHalt(store_.get(), config->halt_file); });
  driver.Add(pool, NoSteps(), walks.front().spec);
  restoring_.insert(&driver);
  if (stops_ > 0) driver.Abort();
  auto run = driver.Run();
  co_await std::move(run);
  restoring_.erase(&driver);
  end.by_halt = halted_.erase(&driver) > 0;
  const Walker& walker = driver.walks().front().walker;
  const HostStatus& h = walker.hosts().front();
  end.ok = h.phase == (r.take_out ? HostPhase::kHeld : HostPhase::kDone);
  end.out = h.out_of_traffic || h.phase == HostPhase::kHeld;
  if (!end.ok) {
    end.why = h.phase == HostPhase::kPending && !walker.capacity_refusal().empty()
                  ? "refusing to take " + r.server + " out: " + walker.capacity_refusal() + "; nothing was changed"
                  : h.detail.substr(0, h.detail.find('\n'));
  }
  co_return end;
}

asio::awaitable<void> Server::Restore(std::shared_ptr<const Config> config, MaintRecord record) {
  ++restores_;
  LogEvent(LogLevel::kWarn, "serve.maint.restore", {{"pool", record.pool}, {"server", record.server}});
  MemberWalkRequest r;
  r.pool = record.pool;
  r.server = record.server;
  r.who = "caretaker serve";
  r.reason = "restore of an expired maintenance record";
  auto walk = WalkOne(config, r, "serve.maint.restore");
  const WalkEnd end = co_await std::move(walk);
  const bool ok = end.ok, by_halt = end.by_halt;
  LogEvent(ok ? LogLevel::kInfo : LogLevel::kError, "serve.maint.restore.end",
           {{"pool", record.pool}, {"server", record.server}, {"ok", ok}, {"why", end.why},
            {"left", ok ? std::string("back in traffic") : std::string("STILL OUT OF TRAFFIC")},
            {"then", ok        ? std::string()
                     : by_halt ? std::string("tried again once the halt is lifted")
                               : "tried again in " + HumanDuration(kExpiryReminder) + "; `caretaker maint stop " + record.pool + "/" + record.server +
                                     "` puts it back now"}});
  using Ended = ExpiryWatch::Ended;
  expiry_.RestoreEnded(record, ok ? Ended::kBack : by_halt ? Ended::kHalted : Ended::kFailed, NowSeconds());
  --restores_;
  Wake();
}

void Server::WalkMember(MemberWalkRequest request) {
  ++restores_;
  asio::co_spawn(io_, [this, request, config = config_]() -> asio::awaitable<void> {
    const std::string key = request.pool + "/" + request.server;
    LogEvent(LogLevel::kInfo, "serve.maint.walk",
             {{"member", key}, {"what", request.take_out ? "take out" : "put back"}, {"who", request.who}});
    WalkEnd end;
    try {
      auto walk = WalkOne(config, request, "serve.maint.walk");
      end = co_await std::move(walk);
    } catch (const std::exception& e) {
      end.why = std::string("internal error: ") + e.what() + "; it MAY BE OUT OF TRAFFIC (its record, if any, is kept)";
      end.out = true;
    }
    const std::string text =
        end.ok ? (request.take_out ? "in maintenance: drained, MAINT on every instance, until " + FormatUtc(*request.until)
                                   : std::string("back in service: READY and UP on every instance"))
               : std::string(request.take_out ? "not taken out" : "not put back") + ": " + end.why +
                     (end.out ? "; it stays OUT OF TRAFFIC with its record" : "");
    LogEvent(end.ok ? LogLevel::kInfo : LogLevel::kError, "serve.maint.walk.end", {{"member", key}, {"text", text}});
    AuditEntry entry{0, {}, request.who, "maint.walk.end", key, request.reason};
    entry.result = (end.ok ? "ok: " : "failed: ") + text;
    (void)store_->Audit(entry);
    --restores_;
    Wake();
  }, asio::detached);
}

void Server::RestoreJob(Job job, std::string who, std::string reason) {
  ++restores_;
  asio::co_spawn(io_, [this, job, who, reason, config = config_]() -> asio::awaitable<void> {
    const std::string id = std::to_string(job.id);
    const std::vector<MaintRecord> out = JobLeftOut(*store_, job);
    LogEvent(LogLevel::kInfo, "serve.job.restore", {{"job", job.id}, {"hosts", static_cast<int64_t>(out.size())}, {"who", who}});
    std::string failed;
    for (const MaintRecord& r : out) {
      MemberWalkRequest q;
      q.pool = r.pool;
      q.server = r.server;
      q.who = who;
      q.reason = reason;
      WalkEnd end;
      try {
        auto walk = WalkOne(config, q, "serve.job.restore");
        end = co_await std::move(walk);
      } catch (const std::exception& e) {
        end.why = std::string("internal error: ") + e.what();
      }
      if (!end.ok) failed += (failed.empty() ? "" : "; ") + r.pool + "/" + r.server + ": " + end.why;
    }
    std::string result;
    if (!failed.empty()) {
      result = "failed: still OUT OF TRAFFIC with their records: " + failed + "; job " + id + " stays " + job.state;
    } else {
      const std::string detail =
          out.empty() ? "nothing was out of traffic" : std::to_string(out.size()) + " host(s) put back";
      if (std::optional<Error> no = EndJobAsRead(*store_, job, "restored", detail)) {
        result = "failed: " + no->message;
      } else {
        BreakDeadLease(*config, *store_, job.pool);
        result = "ok: job " + id + " restored: " + detail;
      }
    }
    LogEvent(failed.empty() ? LogLevel::kInfo : LogLevel::kError, "serve.job.restore.end", {{"job", job.id}, {"result", result}});
    AuditEntry entry{0, {}, who, "job.restore.end", "job " + id, reason};
    entry.result = result;
    entry.job = job.id;
    (void)store_->Audit(entry);
    --restores_;
    Wake();
  }, asio::detached);
}

void Server::WatchExpiry(SysSeconds now, bool halted) {
  if (now < next_expiry_) return;
  next_expiry_ = now + kExpiryEvery;
  auto records = store_->List();
  if (!records) {
    LogEvent(LogLevel::kError, "serve.maint.unreadable", {{"error", records.error().message}});
    return;
  }
  for (const ExpiryAction& a : expiry_.Tick(*config_, records.value(), now, halted)) {
    const MaintRecord& r = a.record;
    if (a.kind == ExpiryAction::Kind::kRestore) {
      asio::co_spawn(io_, Restore(config_, r), asio::detached);
      continue;
    }
    const PoolConfig* pool = config_->FindPool(r.pool);
    LogEvent(LogLevel::kError, "maint.expired",
             {{"pool", r.pool}, {"server", r.server}, {"who", r.who}, {"reason", r.reason},
              {"until", FormatUtc(*r.until)}, {"phase", r.phase},
              {"then", pool && pool->on_maint_expiry == MaintExpiry::kRestore
                           ? (halted ? std::string("restore waits: halted") : std::string("putting it back"))
                           : "it stays OUT OF TRAFFIC: `caretaker maint stop " + r.pool + "/" + r.server + "`"}});
    if (a.first) {
      (void)store_->Audit({0, {}, "caretaker serve", "maint.expired", r.pool + "/" + r.server, r.reason});
      NotifyEvent e = NotifyEvent::Of("maint.expired", r);
      e.text = "caretaker: maintenance of " + r.pool + "/" + r.server + " by " + r.who + " expired at " +
               FormatUtc(*r.until) + " (" + r.reason + "); " +
               (pool && pool->on_maint_expiry == MaintExpiry::kRestore ? "putting it back"
                                                                       : "it stays OUT OF TRAFFIC until `caretaker maint stop " +
                                                                             r.pool + "/" + r.server + "`");
      notifier_.Emit(std::move(e));
    }
  }
}

asio::awaitable<void> Server::Loop() {
  while (true) {
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (!it->second.job->finished()) {
        ++it;
        continue;
      }
      if (it->second.job->crashed()) crashed_.push_back(std::move(it->second.job));
      Count(it->first);
      walk_metrics_.Forget(it->first);
      it = jobs_.erase(it);
    }
    if (stops_ > 0) {
      if (jobs_.empty() && restores_ == 0 && !rules_.Busy() && !(pools_ && pools_->Busy())) {
        // What the last moments did (jobs paused, say) still reaches people.
        auto flush = notifier_.Flush(kNotifyGrace);
        co_await std::move(flush);
        if (http_) http_->Stop();
        co_return;
      }
    } else {
      const SysSeconds now = NowSeconds();
      HaltCheck halt = CheckHalt(store_.get(), config_->halt_file);
      // A halt or a resume seen while serve runs is told; one from before
      // its start is not (events are never invented afterwards).
      if (was_halted_ && *was_halted_ != halt.halted) {
        NotifyEvent e;
        e.kind = halt.halted ? "halt" : "resume";
        e.text = halt.halted ? "caretaker: HALTED, no automated action starts: " + halt.why
                             : "caretaker: resumed, automated actions start again";
        e.reason = halt.halted ? halt.why : "";
        notifier_.Emit(std::move(e));
      }
      was_halted_ = halt.halted;
      executor_.Tick(*config_, now, halt.halted);
      // Automated: a restore under way stops where it is (its host stays
      // in MAINT with its record) and is tried again once the halt is lifted.
      if (halt.halted && !restoring_.empty()) {
        halted_.insert(restoring_.begin(), restoring_.end());
        AbortRestores(halt.why);
      }
      WatchExpiry(now, halt.halted);
      rules_.Tick(halt);
      if (pools_) pools_->Tick(config_, password_);
    }
    // A rule due before the round's end (a `for` that is up) goes round then.
    using Duration = std::chrono::steady_clock::duration;
    Duration round = kRound;
    if (std::optional<SteadyTime> due = rules_.NextDue(); due && stops_ == 0) {
      round = std::clamp(Duration(*due - SteadyClock().Now()), Duration(std::chrono::milliseconds(1)), round);
    }
    timer_.expires_after(round);
    boost::system::error_code ec;  // cancelled by Wake(): go round now
    auto wait = timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
}

bool Server::Run() {
  LogEvent(LogLevel::kInfo, "serve.start", {{"owner", JobOwnerName()}, {"store", StateStorePath(*config_)}});
  Announce();
  auto records = store_->List();
  if (records) {
    for (const MaintRecord& r : records.value()) {
      LogEvent(LogLevel::kWarn, "serve.out_of_traffic",
               {{"pool", r.pool}, {"server", r.server}, {"phase", r.phase}, {"who", r.who}, {"reason", r.reason},
                {"job", r.job}});
      // Re-announced at every start: a host out of traffic is never forgotten.
      NotifyEvent e = NotifyEvent::Of("host.left_out", r);
      e.text = "caretaker: " + r.pool + "/" + r.server + " is OUT OF TRAFFIC (" + r.phase + ", by " + r.who +
               (r.reason.empty() ? "" : ": " + r.reason) + "); said again as caretaker serve starts";
      notifier_.Emit(std::move(e));
    }
  }
  rules_.Configure(config_, password_);
  if (!StartApi()) return false;
  signals_.async_wait([this](const boost::system::error_code& e, int s) { OnSignal(e, s); });
  bool failed = false;
  asio::co_spawn(io_, Loop(), [&](std::exception_ptr e) {
    if (e) {
      failed = true;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& what) {
        LogEvent(LogLevel::kError, "serve.internal_error", {{"what", what.what()}});
      }
    }
    signals_.cancel();
    io_.stop();
  });
  io_.run();
  LogEvent(LogLevel::kInfo, "serve.stopped", {{"failed", failed}});
  return !failed;
}

}  // namespace

bool RunDaemon(const Config& config, std::unique_ptr<StateStore> store, std::string password) {
  Server server(config, std::move(store), std::move(password));
  return server.Run();
}

}  // namespace caretaker
