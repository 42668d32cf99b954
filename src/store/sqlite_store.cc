// The embedded state store: one SQLite file; see state_store.h.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "src/base/file_lock.h"
#include "src/store/sqlite_store_impl.h"

namespace caretaker {
namespace sqlite_store {

using sqlite::Db;
using sqlite::Row;
using sqlite::Value;

namespace {

// Schema migrations: kMigrations[v] takes a store from version v to v + 1.
// Append only; a released entry is never edited.
constexpr const char* kMigrations[] = {
    // 1: maintenance records, the halt switch, the audit trail.
    R"sql(
CREATE TABLE maintenance (
  pool TEXT NOT NULL, server TEXT NOT NULL, host TEXT NOT NULL, who TEXT NOT NULL,
  reason TEXT NOT NULL, since INTEGER NOT NULL, until INTEGER, phase TEXT NOT NULL,
  PRIMARY KEY (pool, server));
CREATE TABLE halt (
  id INTEGER PRIMARY KEY CHECK (id = 1), who TEXT NOT NULL, reason TEXT NOT NULL,
  since INTEGER NOT NULL, abort INTEGER NOT NULL);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, who TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
)sql",
    // 2: jobs and their hosts, pool leases; a record knows its job and step.
    R"sql(
ALTER TABLE maintenance ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE maintenance ADD COLUMN job INTEGER NOT NULL DEFAULT 0;
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, pool TEXT NOT NULL, task TEXT NOT NULL, state TEXT NOT NULL,
  who TEXT NOT NULL, reason TEXT NOT NULL, owner TEXT NOT NULL, detail TEXT NOT NULL,
  created INTEGER NOT NULL, started INTEGER, ended INTEGER, max_failures INTEGER NOT NULL,
  force_sessions INTEGER NOT NULL, cancel_requested INTEGER NOT NULL DEFAULT 0, window INTEGER,
  task_steps TEXT NOT NULL DEFAULT '');
CREATE INDEX jobs_by_pool ON jobs (pool, id);
CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE UNIQUE INDEX jobs_by_window ON jobs (pool, window);
CREATE TABLE leases (
  pool TEXT PRIMARY KEY, job INTEGER NOT NULL, owner TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE job_hosts (
  job INTEGER NOT NULL REFERENCES jobs (id), position INTEGER NOT NULL, server TEXT NOT NULL,
  phase TEXT NOT NULL, step INTEGER NOT NULL, detail TEXT NOT NULL, out_of_traffic INTEGER NOT NULL,
  PRIMARY KEY (job, server));
)sql",
    // 3: rules' memory: the actions and firings in their windows, the breaker.
    R"sql(
CREATE TABLE rule_actions (
  rule TEXT NOT NULL, pool TEXT NOT NULL, server TEXT NOT NULL, kind TEXT NOT NULL, at_ms INTEGER NOT NULL,
  ended_ms INTEGER);
CREATE INDEX rule_actions_by_rule ON rule_actions (rule, at_ms);
CREATE TABLE rule_firings (
  rule TEXT NOT NULL, pool TEXT NOT NULL, server TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX rule_firings_by_rule ON rule_firings (rule, at_ms);
CREATE TABLE rule_breakers (rule TEXT PRIMARY KEY, tripped TEXT NOT NULL);
)sql",
    // 4: what serve's last evaluation of each rule saw, for `caretaker rules`.
    R"sql(
CREATE TABLE rule_evaluations (
  rule TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, took_ms INTEGER NOT NULL, error TEXT NOT NULL);
CREATE TABLE rule_members (
  rule TEXT NOT NULL, pool TEXT NOT NULL, server TEXT NOT NULL, phase TEXT NOT NULL, since_ms INTEGER,
  why TEXT NOT NULL, PRIMARY KEY (rule, pool, server));
)sql",
    // 5: who asked through the HTTP API (role, address, request id) and how it ended.
    R"sql(
ALTER TABLE audit ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN remote TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN result TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN job INTEGER NOT NULL DEFAULT 0;
CREATE INDEX audit_by_who ON audit (who, id);
CREATE INDEX audit_by_job ON audit (job, id);
CREATE TABLE idempotency (
  key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
  at INTEGER NOT NULL);
)sql",
    // 6: Alertmanager's alerts (alerts.h), keyed by fingerprint and startsAt.
    R"sql(
CREATE TABLE alerts (
  fingerprint TEXT NOT NULL, starts_ms INTEGER NOT NULL, firing INTEGER NOT NULL, ends_ms INTEGER,
  summary TEXT NOT NULL, first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, resolved_ms INTEGER,
  PRIMARY KEY (fingerprint, starts_ms));
