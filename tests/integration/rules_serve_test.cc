// Rules in `caretaker serve` on the real sandbox (src/serve/rules.h): a
// replica whose SQL thread stopped is depooled after `for` and repooled
// through the gates once it runs again; observe mode changes nothing; a
// halt stops every rule; a host a person put in MAINT is never touched.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/serve_fixture.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

// A rule on stopped replication, quick enough for a test.
std::string StoppedRule(const std::string& name, const std::string& extra = "") {
  return "[[rules]]\nname = \"" + name + "\"\nwhen = \"replication is stopped\"\nfor = \"2s\"\n"
         "clear_for = \"1s\"\ninterval = \"1s\"\ncooldown = \"1s\"\n" + extra;
}

void StopSql(size_t i) { RollSandbox().Sql(RollSandbox().replicas()[i], "STOP SLAVE SQL_THREAD"); }
void StartSql(size_t i) { RollSandbox().Sql(RollSandbox().replicas()[i], "START SLAVE SQL_THREAD"); }

// No record left, every member READY: the state the next test starts from.
void CheckClean(const std::string& config) {
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
  CHECK(Caretaker("maint list --json", config).out.find("\"server\"") == std::string::npos);
}

TEST_CASE("a rule depools a replica whose SQL thread stopped after `for`, and repools it through the gates",
          "[serve][rules]") {
  const std::string config = ConfigWith("rules-stopped.toml", StoppedRule("sql-stopped"));
  Served serve = Serve(config);
  REQUIRE(WaitForText(serve.proc.err_path, "rule.loaded rule=sql-stopped"));
  StopSql(1);
  const bool out = WaitForText(serve.proc.err_path,
                               "rule.act.end rule=sql-stopped action=depool target=replicas/db2 result=done", 30s);
  CHECK(out);
  CHECK(AdminStates("db2") == "1 1");
  Run list = Caretaker("maint list --json", config);
  CHECK(list.out.find("\"who\":\"rule:sql-stopped\"") != std::string::npos);
  // Every other member stays in.
  for (const char* m : {"db1", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");

  StartSql(1);
  const bool back = WaitForText(serve.proc.err_path,
                                "rule.act.end rule=sql-stopped action=repool target=replicas/db2 result=done", 30s);
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(back);
  CHECK(served.err.find("gate") != std::string::npos);  // the repool went through the gates
  CHECK(served.exit_code == 0);
  CheckClean(config);
}

}  // namespace
}  // namespace caretaker
