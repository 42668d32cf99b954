// The caretaker binary, run as a user would, against the shared sandbox.
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/cli_run.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker {
namespace {

// A status table (folded) with the CHECK column as it reads once no check
// runs: a check in progress on one instance makes it "lb1:* L7OK lb2:L7OK",
// on all "* L7OK", at any moment the table is read.
std::string SettledChecks(const std::string& folded) {
  std::string out = std::regex_replace(folded, std::regex("lb[0-9]+:(\\* )?L7OK( lb[0-9]+:(\\* )?L7OK)*"), "L7OK");
  return std::regex_replace(out, std::regex("\\* L7OK"), "L7OK");
}

// Runs `caretaker -c CONFIG ARGS` against the shared sandbox (its config by
// default); captures stdout and stderr.
Run Caretaker(const std::string& args, std::string config = "") {
  return RunCaretaker(sandbox::Shared(), args, config);
}

std::string SandboxConfigText() { return ConfigText(sandbox::Shared()); }

std::string WriteSandboxFile(const std::string& name, const std::string& text) {
  return WriteFileIn(sandbox::Shared(), name, text);
}

TEST_CASE("caretaker check accepts the sandbox's config", "[cli]") {
  Run r = Caretaker("check");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("OK (2 HAProxy instances, 1 pool, 3 members)\n"
                                    "pool replicas: 3 members, min_in_service 2 (50%), max_out 1 — "
                                    "1 may go out at a time\n"));
}

TEST_CASE("caretaker status shows every member on both instances", "[cli]") {
  Run r = Caretaker("status");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("pool replicas") && Catch::Contains("3 in service"));
  for (const auto& replica : sandbox::Shared().replicas()) {
    std::string address = "127.0.0.1:" + std::to_string(replica.port);
    CHECK_THAT(r.out, Catch::Contains(replica.name) && Catch::Contains(address));
  }
  CHECK(r.out.find("\033[") == std::string::npos);  // no colours when not a terminal
  // Each member's row: its state on lb1 and on lb2, sessions, check.
  std::string folded = SettledChecks(FoldSpaces(r.out));
  CHECK_THAT(folded, Catch::Contains(" SERVER MYSQL lb1 lb2 SESS CHECK REPL LAG WARMUP POLICY\n"));
  for (const auto& replica : sandbox::Shared().replicas()) {
    // Both threads running and a small lag (the sandbox is idle).
    CHECK_THAT(folded, Catch::Contains(" " + replica.name + " 127.0.0.1:" + std::to_string(replica.port) +
                                       " UP UP 0 L7OK IO:Yes SQL:Yes ") &&
                           Catch::Matches("[\\s\\S]* " + replica.name + " [^\\n]* IO:Yes SQL:Yes [0-5]s done in service\n[\\s\\S]*"));
  }
}

TEST_CASE("caretaker status --json shows the real state of each instance", "[cli]") {
  auto& sb = sandbox::Shared();
  sb.HaproxyCommand(1, "set server replicas/db2 state drain");
  Run r = Caretaker("status --json");
  sb.HaproxyCommand(1, "set server replicas/db2 state ready");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("{\"pools\":[{\"name\":\"replicas\",\"backend\":\"replicas\""));
  // db2 is drained on lb2 only: the instances disagree and both states show.
  CHECK_THAT(r.out, Catch::Contains("{\"server\":\"db2\",") && Catch::Contains("\"agree\":false"));
  CHECK_THAT(r.out, Catch::Contains("\"lb\":\"lb2\",\"present\":true,\"admin\":\"DRAIN\",\"admin_state\":8"));
  CHECK_THAT(r.out, Catch::Contains("\"errors\":[]"));
  CHECK_THAT(r.out, Catch::Contains("\"mysql\":{\"io_running\":\"Yes\",\"sql_running\":\"Yes\",\"lag_s\":") &&
                        Catch::Contains("\"mysql_error\":null"));
  CHECK(r.out.find(sb.mysql_password()) == std::string::npos);
}

