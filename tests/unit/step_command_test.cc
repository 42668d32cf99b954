// A step's command line for one member (ExpandStep), shell quoting, and how a
// step's result reads in logs (StepResult::Describe). Pure: nothing runs here
// (tests/integration/step_runner_test.cc runs these command lines).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/run/step_runner.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using Argv = std::vector<std::string>;
using Outcome = StepResult::Outcome;

PoolConfig Pool(std::string name) {
  PoolConfig p;
  p.name = std::move(name);
  p.backend = p.name;
  return p;
}

MemberConfig Member(std::string server, std::string host, uint16_t port = 3306) {
  MemberConfig m;
  m.server = std::move(server);
  m.host = std::move(host);
  m.port = port;
  return m;
}

StepConfig Shell(std::string command) {
  StepConfig s;
  s.shell = std::move(command);
  s.name = s.shell;
  return s;
}

StepConfig Exec(Argv argv) {
  StepConfig s;
  s.argv = std::move(argv);
  return s;
}

TaskConfig Local() { return TaskConfig{}; }

TaskConfig Ssh(std::string user, uint16_t port, Argv options) {
  TaskConfig t;
  t.transport = StepTransport::kSsh;
  t.ssh.user = std::move(user);
  t.ssh.port = port;
  t.ssh.options = std::move(options);
  return t;
}

TEST_CASE("ShellQuote leaves safe words alone and single-quotes the rest", "[steps]") {
  struct Case {
    std::string in, out;
  };
  for (const Case& c : std::vector<Case>{
           {"db1", "db1"},
           {"10.0.0.1", "10.0.0.1"},
           {"/var/lib/mysql", "/var/lib/mysql"},
           {"user@host:3306,a=b+c%d_e-f", "user@host:3306,a=b+c%d_e-f"},
           {"", "''"},
           {"it's", "'it'\\''s'"},
           {"two words", "'two words'"},
           {"$x", "'$x'"},
           {"`id`", "'`id`'"},
           {"$(id)", "'$(id)'"},
           {"a;rm -rf /", "'a;rm -rf /'"},
           {"*", "'*'"},
           {"~root", "'~root'"},
           {"tab\there", "'tab\there'"},
           {"line\nbreak", "'line\nbreak'"},
           {"'", "''\\'''"},
           {"back\\slash", "'back\\slash'"},
           {"a\"b", "'a\"b'"},
       }) {
    INFO(c.in);
    CHECK(ShellQuote(c.in) == c.out);
  }
}

TEST_CASE("a local shell step runs through sh -c with each value shell-quoted", "[steps]") {
  // given a member whose names would be commands if pasted as they are
  PoolConfig pool = Pool("replicas");
  MemberConfig member = Member("db 1", "a;rm -rf /", 3307);
  StepCommand c = ExpandStep(Local(), Shell("restart {server} on {host}:{port} in {pool}"), pool, member);
  // expect each value one word for sh
  CHECK(c.display == "restart 'db 1' on 'a;rm -rf /':3307 in replicas");
  CHECK(c.argv == Argv{"/bin/sh", "-c", c.display});
}

TEST_CASE("placeholders are replaced everywhere and only the four known ones", "[steps]") {
  struct Case {
    std::string shell, display;
  };
  PoolConfig pool = Pool("pool{host}");
  MemberConfig member = Member("it's", "db.example", 3306);
  for (const Case& c : std::vector<Case>{
           {"echo {host} {host}", "echo db.example db.example"},
           {"{server}", "'it'\\''s'"},
           {"{pool}", "'pool{host}'"},  // a value is not expanded again
           {"echo {hots} {} { host } {HOST}", "echo {hots} {} { host } {HOST}"},
           {"awk '{print $1}' && echo ${HOME}", "awk '{print $1}' && echo ${HOME}"},
           {"{host", "{host"},
           {"{{host}}", "{db.example}"},
           {"x{port}y", "x3306y"},
       }) {
    INFO(c.shell);
    CHECK(ExpandStep(Local(), Shell(c.shell), pool, member).display == c.display);
  }
}

