// Where a rule's conditions are read, once per evaluation over all its
// members (DESIGN.md: one evaluation per rule per cycle): caretaker's own
// probes, or a Nagios plugin run per member; Prometheus and Graphite
// (monitor_sources.h). Alertmanager's intake implements the same interface
// (the next issue).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "src/base/async.h"
#include "src/config/config.h"
#include "src/run/step_runner.h"
#include "src/run/walk_io.h"
#include "src/walk/rule.h"

namespace caretaker {

struct WatchedMember {
  const PoolConfig* pool = nullptr;
  const MemberConfig* member = nullptr;
  OutBy out = OutBy::kNone;
  // The member's pool as this evaluation read it already (rule_watch.h), so
  // a source that needs HAProxy does not read it again; nullptr: it reads.
  const Result<PoolView>* pool_view = nullptr;
};

class ConditionSource {
 public:
  virtual ~ConditionSource() = default;
  // `rule`'s when and clear verdicts for each of `members`, in their order
  // (pool, server and out copied from them). Never throws for a member that
  // cannot be read: its verdicts are unknown, saying why.
  virtual Awaitable<std::vector<RuleMember>> Read(const RuleConfig& rule, const std::vector<WatchedMember>& members) = 0;
  // Why the last Read could read no member at all (the monitoring server
  // down, a query it refused), in one sentence naming the server and the
  // query; "" when it read.
  virtual std::string Problem() const { return ""; }
};

// Runs `one(i)` for every i below `n`, at most `concurrency` at once, on
// `io`; returns when every one has ended. (`one` by value: a coroutine keeps
// a reference parameter, not the object it referred to.)
Awaitable<void> ForEachBounded(boost::asio::io_context& io, size_t n, size_t concurrency,
                               std::function<Awaitable<void>(size_t)> one);

// Runs the rule's command per member (placeholders as a task step's, run
// locally), at most `concurrency` at once, each within the rule's timeout;
// the exit code and output read as a Nagios plugin's.
std::unique_ptr<ConditionSource> MakeNagiosSource(StepRunner& steps, boost::asio::io_context& io, size_t concurrency);

// caretaker's own probes through `world`: one read of HAProxy per pool (the
// check, UP on every instance or not), and a MySQL probe per member when the
// rule's conditions need one (lag, replication, mysqld, buffer pool), at most
// `concurrency` at once. "Flapping": the check seen changing at least twice
// within the rule's flap_window, across evaluations (the source remembers).
std::unique_ptr<ConditionSource> MakeProbeSource(WalkIo& world, boost::asio::io_context& io, size_t concurrency);

}  // namespace caretaker
