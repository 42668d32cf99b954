#include "mysql/gtid.h"

#include <algorithm>

#include "mysql/replica_probe.h"

namespace caretaker::mysql {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

bool IsGtidChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-' || c == ':' ||
         c == ',';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The single cell of a one-row, one-column result; `ok` false when the shape differs.
struct Cell {
  bool ok = false;
  std::optional<std::string> value;
};

Cell SingleCell(const Rows& rows) {
  if (rows.rows.size() != 1 || rows.rows[0].size() != 1) return {};
  return {true, rows.rows[0][0]};
}

const char* WaitFunction(const ServerVersion& version) {
  return version.flavor == Flavor::kMariaDB ? "MASTER_GTID_WAIT" : "WAIT_FOR_EXECUTED_GTID_SET";
}

Error Unexpected(std::string_view where, const std::string& what) {
  return Error{ErrorCode::kQuery, 0, "MySQL " + std::string(where) + ": " + what};
}

}  // namespace

const char* GtidPositionStatement(const ServerVersion& version) {
  return version.flavor == Flavor::kMariaDB ? "SELECT @@GLOBAL.gtid_binlog_pos" : "SELECT @@GLOBAL.gtid_executed";
}

Result<std::string> NormalizeGtidPosition(std::string_view where, std::string_view position) {
  std::string out;
  for (char c : position) {
    if (IsSpace(c)) continue;
    if (!IsGtidChar(c)) {
      return Error{ErrorCode::kBadOption, 0,
                   "MySQL " + std::string(where) + ": GTID position '" + std::string(position) +
                       "' holds a character other than digits, a-f, '-', ':' and ',' — is it a GTID position?"};
    }
    out += c;
  }
  return out;
}

std::string GtidWaitStatement(const ServerVersion& version, std::string_view position, milliseconds wait) {
  const long long ms = std::max<long long>(wait.count(), 0);
  std::string timeout;
  if (version.flavor == Flavor::kMariaDB) {
    const std::string fraction = std::to_string(ms % 1000);
    timeout = std::to_string(ms / 1000) + "." + std::string(3 - fraction.size(), '0') + fraction;
  } else {
    timeout = std::to_string(std::max<long long>((ms + 999) / 1000, 1));
  }
  return std::string("SELECT ") + WaitFunction(version) + "('" + std::string(position) + "', " + timeout + ")";
}

Result<bool> ParseGtidWaitReply(std::string_view where, const ServerVersion& version, const Rows& rows) {
  const std::string function = WaitFunction(version);
  const Cell cell = SingleCell(rows);
  if (!cell.ok) return Unexpected(where, function + " did not return one value");
  if (!cell.value) {
    return Unexpected(where, function + " returned NULL — is this server a replica, and the position valid?");
  }
  if (*cell.value == "0") return true;
  if (*cell.value == (version.flavor == Flavor::kMariaDB ? "-1" : "1")) return false;
  return Unexpected(where, function + " returned " + *cell.value + " — was the wait killed?");
}

milliseconds GtidWaitSlice(seconds read_timeout) {
  return std::max<milliseconds>(std::chrono::duration_cast<milliseconds>(read_timeout) / 2, seconds(1));
}

Result<std::string> ReadGtidPosition(Connection& primary, const ServerVersion& version) {
  const char* statement = GtidPositionStatement(version);
  auto rows = primary.Query(statement);
  if (!rows) return rows.error();
  const Cell cell = SingleCell(rows.value());
  if (!cell.ok || !cell.value) {
    return Unexpected(primary.where(), std::string(statement) + " returned no value — does this server use GTIDs?");
  }
  return NormalizeGtidPosition(primary.where(), *cell.value);
}

Result<bool> WaitForGtid(Connection& replica, const ServerVersion& version, std::string_view position,
                         milliseconds timeout, seconds read_timeout) {
  auto normalized = NormalizeGtidPosition(replica.where(), position);
  if (!normalized) return normalized.error();
  const milliseconds slice = GtidWaitSlice(read_timeout);
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    auto rows = replica.Query(GtidWaitStatement(version, normalized.value(), std::clamp(left, milliseconds(0), slice)));
    if (!rows) return rows.error();
    auto reached = ParseGtidWaitReply(replica.where(), version, rows.value());
    if (!reached || reached.value()) return reached;
    if (steady_clock::now() >= deadline) return false;
  }
}

Result<PrimaryPosition> ReadPrimaryPosition(const Target& primary) {
  auto connection = Connection::Open(primary);
  if (!connection) return connection.error();
  auto version = ReadVersion(connection.value());
  if (!version) return version.error();
  auto position = ReadGtidPosition(connection.value(), version.value());
  if (!position) return position.error();
  return PrimaryPosition{version.value().flavor, std::move(position).value()};
}


Result<bool> WaitForPosition(const Target& replica, const Target& primary, const PrimaryPosition& position,
                             milliseconds timeout) {
  auto connection = Connection::Open(replica);
  if (!connection) return connection.error();
  auto version = ReadVersion(connection.value());
  if (!version) return version.error();
  if (version.value().flavor != position.flavor) {
    return Error{ErrorCode::kBadOption, 0,
                 "MySQL " + Where(replica) + ": a " + FlavorName(version.value().flavor) + " replica of a " +
                     FlavorName(position.flavor) + " primary (" + Where(primary) +
                     ") cannot wait for its GTID position — is the primary setting right?"};
  }
  return WaitForGtid(connection.value(), version.value(), position.position, timeout, replica.read_timeout);
}

Result<bool> WaitForPrimaryPosition(const Target& primary, const Target& replica, milliseconds timeout) {
  auto position = ReadPrimaryPosition(primary);
  if (!position) return position.error();
  return WaitForPosition(replica, primary, position.value(), timeout);
}

}  // namespace caretaker::mysql