CREATE TABLE alert_labels (
  fingerprint TEXT NOT NULL, starts_ms INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (fingerprint, starts_ms, name));
)sql",
    // 7: an operator's retry of a failed or stopped job, for serve to take.
    R"sql(
ALTER TABLE jobs ADD COLUMN retry_by TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN retry_from_step INTEGER NOT NULL DEFAULT 0;
)sql",
};
static_assert(std::size(kMigrations) == kStoreSchemaVersion);

constexpr const char* kRecordColumns = "pool, server, host, who, reason, since, until, phase, step, job";

MaintRecord RecordOf(const Row& row) {
  MaintRecord r;
  r.pool = row.Text(0);
  r.server = row.Text(1);
  r.host = row.Text(2);
  r.who = row.Text(3);
  r.reason = row.Text(4);
  r.since = FromEpoch(row.Int(5));
  if (!row.IsNull(6)) r.until = FromEpoch(row.Int(6));
  r.phase = row.Text(7);
  r.step = static_cast<size_t>(row.Int(8));
  r.job = row.Int(9);
  return r;
}

}  // namespace

int64_t Epoch(SysSeconds t) { return t.time_since_epoch().count(); }
SysSeconds FromEpoch(int64_t s) { return SysSeconds(std::chrono::seconds(s)); }
Value OptionalTime(const std::optional<SysSeconds>& t) { return t ? Value::Int(Epoch(*t)) : Value::Null(); }
std::optional<SysSeconds> OptionalTime(const Row& row, size_t i) {
  if (row.IsNull(i)) return std::nullopt;
  return FromEpoch(row.Int(i));
}

Result<void> SqliteStore::Migrate() {
  auto rows = db_->Query("PRAGMA user_version");
  if (!rows) return rows.error();
  version_ = static_cast<int>(rows.value().at(0).Int(0));
  if (version_ > kStoreSchemaVersion) {
    return Error{"the state store " + db_->path() + " has schema version " + std::to_string(version_) +
                 ", newer than this caretaker knows (" + std::to_string(kStoreSchemaVersion) +
                 "): run the newer caretaker, or restore a backup made before the upgrade"};
  }
  if (version_ == kStoreSchemaVersion) return boost::outcome_v2::success();
  int from = version_;
  auto migrated = Write([&]() -> Result<void> {
    // Read again inside the write lock: another process may have migrated it.
    auto again = db_->Query("PRAGMA user_version");
    if (!again) return again.error();
    for (auto v = again.value().at(0).Int(0); v < kStoreSchemaVersion; ++v) {
      if (auto step = db_->Exec(kMigrations[v]); !step) return step;
    }
    return db_->Exec("PRAGMA user_version = " + std::to_string(kStoreSchemaVersion));
  });
  if (!migrated) return migrated;
  version_ = kStoreSchemaVersion;
  if (from == 0) return boost::outcome_v2::success();
  auto audited = Audit({0, {}, actor_, "store.migrated", "",
                        "schema " + std::to_string(from) + " -> " + std::to_string(kStoreSchemaVersion)});
  if (!audited) return audited.error();
  return boost::outcome_v2::success();
}

Result<std::vector<MaintRecord>> SqliteStore::List() const {
  auto rows = db_->Query(std::string("SELECT ") + kRecordColumns + " FROM maintenance ORDER BY pool, server");
  if (!rows) return rows.error();
  std::vector<MaintRecord> out;
  for (const Row& row : rows.value()) out.push_back(RecordOf(row));
  return out;
}

Result<std::optional<MaintRecord>> SqliteStore::Find(std::string_view pool, std::string_view server) const {
  auto rows = db_->Query(std::string("SELECT ") + kRecordColumns + " FROM maintenance WHERE pool = ?1 AND server = ?2",
                         {Value::Text(std::string(pool)), Value::Text(std::string(server))});
  if (!rows) return rows.error();
  if (rows.value().empty()) return std::optional<MaintRecord>();
  return std::optional<MaintRecord>(RecordOf(rows.value().front()));
}

Result<void> SqliteStore::Put(const MaintRecord& r) { return PutAll({r}); }

Result<void> SqliteStore::PutAll(const std::vector<MaintRecord>& records) {
  for (const MaintRecord& r : records) {
    if (auto problem = MaintRecordProblem(r)) {
      return Error{"cannot record maintenance of " + r.pool + "/" + r.server + " in " + db_->path() + ": " + *problem};
    }
  }
  return Write([&]() -> Result<void> {
    for (const MaintRecord& r : records) {
      if (auto put = PutRecord(r); !put) return put;
    }
    return boost::outcome_v2::success();
  });
}

