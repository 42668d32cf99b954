// The health gates as a state machine: readings and `now` in, the next step
// out. Every time is a value built from one origin, so a 30-minute catch-up
// deadline is tested in microseconds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "mysql/warmup.h"
#include "src/walk/gates.h"
#include "tests/unit/gates_fixture.h"

namespace caretaker {
namespace {

using namespace gates_testing;

}  // namespace

TEST_CASE("a healthy replica passes the four gates in order, with their durations", "[gates]") {
  // given: mysqld down for 3s, then the IO thread connecting for 2s, then lag
  // 40s, 4s, 5s, 3s (caught up at the third read at or below 5s), then the
  // buffer pool loading for a while; expect: each gate passed once, in order.
  HealthGates gates(Gates(), t0);
  CHECK(gates.step().action == Action::kProbe);
  CHECK(gates.step().gate == Gate::kMysqld);
  CHECK(gates.step().at == t0);  // probe at once

  GateStep s = gates.OnProbe(Err(ErrorCode::kConnect, kRefused), t0);
  CHECK(s.action == Action::kProbe);
  CHECK(s.gate == Gate::kMysqld);
  CHECK(s.at == t0 + 1s);
  CHECK(s.text == "mysqld: not answering yet (unreachable)");

  s = gates.OnProbe(Threads(ThreadState::kConnecting, ThreadState::kYes), t0 + 3s);
  CHECK(s.action == Action::kProbe);
  CHECK(s.gate == Gate::kReplication);
  CHECK(s.at == t0 + 4s);
  CHECK(s.text == "replication: waiting for both threads: IO thread Connecting, SQL thread Yes");

  s = gates.OnProbe(Replica(40s), t0 + 5s);
  CHECK(s.gate == Gate::kCatchUp);
  CHECK(s.at == t0 + 6s);
  CHECK(s.text == "catch-up: lag 40s, max_lag 5s (0 of 3 reads in a row)");
  s = gates.OnProbe(Replica(4s), t0 + 6s);
  CHECK(s.text == "catch-up: lag 4s, max_lag 5s (1 of 3 reads in a row)");
  s = gates.OnProbe(Replica(5s), t0 + 7s);  // at max_lag is caught up
  CHECK(s.text == "catch-up: lag 5s, max_lag 5s (2 of 3 reads in a row)");
  s = gates.OnProbe(Replica(3s, "Loaded 400/1000 pages"), t0 + 8s);
  CHECK(s.action == Action::kProbe);
  CHECK(s.gate == Gate::kWarmup);
  CHECK(s.at == t0 + 9s);
  CHECK(s.text == "warm-up: buffer pool loading 40% (400/1000 pages)");

  s = gates.OnProbe(Replica(1s, kCompleted), t0 + 68s);
  CHECK(s.action == Action::kPassed);
  CHECK(s.gate == Gate::kDone);
  CHECK(s.text == "every gate passed");
  const std::vector<std::pair<Gate, Millis>> passed = {
      {Gate::kMysqld, 3s}, {Gate::kReplication, 2s}, {Gate::kCatchUp, 3s}, {Gate::kWarmup, 60s}};
  CHECK(gates.passed() == passed);
}

TEST_CASE("a replica already caught up and warm passes every gate on its first reading", "[gates]") {
  // given: catch_up_reads 1; expect: one probe is enough.
  GatesConfig config = Gates();
  config.catch_up_reads = 1;
  HealthGates gates(config, t0);
  GateStep s = gates.OnProbe(Replica(0ms), t0 + 2s);
  CHECK(s.action == Action::kPassed);
  const std::vector<std::pair<Gate, Millis>> passed = {
      {Gate::kMysqld, 2s}, {Gate::kReplication, 0ms}, {Gate::kCatchUp, 0ms}, {Gate::kWarmup, 0ms}};
  CHECK(gates.passed() == passed);
}

TEST_CASE("catch-up passes after exactly catch_up_reads good reads", "[gates]") {
  // given: catch_up_reads N, N good reads; expect: catch-up until the Nth, warm-up after it.
  for (int n : {1, 2, 3, 7}) {
    INFO("catch_up_reads = " << n);
    GatesConfig config = Gates();
    config.catch_up_reads = n;
    config.warmup_queries = {"SELECT 1"};  // so warm-up stops at its queries
    HealthGates gates(config, t0);
    gates.OnProbe(Threads(ThreadState::kNo, ThreadState::kYes), t0);  // replication gate, no good read
    for (int i = 1; i < n; ++i) {
      CHECK(gates.OnProbe(Replica(1s), t0 + i * 1s).gate == Gate::kCatchUp);
    }
    GateStep s = gates.OnProbe(Replica(1s), t0 + n * 1s);
    CHECK(s.gate == Gate::kWarmup);
    CHECK(s.action == Action::kWarmupQueries);
  }
}

TEST_CASE("mysqld that does not answer is waited for until mysql_timeout, counted from the start", "[gates]") {
  // given: connection errors, and timeouts, for 10 minutes; expect: probes every
  // probe_interval, then a failure that says how long it waited and what it saw last.
  HealthGates gates(Gates(), t0);
  GateStep s = gates.OnProbe(Err(ErrorCode::kConnect, kRefused), t0);
  CHECK(s.action == Action::kProbe);
  s = gates.OnProbe(Err(ErrorCode::kTimeout, "10.0.0.2:3306: connect timed out after 3s"), t0 + 9min);
  CHECK(s.action == Action::kProbe);
  CHECK(s.at == t0 + 9min + 1s);
  CHECK(s.text == "mysqld: not answering yet (timed out)");
  s = gates.OnProbe(Err(ErrorCode::kConnect, kRefused), t0 + 10min - 1ms);
  CHECK(s.action == Action::kProbe);
  s = gates.OnProbe(Err(ErrorCode::kConnect, kRefused), t0 + 10min);
  CHECK(s.action == Action::kFailed);
  CHECK(s.gate == Gate::kMysqld);
  CHECK(s.text == std::string("mysqld: gave up after 10m: ") + kRefused);
  CHECK(gates.passed().empty());
}

TEST_CASE("errors that waiting cannot fix fail the mysqld gate at once", "[gates]") {
  // given: the first reading is an error of the account, the target or the
  // server's role; expect: kFailed on that reading, with the probe's sentence.
  struct Case {
    ErrorCode code;
    const char* message;
    Action action;
  };
  const Case cases[] = {
      {ErrorCode::kAccessDenied, "10.0.0.2:3306: access denied for caretaker: check the password", Action::kFailed},
      {ErrorCode::kMissingPrivilege, "10.0.0.2:3306: caretaker needs REPLICATION CLIENT", Action::kFailed},
      {ErrorCode::kNotAReplica, "10.0.0.2:3306 is not a replica (SHOW SLAVE STATUS returned no row)",
       Action::kFailed},
      {ErrorCode::kTls, "10.0.0.2:3306: TLS: certificate verify failed", Action::kFailed},
      {ErrorCode::kBadOption, "bad heartbeat table \"a-b.c\"", Action::kFailed},
      {ErrorCode::kConnect, kRefused, Action::kProbe},
      {ErrorCode::kTimeout, "10.0.0.2:3306: read timed out after 10s", Action::kProbe},
      {ErrorCode::kQuery, "10.0.0.2:3306: SHOW SLAVE STATUS failed: Lost connection", Action::kProbe},
  };
  for (const Case& c : cases) {
    INFO(mysql::ErrorCodeName(c.code));
    HealthGates gates(Gates(), t0);
    GateStep s = gates.OnProbe(Err(c.code, c.message), t0 + 1s);
    CHECK(s.action == c.action);
    CHECK(s.gate == Gate::kMysqld);
    if (c.action == Action::kFailed) CHECK(s.text == std::string("mysqld: ") + c.message);
  }
}

TEST_CASE("a replication thread stopped on an error fails at once, with the error", "[gates]") {
  // given: SHOW SLAVE STATUS with a thread at No and its Last_..._Error;
  // expect: kFailed in the replication gate, quoting the error.
  struct Case {
    mysql::Result<mysql::ReplicaStatus> reading;
    const char* text;
  };
  const char* dup = "Could not execute Write_rows_v1 event on table shop.orders; Duplicate entry '7' for key "
                    "'PRIMARY', Error_code: 1062";
  const char* purged = "Got fatal error 1236 from master when reading data from binary log";
  const Case cases[] = {
      {Threads(ThreadState::kYes, ThreadState::kNo, dup),
       "replication: the SQL thread stopped on an error: Could not execute Write_rows_v1 event on table "
       "shop.orders; Duplicate entry '7' for key 'PRIMARY', Error_code: 1062"},
      {Threads(ThreadState::kNo, ThreadState::kYes, "", purged),
       "replication: the IO thread stopped on an error: Got fatal error 1236 from master when reading data "
       "from binary log"},
      {Threads(ThreadState::kNo, ThreadState::kNo, dup, purged),  // the SQL thread's error first
       "replication: the SQL thread stopped on an error: Could not execute Write_rows_v1 event on table "
       "shop.orders; Duplicate entry '7' for key 'PRIMARY', Error_code: 1062"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    HealthGates gates(Gates(), t0);
    GateStep s = gates.OnProbe(c.reading, t0 + 1s);
    CHECK(s.action == Action::kFailed);
    CHECK(s.gate == Gate::kReplication);
    CHECK(s.text == c.text);
    CHECK(gates.passed() == std::vector<std::pair<Gate, Millis>>{{Gate::kMysqld, 1s}});
  }
}

TEST_CASE("an error left over from a thread that runs again, or one still connecting, is not fatal", "[gates]") {
  // given: Last_SQL_Error set with the SQL thread at Yes; Last_IO_Error set while
  // the IO thread retries (Connecting); expect: waiting, not failing.
  HealthGates gates(Gates(), t0);
  GateStep s = gates.OnProbe(
      Threads(ThreadState::kConnecting, ThreadState::kYes, "old error", "error connecting to master"), t0);
  CHECK(s.action == Action::kProbe);
  CHECK(s.gate == Gate::kReplication);
}

TEST_CASE("replication threads stopped without an error are waited for until mysql_timeout", "[gates]") {
  // given: mysqld answered 4m after the start, both threads No, no error;
  // expect: waiting until 10m after the START (not after mysqld answered).
  HealthGates gates(Gates(), t0);
  GateStep s = gates.OnProbe(Threads(ThreadState::kNo, ThreadState::kNo), t0 + 4min);
  CHECK(s.action == Action::kProbe);
  CHECK(s.gate == Gate::kReplication);
  CHECK(s.text == "replication: waiting for both threads: IO thread No, SQL thread No (START SLAVE starts them)");
  s = gates.OnProbe(Threads(ThreadState::kNo, ThreadState::kNo), t0 + 10min - 1s);
  CHECK(s.action == Action::kProbe);
  s = gates.OnProbe(Threads(ThreadState::kYes, ThreadState::kNo), t0 + 10min);
  CHECK(s.action == Action::kFailed);
  CHECK(s.gate == Gate::kReplication);
  CHECK(s.text == "replication: gave up after 10m: IO thread Yes, SQL thread No (START SLAVE starts them)");
}

TEST_CASE("unknown lag is never caught up", "[gates]") {
  // given: both threads running, Seconds_Behind_Master NULL, forever;
  // expect: 0 good reads, then a failure at the catch-up deadline.
  GatesConfig config = Gates();
  config.catch_up_reads = 1;
  HealthGates gates(config, t0);
  GateStep s = gates.OnProbe(Replica(std::nullopt), t0);
  CHECK(s.gate == Gate::kCatchUp);
  CHECK(s.action == Action::kProbe);
  CHECK(s.text == "catch-up: lag unknown, max_lag 5s (0 of 1 reads in a row)");
  for (int i = 1; i < 30; ++i) {
    CHECK(gates.OnProbe(Replica(std::nullopt), t0 + i * 1min - 1ms).action == Action::kProbe);
  }
  s = gates.OnProbe(Replica(std::nullopt), t0 + 30min);
  CHECK(s.action == Action::kFailed);
  CHECK(s.text == "catch-up: gave up after 30m: lag unknown, max_lag 5s");
}

TEST_CASE("a read above max_lag, or with a thread down, restarts the count of reads in a row", "[gates]") {
  // given: catch_up_reads 3 and the reads below; expect: the count after each,
  // and catch-up passed only by 3 good reads in a row.
  struct Read {
    mysql::Result<mysql::ReplicaStatus> reading;
    const char* text;  // after "catch-up: "; "" once passed
  };
  const Read reads[] = {
      {Replica(1s), "lag 1s, max_lag 5s (1 of 3 reads in a row)"},
      {Replica(2s), "lag 2s, max_lag 5s (2 of 3 reads in a row)"},
      {Replica(5001ms), "lag 5.001s, max_lag 5s (0 of 3 reads in a row)"},
      {Replica(0ms), "lag 0ms, max_lag 5s (1 of 3 reads in a row)"},
      {Replica(5s), "lag 5s, max_lag 5s (2 of 3 reads in a row)"},
      {Replica(std::nullopt), "lag unknown, max_lag 5s (0 of 3 reads in a row)"},
      {Replica(1s), "lag 1s, max_lag 5s (1 of 3 reads in a row)"},
      {Replica(1s), "lag 1s, max_lag 5s (2 of 3 reads in a row)"},
      {Threads(ThreadState::kConnecting, ThreadState::kYes),
       "IO thread Connecting, SQL thread Yes, max_lag 5s (0 of 3 reads in a row)"},
      {Replica(1s), "lag 1s, max_lag 5s (1 of 3 reads in a row)"},
      {Replica(1s), "lag 1s, max_lag 5s (2 of 3 reads in a row)"},
      {Replica(1s), ""},
  };
  HealthGates gates(Gates(), t0);
  gates.OnProbe(Threads(ThreadState::kNo, ThreadState::kNo), t0);  // into the replication gate
  SteadyTime now = t0;
  for (const Read& r : reads) {
    INFO(r.text);
    now += 1s;
    GateStep s = gates.OnProbe(r.reading, now);
    if (*r.text) {
      CHECK(s.gate == Gate::kCatchUp);
      CHECK(s.text == std::string("catch-up: ") + r.text);
    } else {
      CHECK(s.action == Action::kPassed);
    }
  }
}

TEST_CASE("the catch-up deadline counts from when catch-up began, not from the start", "[gates]") {
  // given: mysqld answers with threads running 8m after the start (mysql_timeout
  // 10m), lag then stays at 10s; expect: still waiting at 8m + 30m - 1ms (past
  // mysql_timeout), failed at 8m + 30m.
  HealthGates gates(Gates(), t0);
  gates.OnProbe(Err(ErrorCode::kConnect, kRefused), t0);
  IntoCatchUp(gates, t0 + 8min);
  CHECK(gates.OnProbe(Replica(10s), t0 + 11min).action == Action::kProbe);
  GateStep s = gates.OnProbe(Replica(10s), t0 + 38min - 1ms);
  CHECK(s.action == Action::kProbe);
  CHECK(s.text == "catch-up: lag 10s, max_lag 5s (0 of 3 reads in a row)");
  s = gates.OnProbe(Replica(10s), t0 + 38min);
  CHECK(s.action == Action::kFailed);
  CHECK(s.gate == Gate::kCatchUp);
  CHECK(s.text == "catch-up: gave up after 30m: lag 10s, max_lag 5s");
}

TEST_CASE("with gtid_wait, catch-up first waits for the primary's GTID position", "[gates]") {
  // given: gtid_wait on; expect: kGtidWait with the catch-up deadline as `at`,
  // then the outcome of the wait decides.
  GatesConfig config = Gates();
  config.gtid_wait = true;
  const SteadyTime began = t0 + 2min;

  SECTION("the position reached: lag is read again, and needs its own good reads") {
    HealthGates gates(config, t0);
    GateStep s = gates.OnProbe(Replica(0ms), began);
    CHECK(s.action == Action::kGtidWait);
    CHECK(s.gate == Gate::kCatchUp);
    CHECK(s.at == began + 30min);
    CHECK(s.text == "catch-up: waiting for the primary's GTID position");
    s = gates.OnGtidWait(true, began + 40s);
    CHECK(s.action == Action::kProbe);
    CHECK(s.gate == Gate::kCatchUp);
    CHECK(s.at == began + 40s);  // probe at once
    CHECK(s.text == "catch-up: GTID position reached; reading lag");
    CHECK(gates.OnProbe(Replica(0ms), began + 40s).text == "catch-up: lag 0ms, max_lag 5s (1 of 3 reads in a row)");
    CHECK(gates.OnProbe(Replica(0ms), began + 41s).action == Action::kProbe);
    s = gates.OnProbe(Replica(0ms), began + 42s);
    CHECK(s.action == Action::kPassed);
    CHECK(gates.passed()[2] == std::pair<Gate, Millis>{Gate::kCatchUp, 42s});
  }
  SECTION("the wait timed out") {
    HealthGates gates(config, t0);
    gates.OnProbe(Replica(0ms), began);
    GateStep s = gates.OnGtidWait(false, began + 30min);
    CHECK(s.action == Action::kFailed);
    CHECK(s.gate == Gate::kCatchUp);
    CHECK(s.text == "catch-up: gave up after 30m: the primary's GTID position was not reached");
  }
  SECTION("the wait failed") {
    HealthGates gates(config, t0);
    gates.OnProbe(Replica(0ms), began);
    GateStep s = gates.OnGtidWait(Err(ErrorCode::kMissingPrivilege, "10.0.0.1:3306: caretaker needs SELECT"),
                                  began + 1s);
    CHECK(s.action == Action::kFailed);
    CHECK(s.text == "catch-up: GTID wait failed: 10.0.0.1:3306: caretaker needs SELECT");
  }
  SECTION("a lost connection during the wait probes again, then waits again") {
    HealthGates gates(config, t0);
    gates.OnProbe(Replica(0ms), began);
    GateStep s = gates.OnGtidWait(Err(ErrorCode::kConnect, kRefused), began + 1s);
    CHECK(s.action == Action::kProbe);
    CHECK(s.text == "catch-up: GTID wait interrupted (unreachable); probing again");
    CHECK(gates.OnProbe(Replica(0ms), began + 2s).action == Action::kGtidWait);
  }
}

TEST_CASE("warm-up waits for the buffer pool load, and passes when it completed, had nothing to load or aborted",
          "[gates]") {
  // given: catch-up passed, then this load status; expect: this step.
  struct Case {
    const char* status;  // nullptr: the status could not be read
    Action action;
    const char* text;
  };
  const Case cases[] = {
      {kCompleted, Action::kPassed, "every gate passed"},
      {kNoDumpFile, Action::kPassed, "every gate passed"},
      {"Buffer pool(s) load aborted on request", Action::kPassed, "every gate passed"},  // never resumes
      {"Loading of buffer pool not started", Action::kProbe, "warm-up: buffer pool not started"},  // yet
      {"", Action::kProbe, "warm-up: buffer pool not started"},  // MariaDB before any load
      {"Loaded 1234/5678 pages", Action::kProbe, "warm-up: buffer pool loading 21% (1234/5678 pages)"},
      {"Loaded 0/5678 pages", Action::kProbe, "warm-up: buffer pool loading 0% (0/5678 pages)"},
      {"Loading buffer pool(s) from /var/lib/mysql/ib_buffer_pool", Action::kProbe,
       "warm-up: buffer pool loading"},
      {nullptr, Action::kProbe, "warm-up: load status unknown"},
  };
  GatesConfig config = Gates();
  config.catch_up_reads = 1;
  for (const Case& c : cases) {
    INFO((c.status ? c.status : "(unreadable)"));
    HealthGates gates(config, t0);
    GateStep s = gates.OnProbe(Replica(0ms, c.status), t0 + 1s);
    CHECK(s.action == c.action);
    CHECK(s.text == c.text);
    if (c.action == Action::kProbe) {
      CHECK(s.gate == Gate::kWarmup);
      CHECK(s.at == t0 + 2s);
    }
  }
}

TEST_CASE("a buffer pool load not started after 10s of warm-up is as warm as it gets (load at startup off)",
          "[gates]") {
  // given: warm-up began at 1m with the load "not started"; expect: waiting
  // for 10s, then passed (or on to the warm-up queries).
  const char* kNotStarted = "Loading of buffer pool not started";
  GatesConfig config = Gates();
  config.catch_up_reads = 1;
  HealthGates gates(config, t0);
  GateStep s = gates.OnProbe(Replica(0ms, kNotStarted), t0 + 1min);
  REQUIRE(s.gate == Gate::kWarmup);
  CHECK(s.action == Action::kProbe);
  s = gates.OnProbe(Replica(0ms, kNotStarted), t0 + 1min + 9999ms);
  CHECK(s.action == Action::kProbe);
  CHECK(s.text == "warm-up: buffer pool not started");
  s = gates.OnProbe(Replica(0ms, kNotStarted), t0 + 1min + 10s);
  CHECK(s.action == Action::kPassed);
  CHECK(gates.passed().back() == std::pair<Gate, Millis>{Gate::kWarmup, 10s});

  SECTION("with warm-up queries, they run next") {
    config.warmup_queries = {"SELECT 1"};
    HealthGates q(config, t0);
    q.OnProbe(Replica(0ms, kNotStarted), t0);
    CHECK(q.OnProbe(Replica(0ms, kNotStarted), t0 + 10s).action == Action::kWarmupQueries);
  }
  SECTION("a load that started meanwhile is waited for") {
    HealthGates l(config, t0);
    l.OnProbe(Replica(0ms, kNotStarted), t0);
    CHECK(l.OnProbe(Replica(0ms, "Loaded 10/100 pages"), t0 + 5s).action == Action::kProbe);
    s = l.OnProbe(Replica(0ms, "Loaded 50/100 pages"), t0 + 12s);
    CHECK(s.action == Action::kProbe);
    CHECK(s.text == "warm-up: buffer pool loading 50% (50/100 pages)");
  }
}

TEST_CASE("warm-up that does not finish fails at warmup_timeout, counted from when warm-up began", "[gates]") {
  // given: warm-up began 5m after the start, the load stuck at 10%;
  // expect: failed 20m after warm-up began, naming what it saw.
  GatesConfig config = Gates();
  config.catch_up_reads = 1;
  HealthGates gates(config, t0);
  gates.OnProbe(Replica(0ms, "Loaded 10/100 pages"), t0 + 5min);
  REQUIRE(gates.step().gate == Gate::kWarmup);
  CHECK(gates.OnProbe(Replica(0ms, "Loaded 10/100 pages"), t0 + 25min - 1ms).action == Action::kProbe);
  GateStep s = gates.OnProbe(Replica(0ms, "Loaded 10/100 pages"), t0 + 25min);
  CHECK(s.action == Action::kFailed);
  CHECK(s.gate == Gate::kWarmup);
  CHECK(s.text == "warm-up: gave up after 20m: buffer pool loading 10% (10/100 pages)");

  SECTION("an unreadable load status says so") {
    HealthGates unread(config, t0);
    unread.OnProbe(Replica(0ms, nullptr), t0);
    s = unread.OnProbe(Replica(0ms, nullptr), t0 + 20min);
    CHECK(s.action == Action::kFailed);
    CHECK(s.text == "warm-up: gave up after 20m: the buffer pool load status cannot be read");
  }
}

TEST_CASE("warm-up queries run once the pool is warm, their outcome decides", "[gates]") {
  // given: two warm-up queries; expect: kWarmupQueries, then kPassed or kFailed.
  GatesConfig config = Gates();
  config.catch_up_reads = 1;
  config.warmup_queries = {"SELECT COUNT(*) FROM shop.orders", "SELECT 1"};
  HealthGates gates(config, t0);
  GateStep s = gates.OnProbe(Replica(0ms, "Loaded 99/100 pages"), t0);
  CHECK(s.action == Action::kProbe);
  s = gates.OnProbe(Replica(0ms, kCompleted), t0 + 10s);
  CHECK(s.action == Action::kWarmupQueries);
  CHECK(s.gate == Gate::kWarmup);
  CHECK(s.text == "warm-up: running 2 warm-up queries");

  SECTION("they ran") {
    s = gates.OnWarmupQueries(mysql::Ok(), t0 + 15s);
    CHECK(s.action == Action::kPassed);
    CHECK(s.gate == Gate::kDone);
    CHECK(gates.passed().back() == std::pair<Gate, Millis>{Gate::kWarmup, 15s});
  }
  SECTION("one failed") {
    s = gates.OnWarmupQueries(Err(ErrorCode::kQuery, "10.0.0.2:3306: Table 'shop.orders' doesn't exist"),
                              t0 + 15s);
    CHECK(s.action == Action::kFailed);
    CHECK(s.gate == Gate::kWarmup);
    CHECK(s.text == "warm-up: a warm-up query failed: 10.0.0.2:3306: Table 'shop.orders' doesn't exist");
    CHECK(gates.passed().size() == 3);  // warm-up not passed
  }
}

}  // namespace caretaker
