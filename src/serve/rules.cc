// See rules.h.
#include "src/serve/rules.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>

#include "src/base/log.h"
#include "src/run/maint_target.h"
#include "src/run/member_walk.h"
#include "src/run/preflight.h"
#include "src/run/notifier.h"
#include "src/run/rule_watch.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;


std::string Key(const std::string& pool, const std::string& server) { return pool + "/" + server; }

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

struct RuleRunner::Rule {
  RuleConfig config;                      // as the current config says
  std::shared_ptr<const Config> whole;    // the config `world` and `source` were made for
  std::unique_ptr<WalkIo> world;          // reads only
  std::unique_ptr<ConditionSource> source;
  std::unique_ptr<RuleEngine> engine;
  SteadyTime next{};
  bool evaluating = false;
  bool again = false;  // its source changed while it evaluated: at once after
  int acting = 0;
  bool removed = false;
  std::string last_error;  // said once per change
  // The budget's refusal last told to the webhooks, per member: a refusal
  // tried again every evaluation is told once per change, not each time.
  std::map<std::string, std::string> told_refused;
};

RuleRunner::RuleRunner(asio::io_context& io, StateStore& store, HostBudget& budget, StepRunner& steps,
                       Notifier& notifier, std::function<void()> wake)
    : io_(io), store_(store), budget_(budget), steps_(steps), notifier_(notifier), wake_(std::move(wake)) {}

void RuleRunner::Tell(const RuleConfig& rule, const std::string& kind, const std::string& target, const std::string& text) {
  NotifyEvent e;
  e.kind = kind;
  if (size_t slash = target.find('/'); slash != std::string::npos) {
    e.pool = target.substr(0, slash);
    e.server = target.substr(slash + 1);
  }
  e.rule = rule.name;
  e.who = RuleActor(rule);
  e.reason = text;
  e.text = "caretaker: rule " + rule.name + (target.empty() ? "" : " on " + target) + ": " + text;
  notifier_.Emit(std::move(e));
}

RuleRunner::~RuleRunner() = default;

void RuleRunner::Configure(std::shared_ptr<const Config> config, std::string password) {
  config_ = std::move(config);
  password_ = std::move(password);
  for (auto& [name, r] : rules_) r->removed = true;
  for (const RuleConfig& rc : config_->rules) {
    std::unique_ptr<Rule>& r = rules_[rc.name];
    if (!r) {
      r = std::make_unique<Rule>();
      r->engine = std::make_unique<RuleEngine>(rc, RuleMemory{});  // its memory is read before each evaluation
      LogEvent(LogLevel::kInfo, "rule.loaded",
               {{"rule", rc.name}, {"source", RuleSourceName(rc.source)}, {"when", rc.when.text},
                {"action", RuleActionName(rc.action)}, {"mode", rc.observe ? "observe" : "act"},
                {"members", static_cast<int64_t>(WatchedMembers(*config_, rc).size())}});
    } else {
      r->engine->Reconfigure(rc);
    }
    r->config = rc;
    r->removed = false;
  }
  std::erase_if(rules_, [](const auto& kv) { return kv.second->removed && !kv.second->evaluating && kv.second->acting == 0; });
}

std::optional<SteadyTime> RuleRunner::NextDue() const {
  std::optional<SteadyTime> due;
  for (const auto& [name, r] : rules_) {
    if (r->removed || r->evaluating) continue;
    if (!due || r->next < *due) due = r->next;
  }
  return due;
}

void RuleRunner::EvaluateSoon(RuleSource source) {
  for (auto& [name, r] : rules_) {
    if (r->config.source != source) continue;
    if (r->evaluating) {
      r->again = true;
    } else {
      r->next = std::min(r->next, SteadyClock().Now());
    }
  }
}

bool RuleRunner::Busy() const {
  for (const auto& [name, r] : rules_) {
    if (r->evaluating || r->acting > 0) return true;
  }
  return false;
}

