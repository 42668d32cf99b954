// Internal to the SQLite state store (sqlite_store.cc: records, halt, audit,
// schema; sqlite_jobs.cc: jobs and pool leases; sqlite_rules.cc: rules' memory; sqlite_alerts.cc:
// Alertmanager's alerts). See state_store.h.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/store/sqlite_db.h"
#include "src/store/state_store.h"

namespace caretaker::sqlite_store {

int64_t Epoch(SysSeconds t);
SysSeconds FromEpoch(int64_t s);
sqlite::Value OptionalTime(const std::optional<SysSeconds>& t);
std::optional<SysSeconds> OptionalTime(const sqlite::Row& row, size_t i);
// Wall times to the millisecond, as rules and alerts keep them.
inline int64_t Ms(WallTime t) { return t.time_since_epoch().count(); }
inline WallTime FromMs(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

class SqliteStore final : public StateStore {
 public:
  explicit SqliteStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}

  Result<void> Migrate();

  Result<std::vector<MaintRecord>> List() const override;
  Result<std::optional<MaintRecord>> Find(std::string_view pool, std::string_view server) const override;
  Result<void> Put(const MaintRecord& record) override;
  Result<void> PutAll(const std::vector<MaintRecord>& records) override;
  Result<void> Remove(std::string_view pool, std::string_view server) override;

  void SetActor(std::string actor) override { actor_ = std::move(actor); }
  Result<std::optional<HaltRecord>> ReadHalt() const override;
  Result<void> SetHalt(const HaltRecord& halt) override;
  Result<std::optional<HaltRecord>> ClearHalt(const std::string& who) override;
  Result<int64_t> Audit(AuditEntry entry) override;
  Result<void> SetAuditResult(int64_t id, const std::string& result) override;
  Result<std::vector<AuditEntry>> ListAudit(const AuditQuery& query) const override;
  Result<std::vector<AuditEntry>> AuditAfter(int64_t after, int64_t job, size_t limit) const override;
  Result<std::vector<AuditEntry>> RecentAudit(size_t limit) const override;
  Result<std::optional<IdempotentReply>> FindIdempotent(const std::string& key) const override;
  Result<bool> PutIdempotent(const IdempotentReply& reply) override;
  int SchemaVersion() const override { return version_; }

  Result<int64_t> AddJob(const Job& job, const std::optional<Lease>& lease) override;
  Result<std::optional<Job>> FindJob(int64_t id) const override;
  Result<std::vector<Job>> ListJobs(size_t limit) const override;
  Result<std::vector<Job>> ListJobs(const JobQuery& query) const override;
  Result<std::vector<Job>> OpenJobs() const override;
  Result<void> UpdateJob(const Job& job) override;
  Result<bool> EndJobIf(int64_t id, const std::string& expect_state, const std::string& expect_owner,
                        const std::string& state, const std::string& detail) override;
  Result<void> UpdateJobHosts(int64_t id, const std::vector<JobHost>& hosts) override;
  Result<void> RequestCancel(int64_t id, const std::string& who) override;
  Result<bool> RequestRetry(int64_t id, const std::string& expect_state, const std::string& expect_owner,
                            const std::string& who, size_t from_step) override;
  Result<std::optional<SysSeconds>> LastWindow(const std::string& pool) const override;

  Result<bool> ClaimJob(int64_t id, const std::string& owner, SysSeconds expires, SysSeconds now,
                        const std::string& expect_owner, bool clear_cancel) override;
  Result<bool> RenewLease(const std::string& pool, const std::string& owner, SysSeconds expires) override;
  Result<void> ReleaseLease(const std::string& pool, const std::string& owner) override;
  Result<std::optional<Lease>> ReadLease(const std::string& pool) const override;

  Result<RuleMemory> ReadRuleMemory(const std::string& rule) const override;
  Result<void> WriteRuleMemory(const std::string& rule, const RuleMemory& memory) override;
  Result<std::vector<std::string>> RulesRemembered() const override;
  Result<std::optional<RuleStatus>> ReadRuleStatus(const std::string& rule) const override;
  Result<void> WriteRuleStatus(const std::string& rule, const RuleStatus& status) override;

  Result<AlertIntake> TakeAlerts(const std::vector<AlertNotice>& alerts, WallTime now, const AuditEntry& actor) override;
  Result<std::vector<StoredAlert>> ListAlerts() const override;

 private:
  // Whether `owner` may take the lease of `pool` for job `job` at `now`:
  // none, expired, or already theirs for that job (0: a new job).
  Result<bool> LeaseFree(const std::string& pool, const std::string& owner, int64_t job, SysSeconds now) const;
  Result<void> PutLease(const Lease& lease);
  // Put's statements, inside the caller's Write.
  Result<void> PutRecord(const MaintRecord& record);
  Result<std::vector<Job>> SelectJobs(const std::string& where_order, const std::vector<sqlite::Value>& params) const;
  Result<void> LoadHosts(Job& job) const;
  // Runs `change` and its audit entries in one write transaction.
  template <class F>
  Result<void> Write(F&& change);
  Result<void> Append(AuditEntry entry);

  std::unique_ptr<sqlite::Db> db_;
  std::string actor_ = "caretaker";
  int version_ = 0;
};

template <class F>
Result<void> SqliteStore::Write(F&& change) {
  sqlite::Db::Transaction tx(*db_);
  if (auto begun = tx.Begin(); !begun) return begun;
  if (auto done = change(); !done) return done;
  return tx.Commit();
}

}  // namespace caretaker::sqlite_store
