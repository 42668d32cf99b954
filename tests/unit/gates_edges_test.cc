// The health gates: names, HumanDuration, going back and failing late in the
// walk, calls out of turn, and a randomized run against a simple model of
// what "caught up" means.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "src/walk/gates.h"
#include "tests/unit/gates_fixture.h"

namespace caretaker {

using namespace gates_testing;

TEST_CASE("gate names", "[gates]") {
  CHECK(std::string(GateName(Gate::kMysqld)) == "mysqld");
  CHECK(std::string(GateName(Gate::kReplication)) == "replication");
  CHECK(std::string(GateName(Gate::kCatchUp)) == "catch-up");
  CHECK(std::string(GateName(Gate::kWarmup)) == "warm-up");
  CHECK(std::string(GateName(Gate::kDone)) == "done");
}

TEST_CASE("HumanDuration: a duration for people, one case per line", "[gates]") {
  const std::vector<std::pair<Millis, std::string>> cases = {
      {0ms, "0ms"},
      {250ms, "250ms"},
      {999ms, "999ms"},
      {1s, "1s"},
      {1500ms, "1.5s"},
      {5001ms, "5.001s"},  // exact under 10s: not to be read as a max_lag of 5s
      {9960ms, "9.96s"},
      {12s, "12s"},
      {12700ms, "12s"},  // truncated from 10s on
      {59s, "59s"},
      {60s, "1m"},
      {90s, "1m30s"},
      {3599s, "59m59s"},
      {3600s, "1h"},
      {3661s, "1h1m"},  // seconds dropped from 1h on
      {5400s, "1h30m"},
      {25h, "25h"},
      {-5s, "0ms"},
  };
  for (const auto& [d, text] : cases) {
    INFO(d.count() << "ms");
    CHECK(HumanDuration(d) == text);
  }
}

TEST_CASE("mysqld restarting after mysql_timeout has passed gets the whole timeout again", "[gates]") {
  // given: catch-up began 1m after the start and lasted (lag 60s) until 15m;
  // then mysqld restarts (one refused connection), and 1s later answers with
  // the IO thread still Connecting, as it does right after a restart.
  // expect: back in the mysqld/replication gates, waiting (not "gave up after
  // 15m1s": mysql_timeout counts from the restart).
  HealthGates gates(Gates(), t0);
  IntoCatchUp(gates, t0 + 1min);
  CHECK(gates.OnProbe(Replica(60s), t0 + 15min).action == Action::kProbe);
  GateStep s = gates.OnProbe(Err(ErrorCode::kConnect, kRefused), t0 + 15min);
  CHECK(s.gate == Gate::kMysqld);
  CHECK(s.action == Action::kProbe);
  s = gates.OnProbe(Threads(ThreadState::kConnecting, ThreadState::kYes), t0 + 15min + 1s);
  CHECK(s.gate == Gate::kReplication);
  CHECK(s.action == Action::kProbe);
  CHECK(s.text == "replication: waiting for both threads: IO thread Connecting, SQL thread Yes");
}

TEST_CASE("mysqld going away after it answered sends the server back to the mysqld gate", "[gates]") {
  // given: in catch-up with one good read, mysqld stops answering (a restart),
  // then answers again; expect: back in the mysqld gate, the passed gates
  // forgotten, the count of good reads restarted.
  HealthGates gates(Gates(), t0);
  IntoCatchUp(gates, t0 + 1min);
  gates.OnProbe(Replica(1s), t0 + 2min);
  GateStep s = gates.OnProbe(Err(ErrorCode::kConnect, kRefused), t0 + 3min);
  CHECK(s.action == Action::kProbe);
  CHECK(s.gate == Gate::kMysqld);
  CHECK(s.at == t0 + 3min + 1s);
  CHECK(s.text == "mysqld: not answering yet (unreachable)");
  CHECK(gates.passed().empty());

  s = gates.OnProbe(Replica(1s), t0 + 4min);
  CHECK(s.gate == Gate::kCatchUp);
  CHECK(s.text == "catch-up: lag 1s, max_lag 5s (1 of 3 reads in a row)");
  const std::vector<std::pair<Gate, Millis>> passed = {{Gate::kMysqld, 1min}, {Gate::kReplication, 0ms}};
  CHECK(gates.passed() == passed);

  SECTION("and with gtid_wait, the position is waited for again") {
    GatesConfig config = Gates();
    config.gtid_wait = true;
    HealthGates g(config, t0);
    g.OnProbe(Replica(1s), t0);
    g.OnGtidWait(true, t0 + 1s);
    g.OnProbe(Err(ErrorCode::kConnect, kRefused), t0 + 2s);
    CHECK(g.OnProbe(Replica(1s), t0 + 3s).action == Action::kGtidWait);
  }
}

TEST_CASE("a permanent error in a later gate fails in that gate", "[gates]") {
  // given: in catch-up, the account loses its privilege; expect: kFailed at once.
  HealthGates gates(Gates(), t0);
  IntoCatchUp(gates, t0);
  GateStep s = gates.OnProbe(Err(ErrorCode::kMissingPrivilege, "caretaker needs REPLICATION CLIENT"), t0 + 1s);
  CHECK(s.action == Action::kFailed);
  CHECK(s.gate == Gate::kCatchUp);
  CHECK(s.text == "catch-up: caretaker needs REPLICATION CLIENT");
}

TEST_CASE("a thread stopping on an error during catch-up fails at once", "[gates]") {
  HealthGates gates(Gates(), t0);
  IntoCatchUp(gates, t0);
  GateStep s = gates.OnProbe(Threads(ThreadState::kYes, ThreadState::kNo, "Error 'Table x doesn't exist'"), t0 + 1s);
  CHECK(s.action == Action::kFailed);
  CHECK(s.gate == Gate::kCatchUp);
  CHECK(s.text == "catch-up: the SQL thread stopped on an error: Error 'Table x doesn't exist'");
}

TEST_CASE("a call that does not match the current action changes nothing", "[gates]") {
  // given: a step that asks for one thing; expect: every other report ignored,
  // the step returned unchanged.
  auto same = [](const GateStep& a, const GateStep& b) {
    return a.action == b.action && a.gate == b.gate && a.at == b.at && a.text == b.text;
  };
  GatesConfig config = Gates();
  config.gtid_wait = true;
  config.warmup_queries = {"SELECT 1"};

  HealthGates probing(config, t0);
  probing.OnProbe(Replica(60s), t0);  // kGtidWait
  probing.OnGtidWait(true, t0 + 1s);  // kProbe
  GateStep before = probing.step();
  REQUIRE(before.action == Action::kProbe);
  CHECK(same(probing.OnGtidWait(false, t0 + 2s), before));
  CHECK(same(probing.OnWarmupQueries(mysql::Ok(), t0 + 2s), before));
  CHECK(same(probing.step(), before));

  HealthGates waiting(config, t0);
  before = waiting.OnProbe(Replica(0ms), t0);
  REQUIRE(before.action == Action::kGtidWait);
  CHECK(same(waiting.OnProbe(Err(ErrorCode::kAccessDenied, "denied"), t0 + 1s), before));
  CHECK(same(waiting.OnWarmupQueries(mysql::Ok(), t0 + 1s), before));

  HealthGates failed(config, t0);
  before = failed.OnProbe(Err(ErrorCode::kAccessDenied, "denied"), t0);
  REQUIRE(before.action == Action::kFailed);
  CHECK(same(failed.OnProbe(Replica(0ms), t0 + 1s), before));
  CHECK(same(failed.OnGtidWait(true, t0 + 1s), before));
  CHECK(same(failed.OnWarmupQueries(mysql::Ok(), t0 + 1s), before));

  GatesConfig plain = Gates();
  plain.catch_up_reads = 1;
  HealthGates passed(plain, t0);
  before = passed.OnProbe(Replica(0ms), t0);
  REQUIRE(before.action == Action::kPassed);
  CHECK(same(passed.OnProbe(Err(ErrorCode::kConnect, kRefused), t0 + 1s), before));
  CHECK(passed.passed().size() == 4);
}

namespace {

// One random reading: mostly healthy, sometimes behind, unknown, stopped,
// unreachable or still loading its buffer pool.
mysql::Result<mysql::ReplicaStatus> RandomReading(std::mt19937& rng) {
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0: return Err(ErrorCode::kConnect, kRefused);
    case 1: return Replica(std::nullopt);
    case 2: return Replica(30s);
    case 3: return Threads(ThreadState::kConnecting, ThreadState::kYes);
    case 4: return Replica(0ms, "Loading buffer pool(s) from /var/lib/mysql/ib_buffer_pool");
    case 5: return Replica(6s);
    default: return Replica(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 5000)(rng)));
  }
}

