// One rule's decisions (src/walk/rule.h) on a fake clock: for / clear_for,
// unknown readings, the hold after a walk, rate limits, the breaker, the
// halt, observe mode, hosts others took out, and budget refusals.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "policies/capacity.h"
#include "src/walk/rule.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using Is = Verdict::Is;

const WallTime t0{std::chrono::hours(24 * 365 * 56)};

RuleConfig Lag() {
  RuleConfig r;
  r.name = "lag";
  r.when = ParseCondition("lag > 30s", RuleSource::kProbe).value();
  r.clear = ParseCondition("lag < 5s", RuleSource::kProbe).value();
  r.hold_for = 30s;
  r.clear_for = 1min;
  r.cooldown = 10min;
  return r;
}

// A pool "p" of `n` members db1..dbN, each with its verdicts.
struct World {
  RuleEngine engine;
  std::vector<RuleMember> members;
  std::map<std::string, size_t> sizes;
  std::optional<std::string> halted;
  WallTime now = t0;

  World(RuleConfig rule, int n, RuleMemory memory = {}) : engine(std::move(rule), std::move(memory)) {
    for (int i = 1; i <= n; ++i) members.push_back({"p", "db" + std::to_string(i), OutBy::kNone, {Is::kNot, "lag 0s"}, {Is::kHolds, "lag 0s"}});
    sizes["p"] = static_cast<size_t>(n);
  }
  RuleMember& operator[](const std::string& server) {
    for (RuleMember& m : members) {
      if (m.server == server) return m;
    }
    FAIL("no member " << server);
    throw;
  }
  void Lagging(const std::string& server, bool lagging) {
    (*this)[server].when = lagging ? Verdict{Is::kHolds, "lag 42s"} : Verdict{Is::kNot, "lag 0s"};
    (*this)[server].clear = lagging ? Verdict{Is::kNot, "lag 42s"} : Verdict{Is::kHolds, "lag 0s"};
  }
  std::vector<RuleRequest> At(Millis after) {
    now = t0 + after;
    return engine.Evaluate(now, members, sizes, halted);
  }
  MemberRuleState::Phase Phase(const std::string& server) const { return engine.members().at("p/" + server).phase; }
  std::string Why(const std::string& server) const { return engine.members().at("p/" + server).why; }
  void Ended(const RuleRequest& r, RuleOutcome::Is is = RuleOutcome::Is::kDone, std::string text = "") {
    engine.OnEnded(r, {is, std::move(text)}, now);
    if (r.kind == "depool" && is == RuleOutcome::Is::kDone) (*this)[r.server].out = OutBy::kThisRule;
    if (r.kind == "repool" && is == RuleOutcome::Is::kDone) (*this)[r.server].out = OutBy::kNone;
  }
};

using P = MemberRuleState::Phase;

TEST_CASE("rule: the next evaluation is due when a member's `for`, `clear_for` or hold is up", "[rule]") {
  World w(Lag(), 3);
  w.At(0s);
  CHECK_FALSE(w.engine.NextDue());  // nothing waits: the interval decides
  w.Lagging("db2", true);
  w.At(5s);
  REQUIRE(w.engine.NextDue());
  CHECK(*w.engine.NextDue() == t0 + 35s);  // pending since 5s, `for` 30s
  w.Lagging("db3", true);
  w.At(10s);
  CHECK(*w.engine.NextDue() == t0 + 35s);  // the soonest
  auto act = w.At(35s);
  REQUIRE(act.size() == 1);
  CHECK(act[0].server == "db2");
  w.Ended(act[0]);
  w.Lagging("db2", false);
  w.Lagging("db3", false);
  w.At(36s);
  CHECK(*w.engine.NextDue() == t0 + 36s + 1min);  // db2 clearing since 36s
  act = w.At(96s);
  REQUIRE(act.size() == 1);
  CHECK(act[0].kind == "repool");
  w.Ended(act[0]);
  w.At(97s);
  CHECK(*w.engine.NextDue() == t0 + 96s + 10min);  // held until the walk's end + cooldown
}

