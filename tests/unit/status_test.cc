// The MySQL part of `caretaker status`: replication threads, lag, warm-up
// and probe errors per member, rendered as table columns and a JSON object.
#include <catch2/catch.hpp>
#include <sstream>

#include "src/config/config.h"
#include "src/cli/status_cmd.h"
#include "tests/unit/haproxy_fixture.h"

namespace caretaker {
namespace {

using mysql::Error;
using mysql::ErrorCode;
using mysql::ReplicaStatus;
using mysql::ThreadState;
using std::chrono::milliseconds;

Config TwoMembers() {
  Config c;
  c.path = "t.toml";
  c.haproxy = {{"lb1", "unix:/a", {}, {}}};
  PoolConfig pool;
  pool.name = "main";
  pool.backend = "replicas";
  pool.haproxy = {"lb1"};
  pool.members = {{"a", "10.0.0.1", 3306}, {"f", "10.0.0.6", 3307}};
  c.pools = {pool};
  return c;
}

// Given lb1 in the "mixed" capture (servers a..f of backend replicas).
StatusReport Report(const Config& config) {
  using haproxy::testing::ReadFixture;
  std::vector<haproxy::InstanceDump> dumps = {
      {"lb1", std::nullopt, haproxy::ParseShowStat(ReadFixture("show-stat-mixed.csv")).value(),
       haproxy::ParseServersState(ReadFixture("show-servers-state-mixed.txt")).value()}};
  return BuildStatusReport(config, dumps);
}

ReplicaStatus Replica(ThreadState io, ThreadState sql, std::optional<milliseconds> lag) {
  ReplicaStatus r;
  r.io_thread = io;
  r.sql_thread = sql;
  r.lag = lag;
  return r;
}

ReplicaStatus Warming(std::string_view load_status) {
  ReplicaStatus r = Replica(ThreadState::kYes, ThreadState::kYes, milliseconds(0));
  r.warmup = mysql::ParseBufferPoolLoad(load_status);
  return r;
}

std::string Fold(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  }
  return out;
}

TEST_CASE("status words for threads, lag and errors", "[status]") {
  using T = ThreadState;
  // given a replica status / expect the table's words
  CHECK(ThreadsText(Replica(T::kYes, T::kYes, milliseconds(0))) == "IO:Yes SQL:Yes");
  CHECK(ThreadsText(Replica(T::kConnecting, T::kNo, std::nullopt)) == "IO:Connecting SQL:No");
  CHECK(ThreadsText(Replica(T::kUnknown, T::kYes, std::nullopt)) == "IO:unknown SQL:Yes");
  CHECK(LagText(Replica(T::kYes, T::kYes, milliseconds(0))) == "0s");
  CHECK(LagText(Replica(T::kYes, T::kYes, milliseconds(12'400))) == "12s");
  CHECK(LagText(Replica(T::kYes, T::kNo, std::nullopt)) == "?");  // unknown is never 0
  CHECK(WarmupText(Warming("Buffer pool(s) load completed at 240102 13:45:01")) == "done");
  CHECK(WarmupText(Warming("Loaded 41/100 pages")) == "loading 41%");
  CHECK(WarmupText(Warming("Loaded 2/3 pages")) == "loading 66%");  // never rounded up to done
  CHECK(WarmupText(Warming("Loading buffer pool(s) from /d/ib_buffer_pool")) == "loading");  // MariaDB: no counts
  CHECK(WarmupText(Warming("Cannot open '/d/ib_buffer_pool' for reading: No such file or directory")) ==
        "nothing to load");
  CHECK(WarmupText(Warming("Loading of buffer pool not started")) == "not started");
  CHECK(WarmupText(Warming("Buffer pool(s) load aborted on request")) == "aborted");
  CHECK(WarmupText(Warming("who knows")) == "?");
  CHECK(WarmupText(Replica(T::kYes, T::kYes, milliseconds(0))) == "?");  // could not be read
  CHECK(mysql::ShortText({ErrorCode::kConnect, 2003, "MySQL h:1: refused"}) == "unreachable");
  CHECK(mysql::ShortText({ErrorCode::kTimeout, 2013, "MySQL h:1: no reply"}) == "timed out");
  CHECK(mysql::ShortText({ErrorCode::kAccessDenied, 1045, "MySQL h:1: denied"}) == "access denied");
  CHECK(mysql::ShortText({ErrorCode::kMissingPrivilege, 1227, "MySQL h:1: REPLICA MONITOR (SLAVE MONITOR) is needed"}) ==
        "no REPLICA MONITOR");
  CHECK(mysql::ShortText({ErrorCode::kMissingPrivilege, 1142, "MySQL h:1: SELECT denied"}) == "missing privilege");
  CHECK(mysql::ShortText({ErrorCode::kNotAReplica, 0, "MySQL h:1: not a replica"}) == "not a replica");
}

TEST_CASE("status table: REPL, LAG and WARMUP columns per member, errors spelled out below", "[status]") {
  Config config = TwoMembers();
  StatusReport report = Report(config);
  report.mysql_probed = true;
  report.mysql.emplace("10.0.0.1:3306", Replica(ThreadState::kYes, ThreadState::kNo, std::nullopt));
  report.mysql.emplace("10.0.0.6:3307", Error{ErrorCode::kAccessDenied, 1045,
                                              "MySQL 10.0.0.6:3307: access denied for caretaker — check the password"});
  std::string table = RenderStatusTable(report, false);
  INFO(table);
  std::string folded = Fold(table);
  CHECK_THAT(folded, Catch::Contains(" SERVER MYSQL lb1 SESS CHECK REPL LAG WARMUP POLICY\n"));
  CHECK_THAT(folded, Catch::Contains(" a 10.0.0.1:3306 MAINT 0 - IO:Yes SQL:No ? ? OUT: drained\n"));
  CHECK_THAT(folded, Catch::Contains(" f 10.0.0.6:3307 DRAIN 0 L4OK access denied - - OUT: drained\n"));
  CHECK_THAT(folded, Catch::Contains(" b (not in config) no check 0 - - - - -\n"));  // not a member: not probed
  CHECK_THAT(table, Catch::Contains("  ! f: MySQL 10.0.0.6:3307: access denied for caretaker — check the password\n"));
  // An error is a failure to read: exit 1. A stopped thread alone is a state.
  CHECK_FALSE(IsComplete(report));
  report.mysql.erase("10.0.0.6:3307");
  ReplicaStatus loading = Replica(ThreadState::kYes, ThreadState::kYes, milliseconds(3000));
  loading.warmup = mysql::ParseBufferPoolLoad("Loaded 41/100 pages");
  report.mysql.emplace("10.0.0.6:3307", loading);
  CHECK_THAT(Fold(RenderStatusTable(report, false)),
             Catch::Contains(" f 10.0.0.6:3307 DRAIN 0 L4OK IO:Yes SQL:Yes 3s loading 41% OUT: drained\n"));
  CHECK(IsComplete(report));
}

TEST_CASE("status: a member UP in HAProxy whose MySQL cannot be read is out for the policy", "[status]") {
  // given: h is UP on lb1 but its probe was refused (mysqld died, HAProxy's
  // checks have not noticed yet); a's probe says access denied (caretaker's
  // own account: a state of the config, not of the server).
  Config config = TwoMembers();
  config.pools[0].members = {{"h", "10.0.0.8", 3306}, {"b", "10.0.0.2", 3306}};
  StatusReport report = Report(config);
  report.mysql_probed = true;
  report.mysql.emplace("10.0.0.8:3306", Error{ErrorCode::kConnect, 2003, "MySQL 10.0.0.8:3306: unreachable"});
  report.mysql.emplace("10.0.0.2:3306", Error{ErrorCode::kAccessDenied, 1045, "MySQL 10.0.0.2:3306: denied"});
  std::string folded = Fold(RenderStatusTable(report, false));
  INFO(folded);
  CHECK_THAT(folded, Catch::Contains("2 members, 1 in service\n"));
  CHECK_THAT(folded, Catch::Contains(" h 10.0.0.8:3306 UP 0 L4OK unreachable - - OUT: MySQL unreachable\n"));
  CHECK_THAT(folded, Catch::Contains(" b 10.0.0.2:3306 no check 0 - access denied - - in service\n"));
  std::string json = RenderStatusJson(report);
  CHECK_THAT(json, Catch::Contains(R"("server":"h",)") &&
                       Catch::Contains(R"("policy":{"state":"MySQL unreachable","counts_as_out":true})"));
  // count_unhealthy_as_out = false: in service for the budget, and said so.
  report.pools[0].pool = &config.pools[0];
  config.pools[0].capacity.count_unhealthy_as_out = false;
  folded = Fold(RenderStatusTable(report, false));
  CHECK_THAT(folded, Catch::Contains(" unreachable - - in (MySQL unreachable)\n"));
  // The header does not call it in service: the policy counts it so.
  CHECK_THAT(folded, Catch::Contains(
                         "2 members, 1 in service (and 1 unhealthy counted in service: count_unhealthy_as_out = false)\n"));
}

TEST_CASE("status JSON: a mysql object per member, null when not probed", "[status]") {
  Config config = TwoMembers();
  StatusReport report = Report(config);
  report.mysql_probed = true;
  ReplicaStatus warm = Replica(ThreadState::kYes, ThreadState::kYes, milliseconds(12'000));
  warm.warmup = mysql::ParseBufferPoolLoad("Buffer pool(s) load completed at 240102 13:45:01");
  report.mysql.emplace("10.0.0.1:3306", warm);
  report.mysql.emplace("10.0.0.6:3307", Error{ErrorCode::kNotAReplica, 0, "MySQL 10.0.0.6:3307: not a replica"});
  std::string json = RenderStatusJson(report);
  CHECK_THAT(json, Catch::Contains(R"("mysql":{"io_running":"Yes","sql_running":"Yes","lag_s":12,)"
                                   R"("last_io_error":"","last_sql_error":"",)"
                                   R"("warmup":{"state":"completed","loaded":0,"total":0,)"
                                   R"("text":"Buffer pool(s) load completed at 240102 13:45:01"},"error":null}})"));
  CHECK_THAT(json, Catch::Contains(R"("mysql":{"io_running":null,"sql_running":null,"lag_s":null,"warmup":null,)"
                                   R"("error":{"code":"not_a_replica",)"
                                   R"("message":"MySQL 10.0.0.6:3307: not a replica"}}})"));
  CHECK_THAT(json, Catch::Contains(R"({"server":"b","configured":false,)") &&
                       Catch::Contains(R"(],"mysql":null})"));
  CHECK_THAT(json, Catch::EndsWith(R"("mysql_error":null,"errors":[]})"));

  // Loading with page counts; a warm-up that could not be read is null.
  report.mysql.erase("10.0.0.1:3306");
  ReplicaStatus loading = Replica(ThreadState::kYes, ThreadState::kYes, milliseconds(0));
  loading.warmup = mysql::ParseBufferPoolLoad("Loaded 41/100 pages");
  report.mysql.emplace("10.0.0.1:3306", loading);
  CHECK_THAT(RenderStatusJson(report),
             Catch::Contains(R"("warmup":{"state":"loading","loaded":41,"total":100,"text":"Loaded 41/100 pages"})"));
  report.mysql.erase("10.0.0.1:3306");
  report.mysql.emplace("10.0.0.1:3306", Replica(ThreadState::kYes, ThreadState::kYes, milliseconds(0)));
  CHECK_THAT(RenderStatusJson(report), Catch::Contains(R"("last_sql_error":"","warmup":null,"error":null})"));
}

TEST_CASE("status without MySQL: no REPL column, a password that cannot be read is said once", "[status]") {
  Config config = TwoMembers();
  StatusReport report = Report(config);  // --no-mysql: nothing probed, no error
  CHECK_THAT(Fold(RenderStatusTable(report, false)), Catch::Contains(" SERVER MYSQL lb1 SESS CHECK POLICY\n"));
  CHECK_THAT(RenderStatusJson(report), Catch::Contains(R"(,"mysql":null})"));

  report.mysql_error = "mysql.password_file /x: No such file or directory";
  std::string table = RenderStatusTable(report, false);
  CHECK_THAT(table, Catch::EndsWith("\n! MySQL not probed: mysql.password_file /x: No such file or directory\n"));
  CHECK_FALSE(IsComplete(report));
  CHECK_THAT(RenderStatusJson(report),
             Catch::EndsWith(R"("mysql_error":"mysql.password_file /x: No such file or directory","errors":[]})"));
}

TEST_CASE("status --no-mysql neither reads the password nor connects", "[status]") {
  // Given no HAProxy instance to read and a password file that does not
  // exist, expect a complete report of the configured members and exit 0.
  Config config = TwoMembers();
  config.haproxy.clear();
  config.pools[0].haproxy.clear();
  config.mysql.password_file = "/nonexistent/caretaker.pass";
  std::ostringstream out;
  StatusOptions options;
  options.no_mysql = true;
  CHECK(RunStatus(config, options, out) == 0);
  CHECK_THAT(Fold(out.str()), Catch::Contains(" a 10.0.0.1:3306 - - OUT: down\n") && !Catch::Contains("REPL") &&
                                  !Catch::Contains("nonexistent"));
}

}  // namespace
}  // namespace caretaker
