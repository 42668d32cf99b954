// What one evaluation of a rule reads — serve's loop and `caretaker rules
// test` alike: the members it watches, who has each out of traffic (the
// records and HAProxy), their verdicts from the rule's source; and, for a
// request that is not carried out (observe mode, `rules test`), what the
// pool's capacity policy would say against live state right now.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/base/async.h"
#include "src/base/result.h"
#include "src/config/config.h"
#include "src/run/rule_sources.h"
#include "src/run/step_runner.h"
#include "src/run/walk_io.h"
#include "src/store/alerts.h"
#include "src/store/maint_record.h"
#include "src/walk/rule.h"

namespace caretaker {

// The record owner of everything `rule` does: "rule:NAME".
std::string RuleActor(const RuleConfig& rule);

// The members `rule` watches, in config order (out not set).
std::vector<WatchedMember> WatchedMembers(const Config& config, const RuleConfig& rule);

// Who has a member out of traffic: a record of this rule; of caretaker (a
// job's, another rule's, serve's); of a person (any other record, or DRAIN
// or MAINT on an instance with no record at all).
OutBy WhoHasItOut(const RuleConfig& rule, const MaintRecord* record, bool ready_everywhere);

struct RuleSight {
  std::vector<RuleMember> members;           // as the engine takes them
  std::map<std::string, size_t> pool_sizes;  // members per pool (the breaker's share)
};

// One evaluation's reads: the records, HAProxy once per pool, then `source`.
// A pool whose HAProxy cannot be read has every verdict unknown (nothing
// acts on a guess); the records unreadable is an error (nothing is read).
// Pools are read at most 8 at once.
Awaitable<Result<RuleSight>> ReadRule(boost::asio::io_context& io, const Config& config, const RuleConfig& rule,
                                      MaintRecords& records, WalkIo& world, ConditionSource& source);

// What the pool's capacity policy says now of taking `server` out:
// "allowed: pool p: 4 of 4 in service, ..." or "refused: ...", or why it
// could not be read.
Awaitable<std::string> BudgetVerdict(const PoolConfig& pool, const std::string& server, WalkIo& world);

// The rule's source: caretaker's probes through `world`, its plugin, the
// [[prometheus]] / [[graphite]] of `config` it names, or the Alertmanager
// alerts `alerts` keeps (null: none kept in this process).
std::unique_ptr<ConditionSource> MakeRuleSource(const Config& config, const RuleConfig& rule, WalkIo& world,
                                                StepRunner& steps, boost::asio::io_context& io,
                                                const AlertBook* alerts);

}  // namespace caretaker
