// See status_report.h.
#include "src/run/status_report.h"

#include "src/run/walk_io.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "mysql/probe.h"
#include "src/run/maint_target.h"
#include "src/run/rule_sources.h"

namespace caretaker {
namespace {

namespace json = boost::json;
using haproxy::MergedServer;
using haproxy::ServerOnInstance;

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

json::object InstanceView(const ServerOnInstance& on) {
  json::object o{{"lb", on.instance}};
  if (on.error) {
    o["error"] = on.error->message;
    return o;
  }
  o["present"] = on.present;
  if (on.present) {
    o["admin"] = haproxy::AdminName(on.admin);
    o["admin_state"] = static_cast<int64_t>(on.state.admin_state);
    o["op_state"] = static_cast<int>(on.state.op_state);
    o["status"] = on.stat.status.raw;
    o["sessions"] = on.stat.scur;
    o["weight"] = on.stat.weight;
    o["check"] = on.stat.check_status;
    o["check_in_progress"] = on.stat.check_in_progress;
  }
  return o;
}

// {"state", "loaded", "total", "text"}, or null when unreadable.
json::value WarmupView(const std::optional<mysql::BufferPoolLoad>& load) {
  if (!load) return nullptr;
  return json::object{{"state", mysql::BufferPoolLoadStateName(load->state)},
                      {"loaded", static_cast<int64_t>(load->loaded)},
                      {"total", static_cast<int64_t>(load->total)},
                      {"text", load->text}};
}

json::value MysqlView(const mysql::Result<mysql::ReplicaStatus>* probe) {
  if (probe == nullptr) return nullptr;
  if (!*probe) {
    return json::object{{"io_running", nullptr}, {"sql_running", nullptr}, {"lag_s", nullptr}, {"warmup", nullptr},
                        {"error", json::object{{"code", mysql::ErrorCodeName(probe->error().code)},
                                               {"message", probe->error().message}}}};
  }
  const mysql::ReplicaStatus& r = probe->value();
  json::object o{{"io_running", mysql::ThreadStateName(r.io_thread)},
                 {"sql_running", mysql::ThreadStateName(r.sql_thread)}};
  o["lag_s"] = r.lag ? json::value(std::chrono::duration_cast<std::chrono::seconds>(*r.lag).count()) : nullptr;
  o["last_io_error"] = r.last_io_error;
  o["last_sql_error"] = r.last_sql_error;
  o["warmup"] = WarmupView(r.warmup);
  o["error"] = nullptr;
  return o;
}

json::object ServerView(const StatusReport& report, const PoolConfig& pool, const policies::PoolSnapshot& snapshot,
                        const MergedServer& s) {
  json::object o{{"server", s.server}};
  auto m = std::find_if(pool.members.begin(), pool.members.end(), [&](const auto& x) { return x.server == s.server; });
  if (m != pool.members.end()) {
    o["host"] = m->host;
    o["port"] = static_cast<int>(m->port);
    o["configured"] = true;
  } else {
    o["configured"] = false;
  }
  o["admin"] = s.admin ? json::value(haproxy::AdminName(*s.admin)) : nullptr;
  o["agree"] = s.agree;
  o["in_service"] = s.up_everywhere;
  o["out_everywhere"] = s.out_everywhere;
  if (const policies::Member* p = PolicyOf(snapshot, s.server)) {
    o["policy"] = json::object{{"state", policies::StateName(p->state)},
                               {"counts_as_out", policies::CountsAsOut(pool.capacity, p->state)}};
  } else {
    o["policy"] = nullptr;
  }
  o["sessions"] = s.sessions;
  json::array on;
  for (const ServerOnInstance& i : s.instances) on.push_back(InstanceView(i));
  o["haproxy"] = std::move(on);
  o["mysql"] = MysqlView(MysqlOf(report, pool, s.server));
  return o;
}

}  // namespace

const PoolStatus* StatusReport::Find(const std::string& pool) const {
  for (const PoolStatus& p : pools) {
    if (p.pool->name == pool) return &p;
  }
  return nullptr;
}

std::string MemberWhere(const MemberConfig& member) { return member.host + ":" + std::to_string(member.port); }

std::string ThreadsText(const mysql::ReplicaStatus& status) {
  return std::string("IO:") + mysql::ThreadStateName(status.io_thread) + " SQL:" +
         mysql::ThreadStateName(status.sql_thread);
}

std::string LagText(const mysql::ReplicaStatus& status) {
  if (!status.lag) return "?";
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*status.lag).count()) + "s";
}

std::string WarmupText(const mysql::ReplicaStatus& status) {
  using State = mysql::BufferPoolLoad::State;
  if (!status.warmup) return "?";
  const mysql::BufferPoolLoad& load = *status.warmup;
  switch (load.state) {
    case State::kCompleted: return "done";
    case State::kLoading:
      if (load.total == 0) return "loading";
      return "loading " + std::to_string(load.loaded * 100 / load.total) + "%";
    case State::kNothingToLoad: return "nothing to load";
    case State::kNotStarted: return "not started";
    case State::kAborted: return "aborted";
    case State::kUnknown: return "?";
  }
  return "?";
}

