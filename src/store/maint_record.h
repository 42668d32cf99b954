// Maintenance records: which hosts an operator (or caretaker itself) took out
// of traffic, who did, why, since when and until when.
//
// A record is written BEFORE the side effect it announces (the drain), and
// removed only after the host is confirmed back in traffic, so a host out of
// traffic without a record means someone else took it out. The interface is
// what the rest of caretaker depends on; FileMaintRecords keeps them in one
// TOML file (a durable store replaces it later behind the same interface).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/result.h"
#include "src/base/time.h"

namespace caretaker {

struct MaintRecord {
  std::string pool;    // pool name
  std::string server;  // HAProxy server name in the pool's backend (the key, with pool)
  std::string host;    // MySQL "host:port", for people
  std::string who;     // "user@hostname" of the operator
  std::string reason;  // --reason, never empty
  SysSeconds since{};
  std::optional<SysSeconds> until;  // --for; nullopt: no end set
  // Where the host is in its walk: "draining", "maint", "steps" (a roll's
  // task is running on it), "gates" (its steps are done), "enabling".
  std::string phase = "draining";
  // A roll's task: in phase "steps", the step (0-based) that started and may
  // have run; in phase "maint", the next step to run (so after a step that
  // ended well, the one after it; 0: none has run).
  size_t step = 0;
  int64_t job = 0;   // the job whose walk wrote it; 0: a `caretaker maint` command

  bool Expired(SysSeconds now) const { return until && *until <= now; }
};

class MaintRecords {
 public:
  virtual ~MaintRecords() = default;
  // Every record, ordered by pool then server.
  virtual Result<std::vector<MaintRecord>> List() const = 0;
  // The record of pool/server, or nullopt.
  virtual Result<std::optional<MaintRecord>> Find(std::string_view pool, std::string_view server) const = 0;
  // Inserts or replaces the record of record.pool/record.server; durable
  // (fsync'ed) when it returns success. Refuses a record with an empty pool,
  // server or reason, a phase not listed above, or text that is not UTF-8.
  virtual Result<void> Put(const MaintRecord& record) = 0;
  // Puts every record. The SQLite store writes them all or none, in one
  // durable transaction (one fsync for a wave of hosts); this default writes
  // them one by one and stops at the first failure, leaving the earlier ones
  // written (a record without its change: the cautious side).
  virtual Result<void> PutAll(const std::vector<MaintRecord>& records) {
    for (const MaintRecord& r : records) {
      if (auto put = Put(r); !put) return put;
    }
    return boost::outcome_v2::success();
  }
  // Removes the record of pool/server; removing an absent record is success.
  virtual Result<void> Remove(std::string_view pool, std::string_view server) = 0;
};

// What makes `record` unfit to store ("reason must not be empty"), or nullopt:
// an empty pool, server or reason, a phase not listed above, text not UTF-8.
std::optional<std::string> MaintRecordProblem(const MaintRecord& record);

// Records in one TOML file (`[[maintenance]]` tables), e.g.
// /var/lib/caretaker/maintenance.toml. Every change is read-modify-write under
// an exclusive flock of "<path>.lock", written to a temp file, fsync'ed and
// renamed over the file, so a crash leaves the old or the new file, never a
// torn one, and two caretaker processes never lose each other's records. A
// missing file is an empty list; its directory is created (mode 0700) on the
// first Put. A file that cannot be parsed (or holds an unknown key, a missing
// one, a duplicate pool/server) is an error naming path:line:column, never an
// empty list, and no change overwrites it: the operator fixes it by hand.
std::unique_ptr<MaintRecords> OpenFileMaintRecords(std::string path);

// "2026-11-25T07:00:00Z" and back (UTC, whole seconds, years 0000-9999).
// ParseUtc takes exactly that shape: no lowercase 't'/'z', offset, fraction,
// leap second or out-of-range field.
std::string FormatUtc(SysSeconds t);
std::optional<SysSeconds> ParseUtc(std::string_view text);
// A wall time the same way, its milliseconds dropped; and with them:
// "2026-12-08T00:46:50.695Z".
std::string FormatUtc(WallTime t);
std::string FormatUtcMillis(WallTime t);
// The system clock now, in whole seconds (records, jobs, the audit trail).
SysSeconds NowSeconds();

}  // namespace caretaker
