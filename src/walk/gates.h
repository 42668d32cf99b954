// The health gates a server passes before it goes back into traffic, as a
// pure state machine (no I/O; time is an input).
//
// Gates, in order, each with its deadline from GatesConfig:
//   mysqld       the server answers (a wrong password or missing privilege
//                fails at once: waiting cannot fix it)            mysql_timeout
//   replication  both replication threads run (a thread stopped on an error
//                fails at once, with the error)                   mysql_timeout
//   catch-up     optionally a GTID wait for the primary's position, then lag
//                at or below max_lag for catch_up_reads consecutive reads
//                (unknown lag is never "caught up")               catch_up_timeout
//   warm-up      the buffer pool load completed, had nothing to load (no
//                dump file), was aborted, or has not started for 10 s (load
//                at startup off) — then the warm-up queries ran   warmup_timeout
// mysql_timeout counts from the start; the others from when their gate began.
// Gates in config.off are skipped (and not listed in passed()); with mysqld
// off nothing is probed at all. With catch-up off, warm-up no longer checks
// lag; with replication off, it no longer checks the threads.
//
// The driver asks Next() what to do, performs it, and reports the result with
// the matching On...() call; every call returns the new Step. A Step carries a
// one-line progress text for people, and on failure the reason.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "mysql/error.h"
#include "mysql/replica_status.h"
#include "src/base/time.h"
#include "src/config/config.h"

namespace caretaker {

enum class Gate { kMysqld, kReplication, kCatchUp, kWarmup, kDone };
const char* GateName(Gate gate);  // "mysqld", "replication", "catch-up", "warm-up", "done"

struct GateStep {
  enum class Action {
    kProbe,          // probe the replica (again) at `at`, then OnProbe
    kGtidWait,       // wait for the primary's GTID position until `at`, then OnGtidWait
    kWarmupQueries,  // run the warm-up queries, then OnWarmupQueries
    kPassed,         // every gate passed
    kFailed,         // `text` says why; the server must stay out of traffic
  };
  Action action = Action::kProbe;
  Gate gate = Gate::kMysqld;
  SteadyTime at{};   // kProbe: when; kGtidWait: its deadline
  std::string text;  // "catch-up: lag 12s, max 5s (1 of 3 reads)" or the failure
};

class HealthGates {
 public:
  HealthGates(const GatesConfig& config, SteadyTime start);

  const GateStep& step() const { return step_; }
  // How long each passed gate took, in order.
  const std::vector<std::pair<Gate, Millis>>& passed() const { return passed_; }

  GateStep OnProbe(const mysql::Result<mysql::ReplicaStatus>& reading, SteadyTime now);
  // true: the position was reached; false: the wait timed out.
  GateStep OnGtidWait(const mysql::Result<bool>& reached, SteadyTime now);
  GateStep OnWarmupQueries(const mysql::Status& ran, SteadyTime now);

 private:
  Gate SkipOff(Gate gate) const;
  void Enter(Gate gate, SteadyTime now);
  void Restart(SteadyTime now);  // mysqld went away: start over
  void Wait(SteadyTime now, std::string text);
  void Fail(std::string text);
  SteadyTime Deadline() const;
  bool Late(SteadyTime now, const std::string& why);
  void ObserveMysqld(const mysql::Result<mysql::ReplicaStatus>& reading, SteadyTime now);
  void ObserveReplication(const mysql::ReplicaStatus& status, SteadyTime now);
  void ObserveCatchUp(const mysql::ReplicaStatus& status, SteadyTime now);
  void ObserveWarmup(const mysql::ReplicaStatus& status, SteadyTime now);

  GatesConfig config_;
  SteadyTime start_;
  SteadyTime gate_start_;
  int good_reads_ = 0;
  bool gtid_done_ = false;
  GateStep step_;
  std::vector<std::pair<Gate, Millis>> passed_;
};

// "12s", "1m30s", "250ms": a duration for people, rounded to what matters.
std::string HumanDuration(Millis d);

}  // namespace caretaker
