// `caretaker status`: every pool, every member, its state on each HAProxy
// instance, sessions and checks, and (unless --no-mysql) its replication
// threads, lag and buffer-pool warm-up as its MySQL reports them. Read-only.
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "haproxy/backend_view.h"
#include "mysql/error.h"
#include "mysql/replica_status.h"
#include "policies/capacity.h"
#include "src/config/config.h"

namespace caretaker {

struct PoolStatus {
  const PoolConfig* pool = nullptr;
  haproxy::BackendView view;
  std::vector<std::string> backend_missing_on;  // instances read that have no such backend
};

struct StatusReport {
  std::vector<PoolStatus> pools;
  std::vector<haproxy::InstanceOutcome> instance_errors;  // instances that could not be read

  // MySQL of the members, by "host:port" (MemberWhere). Empty and
  // mysql_probed false with --no-mysql, or when mysql_error says why nothing
  // was probed (the password could not be read).
  bool mysql_probed = false;
  std::map<std::string, mysql::Result<mysql::ReplicaStatus>> mysql;
  std::string mysql_error;
};

// "host:port" of a member, as mysql::Where names its target.
std::string MemberWhere(const MemberConfig& member);

// Short words for the table: "IO:Yes SQL:No"; "0s", "12s", "?" (unknown lag,
// never 0); "done", "loading 41%" ("loading" when the server gives no page
// counts, as MariaDB does), "nothing to load", "not started", "aborted", "?"
// (unreadable or unknown warm-up); an error: mysql::ShortText.
std::string ThreadsText(const mysql::ReplicaStatus& status);
std::string LagText(const mysql::ReplicaStatus& status);
std::string WarmupText(const mysql::ReplicaStatus& status);

// The pool as its capacity policy judges it from this report: HAProxy, and
// each member's MySQL when probed (a member whose MySQL could not be read is
// unreachable, counted out like a DOWN one). status reads no maintenance
// records: a member in one is drained or in MAINT in HAProxy anyway.
policies::PoolSnapshot PolicySnapshot(const StatusReport& report, const PoolStatus& pool);

// True when the report is complete and consistent: every instance answered,
// every pool's backend exists on each of its instances, every configured
// member is a server of that backend there, and, unless MySQL was skipped,
// the password was read and every member's replica status was read (a
// stopped thread or unknown lag is a state, not a failure; an error,
// including "not a replica", is). `status` exits 1 otherwise.
bool IsComplete(const StatusReport& report);

// Pure: builds the report from the dumps of every instance.
StatusReport BuildStatusReport(const Config& config, const std::vector<haproxy::InstanceDump>& dumps);

// Pure renderings. The table colours states when `color`; the JSON is one
// object with a stable shape (documented in README.md).
std::string RenderStatusTable(const StatusReport& report, bool color);
std::string RenderStatusJson(const StatusReport& report);
// The same, written to `out` a pool at a time (no whole copy in memory).
void WriteStatusJson(const StatusReport& report, std::ostream& out);

struct StatusOptions {
  bool json = false;
  bool color = false;
  bool no_mysql = false;  // HAProxy only: do not connect to the members' MySQL
};

// Reads every instance once and probes every member's MySQL once, all
// concurrently (the probes on a small thread pool, never on the event loop),
// prints the report to `out`.
// Returns the exit code: 0 when IsComplete, 1 otherwise (the report still
// shows what could be read, and names what could not).
int RunStatus(const Config& config, const StatusOptions& options, std::ostream& out);

}  // namespace caretaker
