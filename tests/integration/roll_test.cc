// `caretaker plan` and `caretaker roll` against a real sandbox of four
// replicas behind two HAProxy instances: a task that really restarts each
// replica's mariadbd (the sandbox's control script), and one that fails.
#include <signal.h>

#include <catch2/catch.hpp>
#include <thread>
#include <fstream>
#include <memory>
#include <sstream>

#include "tests/integration/roll_fixture.h"
#include "tests/sandbox/sandbox.h"
#include "tests/sandbox/sshd.h"

namespace caretaker {
namespace {

// The sandbox's config plus a task whose second of three steps fails on db3.
std::string FailingTaskConfig() {
  const std::string control = RollSandbox().dir() + "/{server}/control";
  std::string text = ConfigText(RollSandbox()) +
                     "\n[[tasks]]\nname = \"upgrade\"\n"
                     "  [[tasks.steps]]\n  name = \"stop mariadbd\"\n  command = [\"" + control + "\", \"stop\"]\n"
                     "  [[tasks.steps]]\n  name = \"upgrade\"\n"
                     "  command = \"echo upgrading {server}; if [ {server} = db3 ]; then echo 'E: dpkg was "
                     "interrupted' >&2; exit 100; fi\"\n"
                     "  [[tasks.steps]]\n  name = \"start mariadbd\"\n  command = [\"" + control + "\", \"start\"]\n";
  return WriteFileIn(RollSandbox(), "upgrade.toml", text);
}

// A second pool over the same servers (backend replicas_weighted), and a task
// that only waits, with every gate off: for walks that restart nothing.
const std::string kSecondPoolAndWait =
    "[[tasks]]\nname = \"wait\"\ngates_off = [\"mysqld\", \"replication\", \"catch-up\", \"warm-up\"]\n"
    "  [[tasks.steps]]\n  name = \"wait\"\n  command = \"sleep 0.3\"\n"
    "[[pools]]\nname = \"weighted\"\nbackend = \"replicas_weighted\"\n";

std::string SecondPoolMembers() {
  std::string out;
  for (const auto& r : RollSandbox().replicas()) {
    out += "  [[pools.members]]\n  server = \"" + r.name + "\"\n  host = \"127.0.0.1\"\n  port = " +
           std::to_string(r.port) + "\n";
  }
  return out;
}

TEST_CASE("plan shows the waves and every command, and changes nothing", "[roll]") {
  Run plan = Caretaker("plan --pool replicas --task restart");
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("wave 1: db1\n  wave 2: db2\n  wave 3: db3\n  wave 4: db4\n") != std::string::npos);
  CHECK(plan.out.find("set server replicas/db3 state drain; then wait for 0 sessions") != std::string::npos);
  CHECK(plan.out.find("step 1/2 \"stop mariadbd\" (local, timeout 1m): " + RollSandbox().dir() + "/db3/control stop") !=
        std::string::npos);
  CHECK(plan.out.find("set server replicas/db4 state ready; then wait for UP") != std::string::npos);
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");

  Run limited = Caretaker("plan --pool replicas --task restart --limit 'db[34]' --order reverse --json");
  INFO(limited.out << limited.err);
  CHECK(limited.exit_code == 0);
  CHECK(limited.out.find("\"waves\":[[\"db4\"],[\"db3\"]]") != std::string::npos);
}

TEST_CASE("plan and roll refuse bad input with exit 2 and change nothing", "[roll]") {
  Run task = Caretaker("roll --pool replicas --task nope --yes");
  CHECK(task.exit_code == 2);
  CHECK(task.err.find("no task \"nope\" in " + RollSandbox().config_path() + " (tasks: restart)") != std::string::npos);
  Run pool = Caretaker("plan --pool nope --task restart");
  CHECK(pool.exit_code == 2);
  CHECK(pool.err.find("no pool \"nope\"") != std::string::npos);
  Run unasked = Caretaker("roll --pool replicas --task restart");  // stdin is /dev/null: nobody to ask
  CHECK(unasked.exit_code == 2);
  CHECK(unasked.err.find("stdin is not a terminal: pass --yes") != std::string::npos);
  Run limit = Caretaker("roll --pool replicas --task restart --limit 'db9*' --yes");
  CHECK(limit.exit_code == 2);
  CHECK(limit.err.find("--limit db9* matches no member of replicas") != std::string::npos);
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
}

TEST_CASE("a member someone holds in maintenance is skipped, and the plan says the walk cannot go on", "[roll]") {
  Run start = Caretaker("maint start db4 --reason \"disk swap\"");
  REQUIRE(start.exit_code == 0);
  // 4 members, max_out 1 (the default): db4 out already uses the budget.
  Run plan = Caretaker("plan --pool replicas --task restart");
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 3);
  CHECK(plan.out.find("skipped: db4: held by a maintenance record (") != std::string::npos);
  CHECK(plan.out.find("disk swap") != std::string::npos);
  CHECK(plan.out.find("CANNOT WALK NOW: pool replicas: 1 of 4 already out, max_out is 1") != std::string::npos);
  // roll refuses the same walk before changing anything (it would wait for someone else).
  Run roll = Caretaker("roll --pool replicas --task restart --yes");
  CHECK(roll.exit_code == 3);
  CHECK(roll.err.find("caretaker: refusing to walk pool replicas: pool replicas: 1 of 4 already out, max_out is 1 "
                      "(members it could not reach: db1, db2, db3); nothing was changed") != std::string::npos);
  for (const char* server : {"db1", "db2", "db3"}) CHECK(AdminStates(server) == "0 0");
  CHECK(Caretaker("maint stop db4").exit_code == 0);
}