// Restarts a replica's SQL thread when the test leaves, even on failure.
struct SqlThreadStopped {
  const sandbox::MysqlNode& node;
  explicit SqlThreadStopped(const sandbox::MysqlNode& n) : node(n) {
    sandbox::Shared().Sql(node, "STOP SLAVE SQL_THREAD");
  }
  ~SqlThreadStopped() { sandbox::Shared().Sql(node, "START SLAVE SQL_THREAD"); }
};

TEST_CASE("status shows a replica whose SQL thread is stopped, with unknown lag, and exits 0", "[cli]") {
  auto& sb = sandbox::Shared();
  const sandbox::MysqlNode& db2 = sb.replicas()[1];
  Run table, json;
  {
    SqlThreadStopped stopped(db2);
    table = Caretaker("status");
    json = Caretaker("status --json");
  }
  INFO(table.out << table.err << json.out);
  // A stopped thread is a state that status reports, not a failure to read.
  CHECK(table.exit_code == 0);
  CHECK(json.exit_code == 0);
  std::string folded = SettledChecks(FoldSpaces(table.out));
  CHECK_THAT(folded, Catch::Contains(" " + db2.name + " 127.0.0.1:" + std::to_string(db2.port) +
                                     " UP UP 0 L7OK IO:Yes SQL:No ? done OUT: lagging\n"));
  CHECK_THAT(json.out, Catch::Contains("\"mysql\":{\"io_running\":\"Yes\",\"sql_running\":\"No\",\"lag_s\":null,"));
  CHECK(json.out.find(sb.mysql_password()) == std::string::npos);
}

TEST_CASE("status with an unreadable MySQL password shows HAProxy, says why once, exits 1", "[cli]") {
  auto& sb = sandbox::Shared();
  std::string missing = sb.dir() + "/no-such.pass";
  std::string path = WriteSandboxFile("nopass.toml", Replaced(SandboxConfigText(), sb.password_file(), missing));
  Run r = Caretaker("status", path);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("3 in service") && !Catch::Contains("REPL"));
  size_t first = r.out.find(missing);
  REQUIRE(first != std::string::npos);
  CHECK(r.out.find(missing, first + 1) == std::string::npos);  // said once
  CHECK(r.err.find(missing) == std::string::npos);

  r = Caretaker("status --json", path);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\"mysql\":null}") && Catch::Contains("\"mysql_error\":\""));
}

TEST_CASE("status names a member whose MySQL refuses the password, and exits 1", "[cli]") {
  auto& sb = sandbox::Shared();
  std::string wrong = WriteSandboxFile("wrong.pass", "not-the-password\n");
  REQUIRE(chmod(wrong.c_str(), 0600) == 0);
  std::string path = WriteSandboxFile("wrongpass.toml", Replaced(SandboxConfigText(), sb.password_file(), wrong));
  Run r = Caretaker("status", path);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  std::string folded = SettledChecks(FoldSpaces(r.out));
  for (const auto& replica : sb.replicas()) {
    CHECK_THAT(folded, Catch::Contains(" " + replica.name + " 127.0.0.1:" + std::to_string(replica.port) +
                                       " UP UP 0 L7OK access denied - - in service\n") &&
                           Catch::Contains("! " + replica.name + ": "));
  }
  CHECK(r.out.find("not-the-password") == std::string::npos);
  CHECK(r.out.find(sb.mysql_password()) == std::string::npos);
}

TEST_CASE("caretaker status with a hung instance names it and exits 1", "[cli]") {
  auto& sb = sandbox::Shared();
  // The sandbox's config gives each instance the default timeouts; a hung one
  // costs the connect (tcp accepts) plus the reply timeout at most.
  sb.PauseHaproxy(1);
  Run r = Caretaker("status --json");
  sb.ResumeHaproxy(1);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\"errors\":[{\"lb\":\"lb2\",\"code\":\"timeout\""));
  CHECK(r.err.empty());  // the report names the instance; the log does not repeat it
  // lb1 was still read.
  CHECK_THAT(r.out, Catch::Contains("\"lb\":\"lb1\",\"present\":true,\"admin\":\"READY\""));
}

