// See daemon.h; the server is daemon_server.h's, its one-member walks
// daemon_walks.cc's.
#include "src/serve/daemon.h"

#include <unistd.h>

#include "src/serve/daemon_server.h"

namespace caretaker {
namespace daemon_detail {

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

}  // namespace daemon_detail

bool RunDaemon(const Config& config, std::unique_ptr<StateStore> store, std::string password) {
  daemon_detail::Server server(config, std::move(store), std::move(password));
  return server.Run();
}

}  // namespace caretaker
