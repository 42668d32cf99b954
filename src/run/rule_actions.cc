// See rule_actions.h.
#include "src/run/rule_actions.h"

namespace caretaker {

Result<std::string> ResetRule(const Config& config, StateStore& store, const std::string& name, const std::string& who) {
  if (!config.FindRule(name)) {
    std::string names;
    for (const RuleConfig& r : config.rules) names += (names.empty() ? "" : ", ") + r.name;
    return Error{"no rule named " + name + " in " + config.path + " (rules: " + (names.empty() ? "none" : names) + ")",
                 ErrorKind::kNotFound};
  }
  auto memory = store.ReadRuleMemory(name);
  if (!memory) return Error{"rule " + name + ": " + memory.error().message, ErrorKind::kFailed};
  RuleMemory m = std::move(memory).value();
  if (!m.tripped) return "rule " + name + ": its breaker is closed; nothing to reset";
  const std::string was = *m.tripped;
  m.tripped.reset();
  m.firings.clear();  // counted afresh: the firings that tripped it are not counted again
  const std::string detail = "breaker closed (it had opened: " + was + ")";
  if (auto audited = store.Audit({0, {}, who, "rule.reset", "rule:" + name, detail}); !audited) {
    return Error{audited.error().message + "; the breaker was NOT reset", ErrorKind::kFailed};
  }
  if (auto wrote = store.WriteRuleMemory(name, m); !wrote) {
    return Error{wrote.error().message + "; the breaker was NOT reset", ErrorKind::kFailed};
  }
  return "rule " + name + ": " + detail + "; serve acts on it again from its next evaluation";
}

}  // namespace caretaker
