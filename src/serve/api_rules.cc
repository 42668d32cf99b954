// The API's rules (api_call.h): each rule with its breaker, its actions in
// the rate window, its last evaluation and every member's state, as
// `caretaker rules --json` shows them (views.h RuleView); and the reset of
// a tripped breaker, as `caretaker rules reset`.
#include <boost/json.hpp>

#include "src/run/rule_actions.h"
#include "src/run/views.h"
#include "src/serve/api_call.h"

namespace caretaker::api_detail {
namespace {

namespace json = boost::json;

Result<json::object> ViewOf(StateStore& store, const RuleConfig& rule, WallTime now) {
  auto memory = store.ReadRuleMemory(rule.name);
  if (!memory) return memory.error();
  auto status = store.ReadRuleStatus(rule.name);
  if (!status) return status.error();
  return RuleView(rule, memory.value(), status.value(), now);
}


}  // namespace

HttpAnswer GetRules(Call& call) {
  json::array rules;
  for (const RuleConfig& r : call.host.config().rules) {
    auto view = ViewOf(call.host.store(), r, WallNow());
    if (!view) return Unreadable(view.error());
    rules.push_back(std::move(view).value());
  }
  return Json(200, {{"rules", std::move(rules)}});
}

HttpAnswer GetRule(Call& call) {
  for (const RuleConfig& r : call.host.config().rules) {
    if (r.name != call.name) continue;
    auto view = ViewOf(call.host.store(), r, WallNow());
    if (!view) return Unreadable(view.error());
    return Json(200, view.value());
  }
  return Problem(404, "there is no rule " + call.name + " in " + call.host.config().path);
}

HttpAnswer PostRuleReset(Call& call) {
  return Mutate(call, "rule.reset", "rule:" + call.name, [&] {
    auto reset = ResetRule(call.host.config(), call.host.store(), call.name, call.Actor());
    if (!reset) return Problem(StatusOf(reset.error()), reset.error().message);
    return Json(200, {{"result", reset.value()}});
  });
}

}  // namespace caretaker::api_detail
