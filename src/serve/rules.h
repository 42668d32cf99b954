// serve's rules: every [[rules]] evaluated on its interval (rule_watch.h
// reads, walk/rule.h decides), and each action carried out as a one-member
// walk on a driver of serve's (member_walk.h) — inside the same host budget
// and halt as jobs and restores, its capacity decided by the walk under the
// pool's lock at the moment it acts. What a rule remembers (its actions, its
// breaker) is written to the state store before it acts, and read back
// before every change, so a restart keeps its rate limits and a `rules
// reset` from the CLI takes effect at the next evaluation.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <tuple>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "src/config/config.h"
#include "src/run/driver.h"
#include "src/run/rule_sources.h"
#include "src/run/step_runner.h"
#include "src/run/walk_io.h"
#include "src/store/state_open.h"
#include "src/store/state_store.h"
#include "src/walk/rule.h"

namespace caretaker {

class Notifier;

// What the rules did since serve started, for /metrics: actions by rule,
// action and result (done, failed), refusals by rule and guard (halt,
// breaker, rate_limit, budget, other).
struct RuleCounters {
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> actions;
  std::map<std::pair<std::string, std::string>, uint64_t> refusals;
};

class RuleRunner {
 public:
  // `wake`: called when an evaluation or an action ended (serve goes round).
  // Actions, refusals and breaker trips are told to `notifier`.
  RuleRunner(boost::asio::io_context& io, StateStore& store, HostBudget& budget, StepRunner& steps,
             Notifier& notifier, std::function<void()> wake);
  ~RuleRunner();

  // The rules of `config` from now on (serve's start and every reload): a
  // rule kept by name keeps its members' state; a removed one ends once idle.
  void Configure(std::shared_ptr<const Config> config, std::string password);
  // Starts the evaluations that are due. Halted: rules still evaluate (and
  // say so), none acts, and the walks of their actions stop where they are.
  void Tick(const HaltCheck& halt);
  // Stops the walks of rule actions where they are (their hosts keep their
  // records); no evaluation starts after it.
  void Abort(const std::string& why);
  // The rules of `source` are due now (Alertmanager's intake took a
  // change): at serve's next round, or as soon as their evaluation ends.
  void EvaluateSoon(RuleSource source);
  bool Busy() const;  // an evaluation or an action runs
  // When the next evaluation is due (serve's round waits no longer).
  std::optional<SteadyTime> NextDue() const;
  const RuleCounters& counters() const { return counters_; }

 private:
  struct Rule;
  boost::asio::awaitable<void> Evaluate(Rule& rule, HaltCheck halt);
  boost::asio::awaitable<void> Act(Rule& rule, std::shared_ptr<const Config> config, RuleConfig config_rule,
                                   RuleRequest request);
  boost::asio::awaitable<RuleOutcome> Walk(std::shared_ptr<const Config> config, const RuleConfig& rule,
                                           const RuleRequest& request);
  void Say(const RuleConfig& rule, Rule& r);  // the engine's notes: log and audit
  // An event of `rule` to the webhooks; `target` "pool/server" or "".
  void Tell(const RuleConfig& rule, const std::string& kind, const std::string& target, const std::string& text);

  boost::asio::io_context& io_;
  StateStore& store_;
  HostBudget& budget_;
  StepRunner& steps_;
  Notifier& notifier_;
  std::function<void()> wake_;
  std::shared_ptr<const Config> config_;
  std::string password_;
  std::map<std::string, std::unique_ptr<Rule>> rules_;
  std::set<RollDriver*> walking_;  // the drivers of rule actions running
  bool stopped_ = false;
  RuleCounters counters_;
};

}  // namespace caretaker
