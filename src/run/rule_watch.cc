// See rule_watch.h.
#include "src/run/rule_watch.h"

#include <fnmatch.h>

#include <algorithm>

#include "policies/capacity.h"
#include "src/run/monitor_sources.h"

namespace caretaker {
namespace {

constexpr size_t kReadConcurrency = 8;  // plugins or probes at once, per rule

bool Watches(const RuleConfig& rule, const PoolConfig& pool, const MemberConfig& member) {
  if (!rule.pools.empty() && std::find(rule.pools.begin(), rule.pools.end(), pool.name) == rule.pools.end()) {
    return false;
  }
  if (rule.members.empty()) return true;
  return std::any_of(rule.members.begin(), rule.members.end(), [&](const std::string& glob) {
    return ::fnmatch(glob.c_str(), member.server.c_str(), 0) == 0;
  });
}

}  // namespace

std::string RuleActor(const RuleConfig& rule) { return "rule:" + rule.name; }

std::vector<WatchedMember> WatchedMembers(const Config& config, const RuleConfig& rule) {
  std::vector<WatchedMember> out;
  for (const PoolConfig& p : config.pools) {
    for (const MemberConfig& m : p.members) {
      if (Watches(rule, p, m)) out.push_back({&p, &m, OutBy::kNone});
    }
  }
  return out;
}

OutBy WhoHasItOut(const RuleConfig& rule, const MaintRecord* record, bool ready_everywhere) {
  if (record) {
    if (record->who == RuleActor(rule)) return OutBy::kThisRule;
    if (record->job != 0 || record->who.starts_with("rule:") || record->who.starts_with("caretaker serve")) {
      return OutBy::kCaretaker;
    }
    return OutBy::kPerson;
  }
  return ready_everywhere ? OutBy::kNone : OutBy::kPerson;
}

Awaitable<Result<RuleSight>> ReadRule(boost::asio::io_context& io, const Config& config, const RuleConfig& rule,
                                      MaintRecords& records, WalkIo& world, ConditionSource& source) {
  auto listed = records.List();
  if (!listed) co_return Error{"maintenance records cannot be read: " + listed.error().message};
  std::map<std::string, const MaintRecord*> by_key;
  for (const MaintRecord& r : listed.value()) by_key[r.pool + "/" + r.server] = &r;

  RuleSight sight;
  std::vector<WatchedMember> watched = WatchedMembers(config, rule);
  std::map<std::string, Result<PoolView>> views;
  std::vector<const PoolConfig*> pools;
  for (const WatchedMember& w : watched) {
    if (views.emplace(w.pool->name, Error{"not read"}).second) pools.push_back(w.pool);
    sight.pool_sizes[w.pool->name] = w.pool->members.size();
  }
  auto all = ForEachBounded(io, pools.size(), kReadConcurrency, [&](size_t i) -> Awaitable<void> {
    auto one = world.Observe(*pools[i], false);
    views.at(pools[i]->name) = co_await std::move(one);
  });
  co_await std::move(all);
  for (WatchedMember& w : watched) {
    const std::string& pool = w.pool->name;
    const Result<PoolView>& view = views.at(pool);
    auto rec = by_key.find(pool + "/" + w.member->server);
    bool ready = true;  // unreadable: said below, as unknown verdicts
    if (view) {
      for (const MemberView& v : view.value().members) {
        if (v.server == w.member->server) ready = v.ready_everywhere;
      }
    }
    w.out = WhoHasItOut(rule, rec == by_key.end() ? nullptr : rec->second, ready);
    w.pool_view = &view;
  }
  auto read = source.Read(rule, watched);
  sight.members = co_await std::move(read);
  for (RuleMember& m : sight.members) {
    const Result<PoolView>& view = views.at(m.pool);
    if (view) continue;
    const std::string why = "HAProxy cannot be read: " + view.error().message;
    m.when = {Verdict::Is::kUnknown, why};
    m.clear = {Verdict::Is::kUnknown, why};
  }
  co_return sight;
}

Awaitable<std::string> BudgetVerdict(const PoolConfig& pool, const std::string& server, WalkIo& world) {
  auto read = world.Observe(pool, true);
  Result<PoolView> view = co_await std::move(read);
  if (!view) co_return "unknown: pool " + pool.name + " cannot be read: " + view.error().message;
  policies::PoolSnapshot snapshot{pool.name, {}};
  for (const MemberView& m : view.value().members) snapshot.members.push_back({m.server, m.state});
  policies::Decision d = policies::MayTakeOut(pool.capacity, snapshot, server);
  co_return std::string(d.allowed() ? "allowed: " : "refused: ") + d.reason;
}

std::unique_ptr<ConditionSource> MakeRuleSource(const Config& config, const RuleConfig& rule, WalkIo& world,
                                                StepRunner& steps, boost::asio::io_context& io,
                                                const AlertBook* alerts) {
  switch (rule.source) {
    case RuleSource::kNagios: return MakeNagiosSource(steps, io, kReadConcurrency);
    case RuleSource::kPrometheus:
    case RuleSource::kGraphite: {
      const bool prometheus = rule.source == RuleSource::kPrometheus;
      for (const MonitorServerConfig& m : prometheus ? config.prometheus : config.graphite) {
        if (m.name != rule.server) continue;
        return prometheus ? MakePrometheusSource(m, io) : MakeGraphiteSource(m, io);
      }
      break;  // the config reader makes sure it names one
    }
    case RuleSource::kAlertmanager: return MakeAlertmanagerSource(alerts);
    case RuleSource::kProbe: break;
  }
  return MakeProbeSource(world, io, kReadConcurrency);
}

}  // namespace caretaker
