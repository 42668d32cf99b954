#include "haproxy/backend_view.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>

namespace caretaker::haproxy {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// Runs fn(client) for every client concurrently and returns the results in
// the order of `clients`.
//
// Functions and strings are taken by reference, and callers pass named
// objects: g++ 12 destroys temporaries in a co_await expression twice.
template <class Fn>
auto ForEachConcurrently(const std::vector<const Client*>& clients, const Fn& fn)
    -> Task<std::vector<typename decltype(fn(*clients.front()))::value_type>> {
  using T = typename decltype(fn(*clients.front()))::value_type;
  auto ex = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(ex, fn(*clients.front()), asio::deferred));
  std::vector<Op> ops;
  ops.reserve(clients.size());
  for (const Client* c : clients) ops.push_back(asio::co_spawn(ex, fn(*c), asio::deferred));
  std::vector<T> results;
  if (ops.empty()) co_return results;
  auto group = asio::experimental::make_parallel_group(std::move(ops));
  auto [order, exceptions, values] =
      co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (auto& e : exceptions) {
    if (e) std::rethrow_exception(e);  // a bug: expected failures are values
  }
  (void)order;
  co_return std::move(values);
}

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

// Re-reads `show servers state` once and returns why the server is not as
// `check` expects. HAProxy applies `set server` before it answers, so one
// read suffices; an agent-check that undoes the change later is caught by the
// callers that keep watching a host while it is out.
template <class Check>
Task<std::optional<Error>> Confirm(const Client& client, const std::string& backend, const std::string& server,
                                   const std::string& what, const Check& check) {
  auto states = co_await client.ShowServersState(backend);
  if (!states) co_return states.error();
  auto it = std::find_if(states.value().begin(), states.value().end(),
                         [&](const ServerState& s) { return s.server == server; });
  if (it == states.value().end()) {
    co_return Error{ErrorCode::kNotConfirmed, "haproxy " + client.where() + ": server " + backend + "/" + server +
                                                  " vanished while confirming '" + what + "'"};
  }
  std::optional<std::string> mismatch = check(*it);
  if (!mismatch) co_return std::nullopt;
  co_return Error{ErrorCode::kNotConfirmed,
                  "haproxy " + client.where() + ": '" + what + "' was accepted but not confirmed: " + *mismatch};
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
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

bool ApplyReport::ok() const {
  return std::none_of(outcomes.begin(), outcomes.end(), [](const InstanceOutcome& o) { return o.error.has_value(); });
}

std::string ApplyReport::FailureSummary() const {
  std::string out;
  for (const InstanceOutcome& o : outcomes) {
    if (!o.error) continue;
    if (!out.empty()) out += "\n";
    out += o.error->message;
  }
  return out;
}

namespace {

template <class Fn>
Task<ApplyReport> Apply(const std::vector<const Client*>& clients, const std::string& operation, const Fn& fn) {
  ApplyReport report;
  report.operation = operation;
  auto errors = co_await ForEachConcurrently(clients, fn);
  for (size_t i = 0; i < clients.size(); ++i) {
    report.outcomes.push_back(InstanceOutcome{clients[i]->name(), std::move(errors[i])});
  }
  co_return report;
}

// Why `s` is not in the admin state `want`, or nothing. Inherited or
// configured maint/drain bits count: a server still MAINT through the server
// it tracks is not "ready", whatever the forced bits say.
std::optional<std::string> CheckAdmin(const ServerState& s, AdminState want) {
  bool forced_maint = (s.admin_state & kAdminForcedMaint) != 0;
  bool forced_drain = (s.admin_state & kAdminForcedDrain) != 0;
  bool ok = want == AdminState::kMaint   ? forced_maint
            : want == AdminState::kDrain ? forced_drain && !s.in_maint()
                                         : !s.in_maint() && !s.in_drain();
  if (ok) return std::nullopt;
  std::string why = "srv_admin_state is " + Hex(s.admin_state);
  if (s.admin_state & (kAdminInheritedMaint | kAdminInheritedDrain)) why += " (inherited from the tracked server)";
  else if (s.admin_state & kAdminConfigMaint) why += " (`disabled` in haproxy.cfg)";
  else if (s.admin_state & kAdminResolvMaint) why += " (its address does not resolve)";
  else why += " (is an agent-check or another tool changing it?)";
  return why;
}

// Polls `show stat` until the server has no session, for up to `limit`:
// sessions end asynchronously inside HAProxy after `shutdown sessions`.
Task<std::optional<Error>> WaitNoSessions(const Client& c, const std::string& b, const std::string& s,
                                          const std::string& op, std::chrono::milliseconds limit) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto step = std::chrono::milliseconds(50);
  auto states = co_await c.ShowServersState(b);
  if (!states) co_return states.error();
  if (states.value().empty()) {
    co_return Error{ErrorCode::kNotConfirmed, "haproxy " + c.where() + ": server " + b + "/" + s +
                                                  " vanished while confirming '" + op + "'"};
  }
  const int backend_id = states.value().front().backend_id;
  int64_t scur = -1;
  for (auto waited = std::chrono::milliseconds(0);; waited += step) {
    auto stats = co_await c.ShowBackendStat(backend_id, b);
    if (!stats) co_return stats.error();
    auto it = std::find_if(stats.value().begin(), stats.value().end(),
                           [&](const ServerStat& st) { return st.backend == b && st.server == s; });
    if (it == stats.value().end()) {
      co_return Error{ErrorCode::kNotConfirmed, "haproxy " + c.where() + ": server " + b + "/" + s +
                                                    " vanished while confirming '" + op + "'"};
    }
    scur = it->scur;
    if (scur == 0) co_return std::nullopt;
    if (waited >= limit) break;
    timer.expires_after(step);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return Error{ErrorCode::kNotConfirmed, "haproxy " + c.where() + ": '" + op + "' was accepted but " +
                                                std::to_string(scur) + " sessions remain (new ones arrive while " +
                                                "the server is READY: drain it first)"};
}

}  // namespace

Task<ApplyReport> SetStateEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                     std::string_view server, AdminState state) {
  std::string b(backend), s(server);
  std::string op = SetStateCommand(b, s, state);
  auto apply = [=](const Client& c) -> Task<std::optional<Error>> {
    auto set = co_await c.SetState(b, s, state);
    if (!set) co_return set.error();
    auto check = [state](const ServerState& st) { return CheckAdmin(st, state); };
    co_return co_await Confirm(c, b, s, op, check);
  };
  co_return co_await Apply(clients, op, apply);
}

