// See rule.h.
#include "src/walk/rule.h"

#include <algorithm>
#include <set>
#include <utility>

#include "src/config/config.h"

namespace caretaker {
namespace {

std::string Key(const std::string& pool, const std::string& server) { return pool + "/" + server; }

bool Holds(const Verdict& v) { return v.is == Verdict::Is::kHolds; }

std::string Dur(Millis d) { return FormatDuration(d); }

}  // namespace

const char* RulePhaseName(MemberRuleState::Phase phase) {
  using P = MemberRuleState::Phase;
  switch (phase) {
    case P::kOk: return "ok";
    case P::kPending: return "pending";
    case P::kFiring: return "firing";
    case P::kActing: return "acting";
    case P::kOut: return "out";
    case P::kClearing: return "clearing";
    case P::kHeld: return "held";
    case P::kIgnored: return "ignored";
  }
  return "ok";
}

RuleEngine::RuleEngine(const RuleConfig& rule, RuleMemory memory) : rule_(rule), memory_(std::move(memory)) {}

std::vector<std::string> RuleEngine::TakeNotes() { return std::exchange(notes_, {}); }

std::optional<WallTime> RuleEngine::NextDue() const {
  std::optional<WallTime> due;
  for (const auto& [key, st] : states_) {
    if (!st.since) continue;
    std::optional<WallTime> at;
    if (st.phase == Phase::kPending) at = *st.since + rule_.hold_for;
    else if (st.phase == Phase::kClearing) at = *st.since + rule_.clear_for;
    else if (st.phase == Phase::kHeld) at = *st.since;
    if (at && (!due || *at < *due)) due = at;
  }
  return due;
}

void RuleEngine::Reset() {
  if (memory_.tripped) notes_.push_back("breaker closed (it had opened: " + *memory_.tripped + ")");
  memory_.tripped.reset();
  memory_.firings.clear();
}

size_t RuleEngine::CountActions(WallTime since, const std::string& pool, const std::string& server) const {
  size_t n = 0;
  for (const RuleMemory::Action& a : memory_.actions) {
    if (a.kind == "repool" || a.at < since) continue;  // putting back is never limited
    if (!pool.empty() && a.pool != pool) continue;
    if (!server.empty() && a.server != server) continue;
    ++n;
  }
  return n;
}

void RuleEngine::Prune(WallTime now) {
  const Millis keep = std::max({rule_.per, rule_.breaker_window, rule_.cooldown});
  std::erase_if(memory_.actions, [&](const RuleMemory::Action& a) { return a.ended && *a.ended < now - keep; });
  std::erase_if(memory_.firings, [&](const RuleMemory::Firing& f) { return f.at < now - rule_.breaker_window; });
}

std::optional<std::string> RuleEngine::Refusal(WallTime now, const RuleMember& m, const std::string& kind) {
  const std::string per = Dur(rule_.per);
  const WallTime since = now - rule_.per;
  if (size_t n = CountActions(since, "", ""); n >= static_cast<size_t>(rule_.max_actions)) {
    return "rate limit: " + std::to_string(n) + " actions of the rule in the last " + per + " (max_actions " +
           std::to_string(rule_.max_actions) + "); no " + kind;
  }
  if (size_t n = CountActions(since, m.pool, m.server); n >= static_cast<size_t>(rule_.max_actions_per_host)) {
    return "rate limit: " + std::to_string(n) + " actions on " + m.server + " in the last " + per +
           " (max_actions_per_host " + std::to_string(rule_.max_actions_per_host) + "); no " + kind;
  }
  if (size_t n = CountActions(since, m.pool, ""); n >= static_cast<size_t>(rule_.max_actions_per_pool)) {
    return "rate limit: " + std::to_string(n) + " actions in pool " + m.pool + " in the last " + per +
           " (max_actions_per_pool " + std::to_string(rule_.max_actions_per_pool) + "); no " + kind;
  }
  return std::nullopt;
}

RuleRequest RuleEngine::Emit(WallTime now, MemberRuleState& st, const std::string& kind, std::string why) {
  RuleRequest r{st.pool, st.server, kind, rule_.observe, std::move(why)};
  if (rule_.observe) {  // said, not done: held as after an action, so it is not said every cycle
    st.phase = Phase::kHeld;
    st.since = now + rule_.cooldown;
    st.why = "observe: would " + kind + " (" + r.why + ")";
  } else {
    st.phase = Phase::kActing;
    memory_.actions.push_back({st.pool, st.server, kind, now, std::nullopt});
  }
  return r;
}

std::vector<RuleRequest> RuleEngine::Evaluate(WallTime now, const std::vector<RuleMember>& members,
                                              const std::map<std::string, size_t>& pool_sizes,
                                              const std::optional<std::string>& halted) {
  Prune(now);
  pool_sizes_ = pool_sizes;
  std::vector<RuleRequest> out;
  for (const RuleMember& m : members) {
    const std::string key = Key(m.pool, m.server);
    MemberRuleState& st = states_[key];
    st.pool = m.pool;
    st.server = m.server;
    if (st.phase == Phase::kActing) continue;  // its walk runs; OnEnded says how it ended
    if (m.out == OutBy::kPerson || m.out == OutBy::kCaretaker) {
      st.phase = Phase::kIgnored;
      st.since.reset();
      st.why = m.out == OutBy::kPerson ? "out of traffic by a person: never touched"
                                       : "out of traffic by caretaker (a walk, or another rule): not read";
      continue;
    }
    if (st.phase == Phase::kIgnored) st.phase = Phase::kOk;
    if (st.phase == Phase::kHeld) {
      if (st.since && now < *st.since) continue;
      st.phase = m.out == OutBy::kThisRule ? Phase::kOut : Phase::kOk;
      st.since.reset();
    }
    if (m.out == OutBy::kThisRule && (st.phase == Phase::kOk || st.phase == Phase::kPending || st.phase == Phase::kFiring)) {
      st.phase = Phase::kOut;  // found so (a restart): its record says this rule took it out
      st.since.reset();
    }
    if (m.out == OutBy::kNone && (st.phase == Phase::kOut || st.phase == Phase::kClearing)) {
      notes_.push_back(key + " is back in traffic without this rule (put back by hand)");
      st.phase = Phase::kOk;
      st.since.reset();
    }
    if ((st.phase == Phase::kOut || st.phase == Phase::kClearing) && rule_.action != RuleAction::kDepool) {
      // Only a depool is undone by its rule: a member a failed task left out
      // stays out for a person to look at.
      st.phase = Phase::kOut;
      st.why = "left out of traffic by its " + std::string(RuleActionName(rule_.action)) +
               ": `caretaker maint stop " + key + "` puts it back";
      continue;
    }
    if (st.phase == Phase::kOut || st.phase == Phase::kClearing) {
      if (!Holds(m.clear)) {
        if (st.phase == Phase::kClearing) st.why = "clear no longer holds (" + m.clear.text + ")";
        else st.why = "waiting to clear: " + m.clear.text;
        st.phase = Phase::kOut;
        st.since.reset();
        continue;
      }
      if (st.phase == Phase::kOut) {
        st.phase = Phase::kClearing;
        st.since = now;
        started_.push_back(key);
      }
      st.why = "clear: " + m.clear.text;
      if (now - *st.since < rule_.clear_for) continue;
      if (halted) {
        st.why = "halted: " + *halted + "; not repooled";
        continue;
      }
      if (memory_.tripped) {
        st.why = "breaker open (" + *memory_.tripped + "); not repooled";
        continue;
      }
      out.push_back(Emit(now, st, "repool",
                         m.clear.text + " held " + Dur(std::chrono::duration_cast<Millis>(now - *st.since))));
      continue;
    }
    // ok, pending, firing: is the condition there?
    if (!Holds(m.when)) {
      st.refused.clear();
      st.why = m.when.is == Verdict::Is::kUnknown ? "unknown: " + m.when.text : m.when.text;
      st.phase = Phase::kOk;
      st.since.reset();
      continue;
    }
    st.why = m.when.text;
    if (st.phase == Phase::kOk) {
      st.phase = Phase::kPending;
      st.since = now;
      started_.push_back(key);
    }
    if (st.phase == Phase::kPending) {
      if (now - *st.since < rule_.hold_for) continue;
      st.phase = Phase::kFiring;
      memory_.firings.push_back({m.pool, m.server, now});
      // The breaker counts firings, acted on or not: a glitch that makes a
      // whole pool "lag" trips it even while the budget refuses each one.
      const WallTime window = now - rule_.breaker_window;
      const bool was_tripped = memory_.tripped.has_value();
      size_t fired = 0;
      std::set<std::string> in_pool;
      for (const RuleMemory::Firing& f : memory_.firings) {
        if (f.at < window) continue;
        ++fired;
        if (f.pool == m.pool) in_pool.insert(f.server);
      }
      const size_t size = pool_sizes_.count(m.pool) ? pool_sizes_.at(m.pool) : 0;
      const policies::Limit& share = rule_.breaker_pool;
      const bool too_many_in_pool = share.kind == policies::Limit::Kind::kPercent
                                        ? in_pool.size() * 100 > share.value * size
                                        : in_pool.size() > share.value;
      if (!memory_.tripped && fired > static_cast<size_t>(rule_.breaker_actions)) {
        memory_.tripped = std::to_string(fired) + " firings in " + Dur(rule_.breaker_window) + " (breaker_actions " +
                          std::to_string(rule_.breaker_actions) + ")";
      } else if (!memory_.tripped && too_many_in_pool) {
        memory_.tripped = std::to_string(in_pool.size()) + " of " + std::to_string(size) + " members of pool " +
                          m.pool + " fired in " + Dur(rule_.breaker_window) + " (breaker_pool " + share.ToString() + ")";
      }
      if (memory_.tripped && !was_tripped) notes_.push_back("breaker opened: " + *memory_.tripped);
      notes_.push_back(key + ": fired (" + m.when.text + (rule_.hold_for > Millis(0) ? " for " + Dur(rule_.hold_for) : "") +
                       ")");
    }
    // firing: the guards, then the action.
    const std::string kind = RuleActionName(rule_.action);
    std::optional<std::string> no;
    if (halted) no = "halted: " + *halted + "; no " + kind;
    else if (memory_.tripped) no = "breaker open: " + *memory_.tripped + "; `caretaker rules reset " + rule_.name + "`";
    else no = Refusal(now, m, kind);
    if (no) {
      if (st.refused != *no) {
        notes_.push_back(key + ": " + *no);
        refusals_.emplace_back(key, *no);
      }
      st.refused = st.why = *no;
      continue;
    }
    st.refused.clear();
    out.push_back(Emit(now, st, kind, m.when.text));
  }
  return out;
}

void RuleEngine::OnEnded(const RuleRequest& request, const RuleOutcome& outcome, WallTime now) {
  const std::string key = Key(request.pool, request.server);
  MemberRuleState& st = states_[key];
  auto it = std::find_if(memory_.actions.rbegin(), memory_.actions.rend(), [&](const RuleMemory::Action& a) {
    return a.pool == request.pool && a.server == request.server && a.kind == request.kind && !a.ended;
  });
  if (outcome.is == RuleOutcome::Is::kRefused) {
    // Nothing changed: not an action, tried again at the next evaluation.
    if (it != memory_.actions.rend()) memory_.actions.erase(std::next(it).base());
    st.phase = request.kind == "repool" ? Phase::kClearing : Phase::kFiring;
    st.why = outcome.text;
    notes_.push_back(key + ": " + outcome.text);
    return;
  }
  if (it != memory_.actions.rend()) it->ended = now;
  const bool ok = outcome.is == RuleOutcome::Is::kDone;
  if (!ok) notes_.push_back(key + ": " + request.kind + " failed: " + outcome.text);
  if (request.kind == "depool" && ok) {
    st.phase = Phase::kOut;
    st.since.reset();
    st.why = "depooled (" + request.why + ")";
    return;
  }
  // After its walk: held for the cooldown, from the walk's end (not from
  // when it started, so a long walk cannot let a second one start early).
  st.phase = Phase::kHeld;
  st.since = now + rule_.cooldown;
  st.why = ok ? request.kind + " done; held " + Dur(rule_.cooldown) : request.kind + " failed: " + outcome.text;
}

}  // namespace caretaker
