// One rule's decisions (config/rule_config.h), pure: fed each member's
// verdicts once per evaluation, it says which members to act on, and why it
// does not act on the others. serve performs the actions as one-member walks
// (a depool ends held in MAINT, a repool is resumed at the gates, a task
// walks the member through it) and reports back how each ended; the pool's
// capacity policy is decided by that walk, under the pool lock, at the
// moment it acts — so a budget refusal comes back as an outcome, and the
// member is tried again at the next evaluation.
//
// Per member: ok -> pending (`when` holds; unknown or not holding: back to ok)
// -> firing (held `for`: the guards decide) -> acting (its walk runs;
// conditions are not read) -> then, for a depool, out (the clear condition,
// or `when` no longer holding, must hold `clear_for`; unknown starts that
// over) -> acting (the repool) -> held until the walk's end + `cooldown`.
// After a task or a notify: held the same way.
//
// Guards, in this order, each said in the member's `why`: the halt; a
// tripped breaker; the member out of traffic by a person or by something
// else of caretaker (never touched, its conditions not read); rate limits
// (rule, host, pool) over the memory's past actions; the breaker, which
// trips on more than breaker_actions firings in breaker_window, or firings
// on more than breaker_pool of one pool's members.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/config/rule_config.h"
#include "src/store/rule_memory.h"

namespace caretaker {

// What a condition says of one member now; `text` is the value read ("lag
// 42s", "CRITICAL", "'seconds behind master'=3s") or why it is unknown.
struct Verdict {
  enum class Is { kHolds, kNot, kUnknown };
  Is is = Is::kUnknown;
  std::string text;
};

// Who has the member out of traffic, as the records and HAProxy say.
enum class OutBy { kNone, kThisRule, kCaretaker, kPerson };

struct RuleMember {
  std::string pool;
  std::string server;
  OutBy out = OutBy::kNone;
  Verdict when;
  Verdict clear;  // the rule's clear condition (or `when`, inverted, when it has none)
};

struct RuleRequest {
  std::string pool, server;
  std::string kind;  // "depool", "repool", "task", "notify"
  bool observe = false;  // mode = "observe": say what would be done, do nothing
  std::string why;       // the verdict that led here ("lag 42s held 30s")
};

struct RuleOutcome {
  enum class Is { kDone, kRefused, kFailed };  // kRefused: the budget (or a lock) said no; nothing changed
  Is is = Is::kDone;
  std::string text;
};

struct MemberRuleState {
  enum class Phase { kOk, kPending, kFiring, kActing, kOut, kClearing, kHeld, kIgnored };
  std::string pool, server;
  Phase phase = Phase::kOk;
  std::optional<WallTime> since;  // pending, clearing: since when; held: until when
  std::string why;                // the last verdict, or the guard that said no
  std::string refused;            // the guard's refusal last noted (noted again only when it changes)
};
const char* RulePhaseName(MemberRuleState::Phase phase);  // "ok", "pending", ...

class RuleEngine {
 public:
  RuleEngine(const RuleConfig& rule, RuleMemory memory);

  // One evaluation. `pool_sizes`: members per pool (the breaker's share);
  // `halted`: why everything automated is halted, if it is.
  std::vector<RuleRequest> Evaluate(WallTime now, const std::vector<RuleMember>& members,
                                    const std::map<std::string, size_t>& pool_sizes,
                                    const std::optional<std::string>& halted);
  // How a request Evaluate returned ended (not called for observe ones).
  void OnEnded(const RuleRequest& request, const RuleOutcome& outcome, WallTime now);
  void Reset();  // `caretaker rules reset NAME`: the breaker closes
  // The memory as the store has it now (serve reads it before every change,
  // so a `rules reset` from another process is never written over).
  void SetMemory(RuleMemory memory) { memory_ = std::move(memory); }
  // The rule as a reloaded config says (same name); members keep their state.
  void Reconfigure(const RuleConfig& rule) { rule_ = rule; }

  const RuleConfig& rule() const { return rule_; }
  const RuleMemory& memory() const { return memory_; }
  const std::map<std::string, MemberRuleState>& members() const { return states_; }  // "pool/server"
  // Decisions worth a log line and an audit entry, since the last call.
  std::vector<std::string> TakeNotes();
  // When a member's `for` or `clear_for` is up, or its hold ends, soonest:
  // serve evaluates the rule then rather than an interval later.
  std::optional<WallTime> NextDue() const;
  // Members that started pending or clearing since the last call ("pool/server").
  std::vector<std::string> TakeStarted() { return std::exchange(started_, {}); }
  // Guards' refusals noted since the last call ("pool/server", why), each
  // once per change (as the notes say them).
  std::vector<std::pair<std::string, std::string>> TakeRefusals() { return std::exchange(refusals_, {}); }

 private:
  using Phase = MemberRuleState::Phase;
  // Why not act on `m` now (a guard), or nullopt; may trip the breaker.
  std::optional<std::string> Refusal(WallTime now, const RuleMember& m, const std::string& kind);
  // The request for `st`'s member; the member acting (or, observing, held).
  RuleRequest Emit(WallTime now, MemberRuleState& st, const std::string& kind, std::string why);
  size_t CountActions(WallTime since, const std::string& pool, const std::string& server) const;
  void Prune(WallTime now);

  RuleConfig rule_;
  RuleMemory memory_;
  std::map<std::string, MemberRuleState> states_;
  std::map<std::string, size_t> pool_sizes_;
  std::vector<std::string> notes_;
  std::vector<std::string> started_;
  std::vector<std::pair<std::string, std::string>> refusals_;
};

}  // namespace caretaker