void RuleRunner::Abort(const std::string& why) {
  stopped_ = true;
  if (!walking_.empty()) LogEvent(LogLevel::kWarn, "rule.walks.abort", {{"why", why}});
  for (RollDriver* d : walking_) d->Abort();
}

void RuleRunner::Tick(const HaltCheck& halt) {
  if (stopped_) return;
  if (halt.halted && !walking_.empty()) {
    // Automated: stopped where they are; a depool's host keeps its record,
    // and the rule puts it back once the halt is lifted and it is clear.
    LogEvent(LogLevel::kWarn, "rule.walks.halted", {{"why", halt.why}});
    for (RollDriver* d : walking_) d->Abort();
  }
  const SteadyTime now = SteadyClock().Now();
  std::erase_if(rules_, [](const auto& kv) { return kv.second->removed && !kv.second->evaluating && kv.second->acting == 0; });
  for (auto& [name, r] : rules_) {
    if (r->removed || r->evaluating || now < r->next) continue;
    r->evaluating = true;
    asio::co_spawn(io_, Evaluate(*r, halt), asio::detached);
  }
}

void RuleRunner::Say(const RuleConfig& rule, Rule& r) {
  for (const std::string& note : r.engine->TakeNotes()) {
    const bool breaker = note.starts_with("breaker opened");
    LogEvent(breaker ? LogLevel::kError : LogLevel::kInfo, breaker ? "rule.breaker" : "rule.decision",
             {{"rule", rule.name}, {"text", note}});
    const std::string target = note.find(": ") != std::string::npos && note.find('/') < note.find(": ")
                                   ? note.substr(0, note.find(": "))
                                   : "";
    (void)store_.Audit({0, {}, RuleActor(rule), breaker ? "rule.breaker" : "rule.decision", target, note});
    if (breaker) Tell(rule, "rule.breaker", "", note + "; it acts no more until `caretaker rules reset " + rule.name + "`");
  }
  for (const auto& [target, why] : r.engine->TakeRefusals()) {
    const char* guard = why.starts_with("halted") ? "halt" : why.starts_with("breaker") ? "breaker"
                        : why.starts_with("rate limit") ? "rate_limit" : "other";
    ++counters_.refusals[{rule.name, guard}];
    Tell(rule, "rule.refused", target, "refused: " + why);
  }
}

