// `caretaker maint start HOST --reason TEXT [--for D] [--force-sessions]`.
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include "src/file_lock.h"
#include "src/gates.h"
#include "src/log.h"
#include "src/maint_cmd.h"
#include "src/maint_session.h"
#include "src/state_open.h"

namespace caretaker {
namespace {

using maint_detail::kExitFailed;
using maint_detail::kExitRefused;
using maint_detail::kExitUsage;
using maint_detail::Session;
using maint_detail::Stop;
using maint_detail::Task;


std::string Sessions(int64_t n) { return std::to_string(n) + (n == 1 ? " session" : " sessions"); }

// "lb1 2, lb2 1": sessions per instance.
std::string SessionsByInstance(const haproxy::MergedServer& s) {
  std::string out;
  for (const haproxy::ServerOnInstance& on : s.instances) {
    out += (out.empty() ? "" : ", ") + on.instance + " " + std::to_string(on.stat.scur);
  }
  return out;
}

class Start {
 public:
  Start(Session& s, const MaintStartOptions& options, const MaintIo& io) : s_(s), options_(options), io_(io) {}

  Task<int> Run();

 private:
  Task<std::optional<Stop>> Preflight();
  Task<std::optional<Stop>> Drain();
  Task<std::optional<Stop>> WaitForSessions();
  // Puts the member back READY after a failed or interrupted drain; returns
  // the Stop to report, which says whether the restore worked.
  Task<Stop> Restore(std::string why);
  Task<std::optional<Stop>> SetMaint();

  Session& s_;
  const MaintStartOptions& options_;
  const MaintIo& io_;
  MaintRecord record_;
  bool was_ready_ = true;  // READY on every instance before the drain
  std::optional<FileLock> pool_lock_;  // from the capacity decision until the record is written
  SteadyTime drain_started_{};
  int64_t sessions_shut_down_ = 0;
};

Task<int> Start::Run() {
  auto preflight = Preflight();
  std::optional<Stop> stop = co_await std::move(preflight);
  if (!stop) {
    auto drain = Drain();
    stop = co_await std::move(drain);
  }
  if (!stop) {
    auto maint = SetMaint();
    stop = co_await std::move(maint);
  }
  s_.progress().Clear();
  if (stop) {
    io_.err << "caretaker: " << stop->message << "\n";
    co_return stop->exit_code;
  }
  auto drained_in = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - drain_started_);
  io_.out << s_.server() << " is in maintenance: drained in " << HumanDuration(drained_in)
       << (sessions_shut_down_ ? " (" + Sessions(sessions_shut_down_) + " shut down)" : "")
       << ", MAINT on " << s_.InstanceNames() << "\n"
       << "  pool " << s_.pool().name << ", " << s_.member().host << ":" << s_.member().port << ", by "
       << record_.who << ": " << record_.reason << "\n"
       << "  until " << (record_.until ? FormatUtc(*record_.until) : std::string("(no end set)")) << "\n"
       << "put it back with: caretaker maint stop " << s_.server() << "\n";
  co_return 0;
}

Task<std::optional<Stop>> Start::Preflight() {
  auto level = s_.CheckAdminLevel();
  if (auto stop = co_await std::move(level)) co_return stop;
  auto probe = s_.ProbeAll();
  auto mysql = co_await std::move(probe);
  // The member's own MySQL must accept caretaker: `maint stop` needs it.
  const auto& mine = mysql.at(s_.server());
  if (!mine && mysql::IsConfigurationError(mine.error().code)) {
    co_return Stop{kExitUsage, mine.error().message + "; nothing was changed"};
  }
  // From the capacity decision until the record is written, no other
  // caretaker may decide for this pool: two starts must not both see room.
  auto lock = FileLock::Acquire(LockPath(s_.config(), "pool-" + s_.pool().name), std::chrono::seconds(30));
  if (!lock) co_return Stop{kExitRefused, lock.error().message + "; nothing was changed"};
  pool_lock_.emplace(std::move(lock.value()));
  auto existing = s_.records().Find(s_.pool().name, s_.server());
  if (!existing) co_return Stop{kExitFailed, existing.error().message};
  if (existing.value()) {
    const MaintRecord& r = *existing.value();
    co_return Stop{kExitRefused, s_.server() + " is already in maintenance (" + r.phase + ", by " + r.who +
                                     " since " + FormatUtc(r.since) + ": " + r.reason +
                                     "); `caretaker maint stop " + s_.server() + "` puts it back"};
  }
  // HAProxy read last, right before the decision.
  auto read = s_.ReadView();
  Result<haproxy::BackendView> view = co_await std::move(read);
  if (!view) co_return Stop{kExitFailed, view.error().message + "; nothing was changed"};
  auto all = s_.records().List();
  if (!all) co_return Stop{kExitFailed, all.error().message};
  policies::PoolSnapshot snapshot = BuildSnapshot(s_.pool(), view.value(), mysql, all.value());
  policies::Decision decision = policies::MayTakeOut(s_.pool().capacity, snapshot, s_.server());
  LogEvent(LogLevel::kDebug, "maint.capacity", {{"pool", s_.pool().name}, {"server", s_.server()},
                                               {"allowed", decision.allowed()}, {"reason", decision.reason}});
  if (!decision.allowed()) {
    co_return Stop{kExitRefused, "refusing to take " + s_.server() + " out: " + decision.reason +
                                     "; nothing was changed"};
  }
  was_ready_ = s_.ServerIn(view.value()).admin == haproxy::Admin::kReady;
  co_return std::nullopt;
}

Task<std::optional<Stop>> Start::Drain() {
  if (s_.interrupted()) co_return Stop{kExitFailed, "interrupted before any change; nothing was changed"};
  auto now = std::chrono::system_clock::now();
  record_.pool = s_.pool().name;
  record_.server = s_.server();
  record_.host = s_.member().host + ":" + std::to_string(s_.member().port);
  record_.who = options_.who.empty() ? OperatorName() : options_.who;
  record_.reason = options_.reason;
  record_.since = std::chrono::time_point_cast<std::chrono::seconds>(now);
  if (options_.for_duration) {
    record_.until = std::chrono::time_point_cast<std::chrono::seconds>(now + *options_.for_duration);
  }
  record_.phase = "draining";
  auto journaled = s_.Journal(record_);
  pool_lock_.reset();  // the record now counts this member as out for everyone
  if (journaled) co_return journaled;
  drain_started_ = std::chrono::steady_clock::now();
  s_.progress().Update("drain", "setting DRAIN on " + s_.InstanceNames());
  auto set = s_.SetState(haproxy::AdminState::kDrain);
  haproxy::ApplyReport report = co_await std::move(set);
  if (!report.ok()) {
    auto restore = Restore("the drain failed:\n" + report.FailureSummary());
    co_return co_await std::move(restore);
  }
  s_.progress().Note("drain: DRAIN set on " + s_.InstanceNames() + " (confirmed)");
  auto wait = WaitForSessions();
  co_return co_await std::move(wait);
}

Task<std::optional<Stop>> Start::WaitForSessions() {
  const DrainConfig& drain = s_.pool().drain;
  const SteadyTime deadline = drain_started_ + drain.deadline;
  while (true) {
    auto read = s_.ReadView();
    Result<haproxy::BackendView> view = co_await std::move(read);
    if (s_.interrupted()) {
      auto restore = Restore("interrupted while draining");
      co_return co_await std::move(restore);
    }
    if (!view) {
      auto restore = Restore("cannot read the sessions left: " + view.error().message);
      co_return co_await std::move(restore);
    }
    const haproxy::MergedServer& server = s_.ServerIn(view.value());
    if (!server.out_everywhere) {
      auto restore = Restore("the drain was undone on some instance (an agent check answering \"ready\"?)");
      co_return co_await std::move(restore);
    }
    if (server.sessions == 0) co_return std::nullopt;
    const SteadyTime now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      std::string left = Sessions(server.sessions) + " still open (" + SessionsByInstance(server) +
                         ") after the drain deadline of " + HumanDuration(drain.deadline);
      if (!options_.force_sessions && drain.on_timeout != DrainTimeoutAction::kShutdownSessions) {
        auto restore = Restore(left + "; use --force-sessions to end them, or a longer [drain] deadline");
        co_return co_await std::move(restore);
      }
      s_.progress().Note("drain: " + left + "; shutting them down");
      auto shut = s_.ShutdownSessions();
      haproxy::ApplyReport report = co_await std::move(shut);
      if (!report.ok()) {
        auto restore = Restore("shutting sessions down failed:\n" + report.FailureSummary());
        co_return co_await std::move(restore);
      }
      sessions_shut_down_ = server.sessions;
      co_return std::nullopt;
    }
    s_.progress().Update("drain", Sessions(server.sessions) + " open (" + SessionsByInstance(server) +
                                      "), " + HumanDuration(std::chrono::duration_cast<Millis>(deadline - now)) +
                                      " left");
    auto sleep = s_.Sleep(drain.poll_interval);
    co_await std::move(sleep);
  }
}

