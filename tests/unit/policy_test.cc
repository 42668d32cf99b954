#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <string>

#include "policies/capacity.h"
#include "policies/limit.h"

namespace caretaker::policies {
namespace {

using State = Member::State;

// A pool written as one letter per member, named db1, db2, ...:
// I in service, D down, L lagging, U MySQL unreachable, R drained, M in
// someone's maintenance.
PoolSnapshot Pool(const std::string& states) {
  PoolSnapshot pool{"replicas-eu", {}};
  for (char c : states) {
    State s = c == 'D'   ? State::kDown
              : c == 'L' ? State::kLagging
              : c == 'U' ? State::kUnreachable
              : c == 'R' ? State::kDrained
              : c == 'M' ? State::kInMaintenance
                         : State::kInService;
    pool.members.push_back({"db" + std::to_string(pool.members.size() + 1), s});
  }
  return pool;
}

Limit L(const char* text) { return ParseLimit(text).value(); }

// min_in_service and max_out as config text; "" is no max_out.
CapacityPolicy Policy(const char* floor, const char* max_out, bool count_unhealthy_as_out = true) {
  CapacityPolicy p{L(floor), std::nullopt, count_unhealthy_as_out};
  if (*max_out) p.max_out = L(max_out);
  return p;
}

TEST_CASE("may a member go out: one case per line, with the exact reason", "[policy]") {
  using K = Decision::Kind;
  struct Case {
    const char* states;
    CapacityPolicy policy;
    const char* member;
    K kind;
    size_t headroom;
    const char* reason;  // after "pool replicas-eu: "
  };
  const char* uncounted = "; 1 down, lagging or unreachable counted as in service (count_unhealthy_as_out = false)";
  const Case cases[] = {
      {"IIII", Policy("75%", ""), "db1", K::kAllowed, 1, "4 of 4 in service, floor is 3 (75%): 1 may go out now"},
      {"RIII", Policy("75%", ""), "db2", K::kFloor, 0, "3 of 4 in service, floor is 3 (75%)"},
      {"RDII", Policy("75%", ""), "db3", K::kFloor, 0, "2 of 4 in service, floor is 3 (75%); counted out: db2 (down)"},
      {"LIII", Policy("75%", ""), "db2", K::kFloor, 0, "3 of 4 in service, floor is 3 (75%); counted out: db1 (lagging)"},
      // A member whose MySQL cannot be read is out, as a DOWN one is: HAProxy
      // may still say UP before its checks notice (issue 13).
      {"IIUI", Policy("1", "1"), "db1", K::kMaxOut, 0,
       "1 of 4 already out, max_out is 1; counted out: db3 (MySQL unreachable)"},
      {"IIUI", Policy("75%", ""), "db1", K::kFloor, 0,
       "3 of 4 in service, floor is 3 (75%); counted out: db3 (MySQL unreachable)"},
      {"IIUI", Policy("1", "1"), "db3", K::kAlreadyOut, 0,
       "db3 is already out (MySQL unreachable), taking it out costs no capacity"},
      {"IIUI", Policy("1", "2"), "db1", K::kAllowed, 1,
       "3 of 4 in service, floor is 1, max_out is 2: 1 may go out now"},
      {"RDII", Policy("75%", ""), "db2", K::kAlreadyOut, 0,
       "db2 is already out (down), taking it out costs no capacity"},
      {"MIII", Policy("75%", ""), "db1", K::kAlreadyOut, 0,
       "db1 is already out (in maintenance), taking it out costs no capacity"},
      {"RIII", Policy("75%", ""), "db1", K::kAlreadyOut, 0,
       "db1 is already out (drained), taking it out costs no capacity"},
      {"IIIII", Policy("75%", ""), "db1", K::kAllowed, 1, "5 of 5 in service, floor is 4 (75%): 1 may go out now"},
      {"RIIII", Policy("75%", ""), "db5", K::kFloor, 0, "4 of 5 in service, floor is 4 (75%)"},
      {"IIII", Policy("1", "50%"), "db4", K::kAllowed, 2,
       "4 of 4 in service, floor is 1, max_out is 2 (50%): 2 may go out now"},
      {"RRII", Policy("1", "2"), "db3", K::kMaxOut, 0, "2 of 4 already out, max_out is 2"},
      {"RDII", Policy("1", "50%"), "db4", K::kMaxOut, 0,
       "2 of 4 already out, max_out is 2 (50%); counted out: db2 (down)"},
      {"IIIII", Policy("1", "50%"), "db1", K::kAllowed, 2,
       "5 of 5 in service, floor is 1, max_out is 2 (50%): 2 may go out now"},
      {"IIII", Policy("1", "10%"), "db1", K::kMaxOut, 0, "0 of 4 already out, max_out is 0 (10%)"},
      {"RIII", Policy("3", "1"), "db2", K::kFloor, 0, "3 of 4 in service, floor is 3"},
      {"II", Policy("3", ""), "db1", K::kFloor, 0, "2 of 2 in service, floor is 3"},
      {"IIII", Policy("0", ""), "db1", K::kAllowed, 4, "4 of 4 in service, floor is 0: 4 may go out now"},
      {"IIII", Policy("75%", ""), "db9", K::kUnknownMember, 1, "no member named db9 (members: db1, db2, db3, db4)"},
      {"", Policy("1", ""), "db1", K::kUnknownMember, 0, "no member named db1 (the pool has no members)"},
  };
  for (const Case& c : cases) {
    INFO(c.states << " " << c.member);
    Decision d = MayTakeOut(c.policy, Pool(c.states), c.member);
    CHECK(d.kind == c.kind);
    CHECK(d.allowed() == (c.kind == K::kAllowed || c.kind == K::kAlreadyOut));
    CHECK(d.reason == std::string("pool replicas-eu: ") + c.reason);
    CHECK(Headroom(c.policy, Pool(c.states)) == c.headroom);
  }
  SECTION("with count_unhealthy_as_out = false, down and lagging members spend budget only when taken out") {
    const Case off[] = {
        {"DIII", Policy("3", "", false), "db2", K::kAllowed, 1, "4 of 4 in service, floor is 3: 1 may go out now"},
        {"DRII", Policy("3", "", false), "db3", K::kFloor, 0, "3 of 4 in service, floor is 3"},
        {"LIII", Policy("3", "", false), "db1", K::kAllowed, 1, "4 of 4 in service, floor is 3: 1 may go out now"},
        {"UIII", Policy("1", "1", false), "db2", K::kAllowed, 1,
         "4 of 4 in service, floor is 1, max_out is 1: 1 may go out now"},
        {"DRII", Policy("1", "1", false), "db3", K::kMaxOut, 0, "1 of 4 already out, max_out is 1"},
        {"DRII", Policy("1", "1", false), "db2", K::kAlreadyOut, 0,
         "db2 is already out (drained), taking it out costs no capacity"},
    };
    for (const Case& c : off) {
      INFO(c.states << " " << c.member);
      Decision d = MayTakeOut(c.policy, Pool(c.states), c.member);
      CHECK(d.kind == c.kind);
      std::string note = std::string(c.states).find_first_of("DLU") != std::string::npos ? uncounted : "";
      CHECK(d.reason == std::string("pool replicas-eu: ") + c.reason + (c.kind == K::kAlreadyOut ? "" : note));
      CHECK(Headroom(c.policy, Pool(c.states)) == c.headroom);
    }
  }
}

TEST_CASE("a policy that can never let a member out, or lets the whole pool out, is refused at check", "[policy]") {
  struct Case {
    size_t size;
    CapacityPolicy policy;
    const char* what;  // after "pool replicas-eu: "; "" when valid
    const char* fix;   // after "; "
  };
  const char* never = ", so none can ever go out";  // appended to every "requires" and "lets 0" sentence
  const char* whole = "set min_in_service to at least 1, or max_out to at most 3";
  const char* single = "add a member to the pool";
  const Case cases[] = {
      {4, Policy("3", ""), "", ""},
      {4, Policy("75%", ""), "", ""},
      {4, Policy("0", "3"), "", ""},
      {4, Policy("3", "3"), "", ""},
      {2, Policy("50%", ""), "", ""},
      {50, Policy("1%", "2%"), "", ""},
      {4, Policy("4", ""), "min_in_service 4 requires 4 members in service and the pool has 4", "set it to at most 3"},
      {3, Policy("5", "1"), "min_in_service 5 requires 5 members in service and the pool has 3", "set it to at most 2"},
      {2, Policy("75%", ""), "min_in_service 75% requires 2 members in service (rounded up) and the pool has 2",
       "set it to at most 50%"},
      {3, Policy("100%", ""), "min_in_service 100% requires 3 members in service and the pool has 3",
       "set it to at most 66%"},
      {4, Policy("1", "0"), "max_out 0 lets 0 of 4 members out", "set it to at least 1"},
      {4, Policy("1", "10%"), "max_out 10% lets 0 of 4 members out (rounded down)", "set it to at least 25%"},
      {3, Policy("1", "0%"), "max_out 0% lets 0 of 3 members out", "set it to at least 34%"},
      {4, Policy("0", ""), "min_in_service 0 with no max_out lets all 4 members out at once", whole},
      {4, Policy("0%", "100%"), "min_in_service 0% with max_out 100% lets all 4 members out at once", whole},
      {4, Policy("0", "4"), "min_in_service 0 with max_out 4 lets all 4 members out at once", whole},
      {1, Policy("1", ""), "a pool of one member can only go out whole, which no capacity policy allows", single},
      {1, Policy("0", ""), "a pool of one member can only go out whole, which no capacity policy allows", single},
      {0, Policy("1", ""), "the pool has no members", ""},
  };
  for (const Case& c : cases) {
    INFO(c.size << " members, min_in_service " << c.policy.min_in_service.ToString());
    Status s = ValidatePolicy(c.policy, c.size, "replicas-eu");
    if (*c.what == '\0') {
      CHECK(s);
      continue;
    }
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kBadPolicy);
    std::string what = c.what;
    if (what.find(" requires ") != std::string::npos || what.find(" lets 0 ") != std::string::npos) what += never;
    CHECK(s.error().message == "pool replicas-eu: " + what + (*c.fix ? std::string("; ") + c.fix : ""));
  }
}

TEST_CASE("limits parse from config text and print back the same", "[policy]") {
  const std::pair<const char*, Limit> ok[] = {
      {"3", Limit::Count(3)},    {"0", Limit::Count(0)},        {"75%", Limit::Percent(75)},
      {"0%", Limit::Percent(0)}, {"100%", Limit::Percent(100)}, {"120", Limit::Count(120)},
  };
  for (const auto& [text, limit] : ok) {
    INFO(text);
    auto parsed = ParseLimit(text);
    REQUIRE(parsed);
    CHECK(parsed.value() == limit);
    CHECK(parsed.value().ToString() == text);
  }
  const std::string how = ": write a count of members like 3 or a percent of the pool like 75%";
  const std::pair<const char*, std::string> bad[] = {
      {"0.5", "\"0.5\" is not a whole number" + how},
      {"12.5%", "\"12.5%\" is not a whole number" + how},
      {"-1", "\"-1\" is negative" + how},
      {"-5%", "\"-5%\" is negative" + how},
      {"abc", "\"abc\" is not a count or a percent" + how},
      {"%", "\"%\" is not a count or a percent" + how},
      {" 3", "\" 3\" is not a count or a percent" + how},
      {"3 %", "\"3 %\" is not a count or a percent" + how},
      {"3%%", "\"3%%\" is not a count or a percent" + how},
      {"", "an empty value is not a count or a percent" + how},
      {"99999999999999999999999", "\"99999999999999999999999\" is too large" + how},
      {"150%", "\"150%\" is more than 100%: a percent of the pool must be 0% to 100%"},
  };
  for (const auto& [text, error] : bad) {
    INFO(text);
    auto parsed = ParseLimit(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kBadLimit);
    CHECK(parsed.error().message == error);
  }
}

TEST_CASE("percent limits round the conservative way", "[policy]") {
  // given a percent of a pool size / expect floor rounded up, max_out rounded down
  CHECK(FloorCount(L("75%"), 5) == 4);
  CHECK(FloorCount(L("1%"), 50) == 1);
  CHECK(FloorCount(L("50%"), 4) == 2);
  CHECK(MaxOutCount(L("50%"), 5) == 2);
  CHECK(MaxOutCount(L("10%"), 4) == 0);
  CHECK(MaxOutCount(L("25%"), 4) == 1);
  CHECK(FloorCount(L("7"), 3) == 7);
}

// The model: what the policy text means, computed the slow and obvious way.
struct Model {
  size_t floor = 0;
  std::optional<size_t> max_out;
  bool unhealthy_out = true;

