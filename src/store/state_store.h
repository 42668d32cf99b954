// caretaker's durable state: the maintenance records (which hosts are out of
// traffic, by whom, where in their walk), the halt switch, jobs and their
// per-host progress, pool leases, and an audit trail of every change. The interface is what the rest of caretaker
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

#include "src/base/result.h"
#include "src/store/alerts.h"
#include "src/store/job.h"
#include "src/store/maint_record.h"
#include "src/store/rule_memory.h"

namespace caretaker {

// The central switch: while set, no automated action starts a new step or drain.
struct HaltRecord {
  std::string who;     // "alice@db-admin-1"
  std::string reason;  // never empty
  SysSeconds since{};
  bool abort = false;  // `halt --abort`: running steps are stopped too
};

// One walk per pool at a time, across every process sharing the store: the
// process running a job holds its pool's lease and renews it; a lease past
// `expires` is free (its owner died or hangs).
struct Lease {
  std::string pool;
  int64_t job = 0;
  std::string owner;  // "host:pid"
  SysSeconds expires{};
};

// One line of the audit trail.
struct AuditEntry {
  int64_t id = 0;      // increasing; set by the store
  SysSeconds at{};
  std::string who;     // the actor
  std::string action;  // "maint.draining", "maint.released", "halt", "resume", ...
  std::string target;  // "pool/server", "" for global ones
  std::string detail;  // the reason, an error, ...
  // Of a change asked for through the HTTP API (empty otherwise): the
  // token's role, the client's address, the request's X-Request-Id, and how
  // it ended ("ok", "refused: ...", "failed: ...").
  // (Initialised, so the entries written with the first six fields only
  // leave them out without a warning.)
  std::string role = {};
  std::string remote = {};
  std::string request_id = {};
  std::string result = {};
  // The job it belongs to (0: none): its state changes and each member's
  // progress ("job.host" entries), which are the job's log.
  int64_t job = 0;
};

// Which audit entries to list: newest first, those before `before` (an id;
// 0: from the newest), at most `limit`. Empty filters match everything;
// `action` and `target` match a prefix ("maint." matches every maint.*).
struct AuditQuery {
  int64_t before = 0;
  std::string who;
  std::string action;
  std::string target;
  size_t limit = 100;
};

// Which jobs to list: newest first, those before `before` (an id; 0: from
// the newest), in `state` and `pool` when set, at most `limit`.
struct JobQuery {
  int64_t before = 0;
  std::string state;
  std::string pool;
  size_t limit = 50;
};

// The reply a change asked for with an Idempotency-Key got: a request with
// the same key and the same `fingerprint` (route and body) gets it again.
struct IdempotentReply {
  std::string key;
  std::string fingerprint;
  int status = 0;
  std::string body;
  SysSeconds at{};
};

class StateStore : public MaintRecords, public AlertBook {
 public:
  // Who the audit entries of changes without a `who` of their own name
  // (record removals): "alice@db-admin-1 (caretaker roll)".
  virtual void SetActor(std::string actor) = 0;

  virtual Result<std::optional<HaltRecord>> ReadHalt() const = 0;
  // Sets (or replaces) the halt record.
  virtual Result<void> SetHalt(const HaltRecord& halt) = 0;
  // Clears it; the previous record, nullopt when none was set.
  virtual Result<std::optional<HaltRecord>> ClearHalt(const std::string& who) = 0;

  // Appends an entry (at and id are set by the store when zero); its id.
  virtual Result<int64_t> Audit(AuditEntry entry) = 0;
  // Sets the result of entry `id` (written before the change it names, and
  // completed once that change is done).
  virtual Result<void> SetAuditResult(int64_t id, const std::string& result) = 0;
  // The entries `query` selects, newest first.
  virtual Result<std::vector<AuditEntry>> ListAudit(const AuditQuery& query) const = 0;
  // The entries after id `after`, oldest first, at most `limit`; of job
  // `job` only when not 0. What a follower reads to miss no entry and see
  // none twice (a job's log, the event stream).
  virtual Result<std::vector<AuditEntry>> AuditAfter(int64_t after, int64_t job, size_t limit) const = 0;
  // The last `limit` entries, oldest first.
  virtual Result<std::vector<AuditEntry>> RecentAudit(size_t limit) const = 0;

