// The configuration of rolling walks: [[tasks]] (with [tasks.ssh] and
// [[tasks.steps]]) and [roll].
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "tests/unit/config_fixture.h"

namespace caretaker {

using namespace config_testing;

namespace {

// A step that is valid on its own.
const std::string kStep = "[[tasks.steps]]\ncommand = [\"true\"]\n";

// kValid (lines 1-8), then a task "t": [[tasks]] is line 9, its name line 10,
// `lines` from line 11, then one valid step.
std::string Task(const std::string& lines) { return kValid + "[[tasks]]\nname = \"t\"\n" + lines + kStep; }
// kValid, then a task "t" whose only step holds `lines`: [[tasks.steps]] is
// line 11, `lines` from line 12.
std::string Step(const std::string& lines) {
  return kValid + "[[tasks]]\nname = \"t\"\n[[tasks.steps]]\n" + lines;
}
// A step with the command written `command` (line 12, the value at column 11).
std::string Command(const std::string& command) { return Step("command = " + command + "\n"); }

// The task "t" of a document that must load.
TaskConfig TaskOf(const std::string& toml) {
  auto loaded = ParseConfig(toml, "ok.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  REQUIRE(loaded.value().tasks.size() == 1);
  return loaded.value().tasks[0];
}

}  // namespace

TEST_CASE("a [[tasks]] table sets every field of its TaskConfig and steps", "[config]") {
  const std::string toml = kValid + R"(
[[tasks]]
name = "upgrade"
description = "upgrade MariaDB, then restart it"
transport = "ssh"
gates_off = ["warm-up", "catch-up"]
  [tasks.ssh]
  user = "root"
  port = 2222
  options = ["-i", "/etc/caretaker/id_ed25519"]
  [[tasks.steps]]
  name = "upgrade packages"
  command = ["apt-get", "install", "-y", "mariadb-server"]
  timeout = "30m"
  retries = 2
  retry_delay = "1m"
  safe_to_repeat = true
  [[tasks.steps]]
  command = "systemctl restart mariadb && echo {server} of {pool} on {host}:{port}"
)";
  auto loaded = ParseConfig(toml, "tasks.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  REQUIRE(loaded.value().tasks.size() == 1);
  const TaskConfig& t = loaded.value().tasks[0];
  CHECK(t.name == "upgrade");
  CHECK(t.description == "upgrade MariaDB, then restart it");
  CHECK(t.transport == StepTransport::kSsh);
  CHECK(t.ssh.user == "root");
  CHECK(t.ssh.port == 2222);
  CHECK(t.ssh.options == std::vector<std::string>{"-i", "/etc/caretaker/id_ed25519"});
  CHECK_FALSE(t.gates_off.mysqld);
  CHECK_FALSE(t.gates_off.replication);
  CHECK(t.gates_off.catch_up);
  CHECK(t.gates_off.warmup);
  CHECK(t.line == 10);  // its [[tasks]] header (line 9 is blank)
  CHECK(t.column == 1);
  REQUIRE(t.steps.size() == 2);
  const StepConfig& s0 = t.steps[0];
  CHECK(s0.name == "upgrade packages");
  CHECK(s0.argv == std::vector<std::string>{"apt-get", "install", "-y", "mariadb-server"});
  CHECK(s0.shell.empty());
  CHECK(s0.timeout == 30min);
  CHECK(s0.retries == 2);
  CHECK(s0.retry_delay == 1min);
  CHECK(s0.safe_to_repeat);
  CHECK(s0.line == 19);  // its [[tasks.steps]] header
  const StepConfig& s1 = t.steps[1];
  CHECK(s1.argv.empty());
  CHECK(s1.shell == "systemctl restart mariadb && echo {server} of {pool} on {host}:{port}");
  CHECK(s1.name == s1.shell);  // the command as written
  CHECK(s1.line == 26);
  CHECK_FALSE(s1.safe_to_repeat);
}

TEST_CASE("keys left out of [[tasks]] and [[tasks.steps]] take their defaults", "[config]") {
  const TaskConfig t = TaskOf(kValid + "[[tasks]]\nname = \"restart\"\n" +
                              "[[tasks.steps]]\ncommand = [\"systemctl\", \"restart\", \"mariadb\"]\n" +
                              "[[tasks.steps]]\ncommand = \"sleep 5\"\n");
  CHECK(t.description.empty());
  CHECK(t.transport == StepTransport::kLocal);
  CHECK(t.ssh.user.empty());
  CHECK(t.ssh.port == 22);
  CHECK(t.ssh.options.empty());
  CHECK_FALSE(t.gates_off.any());
  REQUIRE(t.steps.size() == 2);
  for (const StepConfig& s : t.steps) {
    CHECK(s.timeout == 10min);
    CHECK(s.retries == 0);
    CHECK(s.retry_delay == 5s);
    CHECK_FALSE(s.safe_to_repeat);
  }
  CHECK(t.steps[0].name == "systemctl restart mariadb");  // argv joined by spaces
  CHECK(t.steps[1].name == "sleep 5");
  // transport = "ssh" without [tasks.ssh]: ssh's own user, port 22.
  const TaskConfig ssh = TaskOf(Task("transport = \"ssh\"\n"));
  CHECK(ssh.transport == StepTransport::kSsh);
  CHECK(ssh.ssh.user.empty());
  CHECK(ssh.ssh.port == 22);
  CHECK(StepTransportName(StepTransport::kLocal) == std::string("local"));
  CHECK(StepTransportName(StepTransport::kSsh) == std::string("ssh"));
}

TEST_CASE("[[tasks]] and [roll] are optional", "[config]") {
  auto loaded = ParseConfig(kValid, "min.toml");
  REQUIRE(loaded);
  CHECK(loaded.value().tasks.empty());
  CHECK(loaded.value().roll.max_concurrent_hosts == 20);
  CHECK(loaded.value().roll.pause_deadline == 30min);
  CHECK(loaded.value().FindTask("restart") == nullptr);
}

TEST_CASE("[roll] sets the limits of rolling walks, within bounds", "[config]") {
  // given: [roll] with `lines`; expect: the values read.
  struct Case {
    std::string lines;
    int max_concurrent_hosts;
    Millis pause_deadline;
  };
  const std::vector<Case> cases = {
      {"", 20, 30min},
      {"max_concurrent_hosts = 1\n", 1, 30min},
      {"max_concurrent_hosts = 10000\n", 10000, 30min},
      {"pause_deadline = \"2h\"\n", 20, 2h},
      {"max_concurrent_hosts = 5\npause_deadline = \"90s\"\n", 5, 90s},
  };
  for (const Case& c : cases) {
    INFO(c.lines);
    auto loaded = ParseConfig("[roll]\n" + c.lines + kValid, "roll.toml");
    REQUIRE(loaded);
    CHECK(loaded.value().roll.max_concurrent_hosts == c.max_concurrent_hosts);
    CHECK(loaded.value().roll.pause_deadline == c.pause_deadline);
  }
}

TEST_CASE("FindTask looks tasks up by name", "[config]") {
  auto loaded = ParseConfig(kValid + "[[tasks]]\nname = \"a\"\n" + kStep + "[[tasks]]\nname = \"b\"\n" +
                                "[[tasks.steps]]\ncommand = \"b\"\n",
                            "x.toml");
  REQUIRE(loaded);
  const Config& c = loaded.value();
  REQUIRE(c.FindTask("b") != nullptr);
  CHECK(c.FindTask("b")->steps[0].shell == "b");
  REQUIRE(c.FindTask("a") != nullptr);
  CHECK(c.FindTask("a")->steps[0].argv == std::vector<std::string>{"true"});
  CHECK(c.FindTask("c") == nullptr);
}

TEST_CASE("[[tasks]] and [roll]: each bad document gets one exact message", "[config]") {
  // given: a document with one mistake; expect: file:line:column: key.path: what.
  const std::vector<BadConfig> cases = {
      // Unknown keys, in every table.
      {Task("descripton = \"x\"\n"),
       "bad.toml:11:1: tasks[0].descripton: unknown key (did you mean \"description\"?)"},
      {Task("retries = 3\n"),
       "bad.toml:11:1: tasks[0].retries: unknown key (allowed: name, description, transport, gates_off, ssh, "
       "steps, bake)"},
      {Step("command = \"true\"\nretires = 3\n"),
       "bad.toml:13:1: tasks[0].steps[0].retires: unknown key (did you mean \"retries\"?)"},
      {Step("command = \"true\"\nuser = \"root\"\n"),
       "bad.toml:13:1: tasks[0].steps[0].user: unknown key (allowed: name, command, timeout, retries, "
       "retry_delay, safe_to_repeat)"},
      {Task("transport = \"ssh\"\n[tasks.ssh]\nidentity = \"/k\"\n"),
       "bad.toml:13:1: tasks[0].ssh.identity: unknown key (allowed: user, port, options)"},
      {Task("transport = \"ssh\"\n[tasks.ssh]\nuser = \"-oProxyCommand=x\"\n"),
       "bad.toml:13:8: tasks[0].ssh.user: expected a login name, got \"-oProxyCommand=x\""},
      {Task("transport = \"ssh\"\n[tasks.ssh]\nuser = \"a@b\"\n"),
       "bad.toml:13:8: tasks[0].ssh.user: expected a login name, got \"a@b\""},
      {"[roll]\nmax_hosts = 3\n" + kValid,
       "bad.toml:2:1: roll.max_hosts: unknown key (allowed: max_concurrent_hosts, pause_deadline)"},
      {"[[task]]\nname = \"t\"\n" + kValid, "bad.toml:1:3: task: unknown key (did you mean \"tasks\"?)"},
      // Names: required, safe characters, unique.
      {kValid + "[[tasks]]\n" + kStep, "bad.toml:9:1: tasks[0].name: missing (required)"},
      {kValid + "[[tasks]]\nname = \"roll out\"\n" + kStep,
       "bad.toml:10:8: tasks[0].name: expected a name of letters, digits and _ . -, got \"roll out\""},
      {Task("") + "[[tasks]]\nname = \"t\"\n" + kStep,
       "bad.toml:14:8: tasks[1].name: duplicate name \"t\" (first used by tasks[0] at line 10)"},
      {Task("description = \"\"\n"), "bad.toml:11:15: tasks[0].description: must not be empty"},
      {Step("command = \"true\"\nname = \"\"\n"), "bad.toml:13:8: tasks[0].steps[0].name: must not be empty"},
      // Types of tables.
      {"tasks = \"restart\"\n" + kValid,
       "bad.toml:1:9: tasks: expected an array of tables ([[tasks]]), got a string"},
      {"[tasks]\nname = \"t\"\n" + kValid, "bad.toml:1:1: tasks: expected an array of tables ([[tasks]]), got a table"},
      {"roll = 5\n" + kValid, "bad.toml:1:8: roll: expected a table ([roll]), got an integer"},
      // Steps: at least one, each with a command.
      {kValid + "[[tasks]]\nname = \"t\"\n",
       "bad.toml:9:1: tasks[0].steps: missing; at least one [[tasks.steps]] table is required"},
      {Step("name = \"nothing\"\n"),
       "bad.toml:11:1: tasks[0].steps[0].command: missing (required): an array of strings (argv) or a string "
       "(run by sh -c)"},
      // Step durations and retries.
      {Step("command = \"true\"\ntimeout = \"ten minutes\"\n"),
       "bad.toml:13:11: tasks[0].steps[0].timeout: expected a duration like \"500ms\", \"5s\" or \"2m\", got "
       "\"ten minutes\""},
      {Step("command = \"true\"\ntimeout = \"0s\"\n"),
       "bad.toml:13:11: tasks[0].steps[0].timeout: a timeout must be greater than zero, got \"0s\""},
      {Step("command = \"true\"\nretry_delay = 5\n"),
       "bad.toml:13:15: tasks[0].steps[0].retry_delay: expected a duration like \"500ms\", \"5s\" or \"2m\", "
       "got 5"},
      {Step("command = \"true\"\nretries = -1\n"),
       "bad.toml:13:11: tasks[0].steps[0].retries: expected an integer 0-100, got -1"},
      {Step("command = \"true\"\nretries = 101\n"),
       "bad.toml:13:11: tasks[0].steps[0].retries: expected an integer 0-100, got 101"},
      {Step("command = \"true\"\nretries = \"2\"\n"),
       "bad.toml:13:11: tasks[0].steps[0].retries: expected an integer 0-100, got \"2\""},
      // Transport, and [tasks.ssh] only with transport = "ssh".
      {Task("transport = \"rsh\"\n"), "bad.toml:11:13: tasks[0].transport: expected \"local\" or \"ssh\", got \"rsh\""},
      {Task("transport = \"SSH\"\n"), "bad.toml:11:13: tasks[0].transport: expected \"local\" or \"ssh\", got \"SSH\""},
      {Task("[tasks.ssh]\nuser = \"root\"\n"),
       "bad.toml:11:1: tasks[0].ssh: [tasks.ssh] is used only with transport = \"ssh\" (this task's is \"local\"): "
       "set transport = \"ssh\" or remove the table"},
      {Task("transport = \"local\"\nssh = { port = 2222 }\n"),
       "bad.toml:12:7: tasks[0].ssh: [tasks.ssh] is used only with transport = \"ssh\" (this task's is "
       "\"local\"): set transport = \"ssh\" or remove the table"},
      {Task("transport = \"ssh\"\nssh = \"root@db1\"\n"),
       "bad.toml:12:7: tasks[0].ssh: expected a table ([ssh]), got a string"},
      {Task("transport = \"ssh\"\n[tasks.ssh]\nport = 0\n"),
       "bad.toml:13:8: tasks[0].ssh.port: expected an integer 1-65535, got 0"},
      {Task("transport = \"ssh\"\n[tasks.ssh]\nuser = \"\"\n"), "bad.toml:13:8: tasks[0].ssh.user: must not be empty"},
      {Task("transport = \"ssh\"\n[tasks.ssh]\noptions = \"-i /k\"\n"),
       "bad.toml:13:11: tasks[0].ssh.options: expected an array of strings, got a string"},
      {Task("transport = \"ssh\"\n[tasks.ssh]\noptions = [\"-i\", \"\"]\n"),
       "bad.toml:13:18: tasks[0].ssh.options[1]: must not be empty"},
      // [roll]: bounds and types.
      {"[roll]\nmax_concurrent_hosts = 0\n" + kValid,
       "bad.toml:2:24: roll.max_concurrent_hosts: expected an integer 1-10000, got 0"},
      {"[roll]\nmax_concurrent_hosts = 10001\n" + kValid,
       "bad.toml:2:24: roll.max_concurrent_hosts: expected an integer 1-10000, got 10001"},
      {"[roll]\nmax_concurrent_hosts = \"20\"\n" + kValid,
       "bad.toml:2:24: roll.max_concurrent_hosts: expected an integer 1-10000, got \"20\""},
      {"[roll]\npause_deadline = \"-1m\"\n" + kValid,
       "bad.toml:2:18: roll.pause_deadline: a timeout must be greater than zero, got \"-1m\""},
      {"[roll]\npause_deadline = 1800\n" + kValid,
       "bad.toml:2:18: roll.pause_deadline: expected a duration like \"500ms\", \"5s\" or \"2m\", got 1800"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK(ErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("a step's command is an argv array or a shell string, never empty", "[config]") {
  // given: `command = ...` on line 12 (the value at column 11); expect: the message.
  const std::vector<BadConfig> cases = {
      {Command("5"),
       "bad.toml:12:11: tasks[0].steps[0].command: expected an array of strings (argv) or a string (run by sh "
       "-c), got an integer"},
      {Command("true"),
       "bad.toml:12:11: tasks[0].steps[0].command: expected an array of strings (argv) or a string (run by sh "
       "-c), got a boolean"},
      {Command("{ argv = [\"true\"] }"),
       "bad.toml:12:11: tasks[0].steps[0].command: expected an array of strings (argv) or a string (run by sh "
       "-c), got a table"},
      {Command("[]"),
       "bad.toml:12:11: tasks[0].steps[0].command: expected an array of strings (argv) or a string (run by sh "
       "-c), got an empty array"},
      {Command("\"\""), "bad.toml:12:11: tasks[0].steps[0].command: must not be empty"},
      {Command("\"  \""), "bad.toml:12:11: tasks[0].steps[0].command: must not be empty"},
      {Command("[\"systemctl\", 1]"),
       "bad.toml:12:25: tasks[0].steps[0].command[1]: expected a string, got an integer"},
      {Command("[[\"systemctl\"]]"), "bad.toml:12:12: tasks[0].steps[0].command[0]: expected a string, got an array"},
      {Command("[\"systemctl\", \"\"]"), "bad.toml:12:25: tasks[0].steps[0].command[1]: must not be empty"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK(ErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("only {host} {port} {server} {pool} read as placeholders, other braces stay literal", "[config]") {
  // given: commands that use braces for the shell or a program; expect: they load as written.
  const std::vector<std::string> allowed = {
      R"("awk '{print $1}' /etc/hosts")",      // a word not closed right after: awk's braces
      R"("awk '{ print }' f")",                 // spaces inside: literal
      R"("find /tmp -name x -exec rm {} +")",   // nothing inside
      R"("echo ${HOME} ${db_dir}")",            // shell parameter expansion
      R"("cp f{,.bak}")",                       // brace expansion
      R"(["echo", "{HOST}", "{host1}", "{a-b}"])",  // not [a-z_]+
      R"(["mysql", "-h", "{host}", "-P", "{port}", "-e", "SELECT '{server}', '{pool}'"])",
      R"("ssh-keyscan {host}:{port} # {server}/{pool}")",
      R"("echo { }{")",
  };
  for (const std::string& command : allowed) {
    INFO(command);
    CHECK(ErrorOf(Command(command)) == "");
  }
  // given: a brace pair around an unknown word; expect: refused, naming it and the known ones.
  const std::string known = " (known: {host}, {port}, {server}, {pool}); braces meant literally need a space inside";
  const std::vector<BadConfig> refused = {
      {Command(R"("systemctl restart mariadb@{hots}")"),
       "bad.toml:12:11: tasks[0].steps[0].command: unknown placeholder \"{hots}\"" + known +
           ", as in \"{ hots }\""},
      {Command(R"(["mysqladmin", "-h", "{host}", "-P", "{prot}", "ping"])"),
       "bad.toml:12:48: tasks[0].steps[0].command[4]: unknown placeholder \"{prot}\"" + known +
           ", as in \"{ prot }\""},
      {Command(R"("awk '{print}' f")"),
       "bad.toml:12:11: tasks[0].steps[0].command: unknown placeholder \"{print}\"" + known +
           ", as in \"{ print }\""},
      {Command(R"("echo {host} {member_name}")"),
       "bad.toml:12:11: tasks[0].steps[0].command: unknown placeholder \"{member_name}\"" + known +
           ", as in \"{ member_name }\""},
      // ${known}: caretaker replaces it first, leaving "$10.0.0.11" to the shell.
      {Command(R"("ping -c1 ${host}")"),
       "bad.toml:12:11: tasks[0].steps[0].command: \"${host}\" would leave a \"$\" before the value of {host}: "
       "write {host} without \"$\""},
  };
  for (const BadConfig& c : refused) {
    INFO(c.toml);
    CHECK(ErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("gates_off names gates, mysqld off needs every other gate off", "[config]") {
  // given: gates_off = `list`; expect: the gates turned off.
  struct Case {
    std::string list;
    GatesOff off;
  };
  const std::vector<Case> cases = {
      {R"(["warm-up"])", {false, false, false, true}},
      {R"(["catch-up", "warm-up"])", {false, false, true, true}},
      {R"(["replication"])", {false, true, false, false}},
      {R"(["warm-up", "warm-up"])", {false, false, false, true}},  // duplicates are harmless
      {R"(["warm-up", "mysqld", "catch-up", "replication"])", {true, true, true, true}},
  };
  for (const Case& c : cases) {
    INFO(c.list);
    const TaskConfig t = TaskOf(Task("gates_off = " + c.list + "\n"));
    CHECK(t.gates_off.mysqld == c.off.mysqld);
    CHECK(t.gates_off.replication == c.off.replication);
    CHECK(t.gates_off.catch_up == c.off.catch_up);
    CHECK(t.gates_off.warmup == c.off.warmup);
  }
  // given: a bad list (line 11, the value at column 13); expect: the message.
  const std::string mysqld_alone =
      "turning off mysqld turns off every gate: list \"replication\", \"catch-up\" and \"warm-up\" as well";
  const std::vector<BadConfig> bad = {
      {Task("gates_off = [\"warmup\"]\n"),
       "bad.toml:11:14: tasks[0].gates_off[0]: unknown gate \"warmup\" (valid: \"mysqld\", \"replication\", "
       "\"catch-up\", \"warm-up\")"},
      {Task("gates_off = [\"warm-up\", \"lag\"]\n"),
       "bad.toml:11:25: tasks[0].gates_off[1]: unknown gate \"lag\" (valid: \"mysqld\", \"replication\", "
       "\"catch-up\", \"warm-up\")"},
      {Task("gates_off = [\"mysqld\"]\n"), "bad.toml:11:13: tasks[0].gates_off: " + mysqld_alone},
      {Task("gates_off = [\"mysqld\", \"replication\", \"catch-up\"]\n"),
       "bad.toml:11:13: tasks[0].gates_off: " + mysqld_alone},
      {Task("gates_off = \"warm-up\"\n"), "bad.toml:11:13: tasks[0].gates_off: expected an array of strings, got a string"},
      {Task("gates_off = []\n"),
       "bad.toml:11:13: tasks[0].gates_off: must not be an empty array (leave the key out for the default)"},
  };
  for (const BadConfig& c : bad) {
    INFO(c.toml);
    CHECK(ErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("the shipped example configuration's tasks and [roll] load as documented", "[config]") {
  auto loaded = LoadConfig(std::string(CARETAKER_SOURCE_DIR) + "/conf/caretaker.example.toml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded);
  const Config& c = loaded.value();
  CHECK(c.roll.max_concurrent_hosts == 20);
  CHECK(c.roll.pause_deadline == 30min);
  const TaskConfig* restart = c.FindTask("restart");
  REQUIRE(restart != nullptr);
  CHECK(restart->transport == StepTransport::kSsh);
  CHECK(restart->ssh.user == "root");
  REQUIRE(restart->steps.size() == 2);
  CHECK(restart->steps[0].argv == std::vector<std::string>{"systemctl", "stop", "mariadb"});
  CHECK(restart->steps[1].argv == std::vector<std::string>{"systemctl", "start", "mariadb"});
  const TaskConfig* upgrade = c.FindTask("upgrade");
  REQUIRE(upgrade != nullptr);
  CHECK(upgrade->transport == StepTransport::kSsh);
  CHECK_FALSE(upgrade->steps.empty());
}

}  // namespace caretaker
