// The SQLite state store's jobs and pool leases; see state_store.h.
#include <string>
#include <utility>

#include "src/store/sqlite_store_impl.h"

namespace caretaker::sqlite_store {
namespace {

using sqlite::Row;
using sqlite::Value;

constexpr const char* kJobColumns =
    "id, pool, task, state, who, reason, owner, detail, created, started, ended, max_failures, force_sessions, "
    "cancel_requested, window, task_steps, retry_by, retry_from_step";

Job JobOf(const Row& row) {
  Job j;
  j.id = row.Int(0);
  j.pool = row.Text(1);
  j.task = row.Text(2);
  j.state = row.Text(3);
  j.who = row.Text(4);
  j.reason = row.Text(5);
  j.owner = row.Text(6);
  j.detail = row.Text(7);
  j.created = FromEpoch(row.Int(8));
  j.started = OptionalTime(row, 9);
  j.ended = OptionalTime(row, 10);
  j.max_failures = static_cast<int>(row.Int(11));
  j.force_sessions = row.Int(12) != 0;
  j.cancel_requested = row.Int(13) != 0;
  j.window = OptionalTime(row, 14);
  j.task_steps = row.Text(15);
  j.retry_by = row.Text(16);
  j.retry_from_step = static_cast<size_t>(row.Int(17));
  return j;
}

std::string JobName(int64_t id) { return "job " + std::to_string(id); }

}  // namespace

Result<bool> SqliteStore::LeaseFree(const std::string& pool, const std::string& owner, int64_t job,
                                    SysSeconds now) const {
  auto held = ReadLease(pool);
  if (!held) return held.error();
  const std::optional<Lease>& l = held.value();
  return !l || l->expires <= now || (job != 0 && l->owner == owner && l->job == job);
}

Result<void> SqliteStore::PutLease(const Lease& l) {
  auto put = db_->Query("INSERT OR REPLACE INTO leases (pool, job, owner, expires) VALUES (?1, ?2, ?3, ?4)",
                        {Value::Text(l.pool), Value::Int(l.job), Value::Text(l.owner), Value::Int(Epoch(l.expires))});
  if (!put) return put.error();
  AuditEntry e{0, {}, "", "lease.taken", l.pool, JobName(l.job) + " by " + l.owner};
  e.job = l.job;  // the job starts (or goes on) here: in its log
  return Append(std::move(e));
}

Result<int64_t> SqliteStore::AddJob(const Job& j, const std::optional<Lease>& lease) {
  int64_t id = 0;
  auto added = Write([&]() -> Result<void> {
    if (lease) {
      auto free = LeaseFree(j.pool, lease->owner, 0, NowSeconds());
      if (!free) return free.error();
      if (!free.value()) return boost::outcome_v2::success();
    }
    if (j.window) {
      auto seen = db_->Query("SELECT id FROM jobs WHERE pool = ?1 AND window = ?2",
                             {Value::Text(j.pool), Value::Int(Epoch(*j.window))});
      if (!seen) return seen.error();
      if (!seen.value().empty()) return boost::outcome_v2::success();  // that window has its job
    }
    auto insert = db_->Query(
        "INSERT INTO jobs (pool, task, state, who, reason, owner, detail, created, started, ended, max_failures, "
        "force_sessions, window, task_steps) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        {Value::Text(j.pool), Value::Text(j.task), Value::Text(j.state), Value::Text(j.who), Value::Text(j.reason),
         Value::Text(j.owner), Value::Text(j.detail), Value::Int(Epoch(j.created)), OptionalTime(j.started),
         OptionalTime(j.ended), Value::Int(j.max_failures), Value::Int(j.force_sessions ? 1 : 0),
         OptionalTime(j.window), Value::Text(j.task_steps)});
    if (!insert) return insert.error();
    id = db_->LastInsertId();
    for (size_t i = 0; i < j.hosts.size(); ++i) {
      const JobHost& h = j.hosts[i];
      auto host = db_->Query(
          "INSERT INTO job_hosts (job, position, server, phase, step, detail, out_of_traffic) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
          {Value::Int(id), Value::Int(static_cast<int64_t>(i)), Value::Text(h.server), Value::Text(h.phase),
           Value::Int(static_cast<int64_t>(h.step)), Value::Text(h.detail), Value::Int(h.out_of_traffic ? 1 : 0)});
      if (!host) return host.error();
    }
    AuditEntry e{0, {}, j.who, "job." + j.state, j.pool, JobName(id) + ": task " + j.task + "; " + j.reason};
    e.job = id;
    if (auto added = Append(std::move(e)); !added) return added;
    if (!lease) return boost::outcome_v2::success();
    Lease l = *lease;
    l.pool = j.pool;
    l.job = id;
    return PutLease(l);
  });
  if (!added) return added.error();
  return id;
}