TEST_CASE("rule: depooled only after `for`, repooled only after clear_for, then held for the cooldown", "[rule]") {
  RuleConfig r = Lag();
  r.max_actions_per_host = 2;  // a second depool within the hour
  World w(r, 3);
  w.Lagging("db2", true);
  CHECK(w.At(0s).empty());
  CHECK(w.Phase("db2") == P::kPending);
  CHECK(w.At(29s).empty());
  auto act = w.At(30s);
  REQUIRE(act.size() == 1);
  CHECK(act[0].kind == "depool");
  CHECK(act[0].server == "db2");
  CHECK_FALSE(act[0].observe);
  CHECK(w.Phase("db2") == P::kActing);
  CHECK(w.At(40s).empty());  // its walk runs: nothing again
  w.Ended(act[0]);
  CHECK(w.Phase("db2") == P::kOut);
  // It clears at 2m; repooled at 3m, not before.
  w.Lagging("db2", false);
  w.At(2min);
  CHECK(w.Phase("db2") == P::kClearing);
  CHECK(w.At(2min + 59s).empty());
  auto back = w.At(3min);
  REQUIRE(back.size() == 1);
  CHECK(back[0].kind == "repool");
  w.At(3min + 40s);  // the repool's walk takes 40 s
  w.now = t0 + 3min + 40s;
  w.Ended(back[0]);
  CHECK(w.Phase("db2") == P::kHeld);
  // Lagging again at once (a restarted replica lags): held until its
  // walk's end + 10 m, then `for` again.
  w.Lagging("db2", true);
  CHECK(w.At(13min + 39s).empty());
  CHECK(w.Phase("db2") == P::kHeld);
  CHECK(w.At(13min + 40s).empty());
  CHECK(w.Phase("db2") == P::kPending);
  CHECK(w.At(14min + 10s).size() == 1);
}

TEST_CASE("rule: a value flapping around the threshold never reaches `for`, and never clears", "[rule]") {
  World w(Lag(), 3);
  for (int i = 0; i < 100; ++i) {
    w.Lagging("db1", i % 2 == 0);
    CHECK(w.At(std::chrono::seconds(10 * i)).empty());
  }
  // Out, the clear condition flapping: never repooled.
  World out(Lag(), 3);
  out["db1"].out = OutBy::kThisRule;
  for (int i = 0; i < 100; ++i) {
    out.Lagging("db1", i % 3 == 0);
    CHECK(out.At(std::chrono::seconds(20 * i)).empty());
  }
}

TEST_CASE("rule: an unknown reading never triggers and never clears, and starts the wait over", "[rule]") {
  World w(Lag(), 3);
  w.Lagging("db1", true);
  w.At(0s);
  w["db1"].when = {Is::kUnknown, "cannot connect to db1:3306"};
  CHECK(w.At(20s).empty());
  CHECK(w.Phase("db1") == P::kOk);
  CHECK(w.Why("db1") == "unknown: cannot connect to db1:3306");
  w.Lagging("db1", true);
  CHECK(w.At(40s).empty());  // pending again from 40 s
  CHECK(w.At(69s).empty());
  CHECK(w.At(70s).size() == 1);
  // Out, an unknown clear: never repooled.
  World out(Lag(), 3);
  out["db1"].out = OutBy::kThisRule;
  out["db1"].clear = {Is::kUnknown, "no reading"};
  for (int i = 0; i < 20; ++i) CHECK(out.At(std::chrono::minutes(i)).empty());
  CHECK(out.Phase("db1") == P::kOut);
}

TEST_CASE("rule: a budget refusal is said and tried again, and not counted as an action", "[rule]") {
  World w(Lag(), 3);
  w.Lagging("db1", true);
  w.At(0s);
  w.engine.TakeNotes();
  auto act = w.At(30s);
  REQUIRE(act.size() == 1);
  w.Ended(act[0], RuleOutcome::Is::kRefused, "budget: db1 not depooled, 1 of 3 already out");
  CHECK(w.Phase("db1") == P::kFiring);
  CHECK(w.Why("db1") == "budget: db1 not depooled, 1 of 3 already out");
  bool said = false;
  for (const std::string& n : w.engine.TakeNotes()) said = said || n == "p/db1: budget: db1 not depooled, 1 of 3 already out";
  CHECK(said);
  CHECK(w.engine.memory().actions.empty());
  for (int i = 0; i < 5; ++i) {
    auto again = w.At(40s + std::chrono::seconds(10 * i));
    REQUIRE(again.size() == 1);
    w.Ended(again[0], RuleOutcome::Is::kRefused, "budget: no");
  }
  auto finally = w.At(2min);
  REQUIRE(finally.size() == 1);
  w.Ended(finally[0]);
  CHECK(w.Phase("db1") == P::kOut);
  CHECK(w.engine.memory().actions.size() == 1);
  CHECK(w.engine.memory().firings.size() == 1);  // one firing, however often refused
}

