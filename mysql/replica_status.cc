#include "mysql/replica_status.h"

#include <charconv>

namespace caretaker::mysql {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// Reads the leading decimal number of `s` and advances past it; -1 if none.
int TakeNumber(std::string_view& s) {
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc()) return -1;
  s.remove_prefix(end - s.data());
  return value;
}

bool TakeChar(std::string_view& s, std::string_view allowed) {
  if (s.empty() || allowed.find(s.front()) == std::string_view::npos) return false;
  s.remove_prefix(1);
  return true;
}

// Exactly `digits` decimal digits.
int TakeFixed(std::string_view& s, size_t digits) {
  if (s.size() < digits) return -1;
  int value = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    value = value * 10 + (s[i] - '0');
  }
  s.remove_prefix(digits);
  return value;
}

bool IsPlainIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
    if (!ok) return false;
  }
  return true;
}

Error MissingColumn(std::string_view where, const char* statement, const char* column) {
  return Error{ErrorCode::kQuery, 0,
               "MySQL " + std::string(where) + ": " + statement + " has no column " + column +
                   " — is this server a MySQL or MariaDB version caretaker supports?"};
}

const std::optional<std::string>& Cell(const Rows& rows, size_t column) { return rows.rows.front()[column]; }

}  // namespace

const char* FlavorName(Flavor flavor) { return flavor == Flavor::kMariaDB ? "MariaDB" : "MySQL"; }

ServerVersion ParseVersion(std::string_view text) {
  ServerVersion v;
  v.text = std::string(text);
  v.flavor = text.find("MariaDB") != std::string_view::npos ? Flavor::kMariaDB : Flavor::kMySQL;
  std::string_view s = text;
  int* parts[] = {&v.major, &v.minor, &v.patch};
  for (size_t i = 0; i < 3; ++i) {
    if (i > 0 && !TakeChar(s, ".")) break;
    const int n = TakeNumber(s);
    if (n < 0) break;
    *parts[i] = n;
  }
  return v;
}

const char* ReplicaStatusStatement(const ServerVersion& v) {
  if (v.flavor == Flavor::kMySQL && (v.major > 8 || (v.major == 8 && (v.minor > 0 || v.patch >= 22)))) {
    return "SHOW REPLICA STATUS";
  }
  return "SHOW SLAVE STATUS";
}

const char* ThreadStateName(ThreadState state) {
  switch (state) {
    case ThreadState::kYes: return "Yes";
    case ThreadState::kNo: return "No";
    case ThreadState::kConnecting: return "Connecting";
    case ThreadState::kUnknown: return "unknown";
  }
  return "unknown";
}

ThreadState ParseThreadState(const std::optional<std::string>& cell) {
  if (!cell) return ThreadState::kUnknown;
  if (*cell == "Yes") return ThreadState::kYes;
  if (*cell == "No") return ThreadState::kNo;
  if (*cell == "Connecting") return ThreadState::kConnecting;
  return ThreadState::kUnknown;
}

Result<ReplicaStatus> ParseReplicaStatus(std::string_view where, const ServerVersion& version, const Rows& rows) {
  const char* statement = ReplicaStatusStatement(version);
  if (rows.rows.empty()) {
    return Error{ErrorCode::kNotAReplica, 0,
                 "MySQL " + std::string(where) + ": not a replica (" + statement +
                     " returned no row) — is this the primary, or was replication reset?"};
  }
  auto io = rows.Find({"Slave_IO_Running", "Replica_IO_Running"});
  auto sql = rows.Find({"Slave_SQL_Running", "Replica_SQL_Running"});
  auto lag = rows.Find({"Seconds_Behind_Master", "Seconds_Behind_Source"});
  auto io_error = rows.Find({"Last_IO_Error"});
  auto sql_error = rows.Find({"Last_SQL_Error"});
  if (!io) return MissingColumn(where, statement, "Slave_IO_Running/Replica_IO_Running");
  if (!sql) return MissingColumn(where, statement, "Slave_SQL_Running/Replica_SQL_Running");
  if (!lag) return MissingColumn(where, statement, "Seconds_Behind_Master/Source");
  ReplicaStatus status;
  status.version = version;
  status.io_thread = ParseThreadState(Cell(rows, *io));
  status.sql_thread = ParseThreadState(Cell(rows, *sql));
  if (io_error) status.last_io_error = Cell(rows, *io_error).value_or("");
  if (sql_error) status.last_sql_error = Cell(rows, *sql_error).value_or("");
  if (const auto& seconds = Cell(rows, *lag)) {
    long long n = -1;
    auto [end, ec] = std::from_chars(seconds->data(), seconds->data() + seconds->size(), n);
    if (ec == std::errc() && end == seconds->data() + seconds->size() && n >= 0) status.lag = std::chrono::seconds(n);
  }
  status.lag_source = LagSource::kSecondsBehind;
  return status;
}

std::optional<std::chrono::sys_time<microseconds>> ParseHeartbeatTime(std::string_view s) {
  using namespace std::chrono;
  const int y = TakeFixed(s, 4);
  if (y < 0 || !TakeChar(s, "-")) return std::nullopt;
  const int mo = TakeFixed(s, 2);
  if (mo < 0 || !TakeChar(s, "-")) return std::nullopt;
  const int d = TakeFixed(s, 2);
  if (d < 0 || !TakeChar(s, "T ")) return std::nullopt;
  const int h = TakeFixed(s, 2);
  if (h < 0 || h > 23 || !TakeChar(s, ":")) return std::nullopt;
  const int mi = TakeFixed(s, 2);
  if (mi < 0 || mi > 59 || !TakeChar(s, ":")) return std::nullopt;
  const int sec = TakeFixed(s, 2);
  if (sec < 0 || sec > 60) return std::nullopt;
  long fraction_us = 0;
  if (TakeChar(s, ".")) {
    size_t digits = 0;
    for (; digits < s.size() && digits < 6 && s[digits] >= '0' && s[digits] <= '9'; ++digits) {
      fraction_us = fraction_us * 10 + (s[digits] - '0');
    }
    if (digits == 0) return std::nullopt;
    s.remove_prefix(digits);
    for (size_t i = digits; i < 6; ++i) fraction_us *= 10;
  }
  if (!s.empty()) return std::nullopt;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  return sys_days(date) + hours(h) + minutes(mi) + seconds(sec) + microseconds(fraction_us);
}

std::optional<milliseconds> HeartbeatLag(std::string_view ts, std::string_view now) {
  auto then = ParseHeartbeatTime(ts);
  auto current = ParseHeartbeatTime(now);
  if (!then || !current) return std::nullopt;
  if (*current <= *then) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(*current - *then);
}

Result<std::string> HeartbeatQuery(std::string_view where, const Heartbeat& heartbeat) {
  const std::string_view table = heartbeat.table;
  const size_t dot = table.find('.');
  if (dot == std::string_view::npos || !IsPlainIdentifier(table.substr(0, dot)) ||
      !IsPlainIdentifier(table.substr(dot + 1))) {
    return Error{ErrorCode::kBadOption, 0,
                 "MySQL " + std::string(where) + ": heartbeat table '" + std::string(table) +
                     "' is not db.table of letters, digits, _ and $ — fix the heartbeat table setting"};
  }
  return "SELECT ts, UTC_TIMESTAMP(6) FROM `" + std::string(table.substr(0, dot)) + "`.`" +
         std::string(table.substr(dot + 1)) + "` WHERE server_id = " + std::to_string(heartbeat.primary_server_id);
}

}  // namespace caretaker::mysql