asio::awaitable<void> RuleRunner::Evaluate(Rule& r, HaltCheck halt) {
  if (r.whole != config_ || !r.world) {
    WalkRecordInfo info;
    info.who = RuleActor(r.config);
    info.reason = "rule " + r.config.name;
    r.world = MakeRealWalkIo(*config_, password_, store_, std::move(info));
    r.source = MakeRuleSource(*config_, r.config, *r.world, steps_, io_, &store_);
    r.whole = config_;
  }
  const std::shared_ptr<const Config> config = r.whole;
  const RuleConfig rule = r.config;  // a reload may change r.config meanwhile
  const SteadyTime started = SteadyClock().Now();
  RuleStatus status;
  status.at = WallNow();
  std::vector<std::string> keys;
  try {
    auto memory = store_.ReadRuleMemory(rule.name);
    if (!memory) throw std::runtime_error("its memory cannot be read from the state store: " + memory.error().message);
    r.engine->SetMemory(std::move(memory).value());
    auto read = ReadRule(io_, *config, rule, store_, *r.world, *r.source);
    Result<RuleSight> sight = co_await std::move(read);
    if (!sight) throw std::runtime_error(sight.error().message);
    // The monitoring server down or refusing the query: every member is
    // unknown (nothing acts), and it is said once.
    status.error = r.source->Problem();
    for (const RuleMember& m : sight.value().members) keys.push_back(Key(m.pool, m.server));
    // The halt read again after the reads, right before deciding: fails closed.
    HaltCheck now_halt = CheckHalt(&store_, config->halt_file);
    std::optional<std::string> halted;
    if (halt.halted || now_halt.halted) halted = now_halt.halted ? now_halt.why : halt.why;
    // Memory read again: an action that ended during the reads wrote it.
    if (auto again = store_.ReadRuleMemory(rule.name); again) r.engine->SetMemory(std::move(again).value());
    std::vector<RuleRequest> requests =
        r.engine->Evaluate(WallNow(), sight.value().members, sight.value().pool_sizes, halted);
    for (const std::string& key : r.engine->TakeStarted()) {
      const MemberRuleState& st = r.engine->members().at(key);
      if (st.phase != MemberRuleState::Phase::kPending && st.phase != MemberRuleState::Phase::kClearing) continue;  // acted at once (`for` 0)
      const bool pending = st.phase == MemberRuleState::Phase::kPending;
      LogEvent(LogLevel::kInfo, pending ? "rule.pending" : "rule.clearing",
               {{"rule", rule.name}, {"target", key}, {"value", st.why},
                {"for", FormatDuration(pending ? rule.hold_for : rule.clear_for)}});
    }
    bool acting = std::any_of(requests.begin(), requests.end(), [](const RuleRequest& q) { return !q.observe; });
    if (acting) {
      // Written BEFORE acting: a crash after a drain still counts it.
      if (auto wrote = store_.WriteRuleMemory(rule.name, r.engine->memory()); !wrote) {
        status.error = "its memory cannot be written to the state store: " + wrote.error().message + "; nothing acted";
        for (const RuleRequest& q : requests) {
          if (!q.observe) r.engine->OnEnded(q, {RuleOutcome::Is::kRefused, "not acted on: " + status.error}, WallNow());
        }
        std::erase_if(requests, [](const RuleRequest& q) { return !q.observe; });
      }
    } else if (auto wrote = store_.WriteRuleMemory(rule.name, r.engine->memory()); !wrote) {
      status.error = "its memory cannot be written to the state store: " + wrote.error().message;
    }
    Say(rule, r);
    for (const RuleRequest& q : requests) {
      const std::string key = Key(q.pool, q.server);
      if (q.observe) {
        std::string budget = "not needed";
        if (q.kind == "depool" || q.kind == "task") {
          if (const PoolConfig* pool = config->FindPool(q.pool)) {
            auto verdict = BudgetVerdict(*pool, q.server, *r.world);
            budget = co_await std::move(verdict);
          }
        }
        const std::string text = "would " + q.kind + " " + key + " (" + q.why + "; budget: " + budget + ")";
        LogEvent(LogLevel::kWarn, "rule.observe", {{"rule", rule.name}, {"target", key}, {"text", text}});
        (void)store_.Audit({0, {}, RuleActor(rule), "rule.observe", key, text});
        continue;
      }
      LogEvent(LogLevel::kWarn, "rule.act", {{"rule", rule.name}, {"action", q.kind}, {"target", key}, {"why", q.why}});
      (void)store_.Audit({0, {}, RuleActor(rule), "rule." + q.kind, key, q.why});
      ++r.acting;
      asio::co_spawn(io_, Act(r, config, rule, q), asio::detached);
    }
  } catch (const std::exception& e) {
    status.error = e.what();
  }
  status.took = std::chrono::duration_cast<Millis>(SteadyClock().Now() - started);
  for (const std::string& key : keys) {
    auto it = r.engine->members().find(key);
    if (it == r.engine->members().end()) continue;
    const MemberRuleState& st = it->second;
    status.members.push_back({st.pool, st.server, RulePhaseName(st.phase), st.since, st.why});
  }
  if (auto wrote = store_.WriteRuleStatus(rule.name, status); !wrote && status.error.empty()) {
    status.error = "its status cannot be written to the state store: " + wrote.error().message;
  }
  if (status.error != r.last_error) {
    if (!status.error.empty()) {
      LogEvent(LogLevel::kError, "rule.evaluation.failed",
               {{"rule", rule.name}, {"error", status.error}, {"then", "nothing acts on what was not read; tried again every " + FormatDuration(rule.interval)}});
    } else {
      LogEvent(LogLevel::kInfo, "rule.evaluation.ok", {{"rule", rule.name}});
    }
    r.last_error = status.error;
  }
  LogEvent(LogLevel::kDebug, "rule.evaluated",
           {{"rule", rule.name}, {"members", static_cast<int64_t>(keys.size())}, {"took_ms", static_cast<int64_t>(status.took.count())}});
  // Next: an interval from now, or sooner when a member's `for`,
  // `clear_for` or hold is up before that (reaction time is `for`, not
  // `for` plus up to an interval).
  r.next = SteadyClock().Now() + rule.interval;
  if (std::optional<WallTime> due = r.engine->NextDue()) {
    const auto in = std::max(Millis(0), std::chrono::duration_cast<Millis>(*due - WallNow()));
    if (in < rule.interval) r.next = SteadyClock().Now() + in;
  }
  if (r.again) r.next = SteadyClock().Now();
  r.again = false;
  r.evaluating = false;
  if (wake_) wake_();
}

