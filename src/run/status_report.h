// The fleet as it is now, for `caretaker status` and serve's pool watch:
// every pool, every member, its state on each HAProxy instance, sessions and
// checks, and (when probed) its replication threads, lag and buffer-pool
// warm-up as its MySQL reports them. Read-only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "haproxy/backend_view.h"
#include "mysql/error.h"
#include "mysql/probe.h"
#include "mysql/replica_status.h"
#include "policies/capacity.h"
#include "src/base/async.h"
#include "src/base/result.h"
#include "src/config/config.h"
#include "src/run/fleet.h"
#include "src/store/maint_record.h"
#include "src/walk/walker.h"

namespace boost::json {
class array;
class object;
}  // namespace boost::json

namespace caretaker {

struct PoolStatus {
  const PoolConfig* pool = nullptr;
  haproxy::BackendView view;
  std::vector<std::string> backend_missing_on;  // instances read that have no such backend
};

struct StatusReport {
  std::vector<PoolStatus> pools;
  std::vector<haproxy::InstanceOutcome> instance_errors;  // instances that could not be read
  std::map<std::string, size_t> instance_servers;         // instances read: servers each listed

  // MySQL of the members, by "host:port" (MemberWhere). Empty and
  // mysql_probed false with --no-mysql, or when mysql_error says why nothing
  // was probed (the password could not be read).
  bool mysql_probed = false;
  std::map<std::string, mysql::Result<mysql::ReplicaStatus>> mysql;
  std::string mysql_error;

  const PoolStatus* Find(const std::string& pool) const;
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

// The member's probe result; null when not probed or not a configured member.
const mysql::Result<mysql::ReplicaStatus>* MysqlOf(const StatusReport& report, const PoolConfig& pool,
                                                   const std::string& server);
// The member's state for the policy; null for a server not in the config.
const policies::Member* PolicyOf(const policies::PoolSnapshot& snapshot, const std::string& server);

// The pool as its capacity policy judges it from this report: HAProxy, and
// each member's MySQL when probed (a member whose MySQL could not be read is
// unreachable, counted out like a DOWN one), and the maintenance `records`
// given (`status` reads none: a member in one is drained or in MAINT in
// HAProxy anyway).
policies::PoolSnapshot PolicySnapshot(const StatusReport& report, const PoolStatus& pool,
                                      const std::vector<MaintRecord>& records = {});

// The pool as a walk would see it from this report (walker.h PoolView,
// members in config order): HAProxy merged over its instances, each
// member's state as PolicySnapshot judges it with `records`, held by the
// record's owner when it has one. For a plan made from an earlier reading
// (serve's); a walk reads live state again before every drain.
PoolView PoolViewOf(const StatusReport& report, const PoolStatus& pool, const std::vector<MaintRecord>& records);

// True when the report is complete and consistent: every instance answered,
// every pool's backend exists on each of its instances, every configured
// member is a server of that backend there, and, unless MySQL was skipped,
// the password was read and every member's replica status was read (a
// stopped thread or unknown lag is a state, not a failure; an error,
// including "not a replica", is).
bool IsComplete(const StatusReport& report);

// Pure: builds the report from the dumps of every instance.
StatusReport BuildStatusReport(const Config& config, const std::vector<haproxy::InstanceDump>& dumps);

// Reads every instance of `fleet` once and, when `password` holds one,
// probes every distinct member host:port once through `probe`, all at once
// on `io` (the blocking MySQL calls run behind `probe`, never on the loop).
// A password that could not be read is the report's mysql_error (it is
// taken by value: the coroutine outlives the caller's temporaries); `no_mysql`
// probes nothing. Each read is bounded by its client's timeouts.
Awaitable<StatusReport> ReadStatusReport(boost::asio::io_context& io, const Config& config, const Fleet& fleet,
                                         mysql::ReplicaProbe& probe, Result<std::string> password,
                                         bool no_mysql);

// One pool of the report as JSON: {"name", "backend", "haproxy",
// "backend_missing_on", "members": [{"server", "host", "port", "configured",
// "admin", "agree", "in_service", "out_everywhere", "policy", "sessions",
// "haproxy": [per instance], "mysql"}]} (README.md, `status --json`).
boost::json::object PoolStatusView(const StatusReport& report, const PoolStatus& pool);
// The instances that could not be read: {"lb", "code", "message"} each.
boost::json::array StatusErrorsView(const StatusReport& report);

}  // namespace caretaker
