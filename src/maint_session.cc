#include "src/maint_session.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "src/file_lock.h"
#include "src/state_open.h"
#include "src/pool_probe.h"
#include "src/log.h"

namespace caretaker::maint_detail {

namespace asio = boost::asio;

Session::Session(asio::io_context& io, const Config& config, MemberRef ref, std::string password,
                 MaintRecords& records, Progress& progress)
    : config_(config),
      ref_(ref),
      password_(std::move(password)),
      records_(records),
      progress_(progress),
      fleet_(Fleet::FromConfig(config)),
      clients_(fleet_.For(*ref.pool)),
      pool_(std::min<size_t>(ref.pool->members.size(), mysql::BlockingPool::kDefaultThreads)),
      probe_(pool_),
      signals_(io, SIGINT, SIGTERM, SIGHUP),
      timer_(io) {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    interrupted_ = true;
    LogEvent(LogLevel::kWarn, "maint.interrupted", {{"signal", signo == SIGINT ? "SIGINT" : signo == SIGHUP ? "SIGHUP" : "SIGTERM"}});
    timer_.cancel();
  });
}

std::string Session::InstanceNames() const {
  std::string out;
  for (const haproxy::Client* c : clients_) out += (out.empty() ? "" : ", ") + c->name();
  return out;
}

Task<std::optional<Stop>> Session::CheckAdminLevel() {
  for (const haproxy::Client* c : clients_) {
    auto op = c->CliLevel();  // named (g++ 12)
    haproxy::Result<std::string> level = co_await std::move(op);
    if (!level) co_return Stop{kExitFailed, level.error().message + "; nothing was changed"};
    if (level.value() != "admin") {
      co_return Stop{kExitUsage, "haproxy " + c->where() + ": the stats socket is at level " + level.value() +
                                     "; caretaker needs 'level admin' on it (stats socket ... level admin)"};
    }
  }
  co_return std::nullopt;
}

Task<Result<haproxy::BackendView>> Session::ReadView() {
  auto op = haproxy::ReadInstances(clients_, pool().backend);
  std::vector<haproxy::InstanceDump> dumps = co_await std::move(op);
  for (const haproxy::InstanceDump& d : dumps) {
    if (d.error) co_return Error{d.error->message};
    bool has_backend = false;
    for (const haproxy::ServerState& s : d.states) has_backend = has_backend || s.backend == pool().backend;
    if (!has_backend) {
      co_return Error{"haproxy " + d.instance + " has no backend \"" + pool().backend + "\" (pool " + pool().name +
                      " in " + config_.path + ")"};
    }
  }
  std::vector<std::string> order;
  for (const MemberConfig& m : pool().members) order.push_back(m.server);
  haproxy::BackendView view = haproxy::MergeBackend(pool().backend, dumps, order);
  for (const haproxy::ServerOnInstance& on : ServerIn(view).instances) {
    if (!on.present) {
      co_return Error{"haproxy " + on.instance + ": backend \"" + pool().backend + "\" has no server \"" +
                      server() + "\" (member of pool " + pool().name + " in " + config_.path + ")"};
    }
  }
  co_return view;
}

const haproxy::MergedServer& Session::ServerIn(const haproxy::BackendView& view) const {
  for (const haproxy::MergedServer& s : view.servers) {
    if (s.server == server()) return s;
  }
  throw std::logic_error("MergeBackend lists every ordered server");
}

Task<mysql::Result<mysql::ReplicaStatus>> Session::ProbeMember() {
  auto op = probe_.Probe(Target(), PoolProbeOptions(pool()));  // named (g++ 12)
  mysql::Result<mysql::ReplicaStatus> status = co_await std::move(op);
  co_return status;
}

Task<std::map<std::string, mysql::Result<mysql::ReplicaStatus>>> Session::ProbeAll() {
  auto op = ProbeMembers(probe_, config_, pool(), password_);  // named (g++ 12)
  MemberProbes probes = co_await std::move(op);
  co_return probes;
}

Task<haproxy::ApplyReport> Session::SetState(haproxy::AdminState state) {
  haproxy::ApplyOptions options = ApplyOptionsFor(config_, pool(), server(), "maint");
  auto op = haproxy::SetStateEverywhere(clients_, pool().backend, server(), state, options);
  haproxy::ApplyReport report = co_await std::move(op);
  LogEvent(report.ok() ? LogLevel::kDebug : LogLevel::kError, "maint.set_state",
           {{"pool", pool().name}, {"server", server()}, {"state", haproxy::AdminStateName(state)},
            {"ok", report.ok()}});
  co_return report;
}

