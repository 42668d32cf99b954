#include "haproxy/backend_view.h"

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <map>
#include <set>

#include "haproxy/concurrently.h"

namespace caretaker::haproxy {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using detail::ForEachConcurrently;

// The rows of `backend`, or of every backend when it is empty (both dumps
// at once). One backend: its servers' state first, then `show stat` of its id
// only (see ShowBackendStat), so a walk's every read of a pool does not parse
// the whole fleet.
Task<InstanceDump> ReadOne(const Client& client, std::string backend) {
  InstanceDump dump;
  dump.instance = client.name();
  if (backend.empty()) {
    auto both = client.ShowStat() && client.ShowServersState(backend);  // concurrently
    auto [stats, states] = co_await std::move(both);
    if (!stats || !states) {
      dump.error = !stats ? stats.error() : states.error();
      co_return dump;
    }
    dump.stats = std::move(stats.value());
    dump.states = std::move(states.value());
    co_return dump;
  }
  auto states = co_await client.ShowServersState(backend);
  if (!states) {
    dump.error = states.error();
    co_return dump;
  }
  dump.states = std::move(states.value());
  if (dump.states.empty()) co_return dump;  // a backend without servers
  auto stats = co_await client.ShowBackendStat(dump.states.front().backend_id, backend);
  if (!stats) {
    dump.error = stats.error();
    dump.states.clear();
    co_return dump;
  }
  dump.stats = std::move(stats.value());
  co_return dump;
}

// A server takes new traffic on an instance: READY, health UP (or not
// checked), and a weight above 0 (weight 0 still shows "UP").
bool TakesTraffic(const ServerOnInstance& on) {
  using W = StatusField::Word;
  bool healthy = on.stat.status.word == W::kUp || on.stat.status.word == W::kNoCheck;
  return on.admin == Admin::kReady && healthy && on.stat.weight > 0;
}

// One instance's rows of one backend, by server name.
// One dump's rows of one backend (rows == nullptr: it has none).
struct BackendRows {
  const InstanceDump* dump;
  const DumpIndex::Rows* rows;
};

DumpIndex::Rows IndexBackend(const InstanceDump& dump, std::string_view backend) {
  DumpIndex::Rows rows;
  for (const ServerStat& s : dump.stats) {
    if (s.backend == backend) rows.stats.emplace(s.server, &s);
  }
  for (const ServerState& s : dump.states) {
    if (s.backend == backend) rows.states.emplace(s.server, &s);
  }
  return rows;
}

ServerOnInstance Lookup(const BackendRows& rows, const std::string& server) {
  ServerOnInstance on;
  on.instance = rows.dump->instance;
  on.error = rows.dump->error;
  if (on.error || !rows.rows) return on;
  auto st = rows.rows->states.find(server);
  auto ss = rows.rows->stats.find(server);
  if (st == rows.rows->states.end() || ss == rows.rows->stats.end()) return on;
  on.present = true;
  on.state = *st->second;
  on.stat = *ss->second;
  on.admin = AdminOf(on.state);
  return on;
}

MergedServer Merge(std::string server, const std::vector<BackendRows>& instances) {
  MergedServer m;
  m.server = std::move(server);
  m.instances.reserve(instances.size());
  bool all_read = !instances.empty();
  bool same = true;
  for (const BackendRows& rows : instances) {
    ServerOnInstance on = Lookup(rows, m.server);
    if (on.error || !on.present) {
      all_read = false;
    } else {
      if (!m.admin) m.admin = on.admin;
      same = same && *m.admin == on.admin;
      m.sessions += on.stat.scur;
    }
    m.instances.push_back(std::move(on));
  }
  if (!same) m.admin.reset();
  m.agree = all_read && same;
  m.out_everywhere = all_read && std::all_of(m.instances.begin(), m.instances.end(),
                                             [](const ServerOnInstance& on) { return on.admin != Admin::kReady; });
  m.up_everywhere = all_read && std::all_of(m.instances.begin(), m.instances.end(), TakesTraffic);
  return m;
}
}  // namespace