// The model: a reading that counts as caught up.
bool CaughtUp(const mysql::Result<mysql::ReplicaStatus>& r, Millis max_lag) {
  return r && r.value().ThreadsRunning() && r.value().lag && *r.value().lag <= max_lag;
}

}  // namespace

TEST_CASE("random readings: gates pass in order, never before catch_up_reads good reads in a row", "[gates]") {
  // given: random readings, GTID-wait and warm-up-query outcomes at random
  // times; expect, after every call: passed() lists gates in order; kPassed
  // and kFailed are final; warm-up is entered only after catch_up_reads good
  // readings in a row (the model's count); kPassed only with the last reading
  // caught up.
  const Gate order[] = {Gate::kMysqld, Gate::kReplication, Gate::kCatchUp, Gate::kWarmup};
  int passed_runs = 0, failed_runs = 0;
  for (unsigned seed = 1; seed <= 300; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    GatesConfig config = Gates();
    config.gtid_wait = seed % 3 == 0;
    if (seed % 4 == 0) config.warmup_queries = {"SELECT 1"};
    HealthGates gates(config, t0);
    SteadyTime now = t0;
    int in_a_row = 0;
    bool last_caught_up = false;
    for (int call = 0; call < 400; ++call) {
      const GateStep before = gates.step();
      if (before.action == Action::kPassed || before.action == Action::kFailed) break;
      now += std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 20000)(rng));
      if (before.action == Action::kProbe) {
        auto reading = RandomReading(rng);
        last_caught_up = CaughtUp(reading, config.max_lag);
        // The reading that passes replication is catch-up's first read too.
        in_a_row = before.gate != Gate::kWarmup && last_caught_up ? in_a_row + 1 : 0;
        gates.OnProbe(reading, now);
        if (gates.step().action == Action::kGtidWait) in_a_row = 0;  // lag reads start after the wait
      } else if (before.action == Action::kGtidWait) {
        gates.OnGtidWait(mysql::Result<bool>(std::uniform_int_distribution<int>(0, 3)(rng) != 0), now);
      } else if (before.action == Action::kWarmupQueries) {
        bool ok = std::uniform_int_distribution<int>(0, 3)(rng) != 0;
        gates.OnWarmupQueries(ok ? mysql::Ok() : mysql::Status(Err(ErrorCode::kQuery, "boom")), now);
      }
      const GateStep& after = gates.step();
      const auto& passed = gates.passed();
      REQUIRE(passed.size() <= 4);
      for (size_t i = 0; i < passed.size(); ++i) REQUIRE(passed[i].first == order[i]);
      if (before.gate != Gate::kWarmup && after.gate >= Gate::kWarmup) REQUIRE(in_a_row >= config.catch_up_reads);
      if (after.action == Action::kPassed) REQUIRE((last_caught_up || before.action == Action::kWarmupQueries));
    }
    const GateStep& end = gates.step();
    passed_runs += end.action == Action::kPassed;
    failed_runs += end.action == Action::kFailed;
    if (end.action == Action::kPassed || end.action == Action::kFailed) {
      // Final: further calls change nothing.
      GateStep again = gates.OnProbe(Replica(0ms), now + 1s);
      CHECK(again.action == end.action);
      CHECK(again.text == end.text);
    }
  }
  // The random walk reaches both ends often enough to mean something.
  CHECK(passed_runs > 20);
  CHECK(failed_runs > 20);
}

}  // namespace caretaker
