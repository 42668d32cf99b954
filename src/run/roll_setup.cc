#include "src/run/roll_setup.h"

#include <fnmatch.h>

#include <algorithm>

namespace caretaker::roll_detail {
namespace {

std::vector<std::string> Ordered(const PoolConfig& pool, const std::vector<std::string>& limit,
                                 const std::string& order) {
  std::vector<std::string> members;
  for (const MemberConfig& m : pool.members) {
    bool wanted = limit.empty();
    for (const std::string& p : limit) wanted = wanted || LimitMatches(p, pool, m);
    if (wanted) members.push_back(m.server);
  }
  if (order == "reverse") std::reverse(members.begin(), members.end());
  if (order == "name") std::sort(members.begin(), members.end());
  return members;
}

}  // namespace

std::string JoinNames(const std::vector<std::string>& names, const std::string& empty) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? empty : out;
}

bool LimitMatches(const std::string& pattern, const PoolConfig& pool, const MemberConfig& member) {
  // "pool/server" only for a pattern that names a pool: "db*" must not
  // take every member of a pool called db-eu.
  if (pattern.find('/') != std::string::npos) {
    return ::fnmatch(pattern.c_str(), (pool.name + "/" + member.server).c_str(), FNM_PATHNAME) == 0;
  }
  const std::string port = std::to_string(member.port);
  for (const std::string& name : {member.server, member.host, member.host + ":" + port}) {
    if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

Result<std::vector<PoolWalk>> ResolveWalks(const Config& config, const RollOptions& options) {
  const TaskConfig* task = config.FindTask(options.task);
  if (!task) {
    std::vector<std::string> names;
    for (const TaskConfig& t : config.tasks) names.push_back(t.name);
    return Error{"no task \"" + options.task + "\" in " + config.path + " (tasks: " + JoinNames(names, "(none)") + ")"};
  }
  if (options.order != "config" && options.order != "reverse" && options.order != "name") {
    return Error{"--order: expected config, reverse or name, got \"" + options.order + "\""};
  }
  if (options.max_failures < 1) return Error{"--max-failures: expected 1 or more"};
  std::vector<PoolWalk> walks;
  for (const std::string& name : options.pools) {
    const PoolConfig* pool = config.FindPool(name);
    if (!pool) {
      std::vector<std::string> names;
      for (const PoolConfig& p : config.pools) names.push_back(p.name);
      return Error{"no pool \"" + name + "\" in " + config.path + " (pools: " + JoinNames(names, "(none)") + ")"};
    }
    for (const PoolWalk& w : walks) {
      if (w.pool == pool) return Error{"--pool names " + name + " twice"};
    }
    auto valid = CheckPoolPolicy(config, *pool);
    if (!valid) return valid.error();
    PoolWalk w;
    w.pool = pool;
    w.task = task;
    w.spec.pool = pool->name;
    w.spec.members = Ordered(*pool, options.limit, options.order);
    w.spec.capacity = pool->capacity;
    w.spec.drain = pool->drain;
    w.spec.force_sessions = options.force_sessions;
    w.spec.gates = pool->gates;
    w.spec.gates.off = task->gates_off;
    w.spec.steps = task->steps;
    w.spec.pause_deadline = config.roll.pause_deadline;
    w.spec.unconfirmed_deadline = config.haproxy_unresponsive_deadline;
    w.spec.max_failures = options.max_failures;
    if (const std::optional<BakeConfig>& bake = task->bake ? task->bake : pool->bake) {
      w.spec.bake = bake->bake;
      w.spec.canary_bake = bake->canary_bake;
      w.spec.bake_interval = bake->interval;
      w.spec.bake_checks = bake->checks;
    }
    walks.push_back(std::move(w));
  }
  for (const std::string& pattern : options.limit) {
    bool any = false;
    for (const PoolWalk& w : walks) {
      for (const MemberConfig& m : w.pool->members) any = any || LimitMatches(pattern, *w.pool, m);
    }
    if (!any) return Error{"--limit " + pattern + " matches no member of " + JoinNames(options.pools)};
  }
  // A pool the --limit leaves empty is not walked (`--pool a,b --limit 'a/*'`).
  std::erase_if(walks, [](const PoolWalk& w) { return w.spec.members.empty(); });
  return walks;
}

RollOptions JobOptions(const Job& job, const std::vector<std::string>& members, RollOptions o) {
  o.pools = {job.pool};
  o.task = job.task;
  o.limit = members;
  o.order = "config";
  o.max_failures = job.max_failures;
  o.force_sessions = job.force_sessions;
  return o;
}

}  // namespace caretaker::roll_detail
