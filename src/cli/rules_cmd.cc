// See rules_cmd.h.
#include "src/cli/rules_cmd.h"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <algorithm>

#include "src/base/event_loop.h"
#include "src/run/rule_actions.h"
#include "src/cli/exit_code.h"
#include "src/run/rule_watch.h"
#include "src/run/views.h"
#include "src/run/step_runner.h"
#include "src/store/state_open.h"
#include "src/walk/gates.h"
#include "src/walk/rule.h"

namespace caretaker {
namespace {

namespace json = boost::json;


const RuleConfig* FindRule(const Config& config, const std::string& name) {
  for (const RuleConfig& r : config.rules) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string RuleNames(const Config& config) {
  std::string out;
  for (const RuleConfig& r : config.rules) out += (out.empty() ? "" : ", ") + r.name;
  return out.empty() ? "none" : out;
}

// "replication is stopped (probe) for 2s, then depool" / "... then task restart"; "observe" said.
std::string Describe(const RuleConfig& r) {
  std::string out = r.when.text + " (" + RuleSourceName(r.source);
  if (r.source == RuleSource::kPrometheus) out += " " + r.server + ": " + r.query + " by " + r.label;
  if (r.source == RuleSource::kGraphite) out += " " + r.server + ": " + r.query;
  out += ")";
  if (r.hold_for > Millis(0)) out += " for " + FormatDuration(r.hold_for);
  out += ", then " + std::string(RuleActionName(r.action)) + (r.action == RuleAction::kTask ? " " + r.task : "");
  if (r.action == RuleAction::kDepool) {
    out += "; repooled once " + (r.clear ? r.clear->text : "it no longer holds") + " for " + FormatDuration(r.clear_for);
  }
  if (r.observe) out += " [observe: acts never]";
  return out;
}

std::string Ago(WallTime at, WallTime now) {
  return HumanDuration(std::chrono::duration_cast<Millis>(now - at)) + " ago";
}

std::string StateText(const RuleStatus::Member& m) {
  std::string out = m.phase;
  if (m.since && (m.phase == "pending" || m.phase == "clearing")) out += " since " + FormatUtc(*m.since);
  if (m.since && m.phase == "held") out += " until " + FormatUtc(*m.since);
  return out;
}

}  // namespace

int RunRules(const Config& config, bool json, const MaintIo& io) {
  auto store = OpenStateStore(config, OperatorName() + " (caretaker rules)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return kExitFailed;
  }
  const WallTime now = WallNow();
  json::array listed;
  int code = 0;
  for (const RuleConfig& r : config.rules) {
    auto memory = store.value()->ReadRuleMemory(r.name);
    auto status = store.value()->ReadRuleStatus(r.name);
    if (!memory || !status) {
      io.err << "caretaker: rule " << r.name << ": " << (!memory ? memory.error().message : status.error().message) << "\n";
      code = kExitFailed;
      continue;
    }
    const RuleMemory& mem = memory.value();
    const size_t acted = RuleActionsInWindow(r, mem, now);
    const std::optional<RuleStatus>& st = status.value();
    if (json) {
      listed.push_back(RuleView(r, mem, st, now));
      continue;
    }
    io.out << "rule " << r.name << ": " << Describe(r) << "\n";
    io.out << "  breaker: "
           << (mem.tripped ? "TRIPPED: " + *mem.tripped + " (`caretaker rules reset " + r.name + "` closes it)"
                           : std::string("closed"))
           << "; actions in the last " << FormatDuration(r.per) << ": " << acted << " of " << r.max_actions << "\n";
    if (!st) {
      io.out << "  not evaluated yet (`caretaker serve` evaluates it every " << FormatDuration(r.interval) << ")\n";
      continue;
    }
    io.out << "  last evaluated " << Ago(st->at, now) << " (" << FormatUtc(st->at) << ") in " << HumanDuration(st->took)
           << (st->error.empty() ? "" : ": ERROR: " + st->error) << "\n";
    size_t width = 0;
    for (const RuleStatus::Member& m : st->members) width = std::max(width, m.pool.size() + 1 + m.server.size());
    for (const RuleStatus::Member& m : st->members) {
      std::string name = m.pool + "/" + m.server;
      name.resize(width, ' ');
      std::string state = StateText(m);
      if (state.size() < 8) state.resize(8, ' ');
      io.out << "  " << name << "  " << state << "  " << m.why << "\n";
    }
  }
  if (json) io.out << JsonText(json::object{{"rules", std::move(listed)}}) << "\n";
  if (config.rules.empty() && !json) io.out << "no [[rules]] in " << config.path << "\n";
  return code;
}

int RunRulesReset(const Config& config, const std::string& name, const MaintIo& io) {
  const std::string who = OperatorName();
  auto store = OpenStateStore(config, who + " (caretaker rules reset)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return kExitFailed;
  }
  auto reset = ResetRule(config, *store.value(), name, who);
  if (!reset) {
    io.err << "caretaker: " << reset.error().message << "\n";
    return reset.error().code == ErrorKind::kNotFound ? kExitUsage : kExitFailed;
  }
  io.out << reset.value() << "\n";
  return 0;
}

int RunRulesTest(const Config& config, const RulesTestOptions& options, const MaintIo& io) {
  const RuleConfig* found = FindRule(config, options.rule);
  if (!found) {
    io.err << "caretaker: no rule named " << options.rule << " in " << config.path << " (rules: " << RuleNames(config)
           << ")\n";
    return kExitUsage;
  }
  auto password = ReadMysqlPassword(config.mysql);
  if (!password) {
    io.err << "caretaker: " << password.error().message << "\n";
    return kExitUsage;
  }
  auto store = OpenStateStore(config, OperatorName() + " (caretaker rules test)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return kExitFailed;
  }
  auto memory = store.value()->ReadRuleMemory(options.rule);
  if (!memory) {
    io.err << "caretaker: rule " << options.rule << ": " << memory.error().message << "\n";
    return kExitFailed;
  }
  // As if `for` and `clear_for` had passed: what it would do, guard by guard.
  RuleConfig rule = *found;
  if (!options.member.empty()) {
    const std::string& m = options.member;
    const std::string server = m.find('/') == std::string::npos ? m : m.substr(m.find('/') + 1);
    const std::vector<WatchedMember> watched = WatchedMembers(config, rule);
    const bool named = std::any_of(watched.begin(), watched.end(), [&](const WatchedMember& w) {
      return w.member->server == m || w.pool->name + "/" + w.member->server == m;
    });
    if (!named) {
      io.err << "caretaker: rule " << rule.name << " does not watch " << m << "\n";
      return kExitUsage;
    }
    rule.members = {server};
    if (m.find('/') != std::string::npos) rule.pools = {m.substr(0, m.find('/'))};
  }
  RuleConfig as_if = rule;
  as_if.hold_for = Millis(0);
  as_if.clear_for = Millis(0);
  as_if.observe = false;
  WalkRecordInfo info;
  info.who = "rule:" + rule.name;
  info.reason = "caretaker rules test";
  boost::asio::io_context loop;
  std::unique_ptr<WalkIo> world = MakeRealWalkIo(config, password.value(), *store.value(), std::move(info));
  std::unique_ptr<StepRunner> steps = MakeProcessStepRunner(loop.get_executor());
  std::unique_ptr<ConditionSource> source = MakeRuleSource(config, rule, *world, *steps, loop, store.value().get());
  Result<RuleSight> sight = RunOn(loop, ReadRule(loop, config, rule, *store.value(), *world, *source));
  if (!sight) {
    io.err << "caretaker: rule " << rule.name << ": " << sight.error().message << "\n";
    return kExitFailed;
  }
  if (std::string problem = source->Problem(); !problem.empty()) {
    // Nothing was read: one sentence naming the server and the query.
    io.err << "caretaker: rule " << rule.name << ": " << problem << "\n";
    return kExitFailed;
  }
  const HaltCheck halt = CheckHalt(store.value().get(), config.halt_file);
  RuleEngine engine(as_if, memory.value());
  const std::vector<RuleRequest> requests = engine.Evaluate(
      WallNow(), sight.value().members, sight.value().pool_sizes, halt.halted ? std::optional(halt.why) : std::nullopt);
  std::map<std::string, std::string> budget;  // "pool/server" -> the policy's word now
  for (const RuleRequest& q : requests) {
    if (q.kind != "depool" && q.kind != "task") continue;
    const PoolConfig* pool = config.FindPool(q.pool);
    if (pool) budget[q.pool + "/" + q.server] = RunOn(loop, BudgetVerdict(*pool, q.server, *world));
  }
  const RuleMemory& mem = memory.value();
  const WallTime now = WallNow();
  const std::string halt_text = halt.halted ? "HALTED: " + halt.why : "not halted";
  const std::string breaker = mem.tripped ? "TRIPPED: " + *mem.tripped : "closed";
  const std::string rate = std::to_string(RuleActionsInWindow(rule, mem, now)) + " of " + std::to_string(rule.max_actions) +
                           " actions in the last " + FormatDuration(rule.per);
  auto would = [&](const RuleMember& m) -> std::string {
    const std::string key = m.pool + "/" + m.server;
    for (const RuleRequest& q : requests) {
      if (q.pool != m.pool || q.server != m.server) continue;
      std::string out = "would " + q.kind;
      if (q.kind == "depool" && rule.hold_for > Millis(0)) out += " once it holds " + FormatDuration(rule.hold_for);
      if (q.kind == "repool" && rule.clear_for > Millis(0)) out += " once clear for " + FormatDuration(rule.clear_for);
      if (budget.count(key)) out += "; budget: " + budget.at(key);
      return out;
    }
    const auto& states = engine.members();
    auto it = states.find(key);
    if (it == states.end()) return "";
    if (it->second.phase == MemberRuleState::Phase::kOk) return "nothing to do";
    return it->second.why;
  };
  if (options.json) {
    auto verdict = [](const Verdict& v) {
      return v.is == Verdict::Is::kHolds ? "holds" : v.is == Verdict::Is::kNot ? "not" : "unknown";
    };
    json::array members;
    for (const RuleMember& m : sight.value().members) {
      members.push_back(json::object{
          {"pool", m.pool},
          {"server", m.server},
          {"out_by", m.out == OutBy::kNone       ? "none"
                     : m.out == OutBy::kThisRule  ? "this rule"
                     : m.out == OutBy::kCaretaker ? "caretaker"
                                                  : "person"},
          {"when", verdict(m.when)},
          {"when_text", m.when.text},
          {"clear", verdict(m.clear)},
          {"clear_text", m.clear.text},
          {"decision", would(m)}});
    }
    io.out << JsonText(json::object{{"rule", rule.name},
                                    {"halted", halt.halted},
                                    {"breaker", breaker},
                                    {"rate", rate},
                                    {"members", std::move(members)},
                                    {"changed", false}})
           << "\n";
    return 0;
  }
  io.out << "rule " << rule.name << ": " << Describe(rule) << "\n";
  io.out << "guards: halt: " << halt_text << "; breaker: " << breaker << "; rate limit: " << rate << "\n";
  for (const RuleMember& m : sight.value().members) {
    std::string when;
    switch (m.when.is) {
      case Verdict::Is::kHolds: when = "HOLDS: " + m.when.text; break;
      case Verdict::Is::kNot: when = "no: " + m.when.text; break;
      case Verdict::Is::kUnknown: when = "unknown: " + m.when.text; break;
    }
    if (m.out == OutBy::kPerson || m.out == OutBy::kCaretaker) when = "not read";
    io.out << "  " << m.pool << "/" << m.server << ": " << when << "\n    -> " << would(m) << "\n";
  }
  io.out << "nothing was changed\n";
  return 0;
}

}  // namespace caretaker
