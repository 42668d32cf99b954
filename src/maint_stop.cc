// `caretaker maint stop HOST`: the gates, then back into traffic.
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include "mysql/connection.h"
#include "mysql/gtid.h"
#include "src/gates.h"
#include "src/log.h"
#include "src/maint_cmd.h"
#include "src/maint_session.h"
#include "src/state_open.h"

namespace caretaker {
namespace {

using maint_detail::kExitFailed;
using maint_detail::kExitUsage;
using maint_detail::Session;
using maint_detail::Stop;
using maint_detail::Task;

SteadyTime Now() { return std::chrono::steady_clock::now(); }

class Back {
 public:
  Back(Session& s, const MaintIo& io) : s_(s), io_(io) {}

  Task<int> Run();

 private:
  Task<std::optional<Stop>> Preflight();
  Task<std::optional<Stop>> CheckRamp();
  Task<std::optional<Stop>> Gates();
  Task<std::optional<Stop>> Guard();
  Task<void> Perform(HealthGates& gates);
  Task<std::optional<mysql::Result<bool>>> WaitForPrimary(SteadyTime deadline);
  Task<std::optional<Stop>> Enable();
  Task<std::optional<Stop>> ConfirmUp();
  Task<std::optional<Stop>> Ramp();
  Task<std::string> BackToMaint();
  std::string StaysOut() const;