Result<void> SqliteStore::PutRecord(const MaintRecord& r) {
  auto put = db_->Query(
      "INSERT OR REPLACE INTO maintenance (pool, server, host, who, reason, since, until, phase, step, job) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      {Value::Text(r.pool), Value::Text(r.server), Value::Text(r.host), Value::Text(r.who), Value::Text(r.reason),
       Value::Int(Epoch(r.since)), r.until ? Value::Int(Epoch(*r.until)) : Value::Null(), Value::Text(r.phase),
       Value::Int(static_cast<int64_t>(r.step)), Value::Int(r.job)});
  if (!put) return put.error();
  std::string what = r.phase == "steps" ? "step " + std::to_string(r.step + 1) + "; " : "";
  if (r.job) what += "job " + std::to_string(r.job) + "; ";
  return Append({0, {}, r.who, "maint." + r.phase, r.pool + "/" + r.server, what + r.reason});
}

Result<void> SqliteStore::Remove(std::string_view pool, std::string_view server) {
  return Write([&]() -> Result<void> {
    auto gone = db_->Query("DELETE FROM maintenance WHERE pool = ?1 AND server = ?2",
                           {Value::Text(std::string(pool)), Value::Text(std::string(server))});
    if (!gone) return gone.error();
    if (db_->Changes() == 0) return boost::outcome_v2::success();
    return Append({0, {}, actor_, "maint.released", std::string(pool) + "/" + std::string(server), ""});
  });
}

Result<std::optional<HaltRecord>> SqliteStore::ReadHalt() const {
  auto rows = db_->Query("SELECT who, reason, since, abort FROM halt WHERE id = 1");
  if (!rows) return rows.error();
  if (rows.value().empty()) return std::optional<HaltRecord>();
  const Row& row = rows.value().front();
  return std::optional<HaltRecord>(HaltRecord{row.Text(0), row.Text(1), FromEpoch(row.Int(2)), row.Int(3) != 0});
}

Result<void> SqliteStore::SetHalt(const HaltRecord& h) {
  if (h.reason.empty()) return Error{"a halt needs a reason: say why (--reason \"incident 4412\")"};
  return Write([&]() -> Result<void> {
    auto set = db_->Query("INSERT OR REPLACE INTO halt (id, who, reason, since, abort) VALUES (1, ?1, ?2, ?3, ?4)",
                          {Value::Text(h.who), Value::Text(h.reason), Value::Int(Epoch(h.since)),
                           Value::Int(h.abort ? 1 : 0)});
    if (!set) return set.error();
    return Append({0, {}, h.who, h.abort ? "halt.abort" : "halt", "", h.reason});
  });
}

Result<std::optional<HaltRecord>> SqliteStore::ClearHalt(const std::string& who) {
  std::optional<HaltRecord> was;
  auto cleared = Write([&]() -> Result<void> {
    auto current = ReadHalt();
    if (!current) return current.error();
    was = current.value();
    if (!was) return boost::outcome_v2::success();
    if (auto gone = db_->Exec("DELETE FROM halt"); !gone) return gone;
    return Append({0, {}, who, "resume", "", "halted by " + was->who + ": " + was->reason});
  });
  if (!cleared) return cleared.error();
  return was;
}

Result<void> SqliteStore::Append(AuditEntry e) {
  if (e.at == SysSeconds{}) e.at = NowSeconds();
  auto added = db_->Query(
      "INSERT INTO audit (at, who, action, target, detail, role, remote, request_id, result, job) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      {Value::Int(Epoch(e.at)), Value::Text(e.who.empty() ? actor_ : e.who), Value::Text(e.action),
       Value::Text(e.target), Value::Text(e.detail), Value::Text(e.role), Value::Text(e.remote),
       Value::Text(e.request_id), Value::Text(e.result), Value::Int(e.job)});
  if (!added) return added.error();
  return boost::outcome_v2::success();
}

Result<int64_t> SqliteStore::Audit(AuditEntry entry) {
  int64_t id = 0;
  auto written = Write([&]() -> Result<void> {
    if (auto added = Append(std::move(entry)); !added) return added;
    id = db_->LastInsertId();
    return boost::outcome_v2::success();
  });
  if (!written) return written.error();
  return id;
}

Result<void> SqliteStore::SetAuditResult(int64_t id, const std::string& result) {
  return Write([&]() -> Result<void> {
    auto set = db_->Query("UPDATE audit SET result = ?2 WHERE id = ?1", {Value::Int(id), Value::Text(result)});
    if (!set) return set.error();
    return boost::outcome_v2::success();
  });
}

namespace {

constexpr const char* kAuditColumns = "id, at, who, action, target, detail, role, remote, request_id, result, job";

AuditEntry AuditFrom(const Row& row) {
  return {row.Int(0),  FromEpoch(row.Int(1)), row.Text(2), row.Text(3), row.Text(4), row.Text(5),
          row.Text(6), row.Text(7),           row.Text(8), row.Text(9), row.Int(10)};
}

}  // namespace