TEST_CASE("--log-format json writes one escaped JSON object per log line", "[cli]") {
  auto& sb = sandbox::Shared();
  sb.PauseHaproxy(1);
  Run r = Caretaker("--log-format json --log-level debug status");
  sb.ResumeHaproxy(1);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  // One object per line; the error message quotes the command
  // ('show stat -1 4 -1') and holds an em dash, and stays one valid string.
  std::istringstream lines(r.err);
  std::string unreachable;
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    CHECK_THAT(line, Catch::StartsWith("{\"ts\":\"") && Catch::EndsWith("}"));
    if (line.find("\"event\":\"haproxy.unreachable\"") != std::string::npos) unreachable = line;
  }
  CHECK(count == 3);  // haproxy.read lb1, haproxy.unreachable lb2, status.read
  CHECK_THAT(unreachable, Catch::Matches(R"(\{"ts":"[0-9T:.Z-]+","level":"debug","event":"haproxy.unreachable",)"
                                         R"("lb":"lb2","error":"haproxy lb2 \(tcp:127\.0\.0\.1:[0-9]+\): )"
                                         R"('show stat -1 4 -1': no reply within 5s [^"]*"\})"));
}

TEST_CASE("status exits 1 when a pool's backend or a member is missing on an instance", "[cli]") {
  std::string config = SandboxConfigText();
  std::string path =
      WriteSandboxFile("typo.toml", Replaced(config, "backend = \"replicas\"", "backend = \"replicaz\""));
  Run r = Caretaker("status", path);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("! backend replicaz does not exist on lb1"));
  CHECK(r.out.find("instances disagree") == std::string::npos);  // both say "missing": they agree

  path = WriteSandboxFile("extra.toml", config + "\n[[pools.members]]\nserver = \"db9\"\nhost = \"127.0.0.1\"\n");
  r = Caretaker("status", path);
  CHECK(r.exit_code == 1);
  std::string folded = SettledChecks(FoldSpaces(r.out));
  // Nothing listens on 127.0.0.1:3306 in the sandbox: its MySQL is unreachable too.
  CHECK_THAT(folded, Catch::Contains(" db9 127.0.0.1:3306 missing missing - - unreachable - - OUT: down\n"));
}

TEST_CASE("status names the missing REPLICA MONITOR privilege, and exits 1", "[cli]") {
  auto& sb = sandbox::Shared();
  // caretaker_nopriv has the same password and USAGE only.
  std::string path = WriteSandboxFile(
      "nopriv.toml", Replaced(SandboxConfigText(), "user = \"caretaker\"", "user = \"caretaker_nopriv\""));
  Run r = Caretaker("status --json", path);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("\"error\":{\"code\":\"missing_privilege\",\"message\":\"") &&
                        Catch::Contains("REPLICA MONITOR"));
  r = Caretaker("status", path);
  CHECK_THAT(r.out, Catch::Contains("no REPLICA MONITOR"));
  CHECK(r.out.find(sb.mysql_password()) == std::string::npos);
}

TEST_CASE("status --no-mysql reads HAProxy only", "[cli]") {
  Run r = Caretaker("status --no-mysql");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("3 in service"));
  CHECK(r.out.find("REPL") == std::string::npos);
}

TEST_CASE("a config error names file:line:column and exits 2", "[cli]") {
  std::string path =
      WriteSandboxFile("bad.toml", "[[haproxy]]\nname = \"lb1\"\nsocket = \"unix:/x\"\nsokcet = 1\n");
  Run r = Caretaker("check", path);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains(path + ":4:1: haproxy[0].sokcet: unknown key"));
}

}  // namespace
}  // namespace caretaker
