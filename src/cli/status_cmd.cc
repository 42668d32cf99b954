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
namespace {

struct ProbeTarget {
  mysql::Target target;
  mysql::ProbeOptions options;  // the heartbeat table of the (first) pool listing it
};

// One target per distinct member host:port, in config order.
std::vector<ProbeTarget> MemberTargets(const Config& config, const std::string& password) {
  std::vector<ProbeTarget> targets;
  std::set<std::string> seen;  // host:port probed once, however many pools list it
  for (const PoolConfig& pool : config.pools) {
    for (const MemberConfig& m : pool.members) {
      mysql::Target t = MemberTarget(config, m, password);
      if (seen.insert(mysql::Where(t)).second) targets.push_back({std::move(t), PoolProbeOptions(pool)});
    }
  }
  return targets;
}

struct Readings {
  std::vector<haproxy::InstanceDump> dumps;
  std::map<std::string, mysql::Result<mysql::ReplicaStatus>> probes;  // by mysql::Where
};

// Reads every instance and probes every target, all at once on one event
// loop; the blocking MySQL calls run on a small pool, never on the loop.
Readings ReadAll(const std::vector<const haproxy::Client*>& clients, std::vector<ProbeTarget> targets) {
  Readings readings;
  boost::asio::io_context io;
  // Declared after the loop, so destroyed before it: the pool's destructor
  // waits for queued work, which posts its result to the loop.
  mysql::BlockingPool pool(std::clamp<size_t>(targets.size(), 1, mysql::BlockingPool::kDefaultThreads));
  mysql::RealReplicaProbe probe(pool);
  auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  auto read = [&]() -> haproxy::Task<void> { readings.dumps = co_await haproxy::ReadInstances(clients); };
  auto probe_one = [&](ProbeTarget target) -> mysql::Task<void> {
    std::string where = mysql::Where(target.target);
    auto op = probe.Probe(std::move(target.target), std::move(target.options));
    mysql::Result<mysql::ReplicaStatus> result = co_await std::move(op);
    readings.probes.insert_or_assign(where, std::move(result));
  };
  boost::asio::co_spawn(io, read(), rethrow);
  for (ProbeTarget& t : targets) boost::asio::co_spawn(io, probe_one(std::move(t)), rethrow);
  io.run();
  return readings;
}

}  // namespace

std::string MemberWhere(const MemberConfig& member) { return member.host + ":" + std::to_string(member.port); }

StatusReport BuildStatusReport(const Config& config, const std::vector<haproxy::InstanceDump>& dumps) {
  StatusReport report;
  for (const haproxy::InstanceDump& d : dumps) {
    if (d.error) report.instance_errors.push_back({d.instance, d.error});
  }
  const haproxy::DumpIndex index(dumps);
  for (const PoolConfig& pool : config.pools) {
    std::vector<const haproxy::InstanceDump*> mine;
    PoolStatus status;
    status.pool = &pool;
    for (const std::string& name : pool.haproxy) {
      auto it = std::find_if(dumps.begin(), dumps.end(), [&](const auto& d) { return d.instance == name; });
      if (it == dumps.end()) continue;
      mine.push_back(&*it);
      if (!it->error && !index.Lists(*it, pool.backend)) status.backend_missing_on.push_back(name);
    }
    std::vector<std::string> order;
    for (const MemberConfig& m : pool.members) order.push_back(m.server);
    status.view = index.Merge(pool.backend, mine, order);
    report.pools.push_back(std::move(status));
  }
  return report;
}

policies::PoolSnapshot PolicySnapshot(const StatusReport& report, const PoolStatus& pool) {
  std::map<std::string, mysql::Result<mysql::ReplicaStatus>> by_server;
  for (const MemberConfig& m : pool.pool->members) {
    auto it = report.mysql.find(MemberWhere(m));
    if (it != report.mysql.end()) by_server.insert_or_assign(m.server, it->second);
  }
  return BuildSnapshot(*pool.pool, pool.view, by_server, {});
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
      if (report.mysql_probed) {
        auto it = report.mysql.find(MemberWhere(m));
        if (it == report.mysql.end() || !it->second) return false;
      }
    }
  }
  return report.mysql_error.empty();
}

int RunStatus(const Config& config, const StatusOptions& options, std::ostream& out) {
  Fleet fleet = Fleet::FromConfig(config);
  std::string mysql_error;
  std::vector<ProbeTarget> targets;
  if (!options.no_mysql) {
    auto password = ReadMysqlPassword(config.mysql);
    if (password) {
      targets = MemberTargets(config, password.value());
    } else {
      mysql_error = password.error().message;
    }
  }
  auto start = std::chrono::steady_clock::now();
  Readings readings = ReadAll(fleet.All(), std::move(targets));
  std::vector<haproxy::InstanceDump>& dumps = readings.dumps;
  std::map<std::string, mysql::Result<mysql::ReplicaStatus>>& probes = readings.probes;
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
                                             {"mysql", static_cast<int64_t>(probes.size())},
                                             {"ms", static_cast<int64_t>(ms.count())}});
  StatusReport report = BuildStatusReport(config, dumps);
  // The report holds copies of what it shows: the raw rows (tens of MiB for
  // 10,000 servers on 4 instances) can go before it is rendered.
  std::vector<haproxy::InstanceDump>().swap(dumps);
  report.mysql_probed = !options.no_mysql && mysql_error.empty();
  report.mysql = std::move(probes);
  report.mysql_error = std::move(mysql_error);
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
