// The SQLite state store's jobs and pool leases, and the migration of a
// store of schema 1 (records, halt, audit; before jobs existed).
#include <catch2/catch.hpp>
#include <string>

#include "src/store/state_store.h"
#include "tests/unit/store_fixture.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {
namespace {

using store_testing::Open;
using store_testing::RawExec;

using namespace std::chrono_literals;

SysSeconds At(std::string_view utc) { return ParseUtc(utc).value(); }

Job MakeTestJob(const std::string& pool, std::vector<std::string> servers) {
  Job j;
  j.pool = pool;
  j.task = "restart";
  j.who = "ann@ops1";
  j.reason = "caretaker roll --task restart";
  j.created = At("2026-12-01T03:00:00Z");
  for (std::string& s : servers) j.hosts.push_back(JobHost{std::move(s), "pending", 0, "", false});
  return j;
}

TEST_CASE("store: a job is added, found with its hosts, updated, and listed newest first", "[store]") {
  auto store = Open("");
  int64_t a = store->AddJob(MakeTestJob("replicas", {"db1", "db2"})).value();
  int64_t b = store->AddJob(MakeTestJob("analytics", {"an1"})).value();
  CHECK(b > a);
  Job job = store->FindJob(a).value().value();
  CHECK(job.state == "queued");
  CHECK(job.hosts.size() == 2);
  CHECK(job.hosts[1].server == "db2");
  job.state = "failed";
  job.detail = "db2 failed";
  job.ended = At("2026-12-01T04:00:00Z");
  REQUIRE(store->UpdateJob(job));
  job.hosts[1] = JobHost{"db2", "failed", 1, "step 2/2 failed", true};
  REQUIRE(store->UpdateJobHosts(a, job.hosts));
  Job read = store->FindJob(a).value().value();
  CHECK(read.state == "failed");
  CHECK(read.ended == job.ended);
  CHECK(read.hosts == job.hosts);
  auto listed = store->ListJobs(10).value();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].id == b);
  CHECK(store->FindJob(999).value() == std::nullopt);
  // Open jobs, oldest first: both (failed holds its pool, queued waits).
  auto open = store->OpenJobs().value();
  REQUIRE(open.size() == 2);
  CHECK(open[0].id == a);
  job.state = "cancelled";
  REQUIRE(store->UpdateJob(job));
  CHECK(store->OpenJobs().value().size() == 1);
}

TEST_CASE("store: a job's log is its entries, oldest first: each member that changed once, others not", "[store]") {
  auto store = Open("");
  int64_t a = store->AddJob(MakeTestJob("replicas", {"db1", "db2"})).value();
  int64_t b = store->AddJob(MakeTestJob("analytics", {"an1"})).value();
  std::vector<JobHost> hosts = store->FindJob(a).value()->hosts;
  hosts[0] = JobHost{"db1", "step", 1, "step 2/2 \"upgrade\"\nmore lines", true};
  REQUIRE(store->UpdateJobHosts(a, hosts));
  REQUIRE(store->UpdateJobHosts(a, hosts));  // nothing changed: nothing logged
  hosts[0].phase = "done";
  REQUIRE(store->UpdateJobHosts(a, hosts));

  auto log = store->AuditAfter(0, a, 100).value();
  std::vector<std::string> lines;
  for (const AuditEntry& e : log) lines.push_back(e.action + " " + e.target + " " + e.detail);
  CHECK(lines == std::vector<std::string>{
                     "job.queued replicas job " + std::to_string(a) + ": task restart; caretaker roll --task restart",
                     "job.host replicas/db1 job " + std::to_string(a) + ": step 2: step 2/2 \"upgrade\"",
                     "job.host replicas/db1 job " + std::to_string(a) + ": done: step 2/2 \"upgrade\""});
  CHECK(store->FindJob(a).value()->hosts == hosts);
  // After an entry: the ones after it, none twice; the other job's apart.
  auto rest = store->AuditAfter(log[0].id, a, 100).value();
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].id == log[1].id);
  CHECK(store->AuditAfter(0, b, 100).value().size() == 1);
  CHECK(store->AuditAfter(0, 0, 100).value().size() == 4);  // every job's
}

