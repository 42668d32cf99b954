// The blocking replica probe: one connection's worth of statements that
// produce a ReplicaStatus. Blocks the calling thread (Connector/C): the async
// API in probe.h runs it on the pool.
#pragma once

#include <optional>

#include "mysql/connection.h"
#include "mysql/error.h"
#include "mysql/replica_status.h"

namespace caretaker::mysql {

struct ProbeOptions {
  // When set, lag is read from this pt-heartbeat table (primary's row, against
  // the replica's UTC clock); otherwise from Seconds_Behind_Master/Source.
  std::optional<Heartbeat> heartbeat;
};

// SELECT VERSION(), parsed (ParseVersion).
Result<ServerVersion> ReadVersion(Connection& connection);

// SELECT VERSION(), then SHOW SLAVE/REPLICA STATUS, then the buffer-pool load
// status (warm-up), then the heartbeat row when configured. A missing
// heartbeat row leaves the lag unknown; a warm-up that cannot be read (the
// statement failed, no such status) leaves `warmup` nullopt and is no error.
Result<ReplicaStatus> ProbeReplica(Connection& connection, const ProbeOptions& options);

// Connects to `target`, probes, disconnects.
Result<ReplicaStatus> ProbeReplicaOnce(const Target& target, const ProbeOptions& options);

}  // namespace caretaker::mysql
