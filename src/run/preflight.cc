// See roll_preflight.h.
#include "src/run/preflight.h"

#include <algorithm>
#include <set>
#include <string>

namespace caretaker::roll_detail {

Awaitable<std::optional<Error>> Preflight::CheckLevels() {
  std::set<std::string> seen;
  for (const PoolWalk& w : walks_) {
    for (const haproxy::Client* c : fleet_.For(*w.pool)) {
      if (!seen.insert(c->name()).second) continue;
      auto op = c->CliLevel();
      haproxy::Result<std::string> level = co_await std::move(op);
      if (!level) co_return Error{level.error().message + "; nothing was changed"};
      if (level.value() != "admin") {
        co_return Error{"haproxy " + c->where() + ": the stats socket is at level " + level.value() +
                            "; caretaker needs 'level admin' on it (stats socket ... level admin); nothing was changed",
                        ErrorKind::kUsage};
      }
    }
  }
  co_return std::nullopt;
}

// A member's MySQL must accept caretaker's account: the gates need it. A
// member that is down is fine (the walk takes it first).
Awaitable<std::optional<Error>> Preflight::CheckMysql(const PoolWalk& w) {
  if (w.spec.gates.off.mysqld) co_return std::nullopt;
  for (const std::string& server : w.spec.members) {
    for (const MemberConfig& m : w.pool->members) {
      if (m.server != server) continue;
      auto op = world_.Probe(*w.pool, m);
      mysql::Result<mysql::ReplicaStatus> status = co_await std::move(op);
      if (!status && mysql::IsConfigurationError(status.error().code)) {
        co_return Error{status.error().message + "; nothing was changed", ErrorKind::kUsage};
      }
    }
  }
  co_return std::nullopt;
}

// HAProxy sets a percentage of the initial weight, rounded down: a first
// ramp step that comes to 0 would put a member back READY with no traffic.
std::optional<Error> Preflight::CheckRamp(const PoolWalk& w, const PoolView& view) const {
  const std::vector<int>& ramp = w.spec.gates.weight_ramp;
  if (ramp.empty()) return std::nullopt;
  for (const MemberView& m : view.members) {
    if (std::find(w.spec.members.begin(), w.spec.members.end(), m.server) == w.spec.members.end()) continue;
    for (const auto& [instance, iweight] : m.initial_weights) {
      if (iweight * ramp.front() / 100 > 0) continue;
      return Error{"the weight ramp of pool " + w.pool->name + " starts at " + std::to_string(ramp.front()) +
                       "%, but " + m.server + "'s initial weight on " + instance + " is " + std::to_string(iweight) +
                       ": HAProxy rounds that down to 0, which sends no traffic; give the servers a larger `weight` " +
                       "in HAProxy's config (e.g. 100) or start the ramp higher; nothing was changed",
                   ErrorKind::kUsage};
    }
  }
  return std::nullopt;
}

Awaitable<std::optional<Error>> Preflight::Run() {
  auto levels = CheckLevels();
  if (auto stop = co_await std::move(levels)) co_return stop;
  for (const PoolWalk& w : walks_) {
    auto read = world_.Observe(*w.pool, !w.spec.gates.off.mysqld);
    Result<PoolView> view = co_await std::move(read);
    if (!view) {
      const std::string& m = view.error().message;
      bool config = m.find("has no backend") != std::string::npos || m.find("has no server") != std::string::npos;
      co_return Error{"cannot read pool " + w.pool->name + ": " + m + "; nothing was changed",
                      config ? ErrorKind::kUsage : ErrorKind::kFailed};
    }
    if (auto ramp = CheckRamp(w, view.value())) co_return ramp;
    live_.push_back(std::move(view.value()));
    auto mysql = CheckMysql(w);
    if (auto stop = co_await std::move(mysql)) co_return stop;
  }
  co_return std::nullopt;
}

}  // namespace caretaker::roll_detail