TEST_CASE("store: a schedule adds one job per pool and window, and knows the last window", "[store]") {
  auto store = Open("");
  CHECK(store->LastWindow("replicas").value() == std::nullopt);
  Job j = MakeTestJob("replicas", {"db1"});
  j.window = At("2026-12-01T03:00:00Z");
  CHECK(store->AddJob(j).value() > 0);
  CHECK(store->AddJob(j).value() == 0);  // the same window again: nothing
  CHECK(store->ListJobs(10).value().size() == 1);
  j.window = At("2026-12-08T03:00:00Z");
  CHECK(store->AddJob(j).value() > 0);
  CHECK(store->LastWindow("replicas").value() == At("2026-12-08T03:00:00Z"));
  CHECK(store->LastWindow("analytics").value() == std::nullopt);
}

TEST_CASE("store: one lease per pool, which expires, is renewed by its owner only, and released", "[store]") {
  auto store = Open("");
  const SysSeconds t = At("2026-12-01T03:00:00Z");
  int64_t a = store->AddJob(MakeTestJob("replicas", {"db1"})).value();
  int64_t b = store->AddJob(MakeTestJob("replicas", {"db2"})).value();
  CHECK(store->ClaimJob(a, "h1:10", t + 30s, t, "", false).value());
  Job running = store->FindJob(a).value().value();
  CHECK(running.state == "running");
  CHECK(running.owner == "h1:10");
  CHECK(running.started == t);
  // Another owner cannot take the pool while the lease lasts, nor the same
  // owner for another job of the pool (serve runs many jobs, one per pool).
  CHECK_FALSE(store->ClaimJob(b, "h2:20", t + 60s, t + 10s, "", false).value());
  CHECK_FALSE(store->ClaimJob(b, "h1:10", t + 60s, t + 10s, "", false).value());
  CHECK(store->FindJob(b).value()->state == "queued");  // nothing written
  // ... the owner renews it ...
  CHECK(store->RenewLease("replicas", "h1:10", t + 60s).value());
  CHECK_FALSE(store->RenewLease("replicas", "h2:20", t + 90s).value());
  CHECK_FALSE(store->ClaimJob(b, "h2:20", t + 90s, t + 45s, "", false).value());
  // ... and once it expired, another owner takes it; the old one cannot renew.
  CHECK(store->ClaimJob(b, "h2:20", t + 90s, t + 60s, "", false).value());
  CHECK_FALSE(store->RenewLease("replicas", "h1:10", t + 120s).value());
  Lease lease = store->ReadLease("replicas").value().value();
  CHECK(lease.job == b);
  CHECK(lease.owner == "h2:20");
  // Releasing someone else's lease does nothing; the owner's own frees it.
  REQUIRE(store->ReleaseLease("replicas", "h1:10"));
  CHECK(store->ReadLease("replicas").value().has_value());
  REQUIRE(store->ReleaseLease("replicas", "h2:20"));
  CHECK(store->ReadLease("replicas").value() == std::nullopt);
}

