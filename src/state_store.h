// caretaker's durable state: the maintenance records (which hosts are out of
// traffic, by whom, where in their walk), the halt switch, and an audit trail
// of every change to them. The interface is what the rest of caretaker
// depends on; the embedded implementation is one SQLite file (WAL) that
// several caretaker processes on the machine share. A shared store (several
// instances) can replace it behind the same interface.
//
// Contract:
// - Every change is durable (committed with fsync) when it returns success,
//   and is written together with its audit entry in one transaction.
// - The schema carries a version; opening a store of an older version
//   migrates it in one transaction, a newer one is refused.
// - Reading the halt state must fail closed: callers treat an error as halted.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/maint_record.h"
#include "src/result.h"

namespace caretaker {

// The central switch: while set, no automated action starts a new step or drain.
struct HaltRecord {
  std::string who;     // "alice@db-admin-1"
  std::string reason;  // never empty
  SysSeconds since{};
  bool abort = false;  // `halt --abort`: running steps are stopped too
};

// One line of the audit trail.
struct AuditEntry {
  int64_t id = 0;      // increasing; set by the store
  SysSeconds at{};
  std::string who;     // the actor
  std::string action;  // "maint.draining", "maint.released", "halt", "resume", ...
  std::string target;  // "pool/server", "" for global ones
  std::string detail;  // the reason, an error, ...
};

class StateStore : public MaintRecords {
 public:
  // Who the audit entries of changes without a `who` of their own name
  // (record removals): "alice@db-admin-1 (caretaker roll)".
  virtual void SetActor(std::string actor) = 0;

  virtual Result<std::optional<HaltRecord>> ReadHalt() const = 0;
  // Sets (or replaces) the halt record.
  virtual Result<void> SetHalt(const HaltRecord& halt) = 0;
  // Clears it; the previous record, nullopt when none was set.
  virtual Result<std::optional<HaltRecord>> ClearHalt(const std::string& who) = 0;

  // Appends an entry (at and id are set by the store when zero).
  virtual Result<void> Audit(AuditEntry entry) = 0;
  // The last `limit` entries, oldest first.
  virtual Result<std::vector<AuditEntry>> RecentAudit(size_t limit) const = 0;

  // The schema version of the open store (kStoreSchemaVersion after a migration).
  virtual int SchemaVersion() const = 0;
};

inline constexpr int kStoreSchemaVersion = 1;

// The SQLite store at `path` (created with its directory, mode 0700/0600,
// when missing). "" opens an empty one in memory (for tests). An older schema
// is migrated; a newer one is refused with a message saying so.
Result<std::unique_ptr<StateStore>> OpenSqliteStore(const std::string& path);

}  // namespace caretaker
