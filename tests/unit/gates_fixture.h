// Building blocks of the gates tests: a GatesConfig, replica readings and
// errors built by hand, one time origin. Shared by gates_test.cc and
// gates_random_test.cc.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "mysql/warmup.h"
#include "src/walk/gates.h"

namespace caretaker::gates_testing {

using namespace std::chrono_literals;
using Action = GateStep::Action;
using mysql::ErrorCode;
using mysql::ThreadState;

inline const SteadyTime t0{};

// probe every 1s; mysqld and threads within 10m; lag at most 5s for 3 reads
// in a row within 30m of catch-up; warm within 20m of warm-up.
inline GatesConfig Gates() {
  GatesConfig g;
  g.probe_interval = 1s;
  g.mysql_timeout = 10min;
  g.max_lag = 5s;
  g.catch_up_reads = 3;
  g.catch_up_timeout = 30min;
  g.warmup_timeout = 20min;
  return g;
}

inline const char* kCompleted = "Buffer pool(s) load completed at 261125  7:07:13";
inline const char* kNoDumpFile = "Cannot open '/var/lib/mysql/ib_buffer_pool' for reading: No such file or directory";

// A replica with both threads running, `lag` behind, its buffer pool load
// status reading `warmup` (nullptr: could not be read).
inline mysql::Result<mysql::ReplicaStatus> Replica(std::optional<Millis> lag, const char* warmup = kCompleted) {
  mysql::ReplicaStatus s;
  s.io_thread = ThreadState::kYes;
  s.sql_thread = ThreadState::kYes;
  s.lag = lag;
  if (warmup) s.warmup = mysql::ParseBufferPoolLoad(warmup);
  return s;
}

inline mysql::Result<mysql::ReplicaStatus> Threads(ThreadState io, ThreadState sql, std::string sql_error = "",
                                            std::string io_error = "") {
  mysql::ReplicaStatus s;
  s.io_thread = io;
  s.sql_thread = sql;
  s.last_sql_error = std::move(sql_error);
  s.last_io_error = std::move(io_error);
  s.warmup = mysql::ParseBufferPoolLoad(kCompleted);
  return s;
}

inline mysql::Error Err(ErrorCode code, std::string message) { return mysql::Error{code, 0, std::move(message)}; }

inline const char* kRefused = "cannot connect to 10.0.0.2:3306: Connection refused";

// Drives `gates` from a fresh start through the mysqld and replication gates
// into catch-up at `at` (one reading of a replica far behind).
inline void IntoCatchUp(HealthGates& gates, SteadyTime at) {
  gates.OnProbe(Replica(60s), at);
  REQUIRE(gates.step().gate == Gate::kCatchUp);
  REQUIRE(gates.step().action == Action::kProbe);
}

}  // namespace caretaker::gates_testing