Task<haproxy::ApplyReport> Session::SetWeight(haproxy::Weight weight) {
  haproxy::ApplyOptions options = ApplyOptionsFor(config_, pool(), server(), "maint");
  auto op = haproxy::SetWeightEverywhere(clients_, pool().backend, server(), weight, options);
  haproxy::ApplyReport report = co_await std::move(op);
  LogEvent(report.ok() ? LogLevel::kDebug : LogLevel::kError, "maint.set_weight",
           {{"pool", pool().name}, {"server", server()}, {"weight", weight.ToString()}, {"ok", report.ok()}});
  co_return report;
}

Task<haproxy::ApplyReport> Session::ShutdownSessions() {
  auto op = haproxy::ShutdownSessionsEverywhere(clients_, pool().backend, server());
  haproxy::ApplyReport report = co_await std::move(op);
  LogEvent(report.ok() ? LogLevel::kDebug : LogLevel::kError, "maint.shutdown_sessions",
           {{"pool", pool().name}, {"server", server()}, {"ok", report.ok()}});
  co_return report;
}

Task<void> Session::Sleep(Millis d) {
  if (interrupted_) co_return;
  timer_.expires_after(d);
  boost::system::error_code ec;  // cancelled by a signal: just wake up
  auto wait = timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(wait);
}

std::optional<Stop> Session::Journal(const MaintRecord& record) {
  auto put = records_.Put(record);
  LogEvent(put ? LogLevel::kDebug : LogLevel::kError, "maint.journal",
           {{"pool", record.pool}, {"server", record.server}, {"phase", record.phase}, {"ok", bool(put)}});
  if (put) return std::nullopt;
  return Stop{kExitFailed, "cannot write the maintenance record: " + put.error().message};
}

namespace {

// Runs `body` on `io` to completion and returns what it returned.
int RunToCompletion(asio::io_context& io, Task<int> body) {
  int code = kExitFailed;
  std::exception_ptr failure;
  asio::co_spawn(
      io,
      [&]() -> Task<void> { code = co_await std::move(body); },
      [&](std::exception_ptr e) {
        failure = e;
        io.stop();  // the signal set would keep the loop alive
      });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return code;
}

}  // namespace

int RunOnMember(const Config& config, const std::string& host, const MaintIo& io, bool check_policy,
                const std::function<Task<int>(Session&)>& make) {
  auto ref = FindMember(config, host);
  if (!ref) {
    io.err << "caretaker: " << ref.error().message << "\n";
    return kExitUsage;
  }
  auto policy = check_policy ? CheckPoolPolicy(config, *ref.value().pool) : Result<void>(boost::outcome_v2::success());
  auto password = policy ? ReadMysqlPassword(config.mysql) : Result<std::string>(policy.error());
  if (!password) {
    io.err << "caretaker: " << password.error().message << "\n";
    return kExitUsage;
  }
  auto lock = FileLock::Acquire(LockPath(config, "member-" + ref.value().pool->name + "-" + ref.value().member->server),
                                std::chrono::milliseconds(0));
  if (!lock) {
    io.err << "caretaker: " << lock.error().message << "\n";
    return kExitRefused;
  }
  auto store = OpenStateStore(config, OperatorName() + " (caretaker maint)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "; nothing was changed\n";
    return kExitFailed;
  }
  auto& records = store.value();
  asio::io_context loop;
  Progress progress(io.err, io.tty, std::chrono::seconds(5), io.tty ? TerminalColumns(STDERR_FILENO) : 0);
  Session session(loop, config, ref.value(), password.value(), *records, progress);
  try {
    return RunToCompletion(loop, make(session));
  } catch (const std::exception& e) {
    io.err << "caretaker: internal error: " << e.what() << "\n"
           << "caretaker: " << ref.value().member->server << " MAY BE OUT OF TRAFFIC: check `caretaker status` and "
           << "`caretaker maint list` (its record, if any, is kept)\n";
    return kExitFailed;
  }
}

}  // namespace caretaker::maint_detail