TEST_CASE("rule: rate limits per host, per pool and per rule", "[rule]") {
  RuleConfig r = Lag();
  r.action = RuleAction::kTask;
  r.task = "restart";
  r.hold_for = 0s;
  r.cooldown = 1min;
  r.max_actions = 3;
  r.max_actions_per_host = 1;
  r.max_actions_per_pool = 2;
  r.breaker_actions = 100;
  r.breaker_pool = policies::Limit::Percent(100);
  SECTION("per host: one task on db1 per hour") {
    World w(r, 5);
    w.Lagging("db1", true);
    auto act = w.At(0s);
    REQUIRE(act.size() == 1);
    w.Ended(act[0]);
    CHECK(w.At(2min).empty());
    CHECK_THAT(w.Why("db1"), Catch::Contains("rate limit: 1 actions on db1 in the last 1h (max_actions_per_host 1)"));
    CHECK(w.At(61min).size() == 1);  // the hour has passed
  }
  SECTION("per pool: two in p, the third waits") {
    World w(r, 5);
    for (const char* s : {"db1", "db2", "db3"}) w.Lagging(s, true);
    auto act = w.At(0s);
    CHECK(act.size() == 2);
    CHECK_THAT(w.Why("db3"), Catch::Contains("rate limit: 2 actions in pool p in the last 1h (max_actions_per_pool 2)"));
  }
  SECTION("per rule, kept in its memory across a restart") {
    r.max_actions_per_pool = 10;
    World w(r, 5);
    for (const char* s : {"db1", "db2", "db3", "db4"}) w.Lagging(s, true);
    auto act = w.At(0s);
    CHECK(act.size() == 3);
    for (const RuleRequest& a : act) w.Ended(a);
    // A new engine from the same memory (serve restarted): still limited.
    World again(r, 5, w.engine.memory());
    for (const char* s : {"db4", "db5"}) again.Lagging(s, true);
    CHECK(again.At(5min).empty());
    CHECK_THAT(again.Why("db4"), Catch::Contains("rate limit: 3 actions of the rule in the last 1h (max_actions 3)"));
  }
}

TEST_CASE("rule: the breaker trips on too many firings or too much of a pool, survives a restart, reset closes it", "[rule]") {
  RuleConfig r = Lag();
  r.hold_for = 0s;
  r.breaker_pool = policies::Limit::Percent(50);
  SECTION("more than half of a pool fires: tripped, nothing more acts") {
    r.max_actions = r.max_actions_per_pool = 10;
    World w(r, 4);
    for (const char* s : {"db1", "db2", "db3"}) w.Lagging(s, true);
    auto act = w.At(0s);
    // db1 and db2 fire (2 of 4 is not more than half); db3 trips it.
    CHECK(act.size() == 2);
    REQUIRE(w.engine.memory().tripped);
    CHECK(*w.engine.memory().tripped == "3 of 4 members of pool p fired in 1h (breaker_pool 50%)");
    CHECK_THAT(w.Why("db3"), Catch::StartsWith("breaker open: 3 of 4") && Catch::EndsWith("`caretaker rules reset lag`"));
    bool logged = false;
    for (const std::string& n : w.engine.TakeNotes()) logged = logged || n.starts_with("breaker opened: ");
    CHECK(logged);
    World restarted(r, 4, w.engine.memory());
    restarted.Lagging("db4", true);
    CHECK(restarted.At(5min).empty());
    CHECK_THAT(restarted.Why("db4"), Catch::StartsWith("breaker open"));
    restarted.engine.Reset();
    CHECK(restarted.At(6min).size() == 1);
  }
  SECTION("more than breaker_actions firings in the window") {
    r.breaker_actions = 2;
    r.breaker_pool = policies::Limit::Percent(100);
    r.max_actions_per_pool = 100;
    r.max_actions = 100;
    World w(r, 10);
    for (const char* s : {"db1", "db2", "db3"}) w.Lagging(s, true);
    CHECK(w.At(0s).size() == 2);
    CHECK(w.engine.memory().tripped == std::optional<std::string>("3 firings in 1h (breaker_actions 2)"));
  }
}