TEST_CASE("roll restarts every replica's mariadbd, one at a time, and each comes back UP", "[roll]") {
  std::vector<std::string> before;
  for (size_t i = 0; i < 4; ++i) before.push_back(MysqldPid(i));
  Run roll = Caretaker("roll --pool replicas --task restart --yes");
  INFO(roll.out << roll.err);
  REQUIRE(roll.exit_code == 0);
  CHECK(roll.out.find("pool replicas: 4 of 4 done in ") != std::string::npos);
  for (size_t i = 0; i < 4; ++i) {
    const std::string name = RollSandbox().replicas()[i].name;
    CHECK(MysqldPid(i) != before[i]);  // really restarted
    CHECK(AdminStates(name) == "0 0");
    CHECK(FoldSpaces(roll.out).find("replicas/" + name + " done ") != std::string::npos);
    // What the step printed reached the person watching.
    CHECK(roll.err.find(name + " | " + name + ": mariadbd answers (pid " + MysqldPid(i) + ")") != std::string::npos);
  }
  // max_out 1: each member is back before the next one drains.
  CHECK(Find(roll.err, "db1: back in service") < Find(roll.err, "db2: draining"));
  CHECK(Find(roll.err, "db2: back in service") < Find(roll.err, "db3: draining"));
  CHECK(Find(roll.err, "db3: back in service") < Find(roll.err, "db4: draining"));
  CHECK(Caretaker("maint list --json").out.find("\"maintenance\":[]") != std::string::npos);
  RollSandbox().WaitAllUp(std::chrono::seconds(10));
}

TEST_CASE("a step that fails on the third replica stops the walk there; the fourth is untouched", "[roll]") {
  const std::string config = FailingTaskConfig();
  const std::string db4_pid = MysqldPid(3);
  Run roll = Caretaker("roll --pool replicas --task upgrade --yes", config);
  INFO(roll.out << roll.err);
  CHECK(roll.exit_code == 1);
  std::string table = FoldSpaces(roll.out);
  CHECK(table.find("replicas/db1 done ") != std::string::npos);
  CHECK(table.find("replicas/db2 done ") != std::string::npos);
  // The failure in full once, where it happened; the summary and the
  // closing lines name it in a few words.
  const std::string failed = "db3: FAILED: step 2/3 \"upgrade\" failed: exit code 100";
  const size_t said = Find(roll.err, failed);
  CHECK(roll.err.find(failed, said + 1) == std::string::npos);
  CHECK(roll.err.find("stopping: db3 failed\n") != std::string::npos);
  CHECK(table.find("replicas/db3 FAILED ") != std::string::npos);
  CHECK(table.find("step 2/3 \"upgrade\" failed; out of traffic\n") != std::string::npos);
  CHECK(roll.out.find("| E: dpkg was interrupted") != std::string::npos);  // what it printed
  CHECK(table.find("replicas/db4 not started") != std::string::npos);
  CHECK(roll.out.find("pool replicas: 2 of 4 done in ") != std::string::npos);
  CHECK(roll.out.find("; stopped: db3 failed\n") != std::string::npos);
  CHECK(roll.out.find("exit code 100") == std::string::npos);
  CHECK(roll.out.find("OUT OF TRAFFIC: replicas/db3") != std::string::npos);
  CHECK(AdminStates("db3") == "1 1");  // MAINT on both instances
  CHECK(AdminStates("db4") == "0 0");
  CHECK(MysqldPid(3) == db4_pid);
  Run list = Caretaker("maint list");
  CHECK(list.out.find("db3") != std::string::npos);
  CHECK(list.out.find("caretaker roll --task upgrade") != std::string::npos);

  // The failed job blocks the pool until an operator acts on it.
  const std::string id = JobIdOf(roll.err);
  Run blocked = Caretaker("roll --pool replicas --task restart --yes");
  CHECK(blocked.exit_code == 3);
  // Said to someone who did not see the walk: which host failed, and how.
  CHECK(blocked.err.find("pool replicas: job " + id + " failed (db3: step 2/3 \"upgrade\" failed: exit code "
                         "100); first `caretaker job retry " + id + "`") != std::string::npos);
  // The operator fixes db3 and puts it back: the rollback of the job.
  RollSandbox().StartReplica(2);
  Run back = Caretaker("job restore " + id, config);
  INFO(back.out << back.err);
  CHECK(back.exit_code == 0);
  CHECK(AdminStates("db3") == "0 0");
  RollSandbox().WaitAllUp(std::chrono::seconds(10));
}

