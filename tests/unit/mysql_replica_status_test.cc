// SHOW SLAVE/REPLICA STATUS read by column name in both spellings, versions,
// and pt-heartbeat lag — all without a server.
#include <catch2/catch.hpp>
#include <string>

#include "mysql/replica_status.h"

namespace caretaker::mysql {
namespace {

using std::chrono::milliseconds;
using Cell = std::optional<std::string>;

// A one-row result whose columns are given in an unusual order, so that
// nothing can work by position.
Rows OneRow(std::vector<std::pair<std::string, Cell>> cells) {
  Rows rows;
  auto& row = rows.rows.emplace_back();
  for (auto& [name, value] : cells) {
    rows.columns.push_back(name);
    row.push_back(value);
  }
  return rows;
}

const ServerVersion kMariaDB = ParseVersion("10.11.19-MariaDB-log");
const ServerVersion kMySQL84 = ParseVersion("8.4.3");

TEST_CASE("versions: flavor and the status statement", "[mysql]") {
  CHECK(kMariaDB.flavor == Flavor::kMariaDB);
  CHECK((kMariaDB.major == 10 && kMariaDB.minor == 11 && kMariaDB.patch == 19));
  CHECK(std::string(ReplicaStatusStatement(kMariaDB)) == "SHOW SLAVE STATUS");
  CHECK(std::string(ReplicaStatusStatement(ParseVersion("11.4.2-MariaDB"))) == "SHOW SLAVE STATUS");
  CHECK(std::string(ReplicaStatusStatement(ParseVersion("8.0.21"))) == "SHOW SLAVE STATUS");
  CHECK(std::string(ReplicaStatusStatement(ParseVersion("8.0.22"))) == "SHOW REPLICA STATUS");
  CHECK(std::string(ReplicaStatusStatement(kMySQL84)) == "SHOW REPLICA STATUS");
  CHECK(std::string(ReplicaStatusStatement(ParseVersion("5.7.44-log"))) == "SHOW SLAVE STATUS");
  CHECK(ParseVersion("8.4.3").flavor == Flavor::kMySQL);
}

TEST_CASE("MariaDB's old column names: running, lag known", "[mysql]") {
  Rows rows = OneRow({{"Last_SQL_Error", ""},
                      {"Seconds_Behind_Master", "3"},
                      {"Slave_SQL_Running", "Yes"},
                      {"Last_IO_Error", ""},
                      {"Slave_IO_Running", "Yes"}});
  auto s = ParseReplicaStatus("db1:3306", kMariaDB, rows);
  REQUIRE(s);
  CHECK(s.value().ThreadsRunning());
  CHECK(s.value().lag == milliseconds(3000));
  CHECK(s.value().lag_source == LagSource::kSecondsBehind);
}

TEST_CASE("MySQL 8's new column names: connecting IO thread and its error", "[mysql]") {
  Rows rows = OneRow({{"Replica_IO_Running", "Connecting"},
                      {"Replica_SQL_Running", "Yes"},
                      {"Seconds_Behind_Source", Cell()},
                      {"Last_IO_Error", "error connecting to source"},
                      {"Last_SQL_Error", ""}});
  auto s = ParseReplicaStatus("db1:3306", kMySQL84, rows);
  REQUIRE(s);
  CHECK(s.value().io_thread == ThreadState::kConnecting);
  CHECK(s.value().sql_thread == ThreadState::kYes);
  CHECK_FALSE(s.value().ThreadsRunning());
  CHECK(s.value().last_io_error == "error connecting to source");
  CHECK_FALSE(s.value().lag.has_value());  // NULL is unknown, never 0
}

TEST_CASE("a stopped SQL thread: NULL lag is unknown", "[mysql]") {
  Rows rows = OneRow({{"Slave_IO_Running", "Yes"},
                      {"Slave_SQL_Running", "No"},
                      {"Seconds_Behind_Master", Cell()},
                      {"Last_SQL_Error", "Error 'Duplicate entry' on query"}});
  auto s = ParseReplicaStatus("db1:3306", kMariaDB, rows);
  REQUIRE(s);
  CHECK(s.value().sql_thread == ThreadState::kNo);
  CHECK_FALSE(s.value().lag.has_value());
  CHECK(s.value().last_sql_error == "Error 'Duplicate entry' on query");
}

TEST_CASE("no row is not a replica, a missing column is a query error", "[mysql]") {
  Rows empty;
  empty.columns = {"Slave_IO_Running"};
  auto none = ParseReplicaStatus("primary:3306", kMariaDB, empty);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::kNotAReplica);
  CHECK(none.error().message.find("primary:3306") != std::string::npos);
  CHECK(none.error().message.find("SHOW SLAVE STATUS") != std::string::npos);