Result<void> SqliteStore::LoadHosts(Job& job) const {
  auto rows = db_->Query(
      "SELECT server, phase, step, detail, out_of_traffic FROM job_hosts WHERE job = ?1 ORDER BY position",
      {Value::Int(job.id)});
  if (!rows) return rows.error();
  for (const Row& row : rows.value()) {
    job.hosts.push_back({row.Text(0), row.Text(1), static_cast<size_t>(row.Int(2)), row.Text(3), row.Int(4) != 0});
  }
  return boost::outcome_v2::success();
}

Result<std::vector<Job>> SqliteStore::SelectJobs(const std::string& where_order,
                                                 const std::vector<Value>& params) const {
  auto rows = db_->Query(std::string("SELECT ") + kJobColumns + " FROM jobs " + where_order, params);
  if (!rows) return rows.error();
  std::vector<Job> out;
  for (const Row& row : rows.value()) {
    out.push_back(JobOf(row));
    if (auto hosts = LoadHosts(out.back()); !hosts) return hosts.error();
  }
  return out;
}

Result<std::optional<Job>> SqliteStore::FindJob(int64_t id) const {
  auto jobs = SelectJobs("WHERE id = ?1", {Value::Int(id)});
  if (!jobs) return jobs.error();
  if (jobs.value().empty()) return std::optional<Job>();
  return std::optional<Job>(std::move(jobs.value().front()));
}

Result<std::vector<Job>> SqliteStore::ListJobs(size_t limit) const {
  return SelectJobs("ORDER BY id DESC LIMIT ?1", {Value::Int(static_cast<int64_t>(limit))});
}

Result<std::vector<Job>> SqliteStore::ListJobs(const JobQuery& q) const {
  std::string where = "WHERE (?1 = 0 OR id < ?1)";
  std::vector<Value> params{Value::Int(q.before)};
  if (!q.state.empty()) {
    params.push_back(Value::Text(q.state));
    where += " AND state = ?" + std::to_string(params.size());
  }
  if (!q.pool.empty()) {
    params.push_back(Value::Text(q.pool));
    where += " AND pool = ?" + std::to_string(params.size());
  }
  params.push_back(Value::Int(static_cast<int64_t>(q.limit)));
  return SelectJobs(where + " ORDER BY id DESC LIMIT ?" + std::to_string(params.size()), params);
}

Result<std::vector<Job>> SqliteStore::OpenJobs() const {
  return SelectJobs("WHERE state IN ('queued', 'running', 'paused', 'failed', 'stopped') ORDER BY id", {});
}

Result<void> SqliteStore::UpdateJob(const Job& j) {
  return Write([&]() -> Result<void> {
    auto before = db_->Query("SELECT state FROM jobs WHERE id = ?1", {Value::Int(j.id)});
    if (!before) return before.error();
    if (before.value().empty()) return Error{"no " + JobName(j.id) + " in " + db_->path()};
    auto set = db_->Query(
        "UPDATE jobs SET state = ?2, owner = ?3, detail = ?4, started = ?5, ended = ?6, window = ?7 WHERE id = ?1",
        {Value::Int(j.id), Value::Text(j.state), Value::Text(j.owner), Value::Text(j.detail), OptionalTime(j.started),
         OptionalTime(j.ended), OptionalTime(j.window)});
    if (!set) return set.error();
    if (before.value().front().Text(0) == j.state) return boost::outcome_v2::success();
    AuditEntry e{0, {}, "", "job." + j.state, j.pool, JobName(j.id) + (j.detail.empty() ? "" : ": " + j.detail)};
    e.job = j.id;
    return Append(std::move(e));
  });
}

