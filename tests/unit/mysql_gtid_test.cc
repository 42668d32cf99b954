// GTID catch-up without a server: the statements for each flavor, positions
// that may be embedded in SQL, the wait's replies and its slices.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "mysql/gtid.h"

namespace caretaker::mysql {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const ServerVersion kMariaDB = ParseVersion("10.11.19-MariaDB-0+deb12u1-log");
const ServerVersion kMySQL = ParseVersion("8.0.36");

Rows OneValue(std::optional<std::string> value) {
  Rows rows;
  rows.columns = {"x"};
  rows.rows.push_back({std::move(value)});
  return rows;
}

TEST_CASE("gtid: the position statement per flavor", "[mysql][gtid]") {
  CHECK(std::string(GtidPositionStatement(kMariaDB)) == "SELECT @@GLOBAL.gtid_binlog_pos");
  CHECK(std::string(GtidPositionStatement(kMySQL)) == "SELECT @@GLOBAL.gtid_executed");
}

TEST_CASE("gtid: positions are checked before they reach SQL", "[mysql][gtid]") {
  // given a position / expect it normalized, or refused
  const std::vector<std::pair<std::string, std::string>> accepted = {
      {"", ""},
      {"0-1-6", "0-1-6"},
      {"0-1-6,1-2-300", "0-1-6,1-2-300"},
      {" 0-1-6 \n", "0-1-6"},  // MariaDB rejects the spaces: they go
      {"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,\n4d8b5c1e-71ca-11e1-9e33-c80aa9429562:1-3:7",
       "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,4d8b5c1e-71ca-11e1-9e33-c80aa9429562:1-3:7"},  // MySQL wraps lines
  };
  for (const auto& [given, expected] : accepted) {
    INFO("'" << given << "'");
    auto r = NormalizeGtidPosition("db1:3306", given);
    REQUIRE(r);
    CHECK(r.value() == expected);
  }
  for (std::string bad : {"0-1-6'); DROP TABLE t; --", "0-1-6' OR '1", "0-1-x", "0-1-6;", "0-1-6\\", "0-1-6\"",
                          "3e11fa47:1-5/2", "uuid:1"}) {
    INFO("'" << bad << "'");
    auto r = NormalizeGtidPosition("db1:3306", bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kBadOption);
    CHECK(r.error().message.find("db1:3306") != std::string::npos);
  }
}

TEST_CASE("gtid: the wait statement, fractions on MariaDB, whole seconds on MySQL", "[mysql][gtid]") {
  // given flavor, wait / expect the statement
  CHECK(GtidWaitStatement(kMariaDB, "0-1-6", milliseconds(2500)) == "SELECT MASTER_GTID_WAIT('0-1-6', 2.500)");
  CHECK(GtidWaitStatement(kMariaDB, "0-1-6", milliseconds(5)) == "SELECT MASTER_GTID_WAIT('0-1-6', 0.005)");
  CHECK(GtidWaitStatement(kMariaDB, "0-1-6", milliseconds(0)) == "SELECT MASTER_GTID_WAIT('0-1-6', 0.000)");
  // A negative wait would mean "forever" to MariaDB: never sent.
  CHECK(GtidWaitStatement(kMariaDB, "", milliseconds(-40)) == "SELECT MASTER_GTID_WAIT('', 0.000)");
  CHECK(GtidWaitStatement(kMySQL, "u:1-5", milliseconds(2500)) == "SELECT WAIT_FOR_EXECUTED_GTID_SET('u:1-5', 3)");
  CHECK(GtidWaitStatement(kMySQL, "u:1-5", milliseconds(3000)) == "SELECT WAIT_FOR_EXECUTED_GTID_SET('u:1-5', 3)");
  // 0 would mean "forever" to MySQL: at least 1.
  CHECK(GtidWaitStatement(kMySQL, "u:1-5", milliseconds(0)) == "SELECT WAIT_FOR_EXECUTED_GTID_SET('u:1-5', 1)");
}

TEST_CASE("gtid: the wait's reply is reached, timed out, or an error", "[mysql][gtid]") {
  struct Case {
    const ServerVersion& version;
    std::optional<std::string> value;
    std::optional<bool> reached;  // nullopt = an error
  };
  const std::vector<Case> cases = {
      {kMariaDB, "0", true}, {kMariaDB, "-1", false}, {kMariaDB, std::nullopt, std::nullopt},
      {kMariaDB, "1", std::nullopt}, {kMySQL, "0", true}, {kMySQL, "1", false},
      {kMySQL, "2", std::nullopt},  // killed
      {kMySQL, "-1", std::nullopt}, {kMySQL, std::nullopt, std::nullopt},
  };
  for (const Case& c : cases) {
    INFO(FlavorName(c.version.flavor) << " " << c.value.value_or("NULL"));
    auto r = ParseGtidWaitReply("db1:3306", c.version, OneValue(c.value));
    REQUIRE(r.has_value() == c.reached.has_value());
    if (c.reached) {
      CHECK(r.value() == *c.reached);
    } else {
      CHECK(r.error().code == ErrorCode::kQuery);
      CHECK(r.error().message.find("db1:3306") != std::string::npos);
    }
  }
  Rows empty;
  empty.columns = {"x"};
  CHECK_FALSE(ParseGtidWaitReply("db1:3306", kMariaDB, empty));
}

TEST_CASE("gtid: a wait slice is half the read timeout, at least 1 s", "[mysql][gtid]") {
  CHECK(GtidWaitSlice(seconds(10)) == milliseconds(5000));
  CHECK(GtidWaitSlice(seconds(5)) == milliseconds(2500));
  CHECK(GtidWaitSlice(seconds(2)) == milliseconds(1000));
  CHECK(GtidWaitSlice(seconds(1)) == milliseconds(1000));
  CHECK(GtidWaitSlice(seconds(0)) == milliseconds(1000));
}

}  // namespace
}  // namespace caretaker::mysql