  // Jobs. AddJob stores `job` (its hosts too) and returns its id; 0 when it
  // added nothing: a job of a schedule (job.window set) is added at most once
  // per pool and window. With `lease` the job is added already claimed (state
  // "running", owner lease->owner), with the lease of its pool, in the same
  // transaction — or not at all (0) when another owner holds that lease.
  virtual Result<int64_t> AddJob(const Job& job, const std::optional<Lease>& lease = std::nullopt) = 0;
  virtual Result<std::optional<Job>> FindJob(int64_t id) const = 0;
  // The last `limit` jobs, newest first, each with its hosts.
  virtual Result<std::vector<Job>> ListJobs(size_t limit) const = 0;
  virtual Result<std::vector<Job>> ListJobs(const JobQuery& query) const = 0;
  // Every job not finished (queued, running, paused, failed, stopped), oldest
  // first, each with its hosts: the queues of all pools.
  virtual Result<std::vector<Job>> OpenJobs() const = 0;
  // Writes the job's state, owner, detail, times and window (not its hosts,
  // not its cancel flag: only RequestCancel and ClaimJob touch that).
  virtual Result<void> UpdateJob(const Job& job) = 0;
  // Ends job `id` as `state` with `detail` — only if it still is in
  // `expect_state` with owner `expect_owner`, as the caller read it (a
  // command racing serve). false: it changed, nothing was written.
  virtual Result<bool> EndJobIf(int64_t id, const std::string& expect_state, const std::string& expect_owner,
                                const std::string& state, const std::string& detail) = 0;
  // Writes these hosts of job `id` (by server), in one transaction; each
  // host that changed gets a "job.host" audit entry (the job's log).
  virtual Result<void> UpdateJobHosts(int64_t id, const std::vector<JobHost>& hosts) = 0;
  // Sets the cancel flag of a running job; its process stops the walk.
  virtual Result<void> RequestCancel(int64_t id, const std::string& who) = 0;
  // Asks serve to go on with job `id` (Job::retry_by, retry_from_step) —
  // only if it still is in `expect_state` with owner `expect_owner`, as the
  // caller read it; audited ("job.retry_requested"). false: it changed,
  // nothing was written.
  virtual Result<bool> RequestRetry(int64_t id, const std::string& expect_state, const std::string& expect_owner,
                                    const std::string& who, size_t from_step) = 0;
  // The opening of the latest window a schedule added a job for in `pool`.
  virtual Result<std::optional<SysSeconds>> LastWindow(const std::string& pool) const = 0;

  // Pool leases. ClaimJob takes job `id` for `owner` in one transaction: the
  // lease of the job's pool until `expires` — when it is free, expired at
  // `now`, or already `owner`'s for this job — and the job's state "running"
  // with that owner, provided the job is as the caller read it: owned by
  // `expect_owner` ("" never ran) and not done, cancelled or restored.
  // `clear_cancel`: an operator's retry drops an old cancel request (serve
  // keeps it, and the walk it starts honours it). A retry asked of serve is
  // taken by the claim (dropped). false: the lease is held or the job
  // changed; nothing was written.
  virtual Result<bool> ClaimJob(int64_t id, const std::string& owner, SysSeconds expires, SysSeconds now,
                                const std::string& expect_owner, bool clear_cancel) = 0;
  // Extends `owner`'s lease of `pool`; false when it is no longer theirs.
  virtual Result<bool> RenewLease(const std::string& pool, const std::string& owner, SysSeconds expires) = 0;
  // Gives it up (a lease held by another owner is left alone); also how a
  // lease of an owner known to be dead is broken.
  virtual Result<void> ReleaseLease(const std::string& pool, const std::string& owner) = 0;
  virtual Result<std::optional<Lease>> ReadLease(const std::string& pool) const = 0;

  // Rules' memory (rate windows, breaker), by rule name: empty for a rule
  // never seen. Write replaces what was kept of that rule, in one transaction.
  virtual Result<RuleMemory> ReadRuleMemory(const std::string& rule) const = 0;
  virtual Result<void> WriteRuleMemory(const std::string& rule, const RuleMemory& memory) = 0;
  // Every rule name with a memory (a rule removed from the config keeps its
  // memory until `rules reset` of it).
  virtual Result<std::vector<std::string>> RulesRemembered() const = 0;
  // What serve's last evaluation of a rule saw (nullopt: never evaluated);
  // Write replaces it.
  virtual Result<std::optional<RuleStatus>> ReadRuleStatus(const std::string& rule) const = 0;
  virtual Result<void> WriteRuleStatus(const std::string& rule, const RuleStatus& status) = 0;

  // Idempotency keys of the HTTP API. Put keeps the first reply of a key
  // (false: the key was taken meanwhile); entries older than a day are
  // dropped as new ones are put.
  virtual Result<std::optional<IdempotentReply>> FindIdempotent(const std::string& key) const = 0;
  virtual Result<bool> PutIdempotent(const IdempotentReply& reply) = 0;

  // Alertmanager's notifications (alerts.h): each alert stored, or marked
  // resolved, and an audit entry ("alert.firing", "alert.resolved", target
  // the alert's fingerprint) written for each change with `actor`'s fields,
  // all in one transaction: an error means nothing was kept. Dropped: alerts
  // resolved more than a week before `now`, and those the same alert firing
  // again replaced (a newer startsAt) last seen a week before; a firing
  // alert is kept however long Alertmanager is silent.
  virtual Result<AlertIntake> TakeAlerts(const std::vector<AlertNotice>& alerts, WallTime now,
                                         const AuditEntry& actor) = 0;

  // The schema version of the open store (kStoreSchemaVersion after a migration).
  virtual int SchemaVersion() const = 0;
};

inline constexpr int kStoreSchemaVersion = 7;

// The SQLite store at `path` (created with its directory, mode 0700/0600,
// when missing). "" opens an empty one in memory (for tests). An older schema
// is migrated; a newer one is refused with a message saying so.
Result<std::unique_ptr<StateStore>> OpenSqliteStore(const std::string& path);

}  // namespace caretaker
