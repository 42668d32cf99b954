// GTID catch-up: read the primary's position, wait until a replica has
// applied it. The statement builders and reply readers are pure; the
// functions over a Connection block (run them on the BlockingPool, like
// ProbeReplica). MariaDB: @@gtid_binlog_pos and MASTER_GTID_WAIT (0 reached,
// -1 timed out); MySQL: @@gtid_executed and WAIT_FOR_EXECUTED_GTID_SET (0, 1).
// On MariaDB 10.11 neither statement needs a privilege (checked with a
// USAGE-only account).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "mysql/connection.h"
#include "mysql/error.h"
#include "mysql/replica_status.h"

namespace caretaker::mysql {

// SELECT @@GLOBAL.gtid_binlog_pos (MariaDB) or @@GLOBAL.gtid_executed (MySQL).
const char* GtidPositionStatement(const ServerVersion& version);

// A position fit to embed in SQL: whitespace removed (MySQL's gtid_executed
// wraps lines; MariaDB rejects " 0-1-6 "), then only digits, a-f, A-F, '-',
// ':' and ',' are accepted, else kBadOption naming `where` and the position.
// Empty is valid: nothing written yet.
Result<std::string> NormalizeGtidPosition(std::string_view where, std::string_view position);

// The statement waiting at most `wait` for a normalized `position`:
// SELECT MASTER_GTID_WAIT('0-1-6', 2.500) (MariaDB takes fractions) or
// SELECT WAIT_FOR_EXECUTED_GTID_SET('uuid:1-5', 3) (whole seconds, rounded up,
// at least 1: MySQL reads 0 as "wait forever").
std::string GtidWaitStatement(const ServerVersion& version, std::string_view position, std::chrono::milliseconds wait);

// The reply of GtidWaitStatement: true = reached, false = timed out. NULL
// (MariaDB: not a replica's kind of position, bad position) or any other
// value (MySQL 2: killed) is kQuery naming `where`.
Result<bool> ParseGtidWaitReply(std::string_view where, const ServerVersion& version, const Rows& rows);

// The longest single wait on a connection whose read timeout is
// `read_timeout`: half of it, at least 1 s, so the server answers before the
// client gives up on the read (a read timeout under 2 s leaves no margin).
std::chrono::milliseconds GtidWaitSlice(std::chrono::seconds read_timeout);

// The primary's position (may be empty). Blocks.
Result<std::string> ReadGtidPosition(Connection& primary, const ServerVersion& version);

// Waits until `replica` has applied `position`, in slices of
// GtidWaitSlice(read_timeout), until reached (true) or `timeout` is spent
// (false). `read_timeout` is the connection's. Blocks up to about `timeout`.
Result<bool> WaitForGtid(Connection& replica, const ServerVersion& version, std::string_view position,
                         std::chrono::milliseconds timeout, std::chrono::seconds read_timeout);

struct PrimaryPosition {
  Flavor flavor;
  std::string position;
};

// Connects to the primary, reads its flavor and position, disconnects.
Result<PrimaryPosition> ReadPrimaryPosition(const Target& primary);

// Connects to `replica` and waits up to `timeout` for `position` (read from
// `primary`, named in messages); a replica of another flavor is kBadOption.
Result<bool> WaitForPosition(const Target& replica, const Target& primary, const PrimaryPosition& position,
                             std::chrono::milliseconds timeout);

// Opens both servers, reads their versions, the primary's position (the
// primary connection is closed before waiting), and waits on the replica.
Result<bool> WaitForPrimaryPosition(const Target& primary, const Target& replica, std::chrono::milliseconds timeout);

}  // namespace caretaker::mysql