  Model(const CapacityPolicy& p, size_t n) : unhealthy_out(p.count_unhealthy_as_out) {
    floor = p.min_in_service.value;
    if (p.min_in_service.kind == Limit::Kind::kPercent) {  // smallest k with k/n >= pct/100
      for (floor = 0; floor * 100 < p.min_in_service.value * n;) ++floor;
    }
    if (!p.max_out) return;
    size_t m = p.max_out->value;
    if (p.max_out->kind == Limit::Kind::kPercent) {  // largest k with k/n <= pct/100
      for (m = 0; (m + 1) * 100 <= p.max_out->value * n;) ++m;
    }
    max_out = m;
  }
  bool Out(State s) const {
    return s == State::kDrained || s == State::kInMaintenance ||
           (unhealthy_out && (s == State::kDown || s == State::kLagging || s == State::kUnreachable));
  }
  size_t OutCount(const PoolSnapshot& pool) const {
    size_t out = 0;
    for (const Member& m : pool.members) out += Out(m.state);
    return out;
  }
};

Limit RandomLimit(std::mt19937& rng, size_t n) {
  if (rng() % 2) return Limit::Count(rng() % (n + 2));
  return Limit::Percent(rng() % 101);
}

TEST_CASE("random pools: taking members out only when allowed never breaks the floor or max_out", "[policy]") {
  std::mt19937 rng(20261125);
  const State kStates[] = {State::kInService, State::kDown,    State::kLagging,
                           State::kUnreachable, State::kDrained, State::kInMaintenance};
  size_t taken = 0, refused = 0;
  for (int round = 0; round < 5000; ++round) {
    const size_t n = 1 + rng() % 50;
    CapacityPolicy policy{RandomLimit(rng, n), std::nullopt, rng() % 4 != 0};
    if (rng() % 3) policy.max_out = RandomLimit(rng, n);
    PoolSnapshot pool = Pool(std::string(n, 'I'));
    for (Member& m : pool.members) m.state = rng() % 3 ? State::kInService : kStates[rng() % 6];
    const Model model(policy, n);
    INFO("round " << round << ", " << n << " members, min_in_service " << policy.min_in_service.ToString()
                  << ", max_out " << (policy.max_out ? policy.max_out->ToString() : "none"));
    for (size_t step = 0; step < 2 * n; ++step) {
      Member& m = pool.members[rng() % n];
      // A member fails on its own between two questions: HAProxy sees it, or
      // only its MySQL probe does.
      if (rng() % 10 == 0) m.state = rng() % 2 ? State::kDown : State::kUnreachable;
      const size_t out_before = model.OutCount(pool);
      const bool was_out = model.Out(m.state);
      const size_t in = n - out_before;
      const size_t by_floor = in > model.floor ? in - model.floor : 0;
      const size_t by_max = !model.max_out ? n : *model.max_out > out_before ? *model.max_out - out_before : 0;
      const size_t headroom = Headroom(policy, pool);
      REQUIRE(headroom == std::min(by_floor, by_max));
      Decision d = MayTakeOut(policy, pool, m.name);
      REQUIRE(d.allowed() == (was_out || headroom > 0));
      if (!d.allowed()) {
        ++refused;
        continue;
      }
      REQUIRE(d.kind == (was_out ? Decision::Kind::kAlreadyOut : Decision::Kind::kAllowed));
      m.state = State::kDrained;
      ++taken;
      const size_t out = model.OutCount(pool);
      REQUIRE(out == out_before + (was_out ? 0 : 1));
      if (was_out) continue;
      REQUIRE(headroom >= 1);
      REQUIRE(n - out >= model.floor);
      if (model.max_out) REQUIRE(out <= *model.max_out);
    }
  }
  CHECK(taken > 10000);  // the test did exercise both answers
  CHECK(refused > 10000);
}

}  // namespace
}  // namespace caretaker::policies
