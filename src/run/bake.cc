// See bake.h.
#include "src/run/bake.h"

#include "src/run/rule_watch.h"

namespace caretaker {

Awaitable<BakeReading> ReadBakeChecks(boost::asio::io_context& io, const Config& config, WalkIo& world,
                                      StepRunner& steps, const PoolConfig& pool, const MemberConfig& member,
                                      const std::vector<RuleConfig>& checks, const AlertBook* alerts) {
  std::vector<WatchedMember> one(1);
  one[0].pool = &pool;
  one[0].member = &member;
  std::string clear, unknown;
  for (const RuleConfig& check : checks) {
    std::unique_ptr<ConditionSource> source = MakeRuleSource(config, check, world, steps, io, alerts);
    auto read = source->Read(check, one);
    std::vector<RuleMember> got = co_await std::move(read);
    const Verdict v = got.empty() ? Verdict{Verdict::Is::kUnknown, "not read"} : got.front().when;
    const std::string said = "'" + check.when.text + "' (" + RuleSourceName(check.source) +
                             (check.server.empty() ? "" : " " + check.server) + ")";
    if (v.is == Verdict::Is::kHolds) co_return BakeReading{BakeReading::Is::kFired, "condition " + said + " holds: " + v.text};
    std::string& into = v.is == Verdict::Is::kUnknown ? unknown : clear;
    into += (into.empty() ? "" : "; ") + said + ": " + v.text;
  }
  if (!unknown.empty()) co_return BakeReading{BakeReading::Is::kUnknown, unknown};
  co_return BakeReading{BakeReading::Is::kClear, clear};
}

}  // namespace caretaker
