// What a replica says about itself, and the pure rules that read it.
//
// Everything here is free of I/O: it turns the text of `SELECT VERSION()`,
// a `SHOW SLAVE/REPLICA STATUS` result set and a pt-heartbeat row into a
// ReplicaStatus. Columns are read by name in both spellings (MariaDB and
// MySQL < 8.0.22: Slave_IO_Running, Seconds_Behind_Master; MySQL >= 8.0.22:
// Replica_IO_Running, Seconds_Behind_Source). Unknown lag is std::nullopt,
// never 0.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mysql/connection.h"
#include "mysql/error.h"
#include "mysql/warmup.h"

namespace caretaker::mysql {

enum class Flavor { kMariaDB, kMySQL };
const char* FlavorName(Flavor flavor);  // "MariaDB", "MySQL"

struct ServerVersion {
  Flavor flavor = Flavor::kMySQL;
  int major = 0, minor = 0, patch = 0;
  std::string text;  // as the server said it, e.g. "10.11.19-MariaDB-log"
};
// Parses `SELECT VERSION()`. Unparsable numbers stay 0.
ServerVersion ParseVersion(std::string_view text);

// The statement that reads replication status: SHOW REPLICA STATUS on MySQL
// >= 8.0.22 (8.4 rejects the old one), SHOW SLAVE STATUS everywhere else
// (every MariaDB version accepts it).
const char* ReplicaStatusStatement(const ServerVersion& version);

// Slave_IO_Running / Slave_SQL_Running: "Yes", "No", "Connecting"; anything
// else (or NULL) is kUnknown.
enum class ThreadState { kYes, kNo, kConnecting, kUnknown };
const char* ThreadStateName(ThreadState state);  // "Yes", "No", "Connecting", "unknown"
ThreadState ParseThreadState(const std::optional<std::string>& cell);

enum class LagSource { kSecondsBehind, kHeartbeat };

struct ReplicaStatus {
  ServerVersion version;
  ThreadState io_thread = ThreadState::kUnknown;
  ThreadState sql_thread = ThreadState::kUnknown;
  std::string last_io_error;                     // empty when none
  std::string last_sql_error;                    // empty when none
  std::optional<std::chrono::milliseconds> lag;  // nullopt = unknown, never 0 for unknown
  LagSource lag_source = LagSource::kSecondsBehind;
  std::optional<BufferPoolLoad> warmup;          // buffer-pool load; nullopt = could not be read

  bool ThreadsRunning() const { return io_thread == ThreadState::kYes && sql_thread == ThreadState::kYes; }
};

// Reads a SHOW SLAVE/REPLICA STATUS result. No row is kNotAReplica; a missing
// column is kQuery. Lag comes from Seconds_Behind_Master/Source (NULL = unknown).
// With several rows (multi-source), the first one is read.
Result<ReplicaStatus> ParseReplicaStatus(std::string_view where, const ServerVersion& version, const Rows& rows);

// pt-heartbeat: `ts` is "YYYY-MM-DDTHH:MM:SS[.ffffff]" in UTC (pt-heartbeat
// --utc). Returns microseconds since the epoch, or nullopt when malformed.
std::optional<std::chrono::sys_time<std::chrono::microseconds>> ParseHeartbeatTime(std::string_view ts);

// Lag of a heartbeat row against `now` (both UTC). A row from the future (a
// clock a little ahead) is 0 lag. nullopt when either is malformed.
std::optional<std::chrono::milliseconds> HeartbeatLag(std::string_view ts, std::string_view now);

// Where a pt-heartbeat table lives and whose row to read.
struct Heartbeat {
  std::string table;  // "db.table" (letters, digits, _ and $ only)
  uint32_t primary_server_id = 0;
};

// The query reading the primary's row with the replica's own UTC clock, e.g.
// SELECT ts, UTC_TIMESTAMP(6) FROM `caretaker`.`heartbeat` WHERE server_id = 1.
// kBadOption for a table name that is not db.table of plain identifiers.
Result<std::string> HeartbeatQuery(std::string_view where, const Heartbeat& heartbeat);

}  // namespace caretaker::mysql