  auto missing = ParseReplicaStatus("db1:3306", kMariaDB, OneRow({{"Slave_IO_Running", "Yes"}}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kQuery);
}

TEST_CASE("Seconds_Behind_Master: large values are kept, garbage is unknown", "[mysql]") {
  auto lag_of = [](Cell seconds) {
    return ParseReplicaStatus(
               "db1:3306", kMariaDB,
               OneRow({{"Slave_IO_Running", "Yes"}, {"Slave_SQL_Running", "Yes"}, {"Seconds_Behind_Master", seconds}}))
        .value()
        .lag;
  };
  CHECK(lag_of(Cell("0")) == milliseconds(0));
  CHECK(lag_of(Cell("4000000000")) == std::chrono::seconds(4000000000LL));
  CHECK_FALSE(lag_of(Cell("12abc")).has_value());
  CHECK_FALSE(lag_of(Cell("-1")).has_value());
  CHECK_FALSE(lag_of(Cell()).has_value());
}

TEST_CASE("thread states", "[mysql]") {
  CHECK(ParseThreadState(Cell("Yes")) == ThreadState::kYes);
  CHECK(ParseThreadState(Cell("No")) == ThreadState::kNo);
  CHECK(ParseThreadState(Cell("Connecting")) == ThreadState::kConnecting);
  CHECK(ParseThreadState(Cell("Preparing")) == ThreadState::kUnknown);
  CHECK(ParseThreadState(Cell()) == ThreadState::kUnknown);
}

TEST_CASE("heartbeat times and lag", "[mysql]") {
  CHECK(HeartbeatLag("2026-11-25T06:00:00.000000", "2026-11-25 06:00:01.250000") == milliseconds(1250));
  CHECK(HeartbeatLag("2026-11-25T06:00:00", "2026-11-25 06:00:00.5") == milliseconds(500));
  CHECK(HeartbeatLag("2026-12-31T23:59:59.900000", "2027-01-01 00:00:00.100000") == milliseconds(200));
  CHECK(HeartbeatLag("2026-11-25T06:00:02.000000", "2026-11-25 06:00:01.000000") == milliseconds(0));
  CHECK_FALSE(HeartbeatLag("2026-11-25", "2026-11-25 06:00:00").has_value());
  CHECK_FALSE(HeartbeatLag("2026-02-30T00:00:00", "2026-11-25 06:00:00").has_value());
  CHECK_FALSE(HeartbeatLag("2026-11-25T06:00:00.x", "2026-11-25 06:00:00").has_value());
  CHECK_FALSE(HeartbeatLag("2026-11-25T06:00:00Z", "2026-11-25 06:00:00").has_value());
}

TEST_CASE("heartbeat query quotes a plain db.table and refuses anything else", "[mysql]") {
  auto q = HeartbeatQuery("db1:3306", Heartbeat{"percona.heartbeat", 7});
  REQUIRE(q);
  CHECK(q.value() == "SELECT ts, UTC_TIMESTAMP(6) FROM `percona`.`heartbeat` WHERE server_id = 7");
  for (const char* bad : {"heartbeat", "a.b.c", "a`.b", "a.b; DROP TABLE x", ".b", "a."}) {
    CAPTURE(bad);
    auto e = HeartbeatQuery("db1:3306", Heartbeat{bad, 1});
    REQUIRE_FALSE(e);
    CHECK(e.error().code == ErrorCode::kBadOption);
  }
}

}  // namespace
}  // namespace caretaker::mysql