Result<bool> SqliteStore::EndJobIf(int64_t id, const std::string& expect_state, const std::string& expect_owner,
                                   const std::string& state, const std::string& detail) {
  bool ended = false;
  auto written = Write([&]() -> Result<void> {
    auto set = db_->Query(
        "UPDATE jobs SET state = ?4, detail = ?5, ended = ?6 WHERE id = ?1 AND state = ?2 AND owner = ?3",
        {Value::Int(id), Value::Text(expect_state), Value::Text(expect_owner), Value::Text(state), Value::Text(detail),
         Value::Int(Epoch(NowSeconds()))});
    if (!set) return set.error();
    ended = db_->Changes() > 0;
    if (!ended) return boost::outcome_v2::success();
    auto pool = db_->Query("SELECT pool FROM jobs WHERE id = ?1", {Value::Int(id)});
    if (!pool) return pool.error();
    AuditEntry e{0, {}, "", "job." + state, pool.value().front().Text(0), JobName(id) + ": " + detail};
    e.job = id;
    return Append(std::move(e));
  });
  if (!written) return written.error();
  return ended;
}

Result<void> SqliteStore::UpdateJobHosts(int64_t id, const std::vector<JobHost>& hosts) {
  return Write([&]() -> Result<void> {
    std::optional<std::string> pool;  // read once, when some host changed
    for (const JobHost& h : hosts) {
      // Only a host that changed is written, and logged.
      auto set = db_->Query(
          "UPDATE job_hosts SET phase = ?3, step = ?4, detail = ?5, out_of_traffic = ?6 WHERE job = ?1 AND server = ?2 "
          "AND (phase != ?3 OR step != ?4 OR detail != ?5 OR out_of_traffic != ?6)",
          {Value::Int(id), Value::Text(h.server), Value::Text(h.phase), Value::Int(static_cast<int64_t>(h.step)),
           Value::Text(h.detail), Value::Int(h.out_of_traffic ? 1 : 0)});
      if (!set) return set.error();
      if (db_->Changes() == 0) continue;
      if (!pool) {
        auto read = db_->Query("SELECT pool FROM jobs WHERE id = ?1", {Value::Int(id)});
        if (!read) return read.error();
        pool = read.value().empty() ? std::string() : read.value().front().Text(0);
      }
      AuditEntry e{0, {}, "", "job.host", *pool + "/" + h.server,
                   JobName(id) + ": " + h.phase + (h.phase == "step" ? " " + std::to_string(h.step + 1) : "") +
                       (h.detail.empty() ? "" : ": " + h.detail.substr(0, h.detail.find('\n')))};
      e.job = id;
      if (auto added = Append(std::move(e)); !added) return added;
    }
    return boost::outcome_v2::success();
  });
}

Result<void> SqliteStore::RequestCancel(int64_t id, const std::string& who) {
  return Write([&]() -> Result<void> {
    auto set = db_->Query("UPDATE jobs SET cancel_requested = 1 WHERE id = ?1", {Value::Int(id)});
    if (!set) return set.error();
    AuditEntry e{0, {}, who, "job.cancel_requested", "", JobName(id)};
    e.job = id;
    return Append(std::move(e));
  });
}

Result<bool> SqliteStore::RequestRetry(int64_t id, const std::string& expect_state, const std::string& expect_owner,
                                       const std::string& who, size_t from_step) {
  bool asked = false;
  auto written = Write([&]() -> Result<void> {
    auto set = db_->Query(
        "UPDATE jobs SET retry_by = ?4, retry_from_step = ?5 WHERE id = ?1 AND state = ?2 AND owner = ?3",
        {Value::Int(id), Value::Text(expect_state), Value::Text(expect_owner), Value::Text(who),
         Value::Int(static_cast<int64_t>(from_step))});
    if (!set) return set.error();
    asked = db_->Changes() > 0;
    if (!asked) return boost::outcome_v2::success();
    AuditEntry e{0, {}, who, "job.retry_requested", "",
                 JobName(id) + (from_step ? ": its interrupted member goes on at step " + std::to_string(from_step) : "")};
    e.job = id;
    return Append(std::move(e));
  });
  if (!written) return written.error();
  return asked;
}