const mysql::Result<mysql::ReplicaStatus>* MysqlOf(const StatusReport& report, const PoolConfig& pool,
                                                   const std::string& server) {
  for (const MemberConfig& m : pool.members) {
    if (m.server != server) continue;
    auto it = report.mysql.find(MemberWhere(m));
    return it == report.mysql.end() ? nullptr : &it->second;
  }
  return nullptr;
}

const policies::Member* PolicyOf(const policies::PoolSnapshot& snapshot, const std::string& server) {
  for (const policies::Member& m : snapshot.members) {
    if (m.name == server) return &m;
  }
  return nullptr;
}

StatusReport BuildStatusReport(const Config& config, const std::vector<haproxy::InstanceDump>& dumps) {
  StatusReport report;
  for (const haproxy::InstanceDump& d : dumps) {
    if (d.error) {
      report.instance_errors.push_back({d.instance, d.error});
    } else {
      report.instance_servers[d.instance] = d.states.size();
    }
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

policies::PoolSnapshot PolicySnapshot(const StatusReport& report, const PoolStatus& pool,
                                      const std::vector<MaintRecord>& records) {
  std::map<std::string, mysql::Result<mysql::ReplicaStatus>> by_server;
  for (const MemberConfig& m : pool.pool->members) {
    auto it = report.mysql.find(MemberWhere(m));
    if (it != report.mysql.end()) by_server.insert_or_assign(m.server, it->second);
  }
  return BuildSnapshot(*pool.pool, pool.view, by_server, records);
}

PoolView PoolViewOf(const StatusReport& report, const PoolStatus& pool, const std::vector<MaintRecord>& records) {
  const policies::PoolSnapshot snapshot = PolicySnapshot(report, pool, records);
  PoolView out;
  for (size_t i = 0; i < pool.pool->members.size() && i < pool.view.servers.size(); ++i) {
    const MemberConfig& member = pool.pool->members[i];
    MemberView m = MemberViewOf(pool.view.servers[i], snapshot.members[i].state);  // `order` first
    if (m.state == policies::Member::State::kUnreachable) {
      const auto* probe = MysqlOf(report, *pool.pool, member.server);
      m.mysql_error = probe && !*probe ? probe->error().message : "MySQL not read";
    }
    for (const MaintRecord& r : records) {
      if (r.pool == pool.pool->name && r.server == member.server) m.held_by = r.who + ": " + r.reason;
    }
    out.members.push_back(std::move(m));
  }
  return out;
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

Awaitable<StatusReport> ReadStatusReport(boost::asio::io_context& io, const Config& config, const Fleet& fleet,
                                         mysql::ReplicaProbe& probe, Result<std::string> password,
                                         bool no_mysql) {
  std::vector<ProbeTarget> targets;
  std::string mysql_error;
  if (!no_mysql) {
    if (password) {
      targets = MemberTargets(config, password.value());
    } else {
      mysql_error = password.error().message;
    }
  }
  std::vector<haproxy::InstanceDump> dumps;
  std::map<std::string, mysql::Result<mysql::ReplicaStatus>> probes;  // by mysql::Where
  const std::vector<const haproxy::Client*> clients = fleet.All();
  // One HAProxy read of every instance beside every probe: the probes wait
  // on `probe`'s threads, so asking for all of them at once costs nothing.
  auto all = ForEachBounded(io, targets.size() + 1, targets.size() + 1, [&](size_t i) -> Awaitable<void> {
    if (i == 0) {
      auto read = haproxy::ReadInstances(clients);
      dumps = co_await std::move(read);
      co_return;
    }
    ProbeTarget& t = targets[i - 1];
    std::string where = mysql::Where(t.target);
    auto op = probe.Probe(t.target, t.options);
    mysql::Result<mysql::ReplicaStatus> result = co_await std::move(op);
    probes.insert_or_assign(std::move(where), std::move(result));
  });
  co_await std::move(all);
  StatusReport report = BuildStatusReport(config, dumps);
  report.mysql_probed = !no_mysql && mysql_error.empty();
  report.mysql = std::move(probes);
  report.mysql_error = std::move(mysql_error);
  co_return report;
}

json::object PoolStatusView(const StatusReport& report, const PoolStatus& p) {
  json::object o{{"name", p.pool->name}, {"backend", p.pool->backend}};
  json::array lbs;
  for (const std::string& lb : p.pool->haproxy) lbs.emplace_back(lb);
  o["haproxy"] = std::move(lbs);
  json::array missing;
  for (const std::string& lb : p.backend_missing_on) missing.emplace_back(lb);
  o["backend_missing_on"] = std::move(missing);
  const policies::PoolSnapshot snapshot = PolicySnapshot(report, p);
  json::array members;
  for (const MergedServer& s : p.view.servers) members.push_back(ServerView(report, *p.pool, snapshot, s));
  o["members"] = std::move(members);
  return o;
}

json::array StatusErrorsView(const StatusReport& report) {
  json::array errors;
  for (const auto& e : report.instance_errors) {
    errors.push_back(json::object{{"lb", e.instance}, {"code", haproxy::ErrorCodeName(e.error->code)},
                                  {"message", e.error->message}});
  }
  return errors;
}

}  // namespace caretaker
