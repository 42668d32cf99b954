// `caretaker rules`: what each rule of the config saw at serve's last
// evaluation (each watched member's state, actions in the rate window, the
// breaker, the last error); `rules test NAME` evaluates it once now against
// the real sources and says what it would do and what each guard says,
// changing nothing; `rules reset NAME` closes a tripped breaker (audited).
#pragma once

#include <string>

#include "src/cli/maint_cmd.h"
#include "src/config/config.h"

namespace caretaker {

struct RulesTestOptions {
  std::string rule;
  std::string member;  // a server name or POOL/SERVER; empty: every member it watches
  bool json = false;
};

// Exit codes: 0 shown or done; 1 the state store or a source cannot be read;
// 2 bad usage (no such rule, no such member).
int RunRules(const Config& config, bool json, const MaintIo& io);
int RunRulesTest(const Config& config, const RulesTestOptions& options, const MaintIo& io);
int RunRulesReset(const Config& config, const std::string& rule, const MaintIo& io);

}  // namespace caretaker
