// Changes to a rule an operator asks for — from the CLI (`caretaker rules
// reset`) or the HTTP API — decided once, with one sentence each, so both
// say the same.
#pragma once

#include <string>

#include "src/base/result.h"
#include "src/config/config.h"
#include "src/store/state_store.h"

namespace caretaker {

// Closes the circuit breaker of rule `name` for `who` (audited first): its
// firings are counted afresh. The sentence said: "rule lag: breaker closed
// (it had opened: ...); serve acts on it again from its next evaluation", or
// that it was closed already. kNotFound: no such rule (the sentence lists
// them); kFailed: the store (nothing was reset).
Result<std::string> ResetRule(const Config& config, StateStore& store, const std::string& name, const std::string& who);

}  // namespace caretaker
