#include "src/status_cmd.h"

#include <algorithm>
#include <chrono>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <ostream>

#include "src/fleet.h"
#include "src/log.h"

namespace caretaker {

StatusReport BuildStatusReport(const Config& config, const std::vector<haproxy::InstanceDump>& dumps) {
  StatusReport report;
  for (const haproxy::InstanceDump& d : dumps) {
    if (d.error) report.instance_errors.push_back({d.instance, d.error});
  }
  for (const PoolConfig& pool : config.pools) {
    std::vector<const haproxy::InstanceDump*> mine;
    PoolStatus status;
    status.pool = &pool;
    for (const std::string& name : pool.haproxy) {
      auto it = std::find_if(dumps.begin(), dumps.end(), [&](const auto& d) { return d.instance == name; });
      if (it == dumps.end()) continue;
      mine.push_back(&*it);
      bool has_backend = std::any_of(it->states.begin(), it->states.end(),
                                     [&](const haproxy::ServerState& s) { return s.backend == pool.backend; });
      if (!it->error && !has_backend) status.backend_missing_on.push_back(name);
    }
    std::vector<std::string> order;
    for (const MemberConfig& m : pool.members) order.push_back(m.server);
    status.view = haproxy::MergeBackend(pool.backend, mine, order);
    report.pools.push_back(std::move(status));
  }
  return report;
}

bool IsComplete(const StatusReport& report) {
  if (!report.instance_errors.empty()) return false;
  for (const PoolStatus& p : report.pools) {
    if (!p.backend_missing_on.empty()) return false;
    for (const MemberConfig& m : p.pool->members) {
      for (const haproxy::MergedServer& s : p.view.servers) {
        if (s.server != m.server) continue;
        for (const haproxy::ServerOnInstance& on : s.instances) {
          if (!on.present) return false;
        }
      }
    }
  }
  return true;
}

int RunStatus(const Config& config, const StatusOptions& options, std::ostream& out) {
  Fleet fleet = Fleet::FromConfig(config);
  boost::asio::io_context io;
  std::vector<haproxy::InstanceDump> dumps;
  const std::vector<const haproxy::Client*> clients = fleet.All();
  auto start = std::chrono::steady_clock::now();
  auto read = [&]() -> haproxy::Task<void> { dumps = co_await haproxy::ReadInstances(clients); };
  boost::asio::co_spawn(io, read(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  for (const haproxy::InstanceDump& d : dumps) {
    // The report itself names unreadable instances (stdout); these lines are
    // for --log-level debug, so a person does not read every error twice.
    if (d.error) {
      LogEvent(LogLevel::kDebug, "haproxy.unreachable", {{"lb", d.instance}, {"error", d.error->message}});
    } else {
      LogEvent(LogLevel::kDebug, "haproxy.read",
               {{"lb", d.instance}, {"servers", static_cast<int64_t>(d.states.size())}});
    }
  }
  LogEvent(LogLevel::kDebug, "status.read", {{"instances", static_cast<int64_t>(dumps.size())},
                                             {"ms", static_cast<int64_t>(ms.count())}});
  StatusReport report = BuildStatusReport(config, dumps);
  out << (options.json ? RenderStatusJson(report) + "\n" : RenderStatusTable(report, options.color));
  out.flush();
  return IsComplete(report) ? 0 : 1;
}

}  // namespace caretaker
