// See roll_preflight.h.
#include "src/roll_preflight.h"

#include <set>
#include <string>

namespace caretaker::roll_detail {

using maint_detail::kExitFailed;
using maint_detail::kExitUsage;
using maint_detail::Stop;

Awaitable<std::optional<Stop>> Preflight::CheckLevels() {
  std::set<std::string> seen;
  for (const PoolWalk& w : walks_) {
    for (const haproxy::Client* c : fleet_.For(*w.pool)) {
      if (!seen.insert(c->name()).second) continue;
      auto op = c->CliLevel();  // named (g++ 12)
      haproxy::Result<std::string> level = co_await std::move(op);
      if (!level) co_return Stop{kExitFailed, level.error().message + "; nothing was changed"};
      if (level.value() != "admin") {
        co_return Stop{kExitUsage, "haproxy " + c->where() + ": the stats socket is at level " + level.value() +
                                       "; caretaker needs 'level admin' on it (stats socket ... level admin); " +
                                       "nothing was changed"};
      }
    }
  }
  co_return std::nullopt;
}

// A member's MySQL must accept caretaker's account: the gates need it. A
// member that is down is fine (the walk takes it first).
Awaitable<std::optional<Stop>> Preflight::CheckMysql(const PoolWalk& w) {
  if (w.spec.gates.off.mysqld) co_return std::nullopt;
  for (const std::string& server : w.spec.members) {
    for (const MemberConfig& m : w.pool->members) {
      if (m.server != server) continue;
      auto op = world_.Probe(*w.pool, m);
      mysql::Result<mysql::ReplicaStatus> status = co_await std::move(op);
      if (!status && mysql::IsConfigurationError(status.error().code)) {
        co_return Stop{kExitUsage, status.error().message + "; nothing was changed"};
      }
    }
  }
  co_return std::nullopt;
}

Awaitable<std::optional<Stop>> Preflight::Run() {
  auto levels = CheckLevels();
  if (auto stop = co_await std::move(levels)) co_return stop;
  for (const PoolWalk& w : walks_) {
    auto read = world_.Observe(*w.pool, !w.spec.gates.off.mysqld);
    Result<PoolView> view = co_await std::move(read);
    if (!view) {
      const std::string& m = view.error().message;
      bool config = m.find("has no backend") != std::string::npos || m.find("has no server") != std::string::npos;
      co_return Stop{config ? kExitUsage : kExitFailed, "cannot read pool " + w.pool->name + ": " + m +
                                                            "; nothing was changed"};
    }
    live_.push_back(std::move(view.value()));
    auto mysql = CheckMysql(w);
    if (auto stop = co_await std::move(mysql)) co_return stop;
  }
  co_return std::nullopt;
}

}  // namespace caretaker::roll_detail