asio::awaitable<void> RuleRunner::Act(Rule& r, std::shared_ptr<const Config> config, RuleConfig rule,
                                      RuleRequest request) {
  RuleOutcome outcome;
  try {
    auto walk = Walk(config, rule, request);
    outcome = co_await std::move(walk);
  } catch (const std::exception& e) {
    outcome = {RuleOutcome::Is::kFailed, std::string("internal error: ") + e.what()};
  }
  const std::string key = Key(request.pool, request.server);
  if (auto memory = store_.ReadRuleMemory(rule.name); memory) r.engine->SetMemory(std::move(memory).value());
  r.engine->OnEnded(request, outcome, WallNow());
  if (auto wrote = store_.WriteRuleMemory(rule.name, r.engine->memory()); !wrote) {
    LogEvent(LogLevel::kError, "rule.memory.unwritable", {{"rule", rule.name}, {"error", wrote.error().message}});
  }
  // The member's state in the last status as it is now (not as it was when
  // its action started): `caretaker rules` shows it at once.
  if (auto last = store_.ReadRuleStatus(rule.name); last && last.value()) {
    RuleStatus st = *last.value();
    auto it = r.engine->members().find(key);
    for (RuleStatus::Member& m : st.members) {
      if (it == r.engine->members().end() || m.pool != request.pool || m.server != request.server) continue;
      m.phase = RulePhaseName(it->second.phase);
      m.since = it->second.since;
      m.why = it->second.why;
    }
    (void)store_.WriteRuleStatus(rule.name, st);
  }
  const char* how = outcome.is == RuleOutcome::Is::kDone      ? "done"
                    : outcome.is == RuleOutcome::Is::kRefused ? "refused"
                                                              : "failed";
  LogEvent(outcome.is == RuleOutcome::Is::kFailed ? LogLevel::kError : LogLevel::kInfo, "rule.act.end",
           {{"rule", rule.name}, {"action", request.kind}, {"target", key}, {"result", how}, {"text", outcome.text}});
  (void)store_.Audit({0, {}, RuleActor(rule), "rule." + request.kind + "." + how, key, outcome.text});
  if (outcome.is == RuleOutcome::Is::kRefused) {
    ++counters_.refusals[{rule.name, outcome.text.starts_with("budget") ? "budget" : "other"}];
  } else {
    ++counters_.actions[{rule.name, request.kind, how}];
  }
  if (outcome.is != RuleOutcome::Is::kRefused) {
    r.told_refused.erase(key);
    Tell(rule, "rule.action", key, request.kind + " " + how + " (" + request.why + "): " + outcome.text);
  } else if (std::exchange(r.told_refused[key], outcome.text) != outcome.text) {
    Tell(rule, "rule.refused", key, request.kind + " " + how + " (" + request.why + "): " + outcome.text);
  }
  r.engine->TakeNotes();  // OnEnded's notes: the line above says them
  --r.acting;
  if (wake_) wake_();
}