Task<Stop> Start::Restore(std::string why) {
  if (!was_ready_) {
    co_return Stop{kExitFailed, why + "; " + s_.server() + " was not READY before, so it is left as it is; " +
                                    "its maintenance record stays (caretaker maint list)"};
  }
  s_.progress().Update("restore", "setting READY on " + s_.InstanceNames());
  auto set = s_.SetState(haproxy::AdminState::kReady);
  haproxy::ApplyReport report = co_await std::move(set);
  if (!report.ok()) {
    co_return Stop{kExitFailed, why + "; RESTORING FAILED, " + s_.server() +
                                    " MAY BE OUT OF TRAFFIC:\n" + report.FailureSummary() +
                                    "\nits maintenance record stays; `caretaker maint stop " + s_.server() +
                                    "` retries"};
  }
  auto removed = s_.records().Remove(s_.pool().name, s_.server());
  std::string tail = removed ? "" : " (removing its record failed: " + removed.error().message + ")";
  co_return Stop{kExitFailed, why + "; " + s_.server() + " is back READY on " + s_.InstanceNames() + tail};
}

Task<std::optional<Stop>> Start::SetMaint() {
  record_.phase = "maint";
  if (auto stop = s_.Journal(record_)) co_return stop;
  s_.progress().Update("maint", "setting MAINT on " + s_.InstanceNames());
  auto set = s_.SetState(haproxy::AdminState::kMaint);
  haproxy::ApplyReport report = co_await std::move(set);
  if (!report.ok()) {
    co_return Stop{kExitFailed, s_.server() + " is drained on every instance (out of traffic) but MAINT failed:\n" +
                                    report.FailureSummary() + "\nits maintenance record stays; fix the instance, " +
                                    "then `caretaker maint stop " + s_.server() + "` puts it back"};
  }
  co_return std::nullopt;
}

}  // namespace

int RunMaintStart(const Config& config, const MaintStartOptions& options, const MaintIo& io) {
  return maint_detail::RunOnMember(config, options.host, io, /*check_policy=*/true, [&](Session& session) {
    auto start = std::make_shared<Start>(session, options, io);
    return [](std::shared_ptr<Start> s) -> Task<int> {
      auto run = s->Run();  // named (g++ 12)
      co_return co_await std::move(run);
    }(start);
  });
}

}  // namespace caretaker