TEST_CASE("a local argv step gets raw values in each element, no shell", "[steps]") {
  PoolConfig pool = Pool("replicas");
  MemberConfig member = Member("db1", "a;rm -rf /", 3307);
  StepCommand c = ExpandStep(Local(), Exec({"/usr/local/bin/reboot-db", "--host={host}", "{port}", "it's {server}"}),
                             pool, member);
  CHECK(c.argv == Argv{"/usr/local/bin/reboot-db", "--host=a;rm -rf /", "3307", "it's db1"});
  // for people: the same command as a shell would need it
  CHECK(c.display == "/usr/local/bin/reboot-db '--host=a;rm -rf /' 3307 'it'\\''s db1'");
}

TEST_CASE("an ssh step wraps the command run on the host", "[steps]") {
  PoolConfig pool = Pool("replicas");
  MemberConfig member = Member("db1", "10.0.0.5");
  SECTION("a shell string is the remote command, values quoted") {
    StepCommand c = ExpandStep(Ssh("root", 2222, {"-i", "/etc/caretaker/id", "-o", "ConnectTimeout=5"}),
                               Shell("systemctl restart mariadb && echo {server}"), pool, member);
    CHECK(c.argv == Argv{"ssh", "-p", "2222", "-o", "BatchMode=yes", "-i", "/etc/caretaker/id", "-o",
                         "ConnectTimeout=5", "--", "root@10.0.0.5", "systemctl restart mariadb && echo db1"});
    CHECK(c.display == "systemctl restart mariadb && echo db1");
  }
  SECTION("argv elements are quoted and joined: the remote shell splits them again") {
    StepCommand c = ExpandStep(Ssh("", 22, {}), Exec({"touch", "/tmp/it's {server}", "$HOME"}), pool, member);
    CHECK(c.argv == Argv{"ssh", "-p", "22", "-o", "BatchMode=yes", "--", "10.0.0.5",
                         "touch '/tmp/it'\\''s db1' '$HOME'"});
    CHECK(c.display == "touch '/tmp/it'\\''s db1' '$HOME'");
  }
  SECTION("a hostile host name stays one argument of ssh") {
    member.host = "a;rm -rf /";
    StepCommand c = ExpandStep(Ssh("admin", 22, {}), Shell("echo {host}"), pool, member);
    CHECK(c.argv == Argv{"ssh", "-p", "22", "-o", "BatchMode=yes", "--", "admin@a;rm -rf /", "echo 'a;rm -rf /'"});
  }
  SECTION("a host starting with - comes after --, where ssh reads no option") {
    member.host = "-oProxyCommand=touch /tmp/x";
    StepCommand c = ExpandStep(Ssh("", 22, {}), Shell("true"), pool, member);
    CHECK(c.argv == Argv{"ssh", "-p", "22", "-o", "BatchMode=yes", "--", "-oProxyCommand=touch /tmp/x", "true"});
  }
}

TEST_CASE("Describe says how a step ended", "[steps]") {
  struct Case {
    StepResult result;
    std::chrono::milliseconds timeout;
    std::string text;
  };
  auto make = [](Outcome outcome, int exit_code = 0, int signal = 0, std::string error = "") {
    StepResult r;
    r.outcome = outcome;
    r.exit_code = exit_code;
    r.signal = signal;
    r.error = std::move(error);
    return r;
  };
  for (const Case& c : std::vector<Case>{
           {make(Outcome::kSucceeded), 10s, "succeeded"},
           {make(Outcome::kExited, 1), 10s, "exit code 1"},
           {make(Outcome::kExited, 255), 10s, "exit code 255"},
           {make(Outcome::kSignaled, 0, 9), 10s, "killed by signal 9 (SIGKILL)"},
           {make(Outcome::kSignaled, 0, 11), 10s, "killed by signal 11 (SIGSEGV)"},
           {make(Outcome::kTimedOut), 5min, "timed out after 5m"},
           {make(Outcome::kTimedOut), 1500ms, "timed out after 1500ms"},
           {make(Outcome::kCancelled), 10s, "cancelled"},
           {make(Outcome::kCannotStart, 0, 0, "nosuch: No such file or directory"), 10s,
            "cannot start: nosuch: No such file or directory"},
       }) {
    CHECK(c.result.Describe(c.timeout) == c.text);
    CHECK(c.result.ok() == (c.result.outcome == Outcome::kSucceeded));
  }
}

}  // namespace
}  // namespace caretaker
