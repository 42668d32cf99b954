#include "src/status_cmd.h"

#include <algorithm>
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

int RunStatus(const Config& config, const StatusOptions& options, std::ostream& out, std::ostream& err) {
  Fleet fleet = Fleet::FromConfig(config);
  boost::asio::io_context io;
  std::vector<haproxy::InstanceDump> dumps;
  const std::vector<const haproxy::Client*> clients = fleet.All();
  auto read = [&]() -> haproxy::Task<void> { dumps = co_await haproxy::ReadInstances(clients); };
  boost::asio::co_spawn(io, read(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  StatusReport report = BuildStatusReport(config, dumps);
  for (const auto& e : report.instance_errors) {
    LogEvent(LogLevel::kError, "haproxy.unreachable", {{"lb", e.instance}, {"error", e.error->message}});
  }
  out << (options.json ? RenderStatusJson(report) + "\n" : RenderStatusTable(report, options.color));
  out.flush();
  return report.instance_errors.empty() ? 0 : 1;
}

}  // namespace caretaker