asio::awaitable<RuleOutcome> RuleRunner::Walk(std::shared_ptr<const Config> config, const RuleConfig& rule,
                                              const RuleRequest& request) {
  using Is = RuleOutcome::Is;
  if (request.kind == "notify") co_return RuleOutcome{Is::kDone, "said in the log, the audit trail and the webhooks"};
  const std::string key = Key(request.pool, request.server);
  auto ref = FindMember(*config, key);
  if (!ref) co_return RuleOutcome{Is::kFailed, ref.error().message};
  const PoolConfig& pool = *ref.value().pool;
  const MemberConfig& member = *ref.value().member;
  WalkRecordInfo info;
  info.who = RuleActor(rule);
  info.reason = "rule " + rule.name + ": " + request.why;
  const TaskConfig* task = &NoSteps();
  WalkSpec spec;
  if (request.kind == "depool") {
    spec = TakeOutSpec(*config, pool, member, false);
  } else if (request.kind == "repool") {
    spec = PutBackSpec(*config, pool, member);
    info.adopt.insert(key);
  } else {
    task = config->FindTask(rule.task);
    if (!task) co_return RuleOutcome{Is::kFailed, "task " + rule.task + " is not in the config"};
    spec = TaskSpec(*config, pool, member, *task);
  }
  std::unique_ptr<WalkIo> world = MakeRealWalkIo(*config, password_, store_, std::move(info));
  std::vector<roll_detail::PoolWalk> walks{{&pool, task, spec}};
  roll_detail::Preflight preflight(*config, *world, walks);
  auto checked = preflight.Run();
  std::optional<Error> refused = co_await std::move(checked);
  if (refused) co_return RuleOutcome{Is::kRefused, request.kind + " of " + member.server + " not started: " + refused->message};
  RollHooks hooks;
  hooks.on_event = [name = rule.name](const std::string& p, const WalkEvent& e) {
    LogEvent(e.warning ? LogLevel::kWarn : LogLevel::kInfo, "rule.walk.event",
             {{"rule", name}, {"pool", p}, {"server", e.server}, {"text", e.text}});
  };
  hooks.on_output = [name = rule.name](const std::string& p, const std::string& server, std::string_view line) {
    LogEvent(LogLevel::kInfo, "rule.walk.output", {{"rule", name}, {"pool", p}, {"server", server}, {"line", std::string(line)}});
  };
  RollDriver driver(io_, *config, *world, steps_, hooks);
  driver.ShareBudget(budget_);
  driver.SetHaltCheck([this, config] { return CheckHalt(&store_, config->halt_file); });
  driver.Add(pool, *task, walks.front().spec);
  walking_.insert(&driver);
  if (stopped_) driver.Abort();
  auto run = driver.Run();
  co_await std::move(run);
  walking_.erase(&driver);
  const Walker& walker = driver.walks().front().walker;
  const HostStatus& h = walker.hosts().front();
  if (h.phase == HostPhase::kPending) {
    if (!walker.capacity_refusal().empty()) {
      co_return RuleOutcome{Is::kRefused, "budget: " + member.server + " not " + (request.kind == "depool" ? "depooled" : "taken out") +
                                              ", " + walker.capacity_refusal()};
    }
    co_return RuleOutcome{Is::kRefused, request.kind + " of " + member.server + " not started" +
                                            (h.detail.empty() ? "" : ": " + FirstLine(h.detail))};
  }
  if (h.phase == HostPhase::kSkipped) co_return RuleOutcome{Is::kRefused, member.server + " not touched: " + FirstLine(h.detail)};
  const bool ok = request.kind == "depool" ? h.phase == HostPhase::kHeld : h.phase == HostPhase::kDone;
  if (ok) {
    co_return RuleOutcome{Is::kDone, request.kind == "depool" ? member.server + " out of traffic (MAINT on every instance, record of " + RuleActor(rule) + ")"
                                                             : member.server + " back in traffic"};
  }
  std::string text = std::string(HostPhaseName(h.phase)) + ": " + FirstLine(h.detail);
  if (h.out_of_traffic) text += "; it stays OUT OF TRAFFIC with its record (`caretaker maint stop " + key + "` puts it back)";
  co_return RuleOutcome{Is::kFailed, text};
}

}  // namespace caretaker