  Session& s_;
  const MaintIo& io_;
  std::optional<MaintRecord> record_;
  bool in_service_already_ = false;
  std::vector<std::pair<std::string, int>> iweights_;  // the server's initial weight per instance
  bool ramp_started_ = false;  // the first ramp weight was sent
  bool in_traffic_ = false;    // READY was set and not undone
  std::vector<std::pair<Gate, Millis>> passed_;
};

Task<int> Back::Run() {
  auto preflight = Preflight();
  std::optional<Stop> stop = co_await std::move(preflight);
  if (!stop && in_service_already_) {
    io_.out << s_.server() << " is not in maintenance and is in service on " << s_.InstanceNames() << "\n";
    co_return 0;
  }
  for (auto phase : {&Back::CheckRamp, &Back::Gates, &Back::Enable}) {
    if (stop) break;
    auto run = (this->*phase)();
    stop = co_await std::move(run);
  }
  if (stop && ramp_started_ && !in_traffic_) {
    // The first ramp weight was set for a return that did not happen: a later
    // READY (by hand, or without a ramp) must not come back at 10%.
    auto full = s_.SetWeight(haproxy::Weight{100, true});
    haproxy::ApplyReport report = co_await std::move(full);
    if (!report.ok()) stop->message += "\nits weight stays at the first ramp step:\n" + report.FailureSummary();
  }
  s_.progress().Clear();
  if (stop) {
    io_.err << "caretaker: " << stop->message << "\n";
    co_return stop->exit_code;
  }
  auto removed = s_.records().Remove(s_.pool().name, s_.server());
  if (!removed) io_.err << "caretaker: warning: " << removed.error().message << "\n";
  std::string gates;
  for (const auto& [gate, took] : passed_) gates += std::string(gates.empty() ? "" : ", ") + GateName(gate) + " " + HumanDuration(took);
  io_.out << s_.server() << " is back in service: READY and UP on " << s_.InstanceNames() << "\n"
          << "  gates passed: " << gates << "\n";
  co_return 0;
}

Task<std::optional<Stop>> Back::Preflight() {
  auto found = s_.records().Find(s_.pool().name, s_.server());
  if (!found) co_return Stop{kExitFailed, found.error().message};
  record_ = found.value();
  auto level = s_.CheckAdminLevel();
  if (auto stop = co_await std::move(level)) co_return stop;
  auto read = s_.ReadView();
  Result<haproxy::BackendView> view = co_await std::move(read);
  if (!view) co_return Stop{kExitFailed, view.error().message + "; nothing was changed"};
  const haproxy::MergedServer& server = s_.ServerIn(view.value());
  iweights_.clear();
  for (const haproxy::ServerOnInstance& on : server.instances) iweights_.emplace_back(on.instance, on.state.iweight);
  if (!record_) {
    if (server.admin == haproxy::Admin::kReady) {
      in_service_already_ = server.up_everywhere;
      if (!in_service_already_) {
        co_return Stop{kExitFailed, s_.server() + " is not in maintenance but is not UP everywhere (" +
                                        haproxy::HealthByInstance(server) + "); nothing was changed"};
      }
      co_return std::nullopt;
    }
    // Out of traffic without a record: someone took it out by hand. Record it
    // before touching it, so a failure below leaves it out WITH a record.
    s_.progress().Note("note: " + s_.server() + " has no maintenance record but is out of traffic (" +
                       haproxy::HealthByInstance(server) + "); recording it, then putting it back through the gates");
    MaintRecord r;
    r.pool = s_.pool().name;
    r.server = s_.server();
    r.host = s_.member().host + ":" + std::to_string(s_.member().port);
    r.who = OperatorName();
    r.reason = "maint stop of a server found out of traffic without a record";
    r.since = NowSeconds();
    r.phase = "maint";
    if (auto stop = s_.Journal(r)) co_return stop;
    record_ = r;
  }
  co_return std::nullopt;
}

// A weight ramp needs a dynamic balance algorithm: ask HAProxy for the first
// step now, while the server is still out of traffic, so a static backend is
// refused before anyone waits for the gates.
Task<std::optional<Stop>> Back::CheckRamp() {
  const std::vector<int>& ramp = s_.pool().gates.weight_ramp;
  if (ramp.empty()) co_return std::nullopt;
  for (const auto& [instance, iweight] : iweights_) {
    if (iweight * ramp.front() / 100 > 0) continue;
    co_return Stop{kExitUsage, "the weight ramp of pool " + s_.pool().name + " starts at " +
                                   std::to_string(ramp.front()) + "%, but " + s_.server() + "'s initial weight on " +
                                   instance + " is " + std::to_string(iweight) + ": HAProxy rounds that down to 0, " +
                                   "which sends no traffic; give the servers a larger `weight` in HAProxy's " +
                                   "config (e.g. 100) or start the ramp higher. " + StaysOut()};
  }
  auto set = s_.SetWeight(haproxy::Weight{ramp.front(), true});
  haproxy::ApplyReport report = co_await std::move(set);
  ramp_started_ = true;  // even a failure may have applied on some instance
  if (report.ok()) co_return std::nullopt;
  bool is_static = report.FailureSummary().find("static") != std::string::npos;
  if (is_static) {
    co_return Stop{kExitUsage, "backend " + s_.pool().backend + " uses a static balance algorithm: HAProxy accepts " +
                                   "only 0% and 100% weights there, so pool " + s_.pool().name +
                                   " cannot ramp; remove its gates.weight_ramp (or use roundrobin, leastconn or " +
                                   "hash-type consistent). " + StaysOut()};
  }
  co_return Stop{kExitFailed, "setting the first ramp weight failed:\n" + report.FailureSummary() + "\n" + StaysOut()};
}

std::string Back::StaysOut() const {
  return s_.server() + " stays out of traffic; its maintenance record stays (caretaker maint list)";
}

Task<std::optional<Stop>> Back::Gates() {
  HealthGates gates(s_.pool().gates, Now());
  size_t noted = 0;
  while (true) {
    if (s_.interrupted()) co_return Stop{kExitFailed, "interrupted during the gates; " + StaysOut()};
    const GateStep& step = gates.step();
    if (step.action == GateStep::Action::kFailed) co_return Stop{kExitFailed, step.text + "\n" + StaysOut()};
    for (; noted < gates.passed().size(); ++noted) {
      const auto& [gate, took] = gates.passed()[noted];
      s_.progress().Note("gate " + std::string(GateName(gate)) + ": passed in " + HumanDuration(took));
      LogEvent(LogLevel::kDebug, "maint.gate", {{"server", s_.server()}, {"gate", GateName(gate)},
                                               {"ms", static_cast<int64_t>(took.count())}});
    }
    if (step.action == GateStep::Action::kPassed) break;
    auto guard = Guard();
    if (std::optional<Stop> lost = co_await std::move(guard)) co_return lost;
    // step.text is "gate: what"; the progress line names the gate itself.
    size_t colon = step.text.find(": ");
    if (colon != std::string::npos) s_.progress().Update(GateName(step.gate), step.text.substr(colon + 2));
    auto perform = Perform(gates);
    co_await std::move(perform);
  }
  passed_ = gates.passed();
  co_return std::nullopt;
}

// Before each gate action: an instance that shows the member READY while
// it is held (a reload that forgot the runtime state, a person, an agent
// check) gets MAINT set again at once, said loudly; the gates go on once it
// holds. Until `maint` runs on the walker, this is its copy of the walk's
// guard (Walker::Guard).
Task<std::optional<Stop>> Back::Guard() {
  auto read = s_.ReadView();
  Result<haproxy::BackendView> view = co_await std::move(read);
  if (!view) co_return std::nullopt;  // the next gate action reads again
  std::string on;
  for (const haproxy::MergedServer& m : view.value().servers) {
    if (m.server != s_.server()) continue;
    for (const haproxy::ServerOnInstance& i : m.instances) {
      if (i.present && i.admin == haproxy::Admin::kReady) on += (on.empty() ? "" : ", ") + i.instance;
    }
  }
  if (on.empty()) co_return std::nullopt;
  s_.progress().Note(on + " had " + s_.server() + " READY during its gates; setting MAINT again");
  auto set = s_.SetState(haproxy::AdminState::kMaint);
  haproxy::ApplyReport report = co_await std::move(set);
  LogEvent(report.ok() ? LogLevel::kWarn : LogLevel::kError, "maint.reassert",
           {{"server", s_.server()}, {"ready_on", on}, {"ok", report.ok()}});
  if (!report.ok()) {
    co_return Stop{kExitFailed, "SETTING MAINT AGAIN FAILED, " + s_.server() + " MAY BE IN TRAFFIC on " + on + ":\n" +
                                    report.FailureSummary() + "\nits maintenance record stays (caretaker maint list)"};
  }
  s_.progress().Note("MAINT again on every instance");
  co_return std::nullopt;
}

// Reads the primary's GTID position once, then waits for it on the member in
// slices of at most 5 s (a Ctrl-C is noticed between slices) until `deadline`.
// nullopt when interrupted.
Task<std::optional<mysql::Result<bool>>> Back::WaitForPrimary(SteadyTime deadline) {
  std::optional<mysql::Target> primary = s_.Primary();  // the config requires it with gtid_wait
  auto read = s_.Blocking<mysql::Result<mysql::PrimaryPosition>>(
      [primary = *primary] { return mysql::ReadPrimaryPosition(primary); });
  mysql::Result<mysql::PrimaryPosition> position = co_await std::move(read);
  if (!position) co_return mysql::Result<bool>(position.error());
  s_.progress().Update("catch-up", "waiting for the primary's GTID position " + position.value().position);
  mysql::Result<bool> reached = false;
  while (!s_.interrupted()) {
    Millis left = std::chrono::duration_cast<Millis>(deadline - Now());
    if (left <= Millis(0)) break;
    Millis slice = std::min<Millis>(left, std::chrono::seconds(5));
    auto wait = s_.Blocking<mysql::Result<bool>>(
        [replica = s_.Target(), primary = *primary, pos = position.value(), slice] {
          return mysql::WaitForPosition(replica, primary, pos, slice);
        });
    reached = co_await std::move(wait);
    if (!reached || reached.value()) break;
  }
  if (s_.interrupted()) co_return std::nullopt;
  co_return reached;
}

// Does what the gates asked for and feeds the result back.
Task<void> Back::Perform(HealthGates& gates) {
  const GateStep step = gates.step();
  if (step.action == GateStep::Action::kProbe) {
    if (step.at > Now()) {
      auto sleep = s_.Sleep(std::chrono::duration_cast<Millis>(step.at - Now()));
      co_await std::move(sleep);
      if (s_.interrupted()) co_return;
    }
    auto probe = s_.ProbeMember();
    mysql::Result<mysql::ReplicaStatus> reading = co_await std::move(probe);
    gates.OnProbe(reading, Now());
  } else if (step.action == GateStep::Action::kGtidWait) {
    auto wait = WaitForPrimary(step.at);
    std::optional<mysql::Result<bool>> reached = co_await std::move(wait);
    // A wait that ran out ran until the deadline (the last slice may end a
    // fraction of a millisecond early).
    SteadyTime now = reached && *reached && !reached->value() ? std::max(Now(), step.at) : Now();
    if (reached) gates.OnGtidWait(*reached, now);  // nullopt: interrupted
  } else if (step.action == GateStep::Action::kWarmupQueries) {
    auto run = s_.Blocking<mysql::Status>(
        [target = s_.Target(), queries = s_.pool().gates.warmup_queries] { return mysql::RunWarmupQueries(target, queries); });
    mysql::Status ran = co_await std::move(run);
    gates.OnWarmupQueries(ran, Now());
  }
}

Task<std::optional<Stop>> Back::Enable() {
  MaintRecord record = record_.value();  // Preflight made sure there is one
  record.phase = "enabling";
  if (auto stop = s_.Journal(record)) co_return stop;
  s_.progress().Update("enable", "setting READY on " + s_.InstanceNames());
  auto set = s_.SetState(haproxy::AdminState::kReady);
  haproxy::ApplyReport report = co_await std::move(set);
  if (!report.ok()) {
    auto back = BackToMaint();
    std::string undone = co_await std::move(back);
    co_return Stop{kExitFailed, "setting READY failed:\n" + report.FailureSummary() + "\n" + undone};
  }
  in_traffic_ = true;
  auto confirm = ConfirmUp();
  if (auto stop = co_await std::move(confirm)) co_return stop;
  auto ramp = Ramp();
  co_return co_await std::move(ramp);
}

Task<std::optional<Stop>> Back::ConfirmUp() {
  const SteadyTime deadline = Now() + s_.pool().gates.enable_timeout;
  std::string seen;
  while (Now() < deadline && !s_.interrupted()) {
    auto read = s_.ReadView();
    Result<haproxy::BackendView> view = co_await std::move(read);
    if (view) {
      const haproxy::MergedServer& server = s_.ServerIn(view.value());
      if (haproxy::CheckedUpEverywhere(server)) co_return std::nullopt;
      seen = haproxy::HealthByInstance(server);
      s_.progress().Update("enable", "waiting for UP: " + seen);
    } else {
      seen = view.error().message;
    }
    auto sleep = s_.Sleep(s_.pool().drain.poll_interval);
    co_await std::move(sleep);
  }
  in_traffic_ = false;
  auto back = BackToMaint();
  std::string undone = co_await std::move(back);
  if (s_.interrupted()) co_return Stop{kExitFailed, "interrupted while waiting for UP\n" + undone};
  co_return Stop{kExitFailed, "HAProxy did not report " + s_.server() + " UP within " +
                                  HumanDuration(s_.pool().gates.enable_timeout) + " (" + seen + ")\n" + undone};
}

Task<std::optional<Stop>> Back::Ramp() {
  const std::vector<int>& ramp = s_.pool().gates.weight_ramp;
  for (size_t i = 0; i + 1 < ramp.size(); ++i) {
    s_.progress().Update("ramp", "weight " + std::to_string(ramp[i]) + "% for " + HumanDuration(s_.pool().gates.ramp_hold));
    auto hold = s_.Sleep(s_.pool().gates.ramp_hold);
    co_await std::move(hold);
    if (s_.interrupted()) s_.progress().Note("ramp: interrupted; going to full weight now");
    size_t next = s_.interrupted() ? ramp.size() - 1 : i + 1;
    auto set = s_.SetWeight(haproxy::Weight{ramp[next], true});
    haproxy::ApplyReport report = co_await std::move(set);
    if (!report.ok()) {
      co_return Stop{kExitFailed, s_.server() + " is in traffic but setting weight " + std::to_string(ramp[next]) +
                                      "% failed:\n" + report.FailureSummary() +
                                      "\nits maintenance record stays; set the weight by hand"};
    }
    s_.progress().Note("ramp: weight " + std::to_string(ramp[next]) + "% on " + s_.InstanceNames());
    if (next == ramp.size() - 1) break;
  }
  co_return std::nullopt;
}

// After a failed enable: MAINT again, so the server is out and stays out.
Task<std::string> Back::BackToMaint() {
  MaintRecord record = record_.value();
  record.phase = "maint";
  if (auto stop = s_.Journal(record)) s_.progress().Note("warning: " + stop->message);
  auto set = s_.SetState(haproxy::AdminState::kMaint);
  haproxy::ApplyReport report = co_await std::move(set);
  if (report.ok()) co_return "set back to MAINT; " + StaysOut();
  co_return "SETTING IT BACK TO MAINT FAILED, " + s_.server() + " MAY BE IN TRAFFIC UNHEALTHY:\n" +
      report.FailureSummary();
}

}  // namespace

int RunMaintStop(const Config& config, const MaintStopOptions& options, const MaintIo& io) {
  // No policy check: putting a member back never costs capacity.
  return maint_detail::RunOnMember(config, options.host, io, /*check_policy=*/false, [&](Session& session) {
    auto back = std::make_shared<Back>(session, io);
    return [](std::shared_ptr<Back> b) -> Task<int> {
      auto run = b->Run();  // named (g++ 12)
      co_return co_await std::move(run);
    }(back);
  });
}

}  // namespace caretaker