TEST_CASE("max_failures 2 (--max-failures) lets the walk go on past a failed member, which stays out", "[roll]") {
  // The failed member stays out and spends the budget: max_out 2 leaves room for the next.
  std::string text = Replaced(ConfigText(RollSandbox()), "backend = \"replicas\"\n",
                              "backend = \"replicas\"\nmax_out = 2\n");
  std::ifstream failing(FailingTaskConfig());
  std::stringstream tasks;
  tasks << failing.rdbuf();
  text += tasks.str().substr(ConfigText(RollSandbox()).size());
  Run roll = Caretaker("roll --pool replicas --task upgrade --yes --max-failures 2",
                       WriteFileIn(RollSandbox(), "upgrade-max-out-2.toml", text));
  INFO(roll.out << roll.err);
  CHECK(roll.exit_code == 1);
  std::string table = FoldSpaces(roll.out);
  CHECK(table.find("replicas/db3 FAILED ") != std::string::npos);
  CHECK(table.find("replicas/db4 done ") != std::string::npos);
  CHECK(roll.out.find("pool replicas: 3 of 4 done in ") != std::string::npos);
  CHECK(AdminStates("db3") == "1 1");
  CHECK(AdminStates("db4") == "0 0");
  RollSandbox().StartReplica(2);
  CHECK(Caretaker("maint stop db3").exit_code == 0);
  // db3 is back by hand: the job no longer needs to block the pool.
  Run cancel = Caretaker("job cancel " + JobIdOf(roll.err));
  CHECK(cancel.exit_code == 0);
  CHECK(cancel.err.find("OUT OF TRAFFIC") == std::string::npos);
  RollSandbox().WaitAllUp(std::chrono::seconds(10));
}

TEST_CASE("Ctrl-C during a step: that member finishes its task, no other member starts", "[roll]") {
  const std::string config = ConfigWith("slow.toml", kSlowTask);
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow --yes", config);
  REQUIRE(WaitForText(roll.err_path, "db1 | working on db1"));
  ::kill(roll.pid, SIGINT);
  Run run = Finish(roll);
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("interrupted: no member starts now") != std::string::npos);
  std::string table = FoldSpaces(run.out);
  CHECK(table.find("replicas/db1 done ") != std::string::npos);
  for (const char* server : {"db2", "db3", "db4"}) {
    CHECK(table.find("replicas/" + std::string(server) + " not started") != std::string::npos);
  }
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
  CHECK(run.err.find("db2: draining") == std::string::npos);
}

TEST_CASE("while a roll works on a member, `maint stop` of that member is refused", "[roll]") {
  const std::string config = ConfigWith("slow.toml", kSlowTask);
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow --limit db1 --yes", config);
  REQUIRE(WaitForText(roll.err_path, "db1 | working on db1"));
  Run stop = Caretaker("maint stop db1", config);
  CHECK(stop.exit_code == 3);
  CHECK(AdminStates("db1") == "1 1");  // still in MAINT: the roll owns it
  Run run = Finish(roll);
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK(AdminStates("db1") == "0 0");
}