Result<std::optional<SysSeconds>> SqliteStore::LastWindow(const std::string& pool) const {
  auto rows = db_->Query("SELECT MAX(window) FROM jobs WHERE pool = ?1", {Value::Text(pool)});
  if (!rows) return rows.error();
  return OptionalTime(rows.value().front(), 0);
}

Result<bool> SqliteStore::ClaimJob(int64_t id, const std::string& owner, SysSeconds expires, SysSeconds now,
                                   const std::string& expect_owner, bool clear_cancel) {
  bool claimed = false;
  auto written = Write([&]() -> Result<void> {
    auto job = db_->Query("SELECT pool, state, owner FROM jobs WHERE id = ?1", {Value::Int(id)});
    if (!job) return job.error();
    if (job.value().empty()) return Error{"no " + JobName(id) + " in " + db_->path()};
    const Row& row = job.value().front();
    const std::string pool = row.Text(0), state = row.Text(1);
    if (row.Text(2) != expect_owner || state == "done" || state == "cancelled" || state == "restored") {
      return boost::outcome_v2::success();  // it changed since the caller read it
    }
    auto free = LeaseFree(pool, owner, id, now);
    if (!free) return free.error();
    if (!free.value()) return boost::outcome_v2::success();
    if (auto put = PutLease(Lease{pool, id, owner, expires}); !put) return put;
    auto set = db_->Query(
        "UPDATE jobs SET state = 'running', owner = ?2, started = COALESCE(started, ?3), ended = NULL, "
        "cancel_requested = CASE WHEN ?4 THEN 0 ELSE cancel_requested END, retry_by = '', retry_from_step = 0 "
        "WHERE id = ?1",
        {Value::Int(id), Value::Text(owner), Value::Int(Epoch(now)), Value::Int(clear_cancel ? 1 : 0)});
    if (!set) return set.error();
    claimed = true;
    return boost::outcome_v2::success();
  });
  if (!written) return written.error();
  return claimed;
}

Result<bool> SqliteStore::RenewLease(const std::string& pool, const std::string& owner, SysSeconds expires) {
  bool renewed = false;
  auto written = Write([&]() -> Result<void> {
    auto set = db_->Query("UPDATE leases SET expires = ?3 WHERE pool = ?1 AND owner = ?2",
                          {Value::Text(pool), Value::Text(owner), Value::Int(Epoch(expires))});
    if (!set) return set.error();
    renewed = db_->Changes() > 0;
    return boost::outcome_v2::success();
  });
  if (!written) return written.error();
  return renewed;
}

Result<void> SqliteStore::ReleaseLease(const std::string& pool, const std::string& owner) {
  return Write([&]() -> Result<void> {
    auto gone = db_->Query("DELETE FROM leases WHERE pool = ?1 AND owner = ?2", {Value::Text(pool), Value::Text(owner)});
    if (!gone) return gone.error();
    if (db_->Changes() == 0) return boost::outcome_v2::success();
    return Append({0, {}, "", "lease.released", pool, "by " + owner});
  });
}

Result<std::optional<Lease>> SqliteStore::ReadLease(const std::string& pool) const {
  auto rows = db_->Query("SELECT job, owner, expires FROM leases WHERE pool = ?1", {Value::Text(pool)});
  if (!rows) return rows.error();
  if (rows.value().empty()) return std::optional<Lease>();
  const Row& row = rows.value().front();
  return std::optional<Lease>(Lease{pool, row.Int(0), row.Text(1), FromEpoch(row.Int(2))});
}

}  // namespace caretaker::sqlite_store
