// The state store's memory of rules: what a rule remembers is read back as
// written, survives a reopen (a serve restart), is kept per rule, and the
// breaker's opening and closing are in the audit trail.
#include <catch2/catch.hpp>
#include <string>

#include "src/store/state_store.h"
#include "tests/unit/store_fixture.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using store_testing::Open;

const WallTime t0{std::chrono::milliseconds(1'796'000'000'123)};

RuleMemory Some() {
  RuleMemory m;
  m.actions.push_back({"replicas", "db2", "depool", t0, t0 + 40s});
  m.actions.push_back({"replicas", "db2", "repool", t0 + 5min, std::nullopt});
  m.firings.push_back({"replicas", "db2", t0 - 1ms});
  m.firings.push_back({"replicas", "db3", t0 + 1s});
  return m;
}

void CheckSame(const RuleMemory& a, const RuleMemory& b) {
  REQUIRE(a.actions.size() == b.actions.size());
  for (size_t i = 0; i < a.actions.size(); ++i) {
    CHECK(a.actions[i].pool == b.actions[i].pool);
    CHECK(a.actions[i].server == b.actions[i].server);
    CHECK(a.actions[i].kind == b.actions[i].kind);
    CHECK(a.actions[i].at == b.actions[i].at);
    CHECK(a.actions[i].ended == b.actions[i].ended);
  }
  REQUIRE(a.firings.size() == b.firings.size());
  for (size_t i = 0; i < a.firings.size(); ++i) {
    CHECK(a.firings[i].server == b.firings[i].server);
    CHECK(a.firings[i].at == b.firings[i].at);
  }
  CHECK(a.tripped == b.tripped);
}

TEST_CASE("store: a rule's memory is read back as written, per rule, and survives a reopen", "[store][rules]") {
  TempDir dir;
  const std::string path = dir.path() + "/caretaker.db";
  RuleMemory lag = Some();
  {
    auto store = Open(path);
    CHECK(store->ReadRuleMemory("lag").value().actions.empty());
    REQUIRE(store->WriteRuleMemory("lag", lag));
    RuleMemory other;
    other.firings.push_back({"batch", "b1", t0});
    REQUIRE(store->WriteRuleMemory("disk", other));
  }
  auto store = Open(path);
  CheckSame(store->ReadRuleMemory("lag").value(), lag);
  CHECK(store->ReadRuleMemory("disk").value().firings.size() == 1);
  CHECK(store->RulesRemembered().value() == std::vector<std::string>{"disk", "lag"});
  // Written again: replaced, not added to.
  lag.actions.erase(lag.actions.begin());
  REQUIRE(store->WriteRuleMemory("lag", lag));
  CheckSame(store->ReadRuleMemory("lag").value(), lag);
}

TEST_CASE("store: the breaker opening and closing are in the audit trail", "[store][rules]") {
  auto store = Open("");
  RuleMemory m = Some();
  REQUIRE(store->WriteRuleMemory("lag", m));
  m.tripped = "3 of 4 members of pool replicas fired in 1h (breaker_pool 50%)";
  REQUIRE(store->WriteRuleMemory("lag", m));
  REQUIRE(store->WriteRuleMemory("lag", m));  // still open: not again
  CHECK(store->ReadRuleMemory("lag").value().tripped == m.tripped);
  m.tripped.reset();
  REQUIRE(store->WriteRuleMemory("lag", m));
  auto trail = store->RecentAudit(10).value();
  std::vector<std::string> actions;
  for (const AuditEntry& e : trail) {
    if (e.target == "rule:lag") actions.push_back(e.action + " " + e.detail);
  }
  CHECK(actions == std::vector<std::string>{
                       "rule.tripped 3 of 4 members of pool replicas fired in 1h (breaker_pool 50%)",
                       "rule.reset was open: 3 of 4 members of pool replicas fired in 1h (breaker_pool 50%)"});
}

TEST_CASE("store: a rule's last evaluation is read back as written and replaced by the next", "[store][rules]") {
  TempDir dir;
  auto store = Open(dir.path() + "/caretaker.db");
  CHECK_FALSE(store->ReadRuleStatus("lag").value().has_value());
  RuleStatus st;
  st.at = t0;
  st.took = 42ms;
  st.members.push_back({"replicas", "db2", "pending", t0 - 10s, "lag 42s"});
  st.members.push_back({"replicas", "db3", "ok", std::nullopt, "lag 0s"});
  REQUIRE(store->WriteRuleStatus("lag", st));
  auto back = store->ReadRuleStatus("lag").value();
  REQUIRE(back);
  CHECK(back->at == t0);
  CHECK(back->took == 42ms);
  REQUIRE(back->members.size() == 2);
  CHECK(back->members[0].phase == "pending");
  CHECK(back->members[0].since == t0 - 10s);
  CHECK_FALSE(back->members[1].since.has_value());
  st.error = "HAProxy cannot be read";
  st.members.pop_back();
  REQUIRE(store->WriteRuleStatus("lag", st));
  back = store->ReadRuleStatus("lag").value();
  CHECK(back->error == "HAProxy cannot be read");
  CHECK(back->members.size() == 1);
  CHECK_FALSE(store->ReadRuleStatus("disk").value().has_value());
}

}  // namespace
}  // namespace caretaker