TEST_CASE("store: a job is claimed only as the caller read it", "[store]") {
  auto store = Open("");
  const SysSeconds t = At("2026-12-01T03:00:00Z");
  int64_t a = store->AddJob(MakeTestJob("replicas", {"db1"})).value();
  // Read as queued (no owner); meanwhile another process took it.
  CHECK(store->ClaimJob(a, "h1:10", t + 30s, t, "", false).value());
  REQUIRE(store->ReleaseLease("replicas", "h1:10"));
  CHECK_FALSE(store->ClaimJob(a, "h2:20", t + 30s, t, "", false).value());
  // Read as running with its (dead) owner: taken over.
  CHECK(store->ClaimJob(a, "h2:20", t + 30s, t, "h1:10", false).value());
  // A cancel request survives a claim by serve, not an operator's retry.
  REQUIRE(store->RequestCancel(a, "ann"));
  REQUIRE(store->ReleaseLease("replicas", "h2:20"));
  CHECK(store->ClaimJob(a, "h3:30", t + 30s, t, "h2:20", false).value());
  CHECK(store->FindJob(a).value()->cancel_requested);
  REQUIRE(store->ReleaseLease("replicas", "h3:30"));
  CHECK(store->ClaimJob(a, "h4:40", t + 30s, t, "h3:30", true).value());
  CHECK_FALSE(store->FindJob(a).value()->cancel_requested);
  // Ended as it was read, or not at all.
  CHECK_FALSE(store->EndJobIf(a, "running", "h3:30", "cancelled", "by ann").value());
  CHECK(store->EndJobIf(a, "running", "h4:40", "cancelled", "by ann").value());
  Job ended = store->FindJob(a).value().value();
  CHECK(ended.state == "cancelled");
  CHECK(ended.detail == "by ann");
  CHECK(ended.ended.has_value());
  // A cancelled job is never claimed again.
  REQUIRE(store->ReleaseLease("replicas", "h4:40"));
  CHECK_FALSE(store->ClaimJob(a, "h5:50", t + 30s, t, "h4:40", false).value());
}

TEST_CASE("store: a job added claimed takes its pool's lease, or is not added at all", "[store]") {
  auto store = Open("");
  const SysSeconds far = At("2100-01-01T00:00:00Z");
  Job j = MakeTestJob("replicas", {"db1"});
  j.state = "running";
  j.owner = "h1:10";
  int64_t a = store->AddJob(j, Lease{"", 0, "h1:10", far}).value();
  REQUIRE(a > 0);
  CHECK(store->ReadLease("replicas").value()->job == a);
  j.owner = "h2:20";
  CHECK(store->AddJob(j, Lease{"", 0, "h2:20", far}).value() == 0);
  CHECK(store->ListJobs(10).value().size() == 1);
  // Another pool is free.
  j.pool = "analytics";
  CHECK(store->AddJob(j, Lease{"", 0, "h2:20", far}).value() > 0);
}

TEST_CASE("store: a store of schema 1 is migrated: its records and halt kept, jobs added", "[store]") {
  // given: the schema-1 tables as caretaker first released them, with a
  // record and a halt; expect: both read back, step 0 / job 0 on the record,
  // jobs usable, the migration in the audit trail.
  TempDir dir;
  const std::string path = dir.path() + "/caretaker.db";
  RawExec(path, R"sql(
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
INSERT INTO maintenance VALUES ('replicas', 'db2', '10.0.0.2:3306', 'ann@ops1', 'disk', 1764558000, NULL, 'maint');
INSERT INTO halt VALUES (1, 'bob@ops2', 'incident 4412', 1764558000, 0);
PRAGMA user_version = 1;
)sql");
  auto store = Open(path);
  CHECK(store->SchemaVersion() == kStoreSchemaVersion);
  auto records = store->List().value();
  REQUIRE(records.size() == 1);
  CHECK(records[0].server == "db2");
  CHECK(records[0].phase == "maint");
  CHECK(records[0].step == 0);
  CHECK(records[0].job == 0);
  CHECK(store->ReadHalt().value()->reason == "incident 4412");
  CHECK(store->AddJob(MakeTestJob("replicas", {"db1"})).value() > 0);
  auto trail = store->RecentAudit(10).value();
  REQUIRE_FALSE(trail.empty());
  CHECK(trail.front().action == "store.migrated");
  CHECK(trail.front().detail == "schema 1 -> " + std::to_string(kStoreSchemaVersion));
  // Opened again: nothing more to migrate.
  store.reset();
  CHECK(Open(path)->RecentAudit(10).value().size() == trail.size());
}

}  // namespace
}  // namespace caretaker