Task<ApplyReport> SetWeightEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                      std::string_view server, Weight weight) {
  std::string b(backend), s(server);
  std::string op = SetWeightCommand(b, s, weight);
  auto apply = [=](const Client& c) -> Task<std::optional<Error>> {
    auto set = co_await c.SetWeight(b, s, weight);
    if (!set) co_return set.error();
    auto check = [weight](const ServerState& st) -> std::optional<std::string> {
      // HAProxy: a percentage is of the initial weight, rounded down, capped at 256.
      int want = weight.percent ? std::min(256, st.iweight * weight.value / 100) : weight.value;
      if (st.uweight == want) return std::nullopt;
      return "srv_uweight is " + std::to_string(st.uweight) + ", expected " + std::to_string(want);
    };
    co_return co_await Confirm(c, b, s, op, check);
  };
  co_return co_await Apply(clients, op, apply);
}

Task<ApplyReport> ShutdownSessionsEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                             std::string_view server) {
  std::string b(backend), s(server);
  std::string op = ShutdownSessionsCommand(b, s);
  auto apply = [=](const Client& c) -> Task<std::optional<Error>> {
    auto done = co_await c.ShutdownSessions(b, s);
    if (!done) co_return done.error();
    co_return co_await WaitNoSessions(c, b, s, op, std::chrono::seconds(1));
  };
  co_return co_await Apply(clients, op, apply);
}

}  // namespace caretaker::haproxy
