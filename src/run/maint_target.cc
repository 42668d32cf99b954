#include "src/run/maint_target.h"

#include <algorithm>

namespace caretaker {
namespace {

bool Matches(const PoolConfig& pool, const MemberConfig& m, std::string_view host) {
  std::string where = m.host + ":" + std::to_string(m.port);
  return host == m.server || host == m.host || host == where || host == pool.name + "/" + m.server;
}

std::string KnownMembers(const Config& config) {
  std::string out;
  size_t shown = 0, total = 0;
  for (const PoolConfig& p : config.pools) {
    for (const MemberConfig& m : p.members) {
      ++total;
      if (shown < 8) {
        out += (out.empty() ? "" : ", ") + m.server;
        ++shown;
      }
    }
  }
  if (total > shown) out += ", ... (" + std::to_string(total) + " in all)";
  return out;
}

}  // namespace

Result<MemberRef> FindMember(const Config& config, std::string_view host) {
  std::vector<MemberRef> found;
  for (const PoolConfig& p : config.pools) {
    for (const MemberConfig& m : p.members) {
      if (Matches(p, m, host)) found.push_back({&p, &m});
    }
  }
  if (found.empty()) {
    return Error{"no member of any pool is named \"" + std::string(host) + "\" in " + config.path +
                 " (members: " + KnownMembers(config) + ")"};
  }
  if (found.size() > 1) {
    std::string list;
    for (const MemberRef& r : found) list += (list.empty() ? "" : ", ") + r.pool->name + "/" + r.member->server;
    return Error{"\"" + std::string(host) + "\" names " + std::to_string(found.size()) +
                 " members (" + list + "): write POOL/SERVER"};
  }
  return found.front();
}

mysql::Target MemberTarget(const Config& config, const MemberConfig& member, const std::string& password) {
  mysql::Target t;
  t.host = member.host;
  t.port = member.port;
  t.user = config.mysql.user;
  t.password = password;
  t.connect_timeout = config.mysql.connect_timeout;
  t.read_timeout = config.mysql.read_timeout;
  t.write_timeout = config.mysql.read_timeout;
  return t;
}

std::optional<mysql::Target> PrimaryTarget(const Config& config, const PoolConfig& pool,
                                           const std::string& password) {
  if (!pool.primary) return std::nullopt;
  MemberConfig as_member{"primary", pool.primary->host, pool.primary->port};
  return MemberTarget(config, as_member, password);
}

mysql::ProbeOptions PoolProbeOptions(const PoolConfig& pool) {
  mysql::ProbeOptions options;
  if (!pool.gates.heartbeat_table.empty()) {
    options.heartbeat = mysql::Heartbeat{pool.gates.heartbeat_table, pool.gates.heartbeat_server_id};
  }
  return options;
}

namespace {

using State = policies::Member::State;

State MemberState(const PoolConfig& pool, const MemberConfig& m, const haproxy::MergedServer* server,
                  const std::map<std::string, mysql::Result<mysql::ReplicaStatus>>& mysql) {
  if (server) {
    for (const haproxy::ServerOnInstance& on : server->instances) {
      if (on.present && on.admin != haproxy::Admin::kReady) return State::kDrained;
    }
  }
  if (!server || !server->up_everywhere) return State::kDown;
  auto it = mysql.find(m.server);
  if (it == mysql.end()) return State::kInService;  // not probed
  if (!it->second) {
    // HAProxy's checks need `fall` failures before they say DOWN: until then
    // only this probe knows. A refusal of caretaker's own account is not the
    // server's state (the commands refuse it with its sentence); "not a
    // replica" answered.
    const mysql::ErrorCode code = it->second.error().code;
    return mysql::IsConfigurationError(code) || code == mysql::ErrorCode::kNotAReplica ? State::kInService
                                                                                        : State::kUnreachable;
  }
  const mysql::ReplicaStatus& s = it->second.value();
  if (!s.ThreadsRunning() || (s.lag && *s.lag > pool.gates.max_lag)) return State::kLagging;
  return State::kInService;
}

}  // namespace

policies::PoolSnapshot BuildSnapshot(const PoolConfig& pool, const haproxy::BackendView& view,
                                     const std::map<std::string, mysql::Result<mysql::ReplicaStatus>>& mysql,
                                     const std::vector<MaintRecord>& records) {
  policies::PoolSnapshot snapshot{pool.name, {}};
  for (const MemberConfig& m : pool.members) {
    bool recorded = std::any_of(records.begin(), records.end(), [&](const MaintRecord& r) {
      return r.pool == pool.name && r.server == m.server;
    });
    const haproxy::MergedServer* server = nullptr;
    for (const haproxy::MergedServer& s : view.servers) {
      if (s.server == m.server) server = &s;
    }
    State state = recorded ? State::kInMaintenance : MemberState(pool, m, server, mysql);
    snapshot.members.push_back({m.server, state});
  }
  return snapshot;
}

std::string Describe(const MemberRef& ref) {
  return ref.member->server + " (pool " + ref.pool->name + ", " + ref.member->host + ":" +
         std::to_string(ref.member->port) + ")";
}

}  // namespace caretaker
