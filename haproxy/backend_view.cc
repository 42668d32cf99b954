#include "haproxy/backend_view.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>

namespace caretaker::haproxy {
namespace {

namespace asio = boost::asio;

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
  auto [order, exceptions, values] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                         .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (auto& e : exceptions) {
    if (e) std::rethrow_exception(e);
  }
  (void)order;
  co_return std::move(values);
}

Task<InstanceDump> ReadOne(const Client& client, std::string backend) {
  InstanceDump dump;
  dump.instance = client.name();
  auto stats = co_await client.ShowStat();
  if (!stats) {
    dump.error = stats.error();
    co_return dump;
  }
  auto states = co_await client.ShowServersState(backend);
  if (!states) {
    dump.error = states.error();
    co_return dump;
  }
  dump.stats = std::move(stats.value());
  if (!backend.empty()) {
    std::erase_if(dump.stats, [&](const ServerStat& s) { return s.backend != backend; });
  }
  dump.states = std::move(states.value());
  co_return dump;
}

bool IsHealthy(const ServerStat& stat) {
  using W = StatusField::Word;
  return stat.status.word == W::kUp || stat.status.word == W::kNoCheck;
}

ServerOnInstance Lookup(const InstanceDump& dump, std::string_view backend, std::string_view server) {
  ServerOnInstance on;
  on.instance = dump.instance;
  on.error = dump.error;
  if (dump.error) return on;
  auto st = std::find_if(dump.states.begin(), dump.states.end(),
                         [&](const ServerState& s) { return s.backend == backend && s.server == server; });
  auto ss = std::find_if(dump.stats.begin(), dump.stats.end(),
                         [&](const ServerStat& s) { return s.backend == backend && s.server == server; });
  if (st == dump.states.end() || ss == dump.stats.end()) return on;
  on.present = true;
  on.state = *st;
  on.stat = *ss;
  on.admin = AdminOf(*st);
  return on;
}

MergedServer Merge(std::string_view backend, std::string server, const std::vector<InstanceDump>& dumps) {
  MergedServer m;
  m.server = std::move(server);
  bool all_read = !dumps.empty();
  bool same = true;
  for (const InstanceDump& dump : dumps) {
    ServerOnInstance on = Lookup(dump, backend, m.server);
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
  m.up_everywhere = all_read && std::all_of(m.instances.begin(), m.instances.end(), [](const ServerOnInstance& on) {
                      return on.admin == Admin::kReady && IsHealthy(on.stat);
                    });
  return m;
}

// Re-reads `show servers state` until `check` holds for the server or the
// attempts run out; returns the last mismatch as an error.
template <class Check>
Task<std::optional<Error>> Confirm(const Client& client, std::string_view backend, std::string_view server,
                                   std::string_view what, Check check) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::optional<Error> last;
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (attempt > 0) {
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::use_awaitable);
    }
    auto states = co_await client.ShowServersState(backend);
    if (!states) co_return states.error();
    auto it = std::find_if(states.value().begin(), states.value().end(),
                           [&](const ServerState& s) { return s.server == server; });
    if (it == states.value().end()) {
      co_return Error{ErrorCode::kNotConfirmed, "haproxy " + client.where() + ": server " + std::string(backend) +
                                                    "/" + std::string(server) + " vanished while confirming " +
                                                    std::string(what)};
    }
    std::optional<std::string> mismatch = check(*it);
    if (!mismatch) co_return std::nullopt;
    last = Error{ErrorCode::kNotConfirmed, "haproxy " + client.where() + ": " + std::string(what) +
                                               " was accepted but not confirmed: " + *mismatch};
  }
  co_return last;
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

BackendView MergeBackend(std::string_view backend, const std::vector<InstanceDump>& dumps,
                         const std::vector<std::string>& order) {
  BackendView view;
  view.backend = std::string(backend);
  std::set<std::string> extra;
  for (const InstanceDump& dump : dumps) {
    if (dump.error) {
      view.unreachable.push_back(dump.instance);
      continue;
    }
    for (const ServerState& s : dump.states) {
      if (s.backend == backend && std::find(order.begin(), order.end(), s.server) == order.end()) {
        extra.insert(s.server);
      }
    }
  }
  for (const std::string& name : order) view.servers.push_back(Merge(backend, name, dumps));
  for (const std::string& name : extra) view.servers.push_back(Merge(backend, name, dumps));
  return view;
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

std::optional<std::string> CheckAdmin(const ServerState& s, AdminState want) {
  bool maint = (s.admin_state & kAdminForcedMaint) != 0;
  bool drain = (s.admin_state & kAdminForcedDrain) != 0;
  bool ok = want == AdminState::kMaint   ? maint
            : want == AdminState::kDrain ? drain && !maint
                                         : !drain && !maint;
  if (ok) return std::nullopt;
  return "srv_admin_state is " + Hex(s.admin_state) + " (is an agent-check or another tool changing it?)";
}

}  // namespace

Task<ApplyReport> SetStateEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                     std::string_view server, AdminState state) {
  std::string b(backend), s(server);
  std::string op = "set server " + b + "/" + s + " state " + AdminStateName(state);
  auto apply = [=](const Client& c) -> Task<std::optional<Error>> {
    auto set = co_await c.SetState(b, s, state);
    if (!set) co_return set.error();
    co_return co_await Confirm(c, b, s, op, [state](const ServerState& st) { return CheckAdmin(st, state); });
  };
  co_return co_await Apply(clients, op, apply);
}

Task<ApplyReport> SetWeightEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                      std::string_view server, Weight weight) {
  std::string b(backend), s(server);
  std::string op = "set server " + b + "/" + s + " weight " + weight.ToString();
  auto apply = [=](const Client& c) -> Task<std::optional<Error>> {
    auto set = co_await c.SetWeight(b, s, weight);
    if (!set) co_return set.error();
    co_return co_await Confirm(c, b, s, op, [weight](const ServerState& st) -> std::optional<std::string> {
      int want = weight.percent ? st.iweight * weight.value / 100 : weight.value;
      if (st.uweight == want) return std::nullopt;
      return "srv_uweight is " + std::to_string(st.uweight) + ", expected " + std::to_string(want);
    });
  };
  co_return co_await Apply(clients, op, apply);
}

Task<ApplyReport> ShutdownSessionsEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                             std::string_view server) {
  std::string b(backend), s(server);
  std::string op = "shutdown sessions server " + b + "/" + s;
  auto apply = [=](const Client& c) -> Task<std::optional<Error>> {
    auto done = co_await c.ShutdownSessions(b, s);
    if (!done) co_return done.error();
    // Sessions end asynchronously inside HAProxy: poll scur briefly.
    asio::steady_timer timer(co_await asio::this_coro::executor);
    int64_t scur = -1;
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto stats = co_await c.ShowStat();
      if (!stats) co_return stats.error();
      auto it = std::find_if(stats.value().begin(), stats.value().end(),
                             [&](const ServerStat& st) { return st.backend == b && st.server == s; });
      scur = it == stats.value().end() ? 0 : it->scur;
      if (scur == 0) co_return std::nullopt;
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return Error{ErrorCode::kNotConfirmed, "haproxy " + c.where() + ": " + op + " was accepted but " +
                                                  std::to_string(scur) + " sessions remain after 1s"};
  };
  co_return co_await Apply(clients, op, apply);
}

}  // namespace caretaker::haproxy
