// What a rolling walk does to the world, for the driver (driver.h): one
// interface over HAProxy, MySQL and the maintenance records, so the walk's
// decisions (walker.h) stay pure and the driver can be run against fakes.
// The real one talks to every HAProxy instance of a pool through the runtime
// API and to MySQL through Connector/C on a small thread pool.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "mysql/error.h"
#include "mysql/replica_status.h"
#include "src/base/async.h"
#include "src/base/result.h"
#include "src/config/config.h"
#include "src/store/maint_record.h"
#include "src/walk/walker.h"

namespace caretaker::haproxy {
struct MergedServer;
}  // namespace caretaker::haproxy

namespace caretaker {

class WalkIo {
 public:
  virtual ~WalkIo() = default;
  // The pool's live state: every member on every instance of the pool, and
  // with `with_mysql` every member's replication. A member held by a
  // maintenance record this WalkIo did not write has `held_by` set.
  virtual Awaitable<Result<PoolView>> Observe(const PoolConfig& pool, bool with_mysql) = 0;
  // Applied and confirmed on every instance of the pool; the error has one
  // line per instance that failed.
  virtual Awaitable<Result<void>> SetState(const PoolConfig& pool, const std::string& server, LbState state) = 0;
  virtual Awaitable<Result<void>> SetWeight(const PoolConfig& pool, const std::string& server, int percent) = 0;
  virtual Awaitable<Result<void>> ShutdownSessions(const PoolConfig& pool, const std::string& server) = 0;
  virtual Awaitable<mysql::Result<mysql::ReplicaStatus>> Probe(const PoolConfig& pool, const MemberConfig& member) = 0;
  // Waits until `deadline` for the primary's current GTID position.
  virtual Awaitable<mysql::Result<bool>> WaitForPrimary(const PoolConfig& pool, const MemberConfig& member,
                                                        SteadyTime deadline) = 0;
  virtual Awaitable<mysql::Status> RunWarmupQueries(const PoolConfig& pool, const MemberConfig& member) = 0;
  // The member's maintenance record: written (durably) with `phase` (and for
  // "steps", the step about to start, 0-based), removed.
  virtual Result<void> Journal(const PoolConfig& pool, const MemberConfig& member, const std::string& phase,
                               size_t step) = 0;
  struct JournalEntry {
    const MemberConfig* member;
    std::string phase;
    size_t step;
  };
  // Journal() for several members at once: all or none in one durable
  // transaction where the store allows it (a wave of drains costs one fsync,
  // not one each). This default writes one by one and stops at the first
  // failure; the driver then makes none of the changes either way.
  virtual Result<void> JournalAll(const PoolConfig& pool, const std::vector<JournalEntry>& entries) {
    for (const JournalEntry& e : entries) {
      if (auto put = Journal(pool, *e.member, e.phase, e.step); !put) return put;
    }
    return boost::outcome_v2::success();
  }
  virtual Result<void> Release(const PoolConfig& pool, const MemberConfig& member) = 0;
  // Ends long waits early (a second Ctrl-C): WaitForPrimary returns within
  // one slice with an error. Other calls are bounded by their timeouts.
  virtual void Cancel() = 0;
  // The job walking `pool`: its records carry the id, and its earlier
  // records (a retried or resumed job) are its own, not someone else's.
  virtual void SetJob(const std::string& pool, int64_t job) { (void)pool, (void)job; }
};

// Who and why, for the records a walk writes.
struct WalkRecordInfo {
  std::string who;     // "alice@db-admin-1"
  std::string reason;  // "caretaker roll --task restart"
  std::map<std::string, int64_t> jobs;  // pool name -> the job walking it
  std::optional<SysSeconds> until;      // the records' end (`maint start --for`)
  // "pool/server": members whose record this walk takes over as it stands
  // (who, reason, since, until, job), only its phase changing: a walk that
  // puts someone's host back (maint stop, job restore, an expiry).
  std::set<std::string> adopt;
  // "pool/server": members whose lock this process holds already (a maint
  // command takes it before its walk): not "held by another command".
  std::set<std::string> locked;
};

// A member as HAProxy's instances show it (`server`, merged), its state for
// the capacity policy given: what Observe builds on, and what a plan from an
// earlier reading of the pool (serve's) is made of. held_by, locked_by,
// mysql_error and ready_why are the caller's.
MemberView MemberViewOf(const haproxy::MergedServer& server, policies::Member::State state);

// The real one. `records` must outlive it; the event loop runs its coroutines.
std::unique_ptr<WalkIo> MakeRealWalkIo(const Config& config, std::string password, MaintRecords& records,
                                       WalkRecordInfo info);

}  // namespace caretaker
