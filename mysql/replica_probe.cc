#include "mysql/replica_probe.h"

namespace caretaker::mysql {
namespace {

Error Unexpected(const Connection& c, const std::string& what) {
  return Error{ErrorCode::kQuery, 0, "MySQL " + c.where() + ": " + what + " — is this a MySQL or MariaDB server?"};
}

// Replaces the status's lag with the heartbeat's: unknown without a row.
Status ReadHeartbeatLag(Connection& c, const Heartbeat& heartbeat, ReplicaStatus& status) {
  auto query = HeartbeatQuery(c.where(), heartbeat);
  if (!query) return query.error();
  auto rows = c.Query(query.value());
  if (!rows) return rows.error();
  status.lag_source = LagSource::kHeartbeat;
  status.lag.reset();
  const auto& r = rows.value().rows;
  if (r.empty() || r[0].size() != 2 || !r[0][0] || !r[0][1]) return Ok();
  status.lag = HeartbeatLag(*r[0][0], *r[0][1]);
  if (!status.lag) return Unexpected(c, "heartbeat ts '" + *r[0][0] + "' is not YYYY-MM-DDTHH:MM:SS.ffffff");
  return Ok();
}

// The buffer-pool load status; nullopt when the statement fails or has no row.
std::optional<BufferPoolLoad> ReadWarmup(Connection& c) {
  auto rows = c.Query(kBufferPoolLoadStatement);
  if (!rows) return std::nullopt;
  return BufferPoolLoadFromRows(rows.value());
}

}  // namespace

Result<ServerVersion> ReadVersion(Connection& c) {
  auto rows = c.Query("SELECT VERSION()");
  if (!rows) return rows.error();
  if (rows.value().rows.size() != 1 || rows.value().rows[0].empty() || !rows.value().rows[0][0]) {
    return Unexpected(c, "SELECT VERSION() returned no version");
  }
  return ParseVersion(*rows.value().rows[0][0]);
}

Result<ReplicaStatus> ProbeReplica(Connection& c, const ProbeOptions& options) {
  auto version = ReadVersion(c);
  if (!version) return version.error();
  auto rows = c.Query(ReplicaStatusStatement(version.value()));
  if (!rows) return rows.error();
  auto status = ParseReplicaStatus(c.where(), version.value(), rows.value());
  if (!status) return status.error();
  status.value().warmup = ReadWarmup(c);
  if (options.heartbeat) {
    if (auto lag = ReadHeartbeatLag(c, *options.heartbeat, status.value()); !lag) return lag.error();
  }
  return status;
}

Result<ReplicaStatus> ProbeReplicaOnce(const Target& target, const ProbeOptions& options) {
  auto connection = Connection::Open(target);
  if (!connection) return connection.error();
  return ProbeReplica(connection.value(), options);
}

}  // namespace caretaker::mysql
