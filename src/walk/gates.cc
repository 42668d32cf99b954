#include "src/walk/gates.h"

#include <utility>

#include "mysql/warmup.h"

namespace caretaker {
namespace {

using std::chrono::duration_cast;

// How long "not started" may last before it counts as "no load configured".
constexpr Millis kNotStartedGrace{10'000};

Millis Since(SteadyTime from, SteadyTime now) { return duration_cast<Millis>(now - from); }

// A failure that waiting cannot fix: the account, the target, the server's role.
bool Permanent(const mysql::Error& error) {
  switch (error.code) {
    case mysql::ErrorCode::kAccessDenied:
    case mysql::ErrorCode::kMissingPrivilege:
    case mysql::ErrorCode::kTls:
    case mysql::ErrorCode::kNotAReplica:
    case mysql::ErrorCode::kBadOption:
      return true;
    default:
      return false;
  }
}

std::string ThreadWords(const mysql::ReplicaStatus& s) {
  return std::string("IO thread ") + mysql::ThreadStateName(s.io_thread) + ", SQL thread " +
         mysql::ThreadStateName(s.sql_thread);
}

// The error a stopped thread reports, or "" when it stopped without one.
std::string ThreadError(const mysql::ReplicaStatus& s) {
  if (s.sql_thread == mysql::ThreadState::kNo && !s.last_sql_error.empty()) {
    return "the SQL thread stopped on an error: " + s.last_sql_error;
  }
  if (s.io_thread == mysql::ThreadState::kNo && !s.last_io_error.empty()) {
    return "the IO thread stopped on an error: " + s.last_io_error;
  }
  return "";
}

std::string LagWords(const mysql::ReplicaStatus& s) {
  return s.lag ? "lag " + HumanDuration(*s.lag) : std::string("lag unknown");
}

}  // namespace

const char* GateName(Gate gate) {
  switch (gate) {
    case Gate::kMysqld: return "mysqld";
    case Gate::kReplication: return "replication";
    case Gate::kCatchUp: return "catch-up";
    case Gate::kWarmup: return "warm-up";
    case Gate::kDone: return "done";
  }
  return "?";
}

std::string HumanDuration(Millis d) {
  int64_t ms = d.count();
  if (ms < 0) ms = 0;
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 10'000 && ms % 1000 != 0) {
    // Exact under 10s: a lag of 5001ms must not read like a max_lag of 5s.
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);  // "001"
    while (frac.back() == '0') frac.pop_back();
    return std::to_string(ms / 1000) + "." + frac + "s";
  }
  int64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  return std::to_string(s / 3600) + "h" + (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
}

HealthGates::HealthGates(const GatesConfig& config, SteadyTime start)
    : config_(config), start_(start), gate_start_(start) {
  step_ = {GateStep::Action::kProbe, Gate::kMysqld, start, ""};  // nothing seen yet
  // mysqld off turns every gate off: the others need an answering server.
  if (config_.off.mysqld) step_ = {GateStep::Action::kPassed, Gate::kDone, start, "every gate is off"};
}

// The first gate from `gate` on that the task did not turn off.
Gate HealthGates::SkipOff(Gate gate) const {
  if (gate == Gate::kReplication && config_.off.replication) gate = Gate::kCatchUp;
  if (gate == Gate::kCatchUp && config_.off.catch_up) gate = Gate::kWarmup;
  if (gate == Gate::kWarmup && config_.off.warmup) gate = Gate::kDone;
  return gate;
}

SteadyTime HealthGates::Deadline() const {
  switch (step_.gate) {
    case Gate::kMysqld:
    case Gate::kReplication: return start_ + config_.mysql_timeout;
    case Gate::kCatchUp: return gate_start_ + config_.catch_up_timeout;
    case Gate::kWarmup: return gate_start_ + config_.warmup_timeout;
    case Gate::kDone: return SteadyTime::max();
  }
  return SteadyTime::max();
}

void HealthGates::Enter(Gate gate, SteadyTime now) {
  passed_.emplace_back(step_.gate, Since(gate_start_, now));
  gate = SkipOff(gate);
  gate_start_ = now;
  good_reads_ = 0;
  step_.gate = gate;
  if (gate == Gate::kDone) step_ = {GateStep::Action::kPassed, Gate::kDone, now, "every gate passed"};
}

void HealthGates::Restart(SteadyTime now) {
  passed_.clear();
  start_ = now;  // a restarted mysqld gets the whole mysql_timeout again
  gate_start_ = now;
  good_reads_ = 0;
  gtid_done_ = false;
  step_.gate = Gate::kMysqld;
}

void HealthGates::Wait(SteadyTime now, std::string text) {
  step_.action = GateStep::Action::kProbe;
  step_.at = now + config_.probe_interval;
  step_.text = std::string(GateName(step_.gate)) + ": " + std::move(text);
}

void HealthGates::Fail(std::string text) {
  step_.action = GateStep::Action::kFailed;
  step_.text = std::string(GateName(step_.gate)) + ": " + std::move(text);
}

// Past the gate's deadline: fails with `why` (the last thing seen) and the time waited.
bool HealthGates::Late(SteadyTime now, const std::string& why) {
  if (now < Deadline()) return false;
  SteadyTime from = step_.gate == Gate::kMysqld || step_.gate == Gate::kReplication ? start_ : gate_start_;
  Fail("gave up after " + HumanDuration(Since(from, now)) + ": " + why);
  return true;
}

GateStep HealthGates::OnProbe(const mysql::Result<mysql::ReplicaStatus>& reading, SteadyTime now) {
  if (step_.action != GateStep::Action::kProbe) return step_;
  if (!reading) {
    if (Permanent(reading.error())) {
      Fail(reading.error().message);
    } else if (!Late(now, reading.error().message)) {
      // mysqld going away after it answered (a restart) sends the walk back.
      if (step_.gate != Gate::kMysqld) Restart(now);
      Wait(now, "not answering yet (" + mysql::ShortText(reading.error()) + ")");
    }
    return step_;
  }
  ObserveMysqld(reading, now);
  return step_;
}

void HealthGates::ObserveMysqld(const mysql::Result<mysql::ReplicaStatus>& reading, SteadyTime now) {
  const mysql::ReplicaStatus& status = reading.value();
  if (step_.gate == Gate::kMysqld) Enter(Gate::kReplication, now);
  if (step_.gate == Gate::kReplication) {
    ObserveReplication(status, now);
    if (step_.gate == Gate::kReplication) return;
  }
  if (step_.gate == Gate::kCatchUp) {
    ObserveCatchUp(status, now);
    if (step_.gate == Gate::kCatchUp) return;
  }
  if (step_.gate == Gate::kWarmup) ObserveWarmup(status, now);
}

void HealthGates::ObserveReplication(const mysql::ReplicaStatus& status, SteadyTime now) {
  std::string error = ThreadError(status);
  if (!error.empty()) return Fail(error);
  if (status.ThreadsRunning()) {
    Enter(Gate::kCatchUp, now);
    return;
  }
  bool stopped = status.io_thread == mysql::ThreadState::kNo || status.sql_thread == mysql::ThreadState::kNo;
  std::string why = ThreadWords(status) + (stopped ? " (START SLAVE starts them)" : "");
  if (!Late(now, why)) Wait(now, "waiting for both threads: " + why);
}

void HealthGates::ObserveCatchUp(const mysql::ReplicaStatus& status, SteadyTime now) {
  std::string error = ThreadError(status);
  if (!error.empty()) return Fail(error);
  if (config_.gtid_wait && !gtid_done_) {
    step_ = {GateStep::Action::kGtidWait, Gate::kCatchUp, Deadline(),
             "catch-up: waiting for the primary's GTID position"};
    return;
  }
  const bool caught_up = status.ThreadsRunning() && status.lag && *status.lag <= config_.max_lag;
  good_reads_ = caught_up ? good_reads_ + 1 : 0;
  if (good_reads_ >= config_.catch_up_reads) {
    Enter(Gate::kWarmup, now);
    return;
  }
  std::string seen = status.ThreadsRunning() ? LagWords(status) : ThreadWords(status);
  std::string why = seen + ", max_lag " + HumanDuration(config_.max_lag);
  if (Late(now, why)) return;
  Wait(now, why + " (" + std::to_string(good_reads_) + " of " + std::to_string(config_.catch_up_reads) +
                " reads in a row)");
}

void HealthGates::ObserveWarmup(const mysql::ReplicaStatus& status, SteadyTime now) {
  // Replication must stay healthy while the pool warms: never ready before caught up.
  std::string error = config_.off.replication ? "" : ThreadError(status);
  if (!error.empty()) return Fail(error);
  const bool behind = !status.ThreadsRunning() || !status.lag || *status.lag > config_.max_lag;
  if (!config_.off.catch_up && behind) {
    std::string seen = (status.ThreadsRunning() ? LagWords(status) : ThreadWords(status)) + ", max_lag " +
                       HumanDuration(config_.max_lag);
    if (!Late(now, "replication fell behind: " + seen)) Wait(now, "replication fell behind: " + seen);
    return;
  }
  if (!status.warmup) {
    if (!Late(now, "the buffer pool load status cannot be read")) Wait(now, "load status unknown");
    return;
  }
  const mysql::BufferPoolLoad& load = *status.warmup;
  using LoadState = mysql::BufferPoolLoad::State;
  // An aborted load never resumes by itself, and "not started" that lasts
  // means innodb_buffer_pool_load_at_startup is off: waiting cannot help, the
  // pool is as warm as the load will make it.
  const bool settled = load.state == LoadState::kAborted ||
                       (load.state == LoadState::kNotStarted && now - gate_start_ >= kNotStartedGrace);
  if (load.Done() || settled) {
    if (config_.warmup_queries.empty()) return Enter(Gate::kDone, now);
    step_ = {GateStep::Action::kWarmupQueries, Gate::kWarmup, now,
             "warm-up: running " + std::to_string(config_.warmup_queries.size()) + " warm-up queries"};
    return;
  }
  std::string seen = load.state == LoadState::kUnknown
                         ? "buffer pool load status \"" + load.text + "\""
                         : "buffer pool " + std::string(mysql::BufferPoolLoadStateName(load.state));
  if (load.total > 0) {
    seen += " " + std::to_string(load.loaded * 100 / load.total) + "% (" + std::to_string(load.loaded) + "/" +
            std::to_string(load.total) + " pages)";
  }
  if (!Late(now, seen)) Wait(now, seen);
}

GateStep HealthGates::OnGtidWait(const mysql::Result<bool>& reached, SteadyTime now) {
  if (step_.action != GateStep::Action::kGtidWait) return step_;
  if (!reached && Permanent(reached.error())) {
    Fail("GTID wait failed: " + reached.error().message);
  } else if (!reached) {
    // A lost connection or a restarting server: probe again, then wait again.
    if (!Late(now, "GTID wait: " + reached.error().message)) {
      Wait(now, "GTID wait interrupted (" + mysql::ShortText(reached.error()) + "); probing again");
    }
  } else if (!reached.value()) {
    Fail("gave up after " + HumanDuration(Since(gate_start_, now)) +
         ": the primary's GTID position was not reached");
  } else {
    gtid_done_ = true;
    Wait(now, "GTID position reached; reading lag");
    step_.at = now;
  }
  return step_;
}

GateStep HealthGates::OnWarmupQueries(const mysql::Status& ran, SteadyTime now) {
  if (step_.action != GateStep::Action::kWarmupQueries) return step_;
  if (!ran) {
    Fail("a warm-up query failed: " + ran.error().message);
  } else {
    Enter(Gate::kDone, now);
  }
  return step_;
}

}  // namespace caretaker
