#include "src/cli/status_cmd.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "mysql/pool.h"
#include "mysql/probe.h"
#include "src/base/log.h"
#include "src/run/fleet.h"
#include "src/run/maint_target.h"

namespace caretaker {
int RunStatus(const Config& config, const StatusOptions& options, std::ostream& out) {
  Fleet fleet = Fleet::FromConfig(config);
  Result<std::string> password = options.no_mysql ? Result<std::string>(std::string()) : ReadMysqlPassword(config.mysql);
  auto start = std::chrono::steady_clock::now();
  StatusReport report;
  {
    boost::asio::io_context io;
    // Declared after the loop, so destroyed before it: the pool's destructor
    // waits for queued work, which posts its result to the loop.
    size_t members = 0;
    for (const PoolConfig& p : config.pools) members += p.members.size();
    mysql::BlockingPool pool(std::clamp<size_t>(members, 1, mysql::BlockingPool::kDefaultThreads));
    mysql::RealReplicaProbe probe(pool);
    boost::asio::co_spawn(io, ReadStatusReport(io, config, fleet, probe, password, options.no_mysql),
                          [&](std::exception_ptr e, StatusReport r) {
                            if (e) std::rethrow_exception(e);
                            report = std::move(r);
                          });
    io.run();
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  // The report itself names unreadable instances (stdout); these lines are
  // for --log-level debug, so a person does not read every error twice.
  for (const auto& [instance, servers] : report.instance_servers) {
    LogEvent(LogLevel::kDebug, "haproxy.read", {{"lb", instance}, {"servers", static_cast<int64_t>(servers)}});
  }
  for (const auto& e : report.instance_errors) {
    LogEvent(LogLevel::kDebug, "haproxy.unreachable", {{"lb", e.instance}, {"error", e.error->message}});
  }
  LogEvent(LogLevel::kDebug, "status.read", {{"pools", static_cast<int64_t>(report.pools.size())},
                                             {"mysql", static_cast<int64_t>(report.mysql.size())},
                                             {"ms", static_cast<int64_t>(ms.count())}});
  if (options.json) {
    WriteStatusJson(report, out);
    out << "\n";
  } else {
    out << RenderStatusTable(report, options.color);
  }
  out.flush();
  return IsComplete(report) ? 0 : 1;
}

}  // namespace caretaker
