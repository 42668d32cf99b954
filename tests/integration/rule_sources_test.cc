// The Nagios source of rules (src/run/rule_sources.h) running the real
// check_mysql (Debian monitoring-plugins-standard) against the sandbox's
// replicas: a replica in sync, one whose SQL thread is stopped, a plugin that
// hangs past its timeout, and a member a person took out (never run).
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "src/base/event_loop.h"
#include "src/run/rule_sources.h"
#include "tests/integration/roll_fixture.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using Is = Verdict::Is;

constexpr const char* kCheckMysql = "/usr/lib/nagios/plugins/check_mysql";

// The client options file check_mysql reads the password from (-f), 0600.
std::string OptionsFile() {
  auto& sb = RollSandbox();
  const std::string path = sb.dir() + "/check_mysql.cnf";
  std::ofstream(path) << "[client]\nuser=caretaker\npassword=" << sb.mysql_password() << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

RuleConfig CheckMysqlRule(const std::string& when) {
  RuleConfig r;
  r.name = "replication";
  r.source = RuleSource::kNagios;
  r.argv = {kCheckMysql, "-f", OptionsFile(), "-H", "{host}", "-P", "{port}", "-S", "-w", "10", "-c", "60"};
  r.timeout = 10s;
  r.when = ParseCondition(when, RuleSource::kNagios).value();
  return r;
}

std::vector<RuleMember> ReadAll(const Config& config, const RuleConfig& rule, OutBy db4 = OutBy::kNone) {
  boost::asio::io_context io;
  auto steps = MakeProcessStepRunner(io.get_executor());
  auto source = MakeNagiosSource(*steps, io, 8);
  std::vector<WatchedMember> members;
  const PoolConfig& pool = config.pools.front();
  for (const MemberConfig& m : pool.members) members.push_back({&pool, &m, m.server == "db4" ? db4 : OutBy::kNone});
  auto read = source->Read(rule, members);
  return RunOn(io, std::move(read));
}

TEST_CASE("nagios source: check_mysql -S on the real replicas, one with its SQL thread stopped", "[rules]") {
  REQUIRE(std::filesystem::exists(kCheckMysql));
  auto& sb = RollSandbox();
  const Config config = LoadConfig(sb.config_path()).value();
  sb.Sql(sb.replicas()[1], "STOP SLAVE SQL_THREAD");
  std::vector<RuleMember> state = ReadAll(config, CheckMysqlRule("state >= critical"));
  std::vector<RuleMember> perf = ReadAll(config, CheckMysqlRule("perf 'seconds behind master' > 60"));
  sb.Sql(sb.replicas()[1], "START SLAVE SQL_THREAD");
  REQUIRE(state.size() == 4);
  for (const RuleMember& m : state) {
    INFO(m.server << ": " << m.when.text);
    if (m.server == "db2") {
      CHECK(m.when.is == Is::kHolds);
      CHECK_THAT(m.when.text, Catch::StartsWith("CRITICAL: ") && Catch::Contains("Slave SQL: No"));
      CHECK(m.clear.is == Is::kNot);  // no clear condition: `when` negated
    } else {
      CHECK(m.when.is == Is::kNot);
      CHECK_THAT(m.when.text, Catch::StartsWith("OK: ") && Catch::Contains("Seconds Behind Master: 0"));
    }
  }
  for (const RuleMember& m : perf) {
    INFO(m.server << ": " << m.when.text);
    // Stopped, check_mysql prints no lag perfdata: unknown, never "not lagging".
    CHECK(m.when.is == (m.server == "db2" ? Is::kUnknown : Is::kNot));
    if (m.server != "db2") CHECK(m.when.text == "'seconds behind master'=0s");
  }
}

TEST_CASE("nagios source: a plugin past its timeout is unknown, members run side by side, a person's host is not run", "[rules]") {
  auto& sb = RollSandbox();
  const Config config = LoadConfig(sb.config_path()).value();
  const std::string marks = sb.dir() + "/ran-";
  RuleConfig hang;
  hang.name = "hang";
  hang.source = RuleSource::kNagios;
  hang.shell = "touch " + marks + "{server}; sleep 30";
  hang.timeout = 1s;
  hang.when = ParseCondition("state >= warning", RuleSource::kNagios).value();
  const auto started = std::chrono::steady_clock::now();
  std::vector<RuleMember> read = ReadAll(config, hang, OutBy::kPerson);
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(read.size() == 4);
  for (const RuleMember& m : read) {
    INFO(m.server << ": " << m.when.text);
    if (m.server == "db4") {
      CHECK(m.out == OutBy::kPerson);
      CHECK_FALSE(std::filesystem::exists(marks + "db4"));
      continue;
    }
    CHECK(m.when.is == Is::kUnknown);
    CHECK_THAT(m.when.text, Catch::EndsWith(": timed out after 1s"));
    CHECK(std::filesystem::exists(marks + m.server));
  }
  CHECK(took < 3500ms);  // three plugins of 1 s each, at once (one after another: 3 s and more)
}

}  // namespace
}  // namespace caretaker