TEST_CASE("a task over ssh: the step runs on the member's host through a real sshd", "[roll]") {
  auto sshd = sandbox::Sshd::Start();
  std::string options;
  for (const std::string& o : sshd->client_options()) options += std::string(options.empty() ? "" : ", ") + "\"" + o + "\"";
  // The members' host is 127.0.0.1, where this sshd listens.
  const std::string config = ConfigWith(
      "ssh.toml", "[[tasks]]\nname = \"remote\"\ntransport = \"ssh\"\n  [tasks.ssh]\n  user = \"" + sshd->user() +
                      "\"\n  port = " + std::to_string(sshd->port()) + "\n  options = [" + options + "]\n" +
                      "  [[tasks.steps]]\n  name = \"where\"\n  command = \"echo {server} on $(cat /proc/sys/kernel/hostname) "
                      "via ssh from $SSH_CLIENT\"\n");
  Run roll = Caretaker("roll --pool replicas --task remote --limit db2 --yes", config);
  INFO(roll.out << roll.err);
  CHECK(roll.exit_code == 0);
  CHECK(roll.err.find("db2 | db2 on ") != std::string::npos);
  CHECK(roll.err.find(" via ssh from 127.0.0.1 ") != std::string::npos);  // $SSH_CLIENT: set by sshd only
  CHECK(AdminStates("db2") == "0 0");
}

TEST_CASE("a member outside the walk going down mid-walk pauses it; the walk resumes once it is back", "[roll]") {
  // given: 4 members, floor 2, max_out 1; the walk takes db1 and db2; db4
  // (outside it) stops while db1 runs its step. expect: after db1 no drain
  // (db4 down spends the budget), "paused", then db2 once db4 is back UP.
  const std::string config = ConfigWith(
      "pause.toml", "[[tasks]]\nname = \"slow2\"\n  [[tasks.steps]]\n  name = \"work\"\n"
                    "  command = \"echo working on {server}; sleep 2\"\n");
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow2 --limit 'db[12]' --yes", config);
  REQUIRE(WaitForText(roll.err_path, "db1 | working on db1"));
  RollSandbox().StopReplica(3);
  const bool paused = WaitForText(roll.err_path, "paused: pool replicas: 1 of 4 already out, max_out is 1");
  RollSandbox().StartReplica(3);  // before any REQUIRE: the sandbox is shared by the next tests
  Run run = Finish(roll);
  INFO(run.out << run.err);
  REQUIRE(paused);
  CHECK(run.exit_code == 0);
  CHECK(Find(run.err, "db1: back in service") < Find(run.err, "paused: pool replicas"));
  CHECK(Find(run.err, "paused: pool replicas") < Find(run.err, "resumed: capacity is back"));
  CHECK(Find(run.err, "resumed: capacity is back") < Find(run.err, "db2: draining"));
  CHECK(run.out.find("pool replicas: 2 of 2 done") != std::string::npos);
  RollSandbox().WaitAllUp(std::chrono::seconds(10));
}

TEST_CASE("two pools walk at once on one event loop; max_concurrent_hosts caps them together", "[roll]") {
  for (int cap : {1, 2}) {
    INFO("max_concurrent_hosts " << cap);
    const std::string config =
        ConfigWith("two-pools-" + std::to_string(cap) + ".toml",
                   "[roll]\nmax_concurrent_hosts = " + std::to_string(cap) + "\n" + kSecondPoolAndWait +
                       SecondPoolMembers());
    Run roll = Caretaker("roll --pool replicas,weighted --task wait --limit 'db[12]' --yes", config);
    INFO(roll.out << roll.err);
    REQUIRE(roll.exit_code == 0);
    CHECK(roll.out.find("pool replicas: 2 of 2 done") != std::string::npos);
    CHECK(roll.out.find("pool weighted: 2 of 2 done") != std::string::npos);
    // Members out at once, from the order of the events.
    int out = 0, most = 0;
    std::istringstream events(roll.err);
    for (std::string line; std::getline(events, line);) {
      if (line.find(": draining") != std::string::npos) most = std::max(most, ++out);
      if (line.find(": back in service") != std::string::npos) --out;
    }
    CHECK(most == cap);
  }
  for (const auto& r : RollSandbox().replicas()) CHECK(AdminStates(r.name) == "0 0");
}

}  // namespace
}  // namespace caretaker