const char* AdminName(Admin admin) {
  switch (admin) {
    case Admin::kReady: return "READY";
    case Admin::kDrain: return "DRAIN";
    case Admin::kMaint: return "MAINT";
  }
  return "?";
}

Admin AdminOf(const ServerState& state) {
  if (state.in_maint()) return Admin::kMaint;
  if (state.in_drain()) return Admin::kDrain;
  return Admin::kReady;
}

Task<std::vector<InstanceDump>> ReadInstances(const std::vector<const Client*>& clients, std::string_view backend) {
  std::string b(backend);
  auto read = [&b](const Client& c) { return ReadOne(c, b); };
  co_return co_await ForEachConcurrently(clients, read);
}

namespace {

// `instances` (one BackendRows per dump) merged: the config's `order` first.
BackendView MergeRows(std::string_view backend, const std::vector<BackendRows>& instances,
                      const std::vector<std::string>& order) {
  BackendView view;
  view.backend = std::string(backend);
  std::set<std::string_view> ordered(order.begin(), order.end());
  std::set<std::string> extra;
  for (const BackendRows& rows : instances) {
    if (rows.dump->error) view.unreachable.push_back(rows.dump->instance);
    if (!rows.rows) continue;
    for (const auto& [name, state] : rows.rows->states) {
      if (!ordered.count(name)) extra.emplace(name);
    }
  }
  for (const std::string& name : order) view.servers.push_back(Merge(name, instances));
  for (const std::string& name : extra) view.servers.push_back(Merge(name, instances));
  return view;
}

}  // namespace

BackendView MergeBackend(std::string_view backend, const std::vector<const InstanceDump*>& dumps,
                         const std::vector<std::string>& order) {
  std::vector<DumpIndex::Rows> indexed;
  indexed.reserve(dumps.size());
  std::vector<BackendRows> instances;
  for (const InstanceDump* dump : dumps) {
    indexed.push_back(IndexBackend(*dump, backend));
    instances.push_back({dump, &indexed.back()});
  }
  return MergeRows(backend, instances, order);
}

DumpIndex::DumpIndex(const std::vector<InstanceDump>& dumps) {
  for (const InstanceDump& dump : dumps) {
    for (const ServerStat& s : dump.stats) rows_[{&dump, s.backend}].stats.emplace(s.server, &s);
    for (const ServerState& s : dump.states) rows_[{&dump, s.backend}].states.emplace(s.server, &s);
  }
}

bool DumpIndex::Lists(const InstanceDump& dump, std::string_view backend) const {
  auto it = rows_.find({&dump, backend});
  return it != rows_.end() && !it->second.states.empty();
}

BackendView DumpIndex::Merge(std::string_view backend, const std::vector<const InstanceDump*>& dumps,
                             const std::vector<std::string>& order) const {
  std::vector<BackendRows> instances;
  for (const InstanceDump* dump : dumps) {
    auto it = rows_.find({dump, backend});
    instances.push_back({dump, it == rows_.end() ? nullptr : &it->second});
  }
  return MergeRows(backend, instances, order);
}

BackendView MergeBackend(std::string_view backend, const std::vector<InstanceDump>& dumps,
                         const std::vector<std::string>& order) {
  std::vector<const InstanceDump*> pointers;
  for (const InstanceDump& d : dumps) pointers.push_back(&d);
  return MergeBackend(backend, pointers, order);
}

bool CheckedUpEverywhere(const MergedServer& s) {
  if (!s.up_everywhere) return false;
  for (const ServerOnInstance& on : s.instances) {
    if (on.stat.status.transition_of != 0) return false;
  }
  return true;
}

std::string HealthByInstance(const MergedServer& s) {
  std::string out;
  for (const ServerOnInstance& on : s.instances) {
    out += (out.empty() ? "" : ", ") + on.instance + " " +
           (on.error ? "unreadable" : on.stat.status.raw + " " + AdminName(on.admin)) +
           (on.stat.check_status.empty() ? "" : " (" + on.stat.check_status + ")");
  }
  return out;
}
}  // namespace caretaker::haproxy
