// InnoDB buffer-pool warm-up: what `Innodb_buffer_pool_load_status` says, read
// into a state. Pure: the probe (replica_probe.h) runs the statement, this
// turns its text into a BufferPoolLoad.
//
// The texts are InnoDB's (storage/innobase/buf/buf0dump.cc), as MariaDB 10.11
// and MySQL 8 write them:
//   "Buffer pool(s) load completed at 261125  7:07:13"     (optionally
//       " (/path/ib_buffer_pool was empty)" / "... was empty or had errors)")
//   "Loaded 1234/5678 pages"                        MySQL only, while loading
//   "Loading buffer pool(s) from /path/ib_buffer_pool"  the whole load on MariaDB
//   "Cannot open '/path/ib_buffer_pool' for reading: No such file or directory"
//   "Buffer pool(s) load aborted on request" / "... due to shutdown at ..."
//   "Error parsing '/path', unable to load buffer pool (stage 2)"
//   "Loading of buffer pool not started" (MySQL), "" (MariaDB before any load)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mysql/connection.h"

namespace caretaker::mysql {

struct BufferPoolLoad {
  // kNothingToLoad: the dump file could not be opened (none was written, e.g.
  // a fresh datadir): that load never completes, and there is nothing to wait
  // for. kAborted: the load stopped early and will not resume by itself (on
  // request, at shutdown, or on an unreadable dump file). kNotStarted stays so
  // for good when innodb_buffer_pool_load_at_startup is OFF.
  enum class State { kCompleted, kLoading, kNothingToLoad, kNotStarted, kAborted, kUnknown };
  State state = State::kUnknown;
  uint64_t loaded = 0, total = 0;  // pages, when loading ("Loaded 123/4567 pages"); 0/0 when not said
  std::string text;                // the status value as the server said it

  // The pool is as warm as the dump can make it: completed, or nothing to load.
  bool Done() const { return state == State::kCompleted || state == State::kNothingToLoad; }
};

// Reads the value of Innodb_buffer_pool_load_status. Never fails: text it
// does not know is kUnknown (with the text kept).
BufferPoolLoad ParseBufferPoolLoad(std::string_view value);

// "completed", "loading", "nothing to load", "not started", "aborted", "unknown".
const char* BufferPoolLoadStateName(BufferPoolLoad::State state);

// The statement the probe runs (needs no privilege).
inline constexpr std::string_view kBufferPoolLoadStatement = "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_load_status'";

// Reads its result (Variable_name, Value). nullopt when there is no such row
// (a server without InnoDB) or the value is NULL.
std::optional<BufferPoolLoad> BufferPoolLoadFromRows(const Rows& rows);

// Runs each query once, in order, on one new connection (rows are read and
// dropped): the warm-up queries of a pool. The first failure ends it.
Status RunWarmupQueries(const Target& target, const std::vector<std::string>& queries);

}  // namespace caretaker::mysql