TEST_CASE("rule: while halted nothing acts, a depooled host is not repooled either", "[rule]") {
  World w(Lag(), 3);
  w.halted = "halted by ann since 2026-12-03T10:00:00Z: incident";
  w.Lagging("db1", true);
  w["db2"].out = OutBy::kThisRule;
  for (int i = 0; i < 10; ++i) CHECK(w.At(std::chrono::minutes(i)).empty());
  CHECK_THAT(w.Why("db1"), Catch::StartsWith("halted: halted by ann"));
  CHECK_THAT(w.Why("db2"), Catch::StartsWith("halted: halted by ann") && Catch::EndsWith("not repooled"));
  w.halted.reset();
  auto act = w.At(10min);
  CHECK(act.size() == 2);
}

TEST_CASE("rule: hosts a person or another walk took out are never touched and their conditions not read", "[rule]") {
  World w(Lag(), 3);
  w.Lagging("db1", true);
  w.Lagging("db2", true);
  w["db1"].out = OutBy::kPerson;
  w["db2"].out = OutBy::kCaretaker;
  for (int i = 0; i < 10; ++i) CHECK(w.At(std::chrono::minutes(i)).empty());
  CHECK(w.Phase("db1") == P::kIgnored);
  CHECK(w.Why("db1") == "out of traffic by a person: never touched");
  CHECK(w.Phase("db2") == P::kIgnored);
  // Back in traffic (the person put it back, still lagging): `for` from now.
  w["db1"].out = OutBy::kNone;
  CHECK(w.At(10min).empty());
  CHECK(w.Phase("db1") == P::kPending);
  CHECK(w.At(10min + 30s).size() == 1);
}

TEST_CASE("rule: observe mode says what it would do, once per cooldown, and records no action", "[rule]") {
  RuleConfig r = Lag();
  r.observe = true;
  World w(r, 3);
  w.Lagging("db1", true);
  w.At(0s);
  auto would = w.At(30s);
  REQUIRE(would.size() == 1);
  CHECK(would[0].observe);
  CHECK(would[0].kind == "depool");
  CHECK(w.Why("db1") == "observe: would depool (lag 42s)");
  CHECK(w.engine.memory().actions.empty());
  CHECK(w.At(5min).empty());
  CHECK(w.At(10min + 30s).empty());  // held till 10m30s, then pending again
  CHECK(w.At(11min).size() == 1);
}

TEST_CASE("rule: a host put back by hand while the rule had it out is the rule's no more", "[rule]") {
  World w(Lag(), 3);
  w["db1"].out = OutBy::kThisRule;
  w.Lagging("db1", true);
  w.At(0s);
  CHECK(w.Phase("db1") == P::kOut);
  w["db1"].out = OutBy::kNone;
  w.engine.TakeNotes();
  w.At(1min);
  CHECK(w.Phase("db1") == P::kPending);
  auto notes = w.engine.TakeNotes();
  REQUIRE_FALSE(notes.empty());
  CHECK(notes[0] == "p/db1 is back in traffic without this rule (put back by hand)");
}

TEST_CASE("rule: a failed depool holds the host, then the rule watches for its clear", "[rule]") {
  World w(Lag(), 3);
  w.Lagging("db1", true);
  w.At(0s);
  auto act = w.At(30s);
  REQUIRE(act.size() == 1);
  w.Ended(act[0], RuleOutcome::Is::kFailed, "cannot drain db1: lb2 did not answer");
  CHECK(w.Phase("db1") == P::kHeld);
  CHECK_THAT(w.Why("db1"), Catch::Contains("depool failed: cannot drain db1"));
  w["db1"].out = OutBy::kThisRule;  // left out with the rule's record
  w.Lagging("db1", false);
  CHECK(w.At(5min).empty());
  w.At(10min + 30s);
  CHECK(w.Phase("db1") == P::kClearing);
}

TEST_CASE("rule: a member a failed task left out stays out for a person, never repooled by the rule", "[rule]") {
  RuleConfig rule = Lag();
  rule.action = RuleAction::kTask;
  rule.task = "restart";
  World w(rule, 3);
  w.Lagging("db1", true);
  w.At(0s);
  auto act = w.At(30s);
  REQUIRE(act.size() == 1);
  CHECK(act[0].kind == "task");
  w.engine.OnEnded(act[0], {RuleOutcome::Is::kFailed, "step 2 exited 1"}, w.now);
  w["db1"].out = OutBy::kThisRule;  // left out with the rule's record
  w.Lagging("db1", false);
  CHECK(w.At(11min).empty());
  CHECK(w.At(20min).empty());
  CHECK(w.Phase("db1") == P::kOut);
  CHECK_THAT(w.Why("db1"), Catch::Contains("`caretaker maint stop p/db1` puts it back"));
}