Result<std::vector<AuditEntry>> SqliteStore::ListAudit(const AuditQuery& q) const {
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit WHERE (?1 = 0 OR id < ?1)";
  std::vector<Value> params{Value::Int(q.before)};
  if (!q.who.empty()) {
    params.push_back(Value::Text(q.who));
    sql += " AND who = ?" + std::to_string(params.size());
  }
  if (!q.action.empty()) {
    params.push_back(Value::Text(q.action));
    const std::string n = std::to_string(params.size());
    sql += " AND substr(action, 1, length(?" + n + ")) = ?" + n;
  }
  if (!q.target.empty()) {
    params.push_back(Value::Text(q.target));
    const std::string n = std::to_string(params.size());
    sql += " AND substr(target, 1, length(?" + n + ")) = ?" + n;
  }
  params.push_back(Value::Int(static_cast<int64_t>(q.limit)));
  sql += " ORDER BY id DESC LIMIT ?" + std::to_string(params.size());
  auto rows = db_->Query(sql, params);
  if (!rows) return rows.error();
  std::vector<AuditEntry> out;
  for (const Row& row : rows.value()) out.push_back(AuditFrom(row));
  return out;
}

Result<std::vector<AuditEntry>> SqliteStore::AuditAfter(int64_t after, int64_t job, size_t limit) const {
  auto rows = db_->Query(std::string("SELECT ") + kAuditColumns +
                             " FROM audit WHERE id > ?1 AND (?2 = 0 OR job = ?2) ORDER BY id LIMIT ?3",
                         {Value::Int(after), Value::Int(job), Value::Int(static_cast<int64_t>(limit))});
  if (!rows) return rows.error();
  std::vector<AuditEntry> out;
  for (const Row& row : rows.value()) out.push_back(AuditFrom(row));
  return out;
}

Result<std::vector<AuditEntry>> SqliteStore::RecentAudit(size_t limit) const {
  auto rows = db_->Query(std::string("SELECT ") + kAuditColumns +
                             " FROM (SELECT * FROM audit ORDER BY id DESC LIMIT ?1) ORDER BY id",
                         {Value::Int(static_cast<int64_t>(limit))});
  if (!rows) return rows.error();
  std::vector<AuditEntry> out;
  for (const Row& row : rows.value()) out.push_back(AuditFrom(row));
  return out;
}

Result<std::optional<IdempotentReply>> SqliteStore::FindIdempotent(const std::string& key) const {
  auto rows = db_->Query("SELECT key, fingerprint, status, body, at FROM idempotency WHERE key = ?1",
                         {Value::Text(key)});
  if (!rows) return rows.error();
  if (rows.value().empty()) return std::optional<IdempotentReply>();
  const Row& r = rows.value().front();
  return std::optional<IdempotentReply>(
      IdempotentReply{r.Text(0), r.Text(1), static_cast<int>(r.Int(2)), r.Text(3), FromEpoch(r.Int(4))});
}

Result<bool> SqliteStore::PutIdempotent(const IdempotentReply& reply) {
  bool put = false;
  auto written = Write([&]() -> Result<void> {
    const SysSeconds at = reply.at == SysSeconds{} ? NowSeconds() : reply.at;
    auto old = db_->Query("DELETE FROM idempotency WHERE at < ?1", {Value::Int(Epoch(at) - 86400)});
    if (!old) return old.error();
    auto added = db_->Query(
        "INSERT OR IGNORE INTO idempotency (key, fingerprint, status, body, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        {Value::Text(reply.key), Value::Text(reply.fingerprint), Value::Int(reply.status), Value::Text(reply.body),
         Value::Int(Epoch(at))});
    if (!added) return added.error();
    auto changed = db_->Query("SELECT changes()");
    if (!changed) return changed.error();
    put = changed.value().front().Int(0) > 0;
    return boost::outcome_v2::success();
  });
  if (!written) return written.error();
  return put;
}

}  // namespace sqlite_store

Result<std::unique_ptr<StateStore>> OpenSqliteStore(const std::string& path) {
  if (!path.empty()) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (int err = MakePrivateDirs(dir)) {
      return Error{"cannot create the state directory " + dir + ": " + std::strerror(err) +
                   " — caretaker's user must be able to create it, or set [state] dir"};
    }
  }
  // The file is created 0600: it names hosts, people and reasons.
  mode_t old_mask = ::umask(077);
  auto db = sqlite::Db::Open(path, true);
  ::umask(old_mask);
  if (!db) return db.error();
  auto store = std::make_unique<sqlite_store::SqliteStore>(std::move(db).value());
  if (auto migrated = store->Migrate(); !migrated) return migrated.error();
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace caretaker
