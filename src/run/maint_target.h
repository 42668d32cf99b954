// What `caretaker maint` works on: the member a HOST argument names, how to
// reach its MySQL, and the pool as its capacity policy sees it right now.
// Pure functions: the commands read HAProxy and MySQL and pass the results in.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "haproxy/backend_view.h"
#include "mysql/replica_probe.h"
#include "policies/capacity.h"
#include "src/config/config.h"
#include "src/store/maint_record.h"

namespace caretaker {

struct MemberRef {
  const PoolConfig* pool = nullptr;
  const MemberConfig* member = nullptr;
};

// HOST is a member's server name ("db2"), "pool/server", its host, or its
// "host:port". The error says what is known when nothing matches, and how to
// disambiguate when several members match.
Result<MemberRef> FindMember(const Config& config, std::string_view host);

// The member's MySQL as the probes reach it: the config's user, timeouts.
mysql::Target MemberTarget(const Config& config, const MemberConfig& member, const std::string& password);
std::optional<mysql::Target> PrimaryTarget(const Config& config, const PoolConfig& pool,
                                           const std::string& password);
// Heartbeat table of the pool's gates, when configured.
mysql::ProbeOptions PoolProbeOptions(const PoolConfig& pool);

// The pool for the capacity policy, from live state:
// - a maintenance record: in maintenance;
// - drained or in maint on any instance read: drained;
// - not UP with weight > 0 on every instance: down;
// - its MySQL could not be read (refused, timed out, lost; anything but
//   caretaker's own configuration or "not a replica"): unreachable;
// - replication threads not both running, or lag above the pool's max_lag:
//   lagging (unknown lag is not known to lag);
// - otherwise in service.
// `mysql` is keyed by server name; a member missing from it was not probed.
policies::PoolSnapshot BuildSnapshot(const PoolConfig& pool, const haproxy::BackendView& view,
                                     const std::map<std::string, mysql::Result<mysql::ReplicaStatus>>& mysql,
                                     const std::vector<MaintRecord>& records);

// "db2 (pool replicas, 127.0.0.1:3307)": how messages name a member.
std::string Describe(const MemberRef& ref);

}  // namespace caretaker