// A randomized run against a model of the pool: members lag and recover at
// random, a person takes members out and puts them back, halts come and go;
// each request is carried out as the walk would, its capacity decided by the
// pool's policy on the model's live state (a refusal comes back as such).
// Whatever happens, the rule depools only members in traffic and repools only
// its own (so a refusal never leaves it believing a member out), the floor
// holds after every depool, it never acts on a person's member or while
// halted, and never acts more often than its limits in any window.
TEST_CASE("rule: a randomized run never goes below the floor, never beyond the rate limits", "[rule]") {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    RuleConfig rule = Lag();
    rule.hold_for = 20s;
    rule.clear_for = 20s;
    rule.cooldown = 1min;
    rule.max_actions = 4;
    rule.max_actions_per_host = 2;
    rule.max_actions_per_pool = 3;
    rule.per = 30min;
    rule.breaker_actions = 1000;  // the limits, not the breaker, are under test here
    rule.breaker_pool = policies::Limit::Percent(100);
    const int n = 6;
    World w(rule, n);
    policies::CapacityPolicy policy;
    policy.min_in_service = policies::Limit::Count(4);
    policy.count_unhealthy_as_out = false;  // lagging members spend budget: the stricter case
    std::map<std::string, bool> person;     // a person has it out
    std::vector<std::pair<WallTime, std::string>> acted;  // depools, by host
    INFO("seed " << seed);
    for (int step = 0; step < 2000; ++step) {
      const Millis at = std::chrono::seconds(10) * step;
      // The world changes.
      for (RuleMember& m : w.members) {
        if (rng() % 20 == 0) w.Lagging(m.server, m.when.is != Is::kHolds);
        if (rng() % 200 == 0 && m.out == OutBy::kNone) person[m.server] = true, m.out = OutBy::kPerson;
        else if (rng() % 50 == 0 && m.out == OutBy::kPerson) person[m.server] = false, m.out = OutBy::kNone;
        if (rng() % 30 == 0) m.when = {Is::kUnknown, "lag unknown"}, m.clear = {Is::kUnknown, "lag unknown"};
      }
      if (rng() % 100 == 0) w.halted = w.halted ? std::nullopt : std::optional<std::string>("halted by test");
      const bool halted = w.halted.has_value();
      for (const RuleRequest& r : w.At(at)) {
        CHECK_FALSE(halted);
        CHECK_FALSE(person[r.server]);
        // Only a member in traffic is depooled, only the rule's own repooled.
        CHECK(w[r.server].out == (r.kind == "depool" ? OutBy::kNone : OutBy::kThisRule));
        if (r.kind != "depool") {
          w.Ended(r);
          continue;
        }
        policies::PoolSnapshot snap{"p", {}};
        for (const RuleMember& m : w.members) {
          snap.members.push_back({m.server, m.out != OutBy::kNone ? policies::Member::State::kDrained
                                                                  : policies::Member::State::kInService});
        }
        policies::Decision d = policies::MayTakeOut(policy, snap, r.server);
        if (!d.allowed()) {
          w.Ended(r, RuleOutcome::Is::kRefused, "budget: " + d.reason);
          continue;
        }
        acted.push_back({w.now, r.server});
        w.Ended(r);
        // The floor holds after every depool carried out.
        int in = 0;
        for (const RuleMember& m : w.members) in += m.out == OutBy::kNone;
        CHECK(in >= 4);
      }
      // The rate limits over every window that ends now.
      int in_window = 0;
      std::map<std::string, int> per_host;
      for (const auto& [t, server] : acted) {
        if (t < w.now - rule.per) continue;
        ++in_window;
        ++per_host[server];
      }
      CHECK(in_window <= rule.max_actions_per_pool);
      for (const auto& [server, k] : per_host) CHECK(k <= rule.max_actions_per_host);
    }
    CHECK(acted.size() > 5);  // the run did exercise the rule
  }
}

}  // namespace
}  // namespace caretaker
